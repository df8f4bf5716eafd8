"""Changing a pledge without rewriting the past.

A donor's pledges in a cycle form a timeline of records, each from a first to a last
week; at most one record that is not cancelled covers any week. A change takes effect
from the current week or the next one. Records that began before that week are ended the
week before it (the weeks already lived keep the amount they had); records that would
begin at or after it never took effect, so they are marked cancelled, never deleted. Then
a new record runs from that week to the end of the cycle.

Pausing is a record of its own (status paused, keeping the amount) rather than a gap: the
history then says "paused from week 7" instead of leaving the reader to guess, resuming
offers the old amount, and coverage, the weekly plan and the rollover all skip it because
they only count active records.

The weekly plan (who pays whom, see pledges/planning.py) is stored per week, built on
first use from the pledges and enrollments of that week, and rebuilt from a week on when
they change (`replan`), keeping last week's payer-recipient pairs wherever it can.
"""

import datetime
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from mutualaid.mail import render_email, send_on_commit
from pledges.models import Assignment, Pledge
from pledges.planning import plan_week
from pods.models import Cycle, Membership
from recipients.models import Recipient

# How long payers are warned after an organizer changes a recipient's payment handle:
# phishing usually asks for money "at my new handle".
HANDLE_WARNING_DAYS = 14


def effective_weeks(cycle: Cycle) -> list[int]:
    """The weeks a change may start from: this week and the next, or week 1 before the
    cycle starts. None once its weeks are over."""
    today = cycle.pod.today()
    if today < cycle.starts_on:
        return [1]
    week = cycle.week_of(today)
    if week is None:
        return []
    return [w for w in (week, week + 1) if w <= cycle.weeks]


def set_pledge(*, cycle: Cycle, donor, amount: Decimal, from_week: int) -> Pledge | None:
    """Pledge `amount` a week from `from_week` to the end of the cycle (a first pledge, a
    change or a resume). Returns the new record, or None if that is already the plan."""
    return _replace_from(cycle=cycle, donor=donor, from_week=from_week, amount=amount)


def pause_pledge(*, cycle: Cycle, donor, from_week: int) -> Pledge | None:
    """Pause from `from_week` on; the paused record keeps the amount for a resume."""
    return _replace_from(cycle=cycle, donor=donor, from_week=from_week, status=Pledge.Status.PAUSED)


def cancel_pledge(*, cycle: Cycle, donor, from_week: int) -> None:
    """Stop pledging from `from_week` on. Weeks before it keep their pledge."""
    with transaction.atomic():
        cycle, pledges = _lock(cycle=cycle, donor=donor)
        _check_week(cycle, from_week)
        if not [p for p in pledges if p.last_week >= from_week]:
            raise ValidationError(
                _("You have no pledge from week %(week)s on to cancel.") % {"week": from_week}
            )
        _end_from(pledges, from_week)
        replan(cycle=cycle, from_week=from_week)


def end_pledges_for_leaving(*, cycle: Cycle, donor) -> None:
    """Someone leaving the pod keeps this week's pledge (transfers for it may be on their
    way) and nothing after it. Call inside the leaving transaction."""
    today = cycle.pod.today()
    if today < cycle.starts_on:
        from_week = 1
    else:
        week = cycle.week_of(today)
        if week is None:
            return
        from_week = week + 1
    with transaction.atomic():
        cycle, pledges = _lock(cycle=cycle, donor=donor)
        _end_from(pledges, from_week)
        replan(cycle=cycle, from_week=from_week)


def notify_rolled_over(*, cycle: Cycle, pledges) -> None:
    """Email each donor whose pledge rolled over into `cycle`, once the rollover commits,
    with a link to change or pause it. One message per donor."""
    amounts = {}
    donors = {}
    for pledge in pledges:
        donors[pledge.donor_id] = pledge.donor
        amounts[pledge.donor_id] = amounts.get(pledge.donor_id, Decimal("0")) + pledge.amount
    pledge_url = settings.SITE_URL.rstrip("/") + reverse("pods:pledge", args=[cycle.pod.slug])
    messages = [
        render_email(
            "pledge_rolled_over",
            to=donor.email,
            context={
                "name": donor.display_name or donor.email.split("@")[0],
                "pod": cycle.pod,
                "cycle": cycle,
                "amount": amounts[donor_id],
                "pledge_url": pledge_url,
            },
        )
        for donor_id, donor in donors.items()
    ]
    send_on_commit(messages)


