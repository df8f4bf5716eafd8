"""An organizer's invitations in the app: create a link (with its QR code), email
invitations to a list of addresses, see each one's status and who joined through it,
revoke one.

Only a link's hash is stored. After creating one, the organizer is sent to its page
(post/redirect/get), which shows the link from their session for LINK_KEPT_FOR: a
reload shows it again and never makes another. After that, or in another browser, it
is never shown again."""

import datetime
import re

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from mutualaid.forms import Submission, SubmissionKeyField
from mutualaid.qr import qr_svg
from mutualaid.text import format_isolated
from pods import services
from pods.access import get_pod_for_organizer
from pods.models import Invitation, Membership, hash_token

MAX_DAYS = 90
MAX_USES = 500
# The same form sent again this soon, before anyone joined with its link, shows the
# invitation again with a new link: the first page (and its link) was most likely never
# seen, since a browser shows the answer to the last submit. Later, or once used, the
# link may be out in the world and is left alone.
SHOWN_AGAIN_WITHIN = datetime.timedelta(minutes=10)
# How long the organizer's own browser can show a new link again (its page reloaded).
LINK_KEPT_FOR = datetime.timedelta(hours=1)
SESSION_KEY = "invitation_links"
MAX_ADDRESSES = 200


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


class EmailInvitationForm(forms.Form):
    role = forms.ChoiceField(
        label=gettext_lazy("They join as"),
        choices=Membership.Role.choices,
        initial=Membership.Role.DONOR,
        widget=forms.RadioSelect,
    )
    emails = forms.CharField(
        label=gettext_lazy("Email addresses"),
        widget=forms.Textarea(attrs={"rows": 5, "autocomplete": "off", "spellcheck": "false"}),
        help_text=gettext_lazy(
            "One per line, or separated by commas or spaces. Each person gets an "
            "invitation of their own by email, which works for 30 days."
        ),
    )

    def __init__(self, *args, **kwargs):
        # Beside the link form on one page: ids of its own.
        kwargs.setdefault("auto_id", "id_email_%s")
        super().__init__(*args, **kwargs)

    def clean_emails(self):
        words = [w.strip("<>\"'") for w in re.split(r"[\s,;]+", self.cleaned_data["emails"])]
        addresses = [w.lower() for w in words if w]
        if not addresses:
            raise ValidationError(_("Write at least one email address."))
        if len(addresses) > MAX_ADDRESSES:
            raise ValidationError(
                _("At most %(max)s addresses at once, please.") % {"max": MAX_ADDRESSES}
            )
        problems = []
        for address in dict.fromkeys(addresses):
            if not services.is_email(address):
                problems.append(
                    ValidationError(
                        _("“%(email)s” is not an email address."), params={"email": address}
                    )
                )
        if problems:
            raise ValidationError(problems)
        return addresses


def _list_page(request, pod, form, email_form=None, status=200):
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
            "email_form": email_form or EmailInvitationForm(),
            "rows": rows,
            "Status": Invitation.Status,
        },
        status=status,
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
    return _show_once_more(request, pod, invitation, tokens[-1])


def _kept_link(request, invitation):
    """The secret of `invitation`'s link, if this browser created it lately and the link
    still works; else None."""
    kept = request.session.get(SESSION_KEY, {}).get(str(invitation.pk))
    if not isinstance(kept, dict) or not isinstance(kept.get("token"), str):
        return None
    try:
        at = datetime.datetime.fromisoformat(kept.get("at", ""))
    except (TypeError, ValueError):
        return None
    if (
        at.tzinfo is None
        or timezone.now() - at > LINK_KEPT_FOR
        or hash_token(kept["token"]) != invitation.token_hash
    ):
        return None
    return kept["token"]


def _show_once_more(request, pod, invitation, token):
    """Keep the new link's secret in the organizer's session for a while and send them to
    the invitation's page, which shows it: a reload shows it again."""
    now = timezone.now()
    kept = {
        pk: entry
        for pk, entry in request.session.get(SESSION_KEY, {}).items()
        if isinstance(entry, dict)
        and isinstance(entry.get("at"), str)
        and entry["at"] >= (now - LINK_KEPT_FOR).isoformat()
    }
    kept[str(invitation.pk)] = {"token": token, "at": now.isoformat()}
    request.session[SESSION_KEY] = kept
    return redirect("pods:invitation", slug=pod.slug, pk=invitation.pk)


@never_cache
@login_required
@require_safe
def invitation_detail(request, slug, pk):
    """A new invitation's link and QR code, while the browser that created it keeps it."""
    pod = get_pod_for_organizer(request, slug)
    invitation = get_object_or_404(Invitation, pod=pod, pk=pk)
    token = _kept_link(request, invitation)
    if token is None or invitation.status() != Invitation.Status.ACTIVE:
        messages.info(
            request,
            _(
                "An invitation's link is shown only just after it is created. If you no "
                "longer have it, revoke the invitation and create a new one."
            ),
        )
        return redirect("pods:invitations", slug=pod.slug)
    return _created_page(request, pod, invitation, token)


def _created_again(request, pod, invitation):
    """The same form sent twice: one invitation. This browser may still keep its link:
    then it is shown. Otherwise it was shown only on the first answer, so it is shown
    again with a new secret while that is safe."""
    if _kept_link(request, invitation) is not None:
        messages.info(request, _("You already created this invitation: here is its link."))
        return redirect("pods:invitation", slug=pod.slug, pk=invitation.pk)
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
    return _show_once_more(request, pod, invitation, token)


def _created_page(request, pod, invitation, token):
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


@never_cache
@login_required
@require_POST
def invitation_email(request, slug):
    """Email an invitation to each address of a list. Members and people whose
    invitation still works are skipped, and the page says who; an address given twice
    gets one invitation."""
    pod = get_pod_for_organizer(request, slug)
    form = EmailInvitationForm(request.POST)
    if not form.is_valid():
        return _list_page(request, pod, InvitationForm(), email_form=form, status=400)
    addresses = form.cleaned_data["emails"]
    invited = services.invite_by_email(
        pod=pod,
        by=request.user,
        invitees=[services.Invitee(email=address) for address in addresses],
        role=form.cleaned_data["role"],
    )
    count = len(invited.sent)
    if count:
        messages.success(
            request,
            ngettext(
                "%(count)s invitation sent by email.", "%(count)s invitations sent by email.", count
            )
            % {"count": count},
        )
    if invited.members:
        messages.info(
            request,
            format_isolated(
                _("Already members, so not invited: %(emails)s."),
                {"emails": ", ".join(invited.members)},
            ),
        )
    if invited.invited_already:
        messages.info(
            request,
            format_isolated(
                _("Invited already, with an invitation that still works: %(emails)s."),
                {"emails": ", ".join(invited.invited_already)},
            ),
        )
    repeated = sorted({a for a in addresses if addresses.count(a) > 1})
    if repeated:
        messages.info(
            request,
            format_isolated(
                _("Written more than once, invited once: %(emails)s."),
                {"emails": ", ".join(repeated)},
            ),
        )
    return redirect("pods:invitations", slug=pod.slug)
