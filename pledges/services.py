"""Changing a pledge without rewriting the past.

A donor's pledges in a cycle form a timeline of records, each from a first to a last
week; at most one record that is not cancelled covers any week. A change takes effect
from the first week not started yet (a started week is frozen: transfers for it may be
on their way), and goes on into a next cycle that is already planned. Records that began
before that week are ended the week before it (the weeks already lived keep the amount
they had); records that would
begin at or after it never took effect, so they are marked cancelled, never deleted. Then
a new record runs from that week to the end of the cycle.

Pausing is a record of its own (status paused, keeping the amount) rather than a gap: the
history then says "paused from week 7" instead of leaving the reader to guess, resuming
offers the old amount, and coverage, the weekly plan and the rollover all skip it because
they only count active records.

The weekly plan (who pays whom, see pledges/planning.py) is stored per week, built on
first use from the pledges and enrollments of that week, and rebuilt from a week on when
they change (`replan`), keeping last week's payer-recipient pairs wherever it can. Only
weeks not started yet are ever rebuilt; an organizer may correct a started week by hand.

This module is the top of the layers (pods <- recipients <- receipts <- pledges), so the
workflows that write pledges and enrollments together live here: starting the next
cycle, ending one early, leaving the pod.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Max, Q, Sum, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from mutualaid.mail import enqueue_on_commit, render_email, send_on_commit, send_templated
from pledges import tasks
from pledges.models import Assignment, PlanView, Pledge
from pledges.planning import plan_week
from pods.models import Cycle, Membership
from pods.templatetags.money import format_money
from receipts.models import Receipt
from recipients.models import Enrollment, Recipient

# How long payers are warned after an organizer changes a recipient's payment handle:
# phishing usually asks for money "at my new handle".
HANDLE_WARNING_DAYS = 14


def effective_weeks(cycle: Cycle) -> list[int]:
    """The weeks a pledge change made today may start from: the first week not started
    yet (week 1 before the cycle starts). None once the last week has started."""
    first = cycle.first_open_week()
    return [first] if first is not None else []


def set_pledge(*, cycle: Cycle, donor, amount: Decimal, from_week: int) -> Pledge | None:
    """Pledge `amount` a week from `from_week` to the end of the cycle (a first pledge, a
    change or a resume), and in a next cycle already planned. Returns the new record, or
    None if that is already the plan."""
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
        for later in _planned_after(cycle):
            later, pledges = _lock(cycle=later, donor=donor)
            _end_from(pledges, 1)
            replan(cycle=later, from_week=1)


def end_pledges_for_leaving(*, cycle: Cycle, donor) -> None:
    """Someone leaving the pod keeps the pledges of the weeks that have started
    (transfers for them may be on their way) and nothing after. Call inside the leaving
    transaction."""
    with transaction.atomic():
        for each in [cycle, *_planned_after(cycle)]:
            from_week = each.first_open_week()
            if from_week is None:
                continue
            each, pledges = _lock(cycle=each, donor=donor)
            _end_from(pledges, from_week)
            replan(cycle=each, from_week=from_week)


def notify_rolled_over(*, cycle: Cycle, pledges) -> None:
    """Email each donor whose pledge carries over into `cycle` (planned now, starting on
    its own date), once the planning commits, with a link to change or pause it. One
    message per donor, made by the task worker (pledges.tasks.send_rollover_notices): the
    organizer's request only queues one task, however many donors there are."""
    enqueue_on_commit(tasks.send_rollover_notices, cycle.pk, [pledge.pk for pledge in pledges])


def send_rollover_notices(*, cycle: Cycle, pledges) -> None:
    """The messages of notify_rolled_over, queued for sending."""
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
            language=donor.language,
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


def _planned_after(cycle: Cycle) -> list[Cycle]:
    """The cycles planned after `cycle` that have not started: a change that runs to the
    end of `cycle` goes on into them, as it would have been carried over."""
    later = []
    following = cycle.following()
    while following is not None and not following.has_started(1):
        later.append(following)
        following = following.following()
    return later


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
        for later in _planned_after(cycle):
            later, pledges = _lock(cycle=later, donor=donor)
            _end_from(pledges, 1)
            Pledge.objects.create(
                cycle=later,
                donor=donor,
                amount=amount,
                first_week=1,
                last_week=later.weeks,
                status=status,
            )
            replan(cycle=later, from_week=1)
        return pledge


