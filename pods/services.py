"""Inviting people by email, one or a whole list at once (the invitations page and a
donor list imported from a spreadsheet both come here)."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from mutualaid.mail import render_email, send_on_commit
from pods.models import Invitation, Membership, Pod

# How long an emailed invitation works: people read their mail late.
EMAILED_INVITATION_DAYS = 30


def is_email(address: str) -> bool:
    """Whether `address` can be an invitation's: an email address that fits the field."""
    if len(address) > Invitation._meta.get_field("email").max_length:
        return False
    try:
        validate_email(address)
    except ValidationError:
        return False
    return True


@dataclass
class Invitee:
    email: str
    name: str = ""
    suggested_amount: Decimal | None = None


@dataclass
class Invited:
    sent: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    invited_already: list[str] = field(default_factory=list)


def already_there(pod: Pod, emails) -> tuple[set[str], set[str]]:
    """Of `emails` (lower case): those of active members of `pod`, and those with an
    invitation to it that still works. Two queries, however many addresses."""
    emails = list(emails)
    members = set(
        Membership.objects.active()
        .filter(pod=pod, user__email__in=emails)
        .values_list("user__email", flat=True)
    )
    invited = set(
        Invitation.objects.usable().filter(pod=pod).sent_to(emails).values_list("email", flat=True)
    )
    return {e.lower() for e in members}, invited - members


def invite_by_email(
    *, pod: Pod, by, invitees: list[Invitee], role: str = Membership.Role.DONOR
) -> Invited:
    """Email each of `invitees` an invitation of their own (one use, for
    EMAILED_INVITATION_DAYS days), unless they are a member already or have an
    invitation that still works: nobody gets two. Each mail is in its reader's language:
    their account's if they have one, else the pod's."""
    result = Invited()
    with transaction.atomic():
        # Lock the pod: the same list sent twice at once (two tabs, a double tap) must
        # not invite anyone twice. The second waits here, then finds them invited.
        Pod.objects.select_for_update().filter(pk=pod.pk).first()
        seen = set()
        unique = []
        for invitee in invitees:
            email = invitee.email.strip().lower()
            if email and email not in seen:
                seen.add(email)
                unique.append((email, invitee))
        members, invited = already_there(pod, seen)
        languages = dict(
            get_user_model()
            .objects.filter(email__in=seen)
            .exclude(language="")
            .values_list("email", "language")
        )
        expires_at = timezone.now() + datetime.timedelta(days=EMAILED_INVITATION_DAYS)
        base = settings.SITE_URL.rstrip("/")
        messages = []
        for email, invitee in unique:
            if email in members:
                result.members.append(email)
                continue
            if email in invited:
                result.invited_already.append(email)
                continue
            invitation = Invitation(
                pod=pod,
                role=role,
                email=email,
                suggested_amount=invitee.suggested_amount,
                max_uses=1,
                expires_at=expires_at,
                created_by=by,
            )
            token = invitation.new_token()
            invitation.save()
            result.sent.append(email)
            messages.append(
                render_email(
                    "invitation",
                    to=email,
                    language=languages.get(email) or pod.language,
                    context={
                        "pod": pod,
                        "name": invitee.name,
                        "by": by.display_name if by is not None else "",
                        "role": role,
                        "suggested_amount": invitee.suggested_amount,
                        "expires_at": expires_at,
                        "link": base + reverse("users:join", args=[token]),
                    },
                )
            )
        send_on_commit(messages)
    return result
