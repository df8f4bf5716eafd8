"""Forgetting former recipients (DESIGN principle 2): a set time after their last
enrollment ends, or at once when they ask for it as they leave, what the pod knew about a
recipient is erased. The money history stays, under an anonymous label, so that every
total is unchanged.

What is erased, for a recipient: their name (it becomes the label), payment handle,
contact, private link and when their handle changed; the referral that brought them (its
name, contact and note), the reasons given when their queue place was moved and when
their enrollments ended; the references, screenshots and void reasons of the receipts sent
to them; and their name in the admin's history. For a withdrawn referral: its name,
contact, note and the reasons of its moves. `RECIPIENT_DATA` in tests/test_recipient_data
lists every field that can hold something about a recipient and checks that this module
and the recipient's page handle each one.

Run daily by `manage.py purge_recipient_data`. Each step only picks rows that still hold
something to erase, so a second run (or a run after one that stopped half-way) finds
only what is left, and anything written about an erased person since (a receipt posted
late, with a reference) is erased on the next run.
"""

import datetime
import json
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from mutualaid.mail import send_templated
from pods.models import Membership
from receipts.models import Receipt
from recipients import services
from recipients.models import Enrollment, Recipient, Referral, ReferralMove

# Rows written per statement when the admin's history is rewritten.
BATCH = 500


@dataclass(frozen=True)
class Purge:
    recipients: int
    referrals: int
    screenshots: int
    # Receipt references and void reasons, reasons for leaving and for queue moves, and
    # lines of the admin's history that named someone erased: the rows that held them.
    texts: int


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


def erased_label():
    """What stands in a required reason (a voided receipt's, a queue move's) once the
    words are erased. Stored, so in the site's language; the daily run compares with it."""
    with translation.override(settings.LANGUAGE_CODE):
        return _("Erased with the recipient's data")


def _receipts_of(recipients: Q):
    return Receipt.objects.filter(recipients)


def screenshots_due(recipients: Q):
    return _receipts_of(recipients).exclude(screenshot="")


def _texts_due(recipients: Q, referrals: Q):
    """Querysets of the rows that still hold free text about the people `recipients`
    (a condition on a receipt's, an enrollment's recipient) and `referrals` (on a move's
    referral) pick out, each with the update that erases it."""
    label = erased_label()
    return [
        (_receipts_of(recipients).exclude(reference=""), {"reference": ""}),
        (
            _receipts_of(recipients).exclude(voided_at=None).exclude(void_reason=label),
            {"void_reason": label},
        ),
        (Enrollment.objects.filter(recipients).exclude(end_reason=""), {"end_reason": ""}),
        (ReferralMove.objects.filter(referrals).exclude(reason=label), {"reason": label}),
    ]


def _erased_recipients():
    return Q(recipient__erased_at__isnull=False)


def _erased_referrals():
    return Q(referral__erased_at__isnull=False)


def purge(*, now=None, dry_run=False) -> Purge:
    now = now or timezone.now()
    recipient_ids = recipients_due(now)
    referral_ids = list(withdrawn_referrals_due(now).values_list("pk", flat=True))
    if dry_run:
        recipients = _erased_recipients() | Q(recipient_id__in=recipient_ids)
        referrals = (
            _erased_referrals()
            | Q(referral_id__in=referral_ids)
            | Q(referral__recipient_id__in=recipient_ids)
        )
        texts = sum(rows.count() for rows, _ in _texts_due(recipients, referrals))
        return Purge(
            len(recipient_ids), len(referral_ids), screenshots_due(recipients).count(), texts
        )

    # The names first: a person is "erased" from then on, and the steps below finish the
    # job for everyone erased, now or in a run that stopped half-way.
    with translation.override(settings.LANGUAGE_CODE):
        erased = sum(_erase_recipient(pk, now) for pk in recipient_ids)
        withdrawn = sum(_erase_referral(pk, now) for pk in referral_ids)
    screenshots = _delete_screenshots(_erased_recipients())
    texts = _erase_texts(_erased_recipients(), _erased_referrals())
    return Purge(erased, withdrawn, screenshots, texts)