def _lock(*, cycle, donor):
    """Lock, always in this order, the donor's membership, the cycle and the donor's
    running pledges in it; return the fresh cycle and those pledges.

    The membership row exists even before a first pledge, so two submits of the same form
    queue up here instead of both adding a record for the same week. The cycle lock keeps
    a change from slipping in while an organizer rolls the cycle over (start_next_cycle
    locks it too) and the pledges lock is for anything else that edits them. A cycle
    whose weeks have all started takes no change."""
    membership = (
        Membership.objects.select_for_update()
        .filter(pod_id=cycle.pod_id, user=donor, active=True)
        .order_by("pk")
        .first()
    )
    if membership is None:
        raise ValidationError(_("Only members of the pod can pledge."))
    cycle = Cycle.objects.select_for_update(of=("self",)).select_related("pod").get(pk=cycle.pk)
    if cycle.first_open_week() is None:
        raise ValidationError(_("This cycle has no week left to change."))
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
            {
                "starts": _(
                    "A change starts with the first week that has not started yet, never "
                    "in a week whose transfers may be on their way."
                )
            }
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


class PlanLine(NamedTuple):
    """A line of a week's plan without its people: ids and the amount, what owed_lines()
    works from. A plan has a line for each of hundreds of payers, and a page shows a few
    of them, so the lines are read as plain tuples and the people of the shown ones only."""

    pk: int
    payer_id: int
    recipient_id: int
    amount: Decimal


def week_plan(*, cycle: Cycle, week: int, people: bool = True) -> list[Assignment] | list[PlanLine]:
    """The stored plan for `week` of `cycle`, built from that week's pledges, enrollments
    and the receipts already posted for it, and saved on first use. Lines come with their
    payer and recipient; with `people` False as PlanLines (ids and amounts).

    Only pledges of active members count, whatever their role: an organizer forwarding
    pooled money is a payer like any other. A week outside the cycle has no plan."""
    if not 1 <= week <= cycle.weeks:
        return []
    plan = _stored_plan(cycle, week, people)
    if plan:
        return plan
    with transaction.atomic():
        # Two members opening a new week's page at the same moment: the second waits
        # here, then finds the plan the first one built instead of building it again.
        cycle = _lock_cycle(cycle)
        plan = _stored_plan(cycle, week, people)
        if not plan:
            _build_plan(cycle, week)
            plan = _stored_plan(cycle, week, people)
    return plan


def replan(*, cycle: Cycle, from_week: int) -> None:
    """Rebuild the stored plans of the weeks from `from_week` on that have not started,
    from the current pledges, enrollments and receipts: call it, inside the same
    transaction, whenever those change. A started week is never rebuilt.

    Each week is rebuilt with its old plan as the starting point, so an organizer's
    adjustments and everyone's payer-recipient pairs survive wherever they still fit.
    Weeks not yet stored are left to be built on first use."""
    first_open = cycle.first_open_week()
    if first_open is None:
        return
    _rebuild(cycle=cycle, from_week=max(from_week, first_open))


def _rebuild(*, cycle: Cycle, from_week: int) -> None:
    """Rebuild the stored plans from `from_week` on, whatever the calendar says of them:
    `replan` after checking which weeks are frozen, or a workflow that checked the freeze
    itself (change_planned_cycle, against the cycle as it was before its change)."""
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
            notify_line_changes(cycle=cycle, week=week, before=old[week])


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


