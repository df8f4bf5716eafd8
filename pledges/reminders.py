"""Reminders after payday, for `manage.py send_reminders` (run daily by cron).

Once a week's payday has passed on the pod's clock, each payer whose transfer for that
week has no receipt (or receipts for less than the plan asks) gets one reminder for the
week, and each organizer gets one list of the missing transfers a day.

Nothing is sent twice: every message is first logged as a `pods.Notification`, whose
unique (person, kind, key) lets only one run claim it, and the mail goes out once that
row is committed. A crash between the two loses a message rather than repeating it:
a missed reminder costs less than a neighbor nagged twice.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from mutualaid.mail import render_email, send_on_commit
from pledges.services import owed_lines
from pods.models import Cycle, Membership, Notification


@dataclass(frozen=True)
class MissingTransfer:
    """A transfer of the week's plan that has no receipt for all of its amount."""

    payer: object
    recipient: object
    assigned: Decimal
    received: Decimal

    @property
    def outstanding(self):
        return self.assigned - self.received


@dataclass
class Outcome:
    """What one run did (or, dry, would do) for one pod."""

    cycle: Cycle
    week: int | None = None
    payday: datetime.date | None = None
    missing: list[MissingTransfer] = field(default_factory=list)
    reminded: list = field(default_factory=list)
    told: list = field(default_factory=list)
    already_sent: int = 0
    # Payers who left the pod: on the organizers' list, but not emailed.
    former_members: list = field(default_factory=list)


def missing_transfers(cycle: Cycle, week: int) -> list[MissingTransfer]:
    """The week's planned transfers that are still owed, in part or in whole: the lines of
    "this week" (the same function) with something left to send. A voided receipt counts
    for nothing."""
    return [
        MissingTransfer(
            payer=line.payer,
            recipient=line.recipient,
            assigned=line.planned,
            received=line.planned - line.owed,
        )
        for line in owed_lines(cycle=cycle, week=week)
        if line.owed > 0
    ]


def payer_key(cycle: Cycle, week: int) -> str:
    return f"cycle:{cycle.pk}:week:{week}"


def digest_key(cycle: Cycle, today: datetime.date) -> str:
    return f"pod:{cycle.pod_id}:day:{today.isoformat()}"


def send_reminders(*, cycle: Cycle, today: datetime.date, dry_run: bool = False) -> Outcome:
    """Remind the payers of `cycle`'s overdue week and tell its organizers, each at most
    once (see the module's docstring). With `dry_run`, work out the same messages and
    send or log nothing."""
    pod = cycle.pod
    outcome = Outcome(cycle=cycle)
    week = cycle.reminder_week(today)
    if week is None:
        return outcome
    outcome.week = week
    outcome.payday = cycle.payday(week)
    outcome.missing = missing_transfers(cycle, week)
    if not outcome.missing:
        return outcome

    memberships = list(Membership.objects.active().filter(pod=pod).select_related("user"))
    members = {m.user_id for m in memberships}
    organizers = [m.user for m in memberships if m.is_organizer]
    reminder_key = payer_key(cycle, week)
    daily_key = digest_key(cycle, today)
    sent = set(
        Notification.objects.filter(pod=pod, key__in=[reminder_key, daily_key]).values_list(
            "user_id", "kind", "key"
        )
    )
    this_week_url = settings.SITE_URL.rstrip("/") + reverse("pods:this_week", args=[pod.slug])
    context = {
        "pod": pod,
        "cycle": cycle,
        "week": week,
        "payday": outcome.payday,
        "this_week_url": this_week_url,
    }

    by_payer = {}
    for transfer in outcome.missing:
        by_payer.setdefault(transfer.payer.pk, []).append(transfer)
    for payer_id, transfers in by_payer.items():
        payer = transfers[0].payer
        if payer_id not in members:
            outcome.former_members.append(payer)
            continue
        kind = Notification.Kind.PAYMENT_REMINDER
        if (payer_id, kind, reminder_key) in sent:
            outcome.already_sent += 1
            continue
        message = render_email(
            "reminder",
            to=payer.email,
            language=payer.language,
            context={**context, "name": _name(payer), "transfers": transfers},
        )
        if dry_run or _claim(pod=pod, user=payer, kind=kind, key=reminder_key, message=message):
            outcome.reminded.append(payer)
        else:
            outcome.already_sent += 1

    rows = [
        {
            "transfer": transfer,
            "payer_name": _name(transfer.payer),
            "has_left": transfer.payer.pk not in members,
        }
        for transfer in outcome.missing
    ]
    total = sum((t.outstanding for t in outcome.missing), Decimal("0.00"))
    for organizer in organizers:
        kind = Notification.Kind.MISSING_TRANSFERS
        if (organizer.pk, kind, daily_key) in sent:
            outcome.already_sent += 1
            continue
        message = render_email(
            "missing_transfers",
            to=organizer.email,
            language=organizer.language,
            context={**context, "name": _name(organizer), "rows": rows, "total": total},
        )
        if dry_run or _claim(pod=pod, user=organizer, kind=kind, key=daily_key, message=message):
            outcome.told.append(organizer)
        else:
            outcome.already_sent += 1
    return outcome


def _claim(*, pod, user, kind, key, message) -> bool:
    """Log the message, and send it once the log row is committed; False if another run
    logged it first (the unique constraint decides, even between concurrent runs)."""
    with transaction.atomic():
        _, created = Notification.objects.get_or_create(
            user=user, kind=kind, key=key, defaults={"pod": pod}
        )
        if created:
            send_on_commit([message])
    return created


def _name(user):
    return user.display_name or user.email.split("@")[0]