def _replace_from(*, cycle, donor, from_week, amount=None, status=Pledge.Status.ACTIVE):
    with transaction.atomic():
        cycle, pledges = _lock(cycle=cycle, donor=donor)
        _check_week(cycle, from_week)
        ahead = [p for p in pledges if p.last_week >= from_week]
        if amount is None:
            running = [p for p in ahead if p.status == Pledge.Status.ACTIVE]
            if not running:
                raise ValidationError(
                    _("You have no pledge from week %(week)s on to pause.") % {"week": from_week}
                )
            amount = running[0].amount
        # The same plan again (a double submit, say) changes nothing rather than
        # cluttering the history with a record that replaces an identical one.
        if (
            len(ahead) == 1
            and ahead[0].first_week <= from_week
            and ahead[0].last_week == cycle.weeks
            and ahead[0].status == status
            and ahead[0].amount == amount
        ):
            return None
        _end_from(pledges, from_week)
        pledge = Pledge(
            cycle=cycle,
            donor=donor,
            amount=amount,
            first_week=from_week,
            last_week=cycle.weeks,
            status=status,
        )
        pledge.full_clean()
        pledge.save()
        replan(cycle=cycle, from_week=from_week)
        return pledge


def _lock(*, cycle, donor):
    """Lock, always in this order, the donor's membership, the cycle and the donor's
    running pledges in it; return the fresh cycle and those pledges.

    The membership row exists even before a first pledge, so two submits of the same form
    queue up here instead of both adding a record for the same week. The cycle lock keeps
    a change from slipping in while an organizer rolls the cycle over (start_next_cycle
    locks it too) and the pledges lock is for anything else that edits them."""
    membership = (
        Membership.objects.select_for_update()
        .filter(pod_id=cycle.pod_id, user=donor, active=True)
        .order_by("pk")
        .first()
    )
    if membership is None:
        raise ValidationError(_("Only members of the pod can pledge."))
    cycle = Cycle.objects.select_for_update(of=("self",)).select_related("pod").get(pk=cycle.pk)
    if cycle.status != Cycle.Status.ACTIVE:
        raise ValidationError(_("This cycle is not running any more."))
    pledges = list(
        Pledge.objects.select_for_update()
        .filter(cycle=cycle, donor=donor)
        .exclude(status=Pledge.Status.CANCELLED)
        .order_by("first_week", "pk")
    )
    return cycle, pledges


def _check_week(cycle, from_week):
    if from_week not in effective_weeks(cycle):
        raise ValidationError(
            {"starts": _("A change can start this week or next week, never in the past.")}
        )


def _end_from(pledges, week):
    """Clear the timeline from `week` on without touching any week before it."""
    for pledge in pledges:
        if pledge.last_week < week:
            continue
        if pledge.first_week < week:
            pledge.last_week = week - 1
            pledge.save(update_fields=["last_week"])
        else:
            pledge.status = Pledge.Status.CANCELLED
            pledge.save(update_fields=["status"])


def week_plan(*, cycle: Cycle, week: int) -> list[Assignment]:
    """The stored plan for `week` of `cycle`, built from that week's pledges and
    enrollments and saved on first use. Lines come with their payer and recipient.

    Only pledges of active members count, whatever their role: an organizer forwarding
    pooled money is a payer like any other. A week outside the cycle has no plan."""
    if not 1 <= week <= cycle.weeks:
        return []
    plan = _stored_plan(cycle, week)
    if plan:
        return plan
    with transaction.atomic():
        # Two members opening a new week's page at the same moment: the second waits
        # here, then finds the plan the first one built instead of building it again.
        cycle = _lock_cycle(cycle)
        plan = _stored_plan(cycle, week)
        if not plan:
            _build_plan(cycle, week)
            plan = _stored_plan(cycle, week)
    return plan


def replan(*, cycle: Cycle, from_week: int) -> None:
    """Rebuild the stored plans of weeks >= `from_week` from the current pledges and
    enrollments: call it, inside the same transaction, whenever those change.

    Each week is rebuilt with its old plan as the starting point, so an organizer's
    adjustments and everyone's payer-recipient pairs survive wherever they still fit.
    Weeks not yet stored are left to be built on first use."""
    with transaction.atomic():
        cycle = _lock_cycle(cycle)
        stale = cycle.assignments.filter(week__gte=from_week)
        old = defaultdict(list)
        for week, payer_id, recipient_id, amount in stale.order_by("week", "pk").values_list(
            "week", "payer_id", "recipient_id", "amount"
        ):
            old[week].append((payer_id, recipient_id, amount))
        stale.delete()
        for week in sorted(old):
            _build_plan(cycle, week, previous=old[week])


def can_see_handle(
    *, membership: Membership, recipient: Recipient, cycle: Cycle, week: int
) -> bool:
    """Whether this member may see the recipient's payment handle for that week: the pod's
    organizers, and the members assigned to pay that recipient in that week. Nobody else,
    not even other payers of the same pod."""
    if not membership.active or membership.pod_id != recipient.pod_id:
        return False
    if cycle.pod_id != membership.pod_id:
        return False
    if membership.is_organizer:
        return True
    return any(
        line.payer_id == membership.user_id and line.recipient_id == recipient.pk
        for line in week_plan(cycle=cycle, week=week)
    )