def set_week_plan(
    *,
    cycle: Cycle,
    week: int,
    lines,
    correcting_started: bool = False,
    recipient_id: int | None = None,
) -> None:
    """Replace the stored plan of a week with `lines` (payer id, recipient id, amount), as
    an organizer adjusted it. A week that has started is frozen: only an organizer's
    explicit correction (`correcting_started`) changes it.

    With `recipient_id`, only that recipient's lines are replaced (the plan editor posts
    one recipient at a time) and the other lines stay exactly as stored: two organizers
    editing two recipients of one week do not undo each other.

    The form checks all of this first, with messages next to each line; checking again
    here, under the cycle's lock, keeps a plan valid when a recipient leaves or a member
    quits between the page being shown and it being saved."""
    with transaction.atomic():
        cycle = _lock_cycle(cycle)
        if not 1 <= week <= cycle.weeks:
            raise ValidationError(cycle.weeks_message())
        if cycle.has_started(week) and not correcting_started:
            raise ValidationError(
                _(
                    "Week %(week)s has started: transfers for it may be on their way. "
                    "Tick the box to correct it anyway."
                )
                % {"week": week}
            )
        kept = []
        if recipient_id is not None:
            if any(line[1] != recipient_id for line in lines):
                raise ValidationError(_("These lines are for another recipient."))
            kept = list(
                cycle.assignments.filter(week=week)
                .exclude(recipient_id=recipient_id)
                .values_list("payer_id", "recipient_id", "amount")
            )
        if not lines and not kept:
            raise ValidationError(_("A plan needs at least one transfer."))
        payers = set(
            Membership.objects.active()
            .filter(pod_id=cycle.pod_id)
            .values_list("user_id", flat=True)
        )
        recipients = set(cycle.enrollments.in_week(week).values_list("recipient_id", flat=True))
        totals = defaultdict(Decimal)
        pairs = set()
        for payer_id, line_recipient_id, amount in lines:
            if payer_id not in payers:
                raise ValidationError(_("A payer is no longer a member of the pod."))
            if line_recipient_id not in recipients:
                raise ValidationError(
                    _("A recipient is not enrolled in week %(week)s.") % {"week": week}
                )
            if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
                raise ValidationError(_("Each amount must be more than zero, in whole cents."))
            if (payer_id, line_recipient_id) in pairs:
                raise ValidationError(_("The same payer is listed twice for one recipient."))
            pairs.add((payer_id, line_recipient_id))
            totals[line_recipient_id] += amount
        if any(total > cycle.weekly_amount for total in totals.values()):
            raise ValidationError(
                _("Nobody can be planned more than %(amount)s a week.")
                % {"amount": format_money(cycle.weekly_amount, cycle.pod.currency)}
            )
        # The whole week as it was, for the payers' notices (compared with the whole week
        # after); only the lines being replaced go.
        before = list(
            cycle.assignments.filter(week=week).values_list("payer_id", "recipient_id", "amount")
        )
        stale = cycle.assignments.filter(week=week)
        if recipient_id is not None:
            stale = stale.filter(recipient_id=recipient_id)
        stale.delete()
        Assignment.objects.bulk_create(
            Assignment(
                cycle=cycle, week=week, payer_id=payer_id, recipient_id=recipient_id, amount=amount
            )
            for payer_id, recipient_id, amount in lines
        )
        notify_line_changes(cycle=cycle, week=week, before=before)


def saw_week(*, cycle: Cycle, week: int, payer) -> None:
    """Remember that `payer` has seen their lines of `week` ("This week" calls it)."""
    # One query: the first view is kept, a later one changes nothing.
    PlanView.objects.bulk_create(
        [PlanView(cycle=cycle, week=week, payer=payer)], ignore_conflicts=True
    )


def notify_line_changes(*, cycle: Cycle, week: int, before) -> None:
    """After the plan of `week` changed (`before`: its old (payer id, recipient id,
    amount) lines), email each payer who had already seen that week and whose own lines
    are not what they were: they may be about to send the old amount to the old person."""
    after = list(
        cycle.assignments.filter(week=week).values_list("payer_id", "recipient_id", "amount")
    )

    def by_payer(lines):
        mine = defaultdict(set)
        for payer_id, recipient_id, amount in lines:
            mine[payer_id].add((recipient_id, Decimal(amount).quantize(CENT)))
        return mine

    old, new = by_payer(before), by_payer(after)
    changed = {payer for payer in old.keys() | new.keys() if old.get(payer) != new.get(payer)}
    if not changed:
        return
    viewers = cycle.plan_views.filter(week=week, payer_id__in=changed).select_related("payer")
    url = settings.SITE_URL.rstrip("/") + reverse("pods:this_week", args=[cycle.pod.slug])
    names = dict(
        Recipient.objects.filter(
            pk__in={r for lines in new.values() for r, _a in lines}
        ).values_list("pk", "display_name")
    )
    for view in viewers:
        payer = view.payer
        send_templated(
            "line_changed",
            to=payer.email,
            context={
                "name": payer.display_name or payer.email.split("@")[0],
                "pod": cycle.pod,
                "cycle": cycle,
                "week": week,
                "lines": [
                    {"recipient": names[recipient_id], "amount": amount}
                    for recipient_id, amount in sorted(new.get(payer.pk, ()))
                ],
                "this_week_url": url,
            },
            language=payer.language,
        )


def _lock_cycle(cycle):
    return Cycle.objects.select_for_update(of=("self",)).select_related("pod").get(pk=cycle.pk)


