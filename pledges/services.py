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
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from mutualaid.mail import render_email, send_on_commit
from pledges.models import Pledge
from pods.models import Cycle, Membership


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