def erase_now(recipient: Recipient, *, now=None) -> bool:
    """Erase what the pod knows about `recipient` at once, whatever the window: they
    asked for it. The same erasure as the daily run's; the screenshot files go once the
    transaction commits (a rolled-back erasure must keep them). False if already erased."""
    now = now or timezone.now()
    own = Q(recipient_id=recipient.pk)
    with transaction.atomic():
        with translation.override(settings.LANGUAGE_CODE):
            done = _erase_recipient(recipient.pk, now, due=False)
        _erase_texts(own, Q(referral__recipient_id=recipient.pk))
        # Should the files not go (storage down), the daily run deletes them.
        transaction.on_commit(lambda: _delete_screenshots(own), robust=True)
    return bool(done)


def leave_and_erase(*, recipient: Recipient) -> bool:
    """The recipient asks, from their private link, for what the pod knows about them to
    be erased now rather than after the retention window: their running enrollment ends
    as leaving ends it (the slot goes to the next referral), then the same erasure as the
    daily one. The organizers are told it happened, under the anonymous label, and not
    what was erased. False if they were erased already (a second tap)."""
    with transaction.atomic():
        locked = Recipient.objects.select_for_update().filter(pk=recipient.pk).first()
        if locked is None or locked.is_erased:
            return False
        enrollment = services.current_enrollment(locked)
        ending = (
            services.end_enrollment(enrollment=enrollment, notify=False)
            if enrollment is not None
            else None
        )
        erase_now(locked)
        locked.refresh_from_db()
        _notify_erased(recipient=locked, ending=ending)
    return True


def _notify_erased(*, recipient: Recipient, ending: services.Ending | None) -> None:
    pod = recipient.pod
    base = settings.SITE_URL.rstrip("/")
    enrollment = ending.enrollment if ending is not None and ending.ended else None
    handed_to = ending.handed_to if ending is not None else None
    context = {
        "pod": pod,
        # The anonymous label: the name is erased, and so stays out of the mail.
        "name": recipient.display_name,
        "enrollment": enrollment,
        "started": enrollment is not None and enrollment.holds_weeks,
        "handed_to": handed_to,
        "auto": handed_to is not None and handed_to.recipient_id is not None,
        "waitlist_url": base + reverse("recipients:waitlist", args=[pod.slug]),
        "enroll_url": (
            base + reverse("recipients:referral_enroll", args=[pod.slug, handed_to.pk])
            if handed_to is not None
            else ""
        ),
    }
    for membership in (
        Membership.objects.organizers().filter(pod=pod).select_related("user").order_by("pk")
    ):
        send_templated(
            "recipient_erased",
            to=membership.user.email,
            context=context,
            language=membership.user.language,
        )


def _delete_screenshots(recipients: Q) -> int:
    # Each file is deleted, then its field cleared: if the run stops between the two, the
    # next run deletes again (a no-op) and clears it. The other order could leave a file
    # that nothing points to any more, never to be deleted. Through the storage API, so
    # that it works on any storage (the file system, object storage).
    receipts = list(screenshots_due(recipients).only("pk", "screenshot"))
    for receipt in receipts:
        receipt.screenshot.storage.delete(receipt.screenshot.name)
        Receipt.objects.filter(pk=receipt.pk).update(screenshot="")
    return len(receipts)


def _erase_texts(recipients: Q, referrals: Q) -> int:
    return sum(rows.update(**erase) for rows, erase in _texts_due(recipients, referrals))


def _erase_recipient(pk, now, *, due=True) -> int:
    label = _("Former recipient %(number)s") % {"number": pk}
    with transaction.atomic():
        # Checked again with the row locked: an organizer may have enrolled them again
        # since the list was made. (No lock on the grouped query: PostgreSQL refuses it.)
        locked = Recipient.objects.select_for_update().filter(pk=pk, erased_at=None).first()
        if locked is None or (due and not is_due(locked, now)):
            return 0
        old = _names_in_history(_rows_named_after(recipient_id=pk))
        Recipient.objects.filter(pk=pk).update(
            display_name=label,
            payment_handle="",
            contact="",
            access_token_hash="",
            handle_changed_at=None,
            erased_at=now,
        )
        Referral.objects.filter(recipient_id=pk).update(
            display_name=label, contact="", note="", erased_at=now
        )
        _rewrite_history(old, _names_in_history(_rows_named_after(recipient_id=pk)))
    return 1