def _stored_plan(cycle, week, people=True):
    """The week's lines, as Assignments with their payers and recipients; with `people`
    False as PlanLines."""
    lines = cycle.assignments.filter(week=week).order_by(
        "recipient__display_name", "recipient_id", "-amount", "payer_id"
    )
    if people:
        return list(lines.select_related("payer", "recipient"))
    return [PlanLine(*row) for row in lines.values_list("pk", "payer_id", "recipient_id", "amount")]


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
        for recipient_id in cycle.enrollments.in_week(week)
        .in_slot_order()
        .values_list("recipient_id", flat=True)
    ]
    if previous is None:
        previous = _previous_plan(cycle, week)
    plan = plan_week(
        pledges=pledges, needs=needs, previous=previous, sent=sent_in_week(cycle, week).items()
    )
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


# What a payer still owes: the plan net of the receipts already posted.

ZERO = Decimal("0.00")


def sent_in_week(cycle: Cycle, week: int) -> dict[tuple[int, int], Decimal]:
    """Live (not voided) receipts of a week, summed per (payer id, recipient id)."""
    rows = (
        Receipt.objects.live()
        .filter(cycle=cycle, week=week)
        .order_by()
        .values_list("payer_id", "recipient_id")
        .annotate(total=Sum("amount"))
    )
    # Quantized: SQLite hands sums back without their trailing zeros.
    return {(payer, recipient): Decimal(total).quantize(CENT) for payer, recipient, total in rows}


CENT = Decimal("0.01")


class Owed(NamedTuple):
    """A line of a week's plan as the payer meets it: planned, already sent, still owed.
    `assignment` is an Assignment, or a PlanLine (no payer or recipient to follow)."""

    assignment: Assignment | PlanLine
    sent: Decimal
    owed: Decimal

    @property
    def payer(self):
        return self.assignment.payer

    @property
    def recipient(self):
        return self.assignment.recipient

    @property
    def planned(self):
        return self.assignment.amount


def owed_lines(*, cycle: Cycle, week: int, plan=None, sent=None) -> list[Owed]:
    """Every line of the week's plan with what its payer still owes on it: the planned
    amount less the live receipts already posted for the week. Nobody is asked to pay
    twice: a line is net of what its payer sent that recipient; a payer's lines together
    never ask more than their planned total less all they sent that week (to anyone); and
    a recipient's lines never ask more than they still need.

    This is the one computation of "owed": "This week", the reminders and the organizers'
    view all call it. What the lines leave asked of nobody is week_needs' figure."""
    plan = week_plan(cycle=cycle, week=week) if plan is None else plan
    sent = sent_in_week(cycle, week) if sent is None else sent
    payer_left = defaultdict(Decimal)
    for line in plan:
        payer_left[line.payer_id] += line.amount
    received = defaultdict(Decimal)
    for (payer_id, recipient_id), amount in sent.items():
        payer_left[payer_id] -= amount
        received[recipient_id] += amount
    need_left = {
        recipient_id: cycle.weekly_amount - received[recipient_id]
        for recipient_id in {line.recipient_id for line in plan}
    }
    result = []
    for line in plan:
        owed = min(
            line.amount - sent.get((line.payer_id, line.recipient_id), ZERO),
            payer_left[line.payer_id],
            need_left[line.recipient_id],
        )
        owed = max(owed, ZERO)
        payer_left[line.payer_id] -= owed
        need_left[line.recipient_id] -= owed
        result.append(
            Owed(
                assignment=line,
                sent=sent.get((line.payer_id, line.recipient_id), ZERO),
                owed=owed,
            )
        )
    return result


