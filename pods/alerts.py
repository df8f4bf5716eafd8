"""Organizers' warnings to the whole pod (a scam going around, a change of plan): post
one, see the current and past ones, take one down. Every pod page shows the current
ones through `{% pod_alerts %}` (pods/templatetags/alerts.py)."""

import datetime
import zoneinfo

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from mutualaid import dates
from mutualaid.forms import Submission, SubmissionKeyField
from pods import notices
from pods.access import get_pod_for_organizer
from pods.models import ALERT_MAX_DAYS, Alert

# A warning nobody remembers posting is noise; one that must stay longer is posted again
# (or left without an end, to be taken down by hand). The admin holds the same bound
# (the model field's validator); this says it the way the form asks.
MAX_SHOWING = datetime.timedelta(days=ALERT_MAX_DAYS)
# The past alerts listed; older ones stay in the admin.
PAST_SHOWN = 50


class AlertForm(forms.ModelForm):
    submission_key = SubmissionKeyField()
    email_members = forms.BooleanField(
        label=gettext_lazy("Also email it to every member"),
        required=False,
        help_text=gettext_lazy(
            "Each member gets it in their own language, with a link to stop these emails. "
            "Members who turned them off get nothing."
        ),
    )

    class Meta:
        model = Alert
        fields = ["message", "expires_at"]
        field_classes = {"expires_at": dates.DateTimeField}
        labels = {
            "message": gettext_lazy("Warning"),
            "expires_at": gettext_lazy("Show until (optional)"),
        }
        help_texts = {
            "message": gettext_lazy(
                "Plain text; line breaks are kept. Every member sees it on every page of the pod."
            ),
        }
        widgets = {
            "message": forms.Textarea(attrs={"rows": 4}),
            "expires_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
        }

    def __init__(self, *args, pod, **kwargs):
        super().__init__(*args, **kwargs)
        self.time_zone = zoneinfo.ZoneInfo(pod.time_zone)
        self.fields["expires_at"].help_text = _(
            "A date and time in the pod's time zone (%(zone)s). Leave it empty to show the "
            "warning until you take it down."
        ) % {"zone": pod.time_zone}

    def full_clean(self):
        # The organizer types a time on the pod's clock, not the server's: read it there.
        with timezone.override(self.time_zone):
            super().full_clean()

    def clean_expires_at(self):
        expires_at = self.cleaned_data["expires_at"]
        if expires_at is None:
            return None
        now = timezone.now()
        if expires_at <= now:
            raise ValidationError(
                _("That time has passed. Choose a later one, or leave it empty."),
                code="past",
            )
        if expires_at > now + MAX_SHOWING:
            raise ValidationError(
                _("Choose a time within a year, or leave it empty."), code="too_far"
            )
        return expires_at


def _page(request, pod, form):
    now = timezone.now()
    alerts = Alert.objects.filter(pod=pod).select_related("created_by")
    current = list(alerts.showing(now))
    past = list(
        alerts.filter(Q(taken_down_at__isnull=False) | Q(expires_at__lte=now)).order_by(
            "-created_at"
        )[:PAST_SHOWN]
    )
    return render(
        request,
        "pods/alerts.html",
        {
            "pod": pod,
            "membership": request.membership,
            "section": "alerts",
            "form": form,
            "current": current,
            "past": past,
            "past_limit": PAST_SHOWN,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def alert_list(request, slug):
    """The pod's current and past alerts, and the form to post a new one."""
    pod = get_pod_for_organizer(request, slug)
    if request.method != "POST":
        return _page(request, pod, AlertForm(pod=pod))
    mine = Alert.objects.filter(pod=pod, created_by=request.user)
    submission = Submission(request.POST, mine=mine)
    if submission.earlier is not None:
        return _posted_already(request, pod)
    form = AlertForm(submission.data, instance=Alert(pod=pod, created_by=request.user), pod=pod)
    if not submission.accepts(form):
        return _page(request, pod, form)

    def create(key):
        form.instance.submission_key = key
        return form.save()

    alert, created = submission.save(create)
    if not created:
        return _posted_already(request, pod)
    if form.cleaned_data["email_members"]:
        # Queued with the alert: the worker writes one message per member.
        notices.email_alert(alert)
        count = len(notices.alert_readers(pod))
        messages.success(
            request,
            ngettext(
                "Your warning now shows on every page of the pod, and is being emailed to "
                "%(count)s member.",
                "Your warning now shows on every page of the pod, and is being emailed to "
                "%(count)s members.",
                count,
            )
            % {"count": count},
        )
        return redirect("pods:alerts", slug=pod.slug)
    messages.success(request, _("Your warning now shows on every page of the pod."))
    return redirect("pods:alerts", slug=pod.slug)


def _posted_already(request, pod):
    # The same form sent twice: the first one posted it.
    messages.info(request, _("You already posted this warning. It is in the list below."))
    return redirect("pods:alerts", slug=pod.slug)


@login_required
@require_POST
def alert_take_down(request, slug, pk):
    pod = get_pod_for_organizer(request, slug)
    alert = get_object_or_404(Alert, pod=pod, pk=pk)
    if alert.take_down():
        messages.success(request, _("The warning is taken down: members no longer see it."))
    else:
        messages.info(request, _("That warning was already taken down."))
    return redirect("pods:alerts", slug=pod.slug)