def handle_recently_changed(recipient: Recipient, now: datetime.datetime | None = None) -> bool:
    """True while payers should be warned that this recipient's handle changed."""
    if recipient.handle_changed_at is None:
        return False
    now = now or timezone.now()
    return recipient.handle_changed_at > now - datetime.timedelta(days=HANDLE_WARNING_DAYS)


def week_has_started(cycle: Cycle, week: int) -> bool:
    """A week's plan is settled once the week starts (transfers may be on their way)."""
    return cycle.pod.today() >= cycle.week_starts_on(week)


def enrolled_in_week(cycle: Cycle, week: int):
    """The enrollments that count in `week`, in the order recipients are funded when
    pledges fall short (slot order). Someone who left still counts up to their last week."""
    return cycle.enrollments.filter(first_week__lte=week, last_week__gte=week).order_by(
        "slot", "first_week", "pk"
    )


def set_week_plan(*, cycle: Cycle, week: int, lines) -> None:
    """Replace the stored plan of a week that has not started with `lines` (payer id,
    recipient id, amount), as an organizer adjusted it.

    The form checks all of this first, with messages next to each line; checking again
    here, under the cycle's lock, keeps a plan valid when a recipient leaves or a member
    quits between the page being shown and it being saved."""
    with transaction.atomic():
        cycle = _lock_cycle(cycle)
        if not 1 <= week <= cycle.weeks:
            raise ValidationError(_("This cycle has %(weeks)s weeks.") % {"weeks": cycle.weeks})
        if week_has_started(cycle, week):
            raise ValidationError(
                _("Week %(week)s has started: its plan can no longer be changed.") % {"week": week}
            )
        if not lines:
            raise ValidationError(_("A plan needs at least one transfer."))
        payers = set(
            Membership.objects.active()
            .filter(pod_id=cycle.pod_id)
            .values_list("user_id", flat=True)
        )
        recipients = set(enrolled_in_week(cycle, week).values_list("recipient_id", flat=True))
        totals = defaultdict(Decimal)
        pairs = set()
        for payer_id, recipient_id, amount in lines:
            if payer_id not in payers:
                raise ValidationError(_("A payer is no longer a member of the pod."))
            if recipient_id not in recipients:
                raise ValidationError(
                    _("A recipient is not enrolled in week %(week)s.") % {"week": week}
                )
            if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
                raise ValidationError(_("Each amount must be more than zero, in whole cents."))
            if (payer_id, recipient_id) in pairs:
                raise ValidationError(_("The same payer is listed twice for one recipient."))
            pairs.add((payer_id, recipient_id))
            totals[recipient_id] += amount
        if any(total > cycle.weekly_amount for total in totals.values()):
            raise ValidationError(
                _("Nobody can be planned more than %(amount)s a week.")
                % {"amount": cycle.weekly_amount}
            )
        cycle.assignments.filter(week=week).delete()
        Assignment.objects.bulk_create(
            Assignment(
                cycle=cycle, week=week, payer_id=payer_id, recipient_id=recipient_id, amount=amount
            )
            for payer_id, recipient_id, amount in lines
        )


def _lock_cycle(cycle):
    return Cycle.objects.select_for_update(of=("self",)).select_related("pod").get(pk=cycle.pk)


def _stored_plan(cycle, week):
    return list(
        cycle.assignments.filter(week=week)
        .select_related("payer", "recipient")
        .order_by("recipient__display_name", "recipient_id", "-amount", "payer_id")
    )


def _build_plan(cycle, week, previous=None):
    pledges = (
        Pledge.objects.active()
        .in_week(week)
        .filter(
            cycle=cycle,
            donor__memberships__pod_id=cycle.pod_id,
            donor__memberships__active=True,
        )
        .order_by("donor_id", "pk")
        .values_list("donor_id", "amount")
    )
    needs = [
        (recipient_id, cycle.weekly_amount)
        for recipient_id in enrolled_in_week(cycle, week).values_list("recipient_id", flat=True)
    ]
    if previous is None:
        previous = _previous_plan(cycle, week)
    plan = plan_week(pledges=pledges, needs=needs, previous=previous)
    Assignment.objects.bulk_create(
        Assignment(cycle=cycle, week=week, payer_id=payer, recipient_id=recipient, amount=amount)
        for payer, recipient, amount in plan.transfers
    )


def _previous_plan(cycle, week):
    """The latest stored plan before `week` (for week 1, the last one of the previous
    cycle: rolled-over donors keep paying the neighbors they paid)."""
    earlier = cycle.assignments.filter(week__lt=week)
    if week == 1:
        earlier = Assignment.objects.filter(
            cycle__pod_id=cycle.pod_id, cycle__number=cycle.number - 1
        )
    latest = earlier.aggregate(week=Max("week"))["week"]
    if latest is None:
        return []
    return list(
        earlier.filter(week=latest).order_by("pk").values_list("payer_id", "recipient_id", "amount")
    )