def week_owed(
    *, cycle: Cycle, week: int, payer_id: int | None = None
) -> tuple[list[Owed], dict[tuple[int, int], Decimal]]:
    """owed_lines (of the plan's PlanLines) and sent_in_week of a week; with `payer_id`,
    only that payer's lines and sums. From the shared cache when it holds them: kept
    under the pod's board version, which every receipt posted, voided or erased, every
    plan line written, and every change of an enrollment or of the cycle bumps in the
    same transaction (Pod.board_version and pledges/migrations/0004), so never stale, and
    worked out once per change, not on every request of a pod of hundreds of payers.
    Kept as plain tuples, amounts as text: a page that shows one payer's lines reads the
    hundreds of others without making an object of each. `cycle.pod` is the pod as the
    request read it."""
    key = f"week-owed:{cycle.pod_id}:{cycle.pod.board_version}:{cycle.pk}:{week}"
    found = cache.get(key)
    if found is None:
        plan = week_plan(cycle=cycle, week=week, people=False)
        sent = sent_in_week(cycle, week)
        found = (
            [
                (line.pk, line.payer_id, line.recipient_id, str(line.amount), str(paid), str(due))
                for line, paid, due in owed_lines(cycle=cycle, week=week, plan=plan, sent=sent)
            ],
            [(*pair, str(total)) for pair, total in sent.items()],
        )
        cache.set(key, found, OWED_SECONDS)
    lines, sums = found
    if payer_id is not None:
        lines = [line for line in lines if line[1] == payer_id]
        sums = [row for row in sums if row[0] == payer_id]
    return (
        [
            Owed(PlanLine(pk, payer, recipient, Decimal(amount)), Decimal(sent), Decimal(owed))
            for pk, payer, recipient, amount, sent, owed in lines
        ],
        {(payer, recipient): Decimal(total) for payer, recipient, total in sums},
    )


# A write that changes a week's owed lines changes their key (see week_owed): this only
# bounds what the cache keeps.
OWED_SECONDS = 60 * 60


@dataclass(frozen=True)
class Need:
    """One enrolled recipient's week as the plan meets it: what they need (the weekly
    amount), what their lines plan for them (less when the pod is short), what live
    receipts they got from anyone, and what their lines still ask of payers."""

    recipient_id: int
    weekly: Decimal
    planned: Decimal
    received: Decimal
    owed: Decimal

    @property
    def short(self) -> Decimal:
        """The need that nobody has sent and nobody is asked to send, whatever the cause."""
        return max(self.weekly - self.received - self.owed, ZERO)

    @property
    def unasked(self) -> Decimal:
        """The part of `short` that the plan did fund but no line asks for any more: its
        payer sent the money to someone else, a receipt was voided and posted anew to
        someone else, or a started week was corrected. Nobody is asked to pay it until an
        organizer reassigns it (owed_lines never asks a payer for more than they were
        planned, less all they sent)."""
        return max(min(self.planned, self.weekly) - self.received - self.owed, ZERO)


def week_needs(
    *, cycle: Cycle, recipient_ids, owed: list[Owed], sent: dict[tuple[int, int], Decimal]
) -> dict[int, Need]:
    """The Need of each of `recipient_ids` (those enrolled in the week), from the week's
    owed_lines and sent_in_week: no query. Over every enrolled recipient, received + owed
    + short is the weekly amount (or what they received, if more): no unmet need is
    hidden from the week's figures."""
    planned = defaultdict(lambda: ZERO)
    asked = defaultdict(lambda: ZERO)
    for line in owed:
        planned[line.assignment.recipient_id] += line.planned
        asked[line.assignment.recipient_id] += line.owed
    received = defaultdict(lambda: ZERO)
    for (_payer_id, recipient_id), amount in sent.items():
        received[recipient_id] += amount
    return {
        recipient_id: Need(
            recipient_id=recipient_id,
            weekly=cycle.weekly_amount,
            planned=planned[recipient_id],
            received=received[recipient_id],
            owed=asked[recipient_id],
        )
        for recipient_id in recipient_ids
    }


# Coverage: one figure for the dashboard, the admin, the board and the emails.


