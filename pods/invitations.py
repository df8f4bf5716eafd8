"""An organizer's invitations in the app: create one (its link and QR code are shown
once, since only the link's hash is kept), see each one's status and who joined
through it, revoke one."""

import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from mutualaid.forms import Submission, SubmissionKeyField
from mutualaid.qr import qr_svg
from pods.access import get_pod_for_organizer
from pods.models import Invitation, Membership

MAX_DAYS = 90
MAX_USES = 500
# The same form sent again this soon, before anyone joined with its link, shows the
# invitation again with a new link: the first page (and its link) was most likely never
# seen, since a browser shows the answer to the last submit. Later, or once used, the
# link may be out in the world and is left alone.
SHOWN_AGAIN_WITHIN = datetime.timedelta(minutes=10)


class InvitationForm(forms.Form):
    role = forms.ChoiceField(
        label=gettext_lazy("They join as"),
        choices=Membership.Role.choices,
        initial=Membership.Role.DONOR,
        widget=forms.RadioSelect,
    )
    days = forms.IntegerField(
        label=gettext_lazy("Link works for (days)"),
        min_value=1,
        max_value=MAX_DAYS,
        initial=14,
    )
    max_uses = forms.IntegerField(
        label=gettext_lazy("Number of people who can join with it"),
        min_value=1,
        max_value=MAX_USES,
        initial=1,
        help_text=gettext_lazy(
            "One person per link is safest. For a meeting in person, allow as many as you expect."
        ),
    )
    submission_key = SubmissionKeyField()


def _list_page(request, pod, form):
    now = timezone.now()
    invitations = (
        Invitation.objects.filter(pod=pod)
        .select_related("created_by")
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=Membership.objects.select_related("user").order_by("joined_at"),
            )
        )
        .order_by("-created_at")
    )
    rows = [{"invitation": i, "status": i.status(now)} for i in invitations]
    return render(
        request,
        "pods/invitations.html",
        {
            "pod": pod,
            "membership": request.membership,
            "section": "invitations",
            "form": form,
            "rows": rows,
            "Status": Invitation.Status,
        },
    )


@login_required
@require_safe
def invitation_list(request, slug):
    pod = get_pod_for_organizer(request, slug)
    return _list_page(request, pod, InvitationForm())


@never_cache
@login_required
@require_POST
def invitation_create(request, slug):
    pod = get_pod_for_organizer(request, slug)
    mine = Invitation.objects.filter(pod=pod, created_by=request.user)
    submission = Submission(request.POST, mine=mine)
    if submission.earlier is not None:
        return _created_again(request, pod, submission.earlier)
    form = InvitationForm(submission.data)
    if not submission.accepts(form):
        return _list_page(request, pod, form)
    tokens = []

    def create(key):
        invitation = Invitation(
            pod=pod,
            role=form.cleaned_data["role"],
            max_uses=form.cleaned_data["max_uses"],
            expires_at=timezone.now() + datetime.timedelta(days=form.cleaned_data["days"]),
            created_by=request.user,
            submission_key=key,
        )
        tokens.append(invitation.new_token())
        invitation.save()
        return invitation

    invitation, created = submission.save(create)
    if not created:
        return _created_again(request, pod, invitation)
    return _created_page(request, pod, invitation, tokens[-1])


def _created_again(request, pod, invitation):
    """The same form sent twice: one invitation. Its link was shown only on the first
    answer, so it is shown again with a new secret while that is safe."""
    token = invitation.new_token()
    renewed = Invitation.objects.filter(
        pk=invitation.pk,
        uses=0,
        revoked_at=None,
        created_at__gte=timezone.now() - SHOWN_AGAIN_WITHIN,
    ).update(token_hash=invitation.token_hash)
    if not renewed:
        messages.info(
            request,
            _(
                "You already created this invitation; its link was shown then. If you no "
                "longer have it, revoke the invitation and create a new one."
            ),
        )
        return redirect("pods:invitations", slug=pod.slug)
    messages.info(
        request,
        _(
            "You already created this invitation. Here is its link again: the link "
            "shown the first time no longer works."
        ),
    )
    return _created_page(request, pod, invitation, token)


def _created_page(request, pod, invitation, token):
    # The page is the only place the link ever appears: rendered here rather than after
    # a redirect, so that the secret is never kept anywhere, not even in the session.
    link = request.build_absolute_uri(reverse("users:join", args=[token]))
    return render(
        request,
        "pods/invitations_created.html",
        {
            "pod": pod,
            "membership": request.membership,
            "section": "invitations",
            "invitation": invitation,
            "link": link,
            "qr": qr_svg(link, title=_("QR code of the invitation link")),
        },
    )


@login_required
@require_POST
def invitation_revoke(request, slug, pk):
    pod = get_pod_for_organizer(request, slug)
    invitation = get_object_or_404(Invitation, pod=pod, pk=pk)
    invitation.revoke()
    messages.success(request, _("The invitation is revoked: its link no longer works."))
    return redirect("pods:invitations", slug=pod.slug)
