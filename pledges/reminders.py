"""Reminders after payday, for `manage.py send_reminders` (run daily by cron).

Once a week's payday has passed on the pod's clock, each payer whose transfer for that
week has no receipt (or receipts for less than the plan asks) gets one reminder for the
week, and each organizer gets one list of the missing transfers a day, with the money the
plan funded that no line asks of anyone any more (nobody can be reminded of it).

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
from pledges.services import owed_lines, sent_in_week, week_needs, week_plan
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


@dataclass(frozen=True)
class UnaskedNeed:
    """Money the week's plan funded for a recipient that no line asks of anyone any more
    (services.Need.unasked): nobody can be reminded of it, so organizers are told."""

    recipient: object
    amount: Decimal


@dataclass
class Outcome:
    """What one run did (or, dry, would do) for one pod."""

    cycle: Cycle
    week: int | None = None
    payday: datetime.date | None = None
    missing: list[MissingTransfer] = field(default_factory=list)
    unasked: list[UnaskedNeed] = field(default_factory=list)
    reminded: list = field(default_factory=list)
    told: list = field(default_factory=list)
    already_sent: int = 0
    # Payers who left the pod: on the organizers' list, but not emailed.
    former_members: list = field(default_factory=list)


def missing_transfers(cycle: Cycle, week: int) -> list[MissingTransfer]:
    """The week's planned transfers that are still owed, in part or in whole: the lines of
    "this week" (the same function) with something left to send. A voided receipt counts
    for nothing."""
    return week_gaps(cycle, week)[0]


def week_gaps(cycle: Cycle, week: int) -> tuple[list[MissingTransfer], list[UnaskedNeed]]:
    """The week's missing transfers, and the needs of its recipients that the plan funded
    but no line asks of anyone any more (a payer paid someone else, say), in slot order."""
    plan = week_plan(cycle=cycle, week=week)
    sent = sent_in_week(cycle, week)
    owed = owed_lines(cycle=cycle, week=week, plan=plan, sent=sent)
    missing = [
        MissingTransfer(
            payer=line.payer,
            recipient=line.recipient,
            assigned=line.planned,
            received=line.planned - line.owed,
        )
        for line in owed
        if line.owed > 0
    ]
    enrolled = {
        enrollment.recipient_id: enrollment.recipient
        for enrollment in cycle.enrollments.in_week(week)
        .in_slot_order()
        .select_related("recipient")
    }
    needs = week_needs(cycle=cycle, recipient_ids=list(enrolled), owed=owed, sent=sent)
    unasked = [
        UnaskedNeed(recipient=enrolled[pk], amount=need.unasked)
        for pk, need in needs.items()
        if need.unasked > 0
    ]
    return missing, unasked


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
    outcome.missing, outcome.unasked = week_gaps(cycle, week)
    if not outcome.missing and not outcome.unasked:
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
    site = settings.SITE_URL.rstrip("/")
    context = {
        "pod": pod,
        "cycle": cycle,
        "week": week,
        "payday": outcome.payday,
        "this_week_url": site + reverse("pods:this_week", args=[pod.slug]),
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
    total = sum((t.outstanding for t in outcome.missing), Decimal("0.00")) + sum(
        (need.amount for need in outcome.unasked), Decimal("0.00")
    )
    organizers_context = {
        **context,
        "rows": rows,
        "unasked": outcome.unasked,
        "missing_count": len(rows) + len(outcome.unasked),
        "total": total,
        "plan_url": site + reverse("pods:plan", args=[pod.slug, week]),
    }
    for organizer in organizers:
        kind = Notification.Kind.MISSING_TRANSFERS
        if (organizer.pk, kind, daily_key) in sent:
            outcome.already_sent += 1
            continue
        message = render_email(
            "missing_transfers",
            to=organizer.email,
            language=organizer.language,
            context={**organizers_context, "name": _name(organizer)},
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
