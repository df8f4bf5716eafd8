"""A small pod with a little of everything, and a second pod beside it, for the audit
tests that walk every page (tests/test_audit_*.py).

Maple (the conftest's `pod`) is in week 6 of a three-slot cycle: Rosa and Ana enrolled,
Wes waiting, a donor pledging, receipts (one voided, one whose screenshot file is gone),
an invitation and an alert. Elm (`other_pod`) has one of each too, so that every page can
be asked for with the other pod's ids.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from pledges.models import Pledge
from pods.models import Alert, Cycle, Invitation, StagedImport
from receipts.models import Receipt, StagedScreenshot
from recipients.models import Recipient, Referral
from recipients.services import enroll
from users.unsubscribe import unsubscribe_token


@dataclass
class PodIds:
    """The ids a pod's URLs take."""

    slug: str
    receipt: int
    screenshot_receipt: int
    staged: int
    invitation: int
    alert: int
    referral: int
    recipient: int
    recipient_token: str
    invitation_token: str
    # The donor's way out of the alert emails (a signed link, no sign-in).
    unsubscribe_token: str
    week: int
    # A cycle of the pod, by its number (the recipient's cycle pages).
    cycle_number: int
    donor_upload: str
    recipient_upload: str


def _receipt(pod, cycle, recipient, payer, **fields):
    week = fields.pop("week", 1)
    return Receipt.objects.create(
        pod=pod,
        cycle=cycle,
        week=week,
        recipient=recipient,
        payer=payer,
        amount=Decimal("50.00"),
        method="cashapp",
        sent_on=cycle.week_starts_on(week) + datetime.timedelta(days=1),
        posted_by=payer,
        **fields,
    )


def furnish(pod, cycle, *, organizer, donor, name) -> PodIds:
    """Recipients, a referral, a pledge, receipts, an invitation and an alert in `pod`."""
    recipient = Recipient.objects.create(
        pod=pod, display_name=name, payment_method="cashapp", payment_handle=f"${name.lower()}"
    )
    token = recipient.new_access_token()
    recipient.save(update_fields=["access_token_hash"])
    enroll(recipient=recipient, cycle=cycle)
    second = Recipient.objects.create(pod=pod, display_name=f"{name} Two", payment_method="cash")
    enroll(recipient=second, cycle=cycle)
    referral = Referral.objects.create(
        pod=pod, referred_by=donor, display_name=f"{name} Waiting", contact="555-0100"
    )
    Pledge.objects.create(
        cycle=cycle, donor=donor, amount=Decimal("75.00"), first_week=1, last_week=cycle.weeks
    )
    receipt = _receipt(pod, cycle, recipient, donor, week=2)
    _receipt(pod, cycle, second, donor, week=3).void(by=organizer, reason="Typo")
    # A screenshot whose file is missing from storage: its view must answer 404, not 500.
    pictured = _receipt(pod, cycle, recipient, organizer, week=4, screenshot="receipts/gone.png")
    staged = StagedScreenshot.objects.create(owner=donor, image="staged/gone.png")
    invitation = Invitation(
        pod=pod, created_by=organizer, expires_at=timezone.now() + datetime.timedelta(days=7)
    )
    invitation_token = invitation.new_token()
    invitation.save()
    alert = Alert.objects.create(pod=pod, message="Nobody asks for a new handle.")
    # Two spreadsheets uploaded and not confirmed yet.
    donor_upload = StagedImport.objects.create(
        pod=pod,
        kind=StagedImport.Kind.DONORS,
        created_by=organizer,
        file_name="donors.csv",
        rows=[{"number": 2, "name": "Ann", "email": "ann@example.org", "weekly_amount": "20"}],
    )
    recipient_upload = StagedImport.objects.create(
        pod=pod,
        kind=StagedImport.Kind.RECIPIENTS,
        created_by=organizer,
        file_name="recipients.csv",
        rows=[
            {
                "number": 2,
                "display_name": f"{name} Imported",
                "payment_method": "cash",
                "payment_handle": "",
                "contact": "",
            }
        ],
    )
    return PodIds(
        slug=pod.slug,
        receipt=receipt.pk,
        screenshot_receipt=pictured.pk,
        staged=staged.pk,
        invitation=invitation.pk,
        alert=alert.pk,
        referral=referral.pk,
        recipient=recipient.pk,
        recipient_token=token,
        invitation_token=invitation_token,
        unsubscribe_token=unsubscribe_token(donor),
        week=cycle.current_week() + 1,
        cycle_number=cycle.number,
        donor_upload=str(donor_upload.pk),
        recipient_upload=str(recipient_upload.pk),
    )


def build(*, pod, other_pod, cycle, organizer, donor, outsider) -> tuple[PodIds, PodIds]:
    """Both pods furnished; returns (maple's ids, elm's ids)."""
    maple = furnish(pod, cycle, organizer=organizer, donor=donor, name="Rosa")
    elm_cycle = Cycle.objects.create(
        pod=other_pod,
        number=1,
        starts_on=cycle.starts_on,
        weeks=cycle.weeks,
        weekly_amount=cycle.weekly_amount,
        slots=3,
    )
    elm = furnish(other_pod, elm_cycle, organizer=outsider, donor=outsider, name="Otis")
    return maple, elm
