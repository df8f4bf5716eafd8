"""Forgetting former recipients (DESIGN principle 2): a set time after their last
enrollment ends, what the pod knew about a recipient is erased. The money history stays,
under an anonymous label, so that every total is unchanged.

Run daily by `manage.py purge_recipient_data`. Each step only picks rows that still hold
something to erase, so a second run (or a run after one that stopped half-way) finds
only what is left.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from receipts.models import Receipt
from recipients.models import Enrollment, Recipient, Referral


@dataclass(frozen=True)
class Purge:
    recipients: int
    referrals: int
    screenshots: int


def cutoff(now=None) -> datetime.datetime:
    return (now or timezone.now()) - datetime.timedelta(days=settings.RECIPIENT_RETENTION_DAYS)


def recipients_due(now=None) -> list[int]:
    """Recipients not yet erased whose support is over, at least the retention window
    ago: every enrollment ended (left or ended by an organizer) and past its last week,
    in the pod's calendar. Someone never enrolled is not due: they are about to be."""
    return [
        recipient.pk
        for recipient in Recipient.objects.filter(erased_at=None, enrollments__isnull=False)
        .distinct()
        .prefetch_related("enrollments__cycle__pod")
        if is_due(recipient, now)
    ]


def is_due(recipient, now=None) -> bool:
    limit = cutoff(now)
    enrollments = list(recipient.enrollments.all())
    return bool(enrollments) and all(
        e.supported_until < limit.date() and (e.ended_at is None or e.ended_at <= limit)
        for e in enrollments
    )


def withdrawn_referrals_due(now=None):
    """Withdrawn referrals not yet erased, withdrawn at least the retention window ago (a
    referral withdrawn in the admin has no date: its arrival date counts)."""
    return (
        Referral.objects.filter(status=Referral.Status.WITHDRAWN, erased_at=None)
        .annotate(withdrawn=Coalesce("withdrawn_at", "created_at"))
        .filter(withdrawn__lte=cutoff(now))
    )


def screenshots_due(recipient_ids):
    """Receipts with a screenshot sent to an erased recipient or to one of these."""
    return Receipt.objects.filter(
        Q(recipient__erased_at__isnull=False) | Q(recipient_id__in=recipient_ids)
    ).exclude(screenshot="")


def purge(*, now=None, dry_run=False) -> Purge:
    now = now or timezone.now()
    recipient_ids = recipients_due(now)
    referral_ids = list(withdrawn_referrals_due(now).values_list("pk", flat=True))
    screenshots = list(screenshots_due(recipient_ids).only("pk", "screenshot"))
    if dry_run:
        return Purge(len(recipient_ids), len(referral_ids), len(screenshots))

    # Files first, each followed by clearing its field: if the run stops between the two,
    # the next run deletes again (a no-op) and clears it. The other order could leave a
    # file that nothing points to any more, never to be deleted.
    for receipt in screenshots:
        receipt.screenshot.storage.delete(receipt.screenshot.name)
        Receipt.objects.filter(pk=receipt.pk).update(screenshot="")

    # The label is stored, so it is in the site's language, not the runner's.
    with translation.override(settings.LANGUAGE_CODE):
        erased = sum(_erase_recipient(pk, now) for pk in recipient_ids)
        withdrawn = sum(_erase_referral(pk, now) for pk in referral_ids)
    return Purge(erased, withdrawn, len(screenshots))


def _erase_recipient(pk, now) -> int:
    label = _("Former recipient %(number)s") % {"number": pk}
    with transaction.atomic():
        # Checked again with the row locked: an organizer may have enrolled them again
        # since the list was made. (No lock on the grouped query: PostgreSQL refuses it.)
        locked = Recipient.objects.select_for_update().filter(pk=pk, erased_at=None).first()
        if locked is None or not is_due(locked, now):
            return 0
        Recipient.objects.filter(pk=pk).update(
            display_name=label,
            payment_handle="",
            contact="",
            access_token_hash="",
            erased_at=now,
        )
        Referral.objects.filter(recipient_id=pk).update(
            display_name=label, contact="", note="", erased_at=now
        )
        # An optional word someone left with is theirs too.
        Enrollment.objects.filter(recipient_id=pk).update(end_reason="")
    return 1


def _erase_referral(pk, now) -> int:
    label = _("Former referral %(number)s") % {"number": pk}
    return Referral.objects.filter(pk=pk, status=Referral.Status.WITHDRAWN, erased_at=None).update(
        display_name=label, contact="", note="", erased_at=now
    )