def _erase_referral(pk, now) -> int:
    label = _("Former referral %(number)s") % {"number": pk}
    with transaction.atomic():
        referral = (
            Referral.objects.select_for_update()
            .filter(pk=pk, status=Referral.Status.WITHDRAWN, erased_at=None)
            .first()
        )
        if referral is None:
            return 0
        old = _names_in_history(_rows_named_after(referral_id=pk))
        Referral.objects.filter(pk=pk).update(
            display_name=label, contact="", note="", erased_at=now
        )
        _rewrite_history(old, _names_in_history(_rows_named_after(referral_id=pk)))
    return 1


# The admin's history (LogEntry) keeps each changed row's name as it was (object_repr)
# and, for rows changed inline (a cycle's enrollments), their names in the change message.
# Both are rewritten to the rows' names after the erasure.


def _rows_named_after(*, recipient_id=None, referral_id=None) -> list:
    """The rows whose names (str) are made from a recipient's or a referral's name."""
    if recipient_id is not None:
        rows = [
            *Recipient.objects.filter(pk=recipient_id),
            *Enrollment.objects.filter(recipient_id=recipient_id).select_related(
                "recipient", "cycle"
            ),
            *Receipt.objects.filter(recipient_id=recipient_id).select_related("recipient"),
        ]
        referrals = Referral.objects.filter(recipient_id=recipient_id)
    else:
        rows = []
        referrals = Referral.objects.filter(pk=referral_id)
    rows += list(referrals)
    rows += list(ReferralMove.objects.filter(referral__in=referrals).select_related("referral"))
    return rows


def _names_in_history(rows) -> dict[tuple[int, str], tuple[str, str]]:
    """The names the admin's history may hold for `rows`, keyed by (content type, id): as
    shown (object_repr, in the language of whoever made the change) and untranslated
    (change messages are stored so)."""
    names = {}
    for row in rows:
        key = (ContentType.objects.get_for_model(row).pk, str(row.pk))
        with translation.override(None):
            untranslated = str(row)
        names[key] = (str(row), untranslated)
    return names


def _rewrite_history(old, new) -> None:
    # Read and written in bulk, not a query per entry: a recipient's receipts may each
    # have their own entries.
    by_type = defaultdict(set)
    for content_type, object_id in new:
        by_type[content_type].add(object_id)
    named_rows = Q()
    for content_type, object_ids in by_type.items():
        named_rows |= Q(content_type_id=content_type, object_id__in=object_ids)
    entries = (
        list(LogEntry.objects.filter(named_rows).only("pk", "content_type_id", "object_id"))
        if by_type
        else []
    )
    for entry in entries:
        entry.object_repr = new[(entry.content_type_id, entry.object_id)][0][:200]
    LogEntry.objects.bulk_update(entries, ["object_repr"], batch_size=BATCH)
    # Inline changes name the rows in their parent's entry (a cycle's).
    replace = {name: new[key][1] for key, names in old.items() for name in names if key in new}
    named = Q()
    for name in replace:
        named |= Q(change_message__contains=json.dumps(name)[1:-1])
    if not replace:
        return
    rewritten_entries = []
    for entry in LogEntry.objects.filter(named).only("pk", "change_message"):
        try:
            message = json.loads(entry.change_message)
        except ValueError:
            continue
        rewritten = _replace_objects(message, replace)
        if rewritten != message:
            entry.change_message = json.dumps(rewritten)
            rewritten_entries.append(entry)
    LogEntry.objects.bulk_update(rewritten_entries, ["change_message"], batch_size=BATCH)


def _replace_objects(message, replace):
    if isinstance(message, dict):
        return {
            key: replace.get(value, value)
            if key == "object" and isinstance(value, str)
            else _replace_objects(value, replace)
            for key, value in message.items()
        }
    if isinstance(message, list):
        return [_replace_objects(item, replace) for item in message]
    return message