@dataclass(frozen=True)
class Coverage:
    """How far the pledges for one week go toward what that week's recipients need.
    Everyone who holds a slot in the week counts, whether or not they have left since:
    they are paid to their last week."""

    week: int
    slots: int
    recipients: int
    weekly_amount: Decimal
    pledged: Decimal
    donors: int

    @property
    def needed(self):
        return self.weekly_amount * self.recipients

    @property
    def free(self):
        return max(self.slots - self.recipients, 0)

    @property
    def shortfall(self):
        return max(self.needed - self.pledged, ZERO)

    @property
    def surplus(self):
        return max(self.pledged - self.needed, ZERO)

    @property
    def percent(self):
        # Rounded down: a pod 99.6% covered is still short and must not read "100%".
        return int(self.pledged * 100 // self.needed) if self.needed else None

    @property
    def meter_low(self):
        return self.needed / 2


def coverage(cycle: Cycle, week: int) -> Coverage:
    """Slots filled, recipients, needed and pledged for `week` of `cycle`, in two
    queries. Pledges count when they are active and their donor is an active member,
    as in the weekly plan."""
    pledged = (
        cycle.pledges.active()
        .in_week(week)
        .filter(donor__memberships__pod_id=cycle.pod_id, donor__memberships__active=True)
        .summary()
    )
    return Coverage(
        week=week,
        slots=cycle.slots,
        recipients=cycle.enrollments.in_week(week).count(),
        weekly_amount=cycle.weekly_amount,
        pledged=pledged["total"],
        donors=pledged["donors"],
    )


# Workflows over cycles and members.


def start_next_cycle(
    *,
    cycle: Cycle,
    starts_on: datetime.date | None = None,
    weeks: int | None = None,
    weekly_amount: Decimal | None = None,
    slots: int | None = None,
) -> Cycle:
    """Plan cycle n+1 after `cycle` (n): the same amount, weeks and slots unless changed
    (after an early end, the pod's default weeks: see Cycle.weeks_for_next), starting the
    day after n ends or later. Cycle n is not touched: it keeps running to its last week,
    and n+1 becomes the current cycle on its first day.

    The enrollments and pledges running at the end of n carry over into n+1 from its
    week 1 (changes made to them later in n go on into n+1 too), and those donors are
    emailed when their pledge carries on. An early end is a real end of n, so the same
    holds after one (see end_cycle_early)."""
    with transaction.atomic():
        # Lock the cycle so that two organizers pressing the button at once cannot both
        # plan a cycle n+1 (the second finds it and stops).
        cycle = _lock_cycle(cycle)
        if cycle.following() is not None:
            raise ValidationError(
                _("Cycle %(number)s is already planned.") % {"number": cycle.number + 1}
            )
        earliest = cycle.ends_on + datetime.timedelta(days=1)
        new = Cycle(
            pod=cycle.pod,
            number=cycle.number + 1,
            starts_on=starts_on or earliest,
            # `is None`, not `or`: a 0 given by mistake must be refused, not replaced.
            weeks=cycle.weeks_for_next() if weeks is None else weeks,
            weekly_amount=cycle.weekly_amount if weekly_amount is None else weekly_amount,
            slots=cycle.slots if slots is None else slots,
        )
        if new.starts_on < earliest:
            raise ValidationError(
                {
                    "starts_on": _(
                        "Cycle %(number)s runs until %(end)s: the next one can start on "
                        "%(earliest)s or later."
                    )
                    % {
                        "number": cycle.number,
                        "end": date_format(cycle.ends_on),
                        "earliest": date_format(earliest),
                    }
                }
            )
        running = Q(status=Enrollment.Status.ACTIVE, last_week=cycle.weeks) & Q(
            last_week__gte=F("first_week")
        )
        if cycle.ended_early_at is not None:
            # Enrolled for a week the early end dropped, before their support began: they
            # were running into the end too (only end_cycle_early completes an enrollment).
            running |= Q(status=Enrollment.Status.COMPLETED)
        staying = list(
            cycle.enrollments.filter(running).select_related("recipient").in_slot_order()
        )
        if len(staying) > new.slots:
            raise ValidationError(
                {
                    "slots": ngettext(
                        "%(count)s recipient is enrolled to the end of cycle %(number)s; "
                        "the new cycle needs at least that many slots.",
                        "%(count)s recipients are enrolled to the end of cycle %(number)s; "
                        "the new cycle needs at least that many slots.",
                        len(staying),
                    )
                    % {"count": len(staying), "number": cycle.number}
                }
            )
        new.full_clean()
        try:
            with transaction.atomic():
                new.save()
        except IntegrityError as error:
            # The database's rules (cycles never overlap) refused it under a race.
            raise ValidationError(
                _("The new cycle would overlap another cycle of the pod.")
            ) from error
        Enrollment.objects.bulk_create(
            Enrollment(
                recipient=enrollment.recipient,
                cycle=new,
                slot=position,
                first_week=1,
                last_week=new.weeks,
            )
            for position, enrollment in enumerate(staying, start=1)
        )
        rolling = list(
            _carrying_over(cycle)
            # Someone who has left the pod stops pledging with it.
            .filter(donor__memberships__pod=cycle.pod, donor__memberships__active=True)
            .select_related("donor")
        )
        Pledge.objects.bulk_create(
            Pledge(
                cycle=new,
                donor_id=pledge.donor_id,
                amount=pledge.amount,
                first_week=1,
                last_week=new.weeks,
            )
            for pledge in rolling
        )
        notify_rolled_over(cycle=new, pledges=rolling)
    return new


def plan_first_cycle(
    *, pod, starts_on: datetime.date, weeks: int, weekly_amount: Decimal, slots: int
) -> Cycle:
    """Plan a pod's very first cycle (later ones come from `start_next_cycle`)."""
    with transaction.atomic():
        # Lock the pod: two organizers planning at once make one cycle 1, not an error.
        type(pod).objects.select_for_update().get(pk=pod.pk)
        if pod.cycles.exists():
            raise ValidationError(_("This pod has a cycle already: plan the next one."))
        cycle = Cycle(
            pod=pod,
            number=1,
            starts_on=starts_on,
            weeks=weeks,
            weekly_amount=weekly_amount,
            slots=slots,
        )
        cycle.full_clean()
        cycle.save()
    return cycle


def change_planned_cycle(
    *, cycle: Cycle, starts_on: datetime.date, weekly_amount: Decimal, slots: int
) -> Cycle:
    """Change a cycle that has not started yet: its first day (never before the previous
    cycle ends), its weekly amount and its slots (never below a slot in use). Its stored
    plans are rebuilt, since what each recipient needs may have changed. A cycle that has
    started keeps its dates; ending it early is `end_cycle_early`."""
    with transaction.atomic():
        cycle = _lock_cycle(cycle)
        if cycle.has_started(1):
            raise ValidationError(
                _("Cycle %(number)s has started: its start and amounts no longer change here.")
                % {"number": cycle.number}
            )
        used = cycle.enrollments.filter(last_week__gte=F("first_week")).aggregate(slot=Max("slot"))[
            "slot"
        ]
        if used and slots < used:
            raise ValidationError(
                {
                    "slots": _(
                        "Slot %(slot)s is in use: free it before cutting the slots below it."
                    )
                    % {"slot": used}
                }
            )
        if starts_on < cycle.pod.today():
            raise ValidationError({"starts_on": _("A cycle cannot start in the past.")})
        previous = cycle.preceding()
        if previous is not None and starts_on <= previous.ends_on:
            raise ValidationError(
                {
                    "starts_on": _(
                        "Cycle %(number)s runs until %(end)s: this one can start on "
                        "%(earliest)s or later."
                    )
                    % {
                        "number": previous.number,
                        "end": date_format(previous.ends_on),
                        "earliest": date_format(previous.ends_on + datetime.timedelta(days=1)),
                    }
                }
            )
        cycle.starts_on = starts_on
        cycle.weekly_amount = weekly_amount
        cycle.slots = slots
        cycle.full_clean()
        try:
            with transaction.atomic():
                cycle.save(update_fields=["starts_on", "weekly_amount", "slots"])
        except IntegrityError as error:
            raise ValidationError(_("The cycle would overlap another cycle of the pod.")) from error
        # Nothing had started before this change (checked above), so every stored week is
        # rebuilt, even one the new start date makes begin today: `replan` would ask the
        # changed calendar and keep week 1's plan for the old amount.
        _rebuild(cycle=cycle, from_week=1)
    return cycle


@dataclass(frozen=True)
class EarlyEnd:
    """What ending a cycle early ends: the weeks after `last_week`. `enrollments` and
    `pledges` count the recipients and donors who ran into those weeks: they now run to
    `last_week`, and carry over into the next cycle as at any cycle's end."""

    cycle: Cycle
    last_week: int
    weeks_dropped: int
    enrollments: int
    pledges: int


def _carrying_over(cycle: Cycle):
    """The pledges of `cycle` that go on into the next: the active ones that run to its
    last week, or after an early end the records marked then (end_cycle_early)."""
    if cycle.ended_early_at is not None:
        return cycle.pledges.filter(carries_over=True)
    return cycle.pledges.active().filter(last_week=cycle.weeks)


def early_end_preview(cycle: Cycle) -> EarlyEnd | None:
    """What `end_cycle_early` would end today, or None when the cycle cannot end early
    (it has not started, or its last week has). The cycle ends after the last week that
    has started, or that has a receipt posted already (paying ahead is common): those
    are kept."""
    started = cycle.due_week()
    if started == 0 or cycle.first_open_week() is None:
        return None
    # Live receipts only: a voided one was never money sent for its week.
    with_receipts = cycle.receipts.live().aggregate(week=Max("week"))["week"] or 0
    last_week = max(started, with_receipts)
    if last_week >= cycle.weeks:
        return None
    return EarlyEnd(
        cycle=cycle,
        last_week=last_week,
        weeks_dropped=cycle.weeks - last_week,
        enrollments=cycle.enrollments.holding_from(last_week + 1).count(),
        # The pledges that carry over: active ones, of members still in the pod (as in
        # start_next_cycle), that run to the cycle's last week.
        pledges=_carrying_over(cycle)
        .filter(donor__memberships__pod_id=cycle.pod_id, donor__memberships__active=True)
        .values("donor")
        .distinct()
        .count(),
    )


def end_cycle_early(*, cycle: Cycle) -> EarlyEnd:
    """End `cycle` after its last started week (see `early_end_preview`): the weeks after
    it are dropped, with their plans. The weeks that have started, their plans and every
    receipt stay as they are. (A cycle that has not started is not ended but changed or
    deleted in the admin.)

    An early end is a real end, the same as reaching the last week: the enrollments and
    pledges that ran into the dropped weeks now run to the new last week and carry over
    into the next cycle when an organizer plans it (start_next_cycle), so nobody is
    dropped from the pod and no donor has to pledge again. One that was to begin after the
    new last week covers no week of this cycle: an enrollment is completed (an active one
    must hold a week) and carries over all the same; such a pledge is cancelled. What
    carries over for a donor is decided first, from the cycle as it was planned: the
    record that ran to its last week, if active (Pledge.carries_over), at its amount. So a
    pledge made or raised from a dropped week carries over as made, and one cancelled or
    paused from it does not, as at the end of any cycle.

    A fixed number of queries, whatever the pod's size: each kind of row is updated in
    one statement (which also locks the rows it changes)."""
    with transaction.atomic():
        cycle = _lock_cycle(cycle)
        preview = early_end_preview(cycle)
        if preview is None:
            raise ValidationError(
                _("Cycle %(number)s has no week left to end early.") % {"number": cycle.number}
            )
        last = preview.last_week
        now = timezone.now()
        cycle.pledges.active().filter(last_week=cycle.weeks).update(carries_over=True)
        cycle.enrollments.filter(last_week__gt=last, first_week__lte=last).update(last_week=last)
        cycle.enrollments.filter(last_week__gt=last, first_week__gt=last).update(
            last_week=F("first_week") - 1,
            ended_at=Case(
                When(status=Enrollment.Status.ACTIVE, then=Value(now)), default=F("ended_at")
            ),
            status=Case(
                When(status=Enrollment.Status.ACTIVE, then=Value(Enrollment.Status.COMPLETED)),
                default=F("status"),
            ),
        )
        cycle.pledges.filter(last_week__gt=last, first_week__gt=last).update(
            status=Pledge.Status.CANCELLED
        )
        cycle.pledges.filter(last_week__gt=last, first_week__lte=last).update(last_week=last)
        cycle.assignments.filter(week__gt=last).delete()
        cycle.weeks = last
        cycle.ended_early_at = now
        cycle.save(update_fields=["weeks", "ended_early_at"])
    return preview


def leave_pod(*, membership: Membership) -> None:
    """The member leaves the pod: their membership goes inactive, the pledges of the
    weeks that have started stand and later ones end; past pledges and receipts stay.
    The last organizer cannot leave."""
    with transaction.atomic():
        # Lock the pod's organizers (in a fixed order) before anything else: two last
        # organizers leaving at once would otherwise each see the other one staying.
        organizers = list(
            Membership.objects.organizers()
            .filter(pod_id=membership.pod_id)
            .select_for_update()
            .order_by("pk")
        )
        membership = (
            Membership.objects.select_for_update(of=("self",))
            .select_related("pod", "user")
            .get(pk=membership.pk)
        )
        if not membership.active:
            return
        if membership.is_organizer and len(organizers) <= 1:
            raise ValidationError(
                _(
                    "You are this pod's only organizer, so you cannot leave it yet. "
                    "Invite another organizer first."
                )
            )
        cycle = membership.pod.current_cycle()
        if cycle is not None:
            # This week's plan is frozen with them in it: build it now if nobody has
            # opened it yet, before their pledge stops counting.
            week = cycle.current_week()
            if week is not None:
                week_plan(cycle=cycle, week=week)
            end_pledges_for_leaving(cycle=cycle, donor=membership.user)
        membership.active = False
        membership.save(update_fields=["active"])
