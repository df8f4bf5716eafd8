"""The stored weekly plan: week_plan, replan, can_see_handle, set_week_plan."""

import datetime
import threading
from collections import Counter
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from pledges import services
from pledges.models import Assignment, Pledge
from pods.models import Cycle, Membership
from recipients.models import Enrollment, Recipient
from recipients.services import enroll

pytestmark = pytest.mark.django_db

WEEK = 6  # the `cycle` fixture started five weeks ago


def pledge(cycle, donor, amount, first_week=1, last_week=15, status=Pledge.Status.ACTIVE):
    return Pledge.objects.create(
        cycle=cycle,
        donor=donor,
        amount=Decimal(amount),
        first_week=first_week,
        last_week=last_week,
        status=status,
    )


def neighbor(pod, make_user, name, role=Membership.Role.DONOR):
    user = make_user(f"{name.lower()}@example.org", display_name=name)
    Membership.objects.create(pod=pod, user=user, role=role)
    return user


def recipient_in(cycle, name, first_week=1):
    recipient = Recipient.objects.create(
        pod=cycle.pod, display_name=name, payment_handle=f"${name.lower()}"
    )
    enroll(recipient=recipient, cycle=cycle, first_week=first_week)
    return recipient


def pairs(lines):
    return {(line.payer_id, line.recipient_id): line.amount for line in lines}


def received(lines):
    totals = Counter()
    for line in lines:
        totals[line.recipient_id] += line.amount
    return totals


def test_week_plan_is_built_once_and_stored(cycle, donor, organizer, recipient, enrollment):
    pledge(cycle, donor, "100.00")
    pledge(cycle, organizer, "75.00")
    plan = services.week_plan(cycle=cycle, week=WEEK)
    assert pairs(plan) == {
        (donor.pk, recipient.pk): Decimal("100.00"),
        (organizer.pk, recipient.pk): Decimal("75.00"),
    }
    assert Assignment.objects.filter(cycle=cycle, week=WEEK).count() == 2
    # Stored, not rebuilt: a later pledge does not change a plan already made...
    pledge(cycle, organizer, "500.00", first_week=WEEK)
    assert pairs(services.week_plan(cycle=cycle, week=WEEK)) == pairs(plan)
    assert Assignment.objects.filter(cycle=cycle, week=WEEK).count() == 2


def test_week_outside_the_cycle_has_no_plan(cycle, donor, enrollment):
    pledge(cycle, donor, "100.00")
    assert services.week_plan(cycle=cycle, week=0) == []
    assert services.week_plan(cycle=cycle, week=16) == []
    assert not Assignment.objects.exists()


def test_only_active_pledges_of_active_members_in_that_week_count(
    cycle, pod, donor, organizer, make_user, recipient, enrollment
):
    pledge(cycle, donor, "50.00")
    # An organizer forwarding pooled money is a payer like any other.
    pledge(cycle, organizer, "60.00")
    gone = neighbor(pod, make_user, "Gone")
    pledge(cycle, gone, "70.00")
    Membership.objects.filter(user=gone).update(active=False)
    paused = neighbor(pod, make_user, "Paused")
    pledge(cycle, paused, "80.00", status=Pledge.Status.PAUSED)
    later = neighbor(pod, make_user, "Later")
    pledge(cycle, later, "90.00", first_week=WEEK + 1)
    plan = services.week_plan(cycle=cycle, week=WEEK)
    assert {line.payer_id for line in plan} == {donor.pk, organizer.pk}


def test_recipients_count_only_in_their_enrolled_weeks(cycle, pod, donor, make_user):
    pledge(cycle, donor, "1000.00")
    rosa = recipient_in(cycle, "Rosa")
    late = recipient_in(cycle, "Late", first_week=WEEK + 1)
    left = recipient_in(cycle, "Left")
    Enrollment.objects.filter(recipient=left).update(
        status=Enrollment.Status.LEFT, last_week=WEEK - 1
    )
    assert {line.recipient_id for line in services.week_plan(cycle=cycle, week=WEEK)} == {rosa.pk}
    assert {line.recipient_id for line in services.week_plan(cycle=cycle, week=WEEK + 1)} == {
        rosa.pk,
        late.pk,
    }
    assert {line.recipient_id for line in services.week_plan(cycle=cycle, week=WEEK - 1)} == {
        rosa.pk,
        left.pk,
    }


def test_each_payer_keeps_their_recipient_week_after_week(cycle, pod, make_user):
    donors = [neighbor(pod, make_user, f"N{n}") for n in range(9)]
    for n, person in enumerate(donors):
        pledge(cycle, person, ("25.00", "50.00", "10.00")[n % 3])
    for name in ("Rosa", "Tomás", "Keisha"):
        recipient_in(cycle, name)
    weeks = [pairs(services.week_plan(cycle=cycle, week=week)) for week in range(WEEK, 10)]
    assert all(week == weeks[0] for week in weeks)
    # A newcomer changes nobody's recipient.
    newcomer = neighbor(pod, make_user, "Newcomer")
    pledge(cycle, newcomer, "40.00", first_week=10)
    week_10 = pairs(services.week_plan(cycle=cycle, week=10))
    for pair, amount in weeks[0].items():
        assert week_10[pair] == amount


def test_shortfall_is_concentrated_on_the_last_slots(cycle, pod, make_user):
    # 400.00 pledged for three recipients needing 175.00 each.
    for n in range(16):
        pledge(cycle, neighbor(pod, make_user, f"N{n}"), "25.00")
    rosa, tomas, keisha = (recipient_in(cycle, name) for name in ("Rosa", "Tomás", "Keisha"))
    plan = services.week_plan(cycle=cycle, week=WEEK)
    assert received(plan) == {
        rosa.pk: Decimal("175.00"),
        tomas.pk: Decimal("175.00"),
        keisha.pk: Decimal("50.00"),
    }
    assert len(plan) == 16


def test_week_1_keeps_the_pairs_of_the_previous_cycles_last_week(pod, donor, organizer):
    old = Cycle.objects.create(
        pod=pod,
        number=1,
        starts_on=pod.today() - datetime.timedelta(weeks=20),
        weeks=2,  # over long ago: its dates are in the past
        slots=2,
    )
    new = Cycle.objects.create(
        pod=pod,
        number=2,
        starts_on=pod.today() + datetime.timedelta(days=3),
        weeks=15,
        slots=2,
    )
    rosa = Recipient.objects.create(pod=pod, display_name="Rosa")
    tomas = Recipient.objects.create(pod=pod, display_name="Tomás")
    for person in (rosa, tomas):
        # Enrolled to the end of cycle 1, so carried over into the planned cycle 2.
        enroll(recipient=person, cycle=old)
    assert list(new.enrollments.order_by("slot").values_list("recipient", "slot")) == [
        (rosa.pk, 1),
        (tomas.pk, 2),
    ]
    for cycle in (old, new):
        pledge(cycle, donor, "175.00", last_week=cycle.weeks)
        pledge(cycle, organizer, "175.00", last_week=cycle.weeks)
    # In the old cycle an organizer swapped them by hand.
    Assignment.objects.bulk_create(
        [
            Assignment(cycle=old, week=2, payer=donor, recipient=tomas, amount=Decimal("175")),
            Assignment(cycle=old, week=2, payer=organizer, recipient=rosa, amount=Decimal("175")),
        ]
    )
    assert pairs(services.week_plan(cycle=new, week=1)) == {
        (donor.pk, tomas.pk): Decimal("175.00"),
        (organizer.pk, rosa.pk): Decimal("175.00"),
    }


def test_changing_a_pledge_replans_from_that_week_keeping_the_others(cycle, pod, make_user):
    donors = {}
    for n in range(8):
        person = neighbor(pod, make_user, f"N{n}")
        pledge(cycle, person, "50.00")
        donors[person.pk] = person
    rosa, tomas = recipient_in(cycle, "Rosa"), recipient_in(cycle, "Tomás")
    this_week = pairs(services.week_plan(cycle=cycle, week=WEEK))
    next_week = pairs(services.week_plan(cycle=cycle, week=WEEK + 1))
    changer = next(payer for payer, _r in this_week)
    services.set_pledge(
        cycle=cycle, donor=donors[changer], amount=Decimal("10.00"), from_week=WEEK + 1
    )
    # This week stands; next week is rebuilt with the new amount, the others stay put.
    assert pairs(services.week_plan(cycle=cycle, week=WEEK)) == this_week
    rebuilt = services.week_plan(cycle=cycle, week=WEEK + 1)
    assert sum(line.amount for line in rebuilt if line.payer_id == changer) <= Decimal("10.00")
    assert received(rebuilt) == {rosa.pk: Decimal("175.00"), tomas.pk: Decimal("175.00")}
    kept = pairs(rebuilt)
    for payer, recipient in next_week:
        if payer != changer:
            assert (payer, recipient) in kept


def test_cancelling_a_pledge_takes_the_payer_out_of_stored_plans(
    cycle, donor, organizer, enrollment
):
    pledge(cycle, donor, "100.00")
    pledge(cycle, organizer, "100.00")
    services.week_plan(cycle=cycle, week=WEEK + 1)
    services.cancel_pledge(cycle=cycle, donor=donor, from_week=WEEK + 1)
    plan = services.week_plan(cycle=cycle, week=WEEK + 1)
    assert {line.payer_id for line in plan} == {organizer.pk}
    assert sum(line.amount for line in plan) == Decimal("100.00")


def test_replan_keeps_an_organizers_adjustment_where_it_still_fits(
    cycle, pod, donor, organizer, make_user
):
    rosa, tomas = recipient_in(cycle, "Rosa"), recipient_in(cycle, "Tomás")
    pledge(cycle, donor, "175.00")
    pledge(cycle, organizer, "175.00")
    services.week_plan(cycle=cycle, week=WEEK + 1)
    services.set_week_plan(
        cycle=cycle,
        week=WEEK + 1,
        lines=[(donor.pk, tomas.pk, Decimal("175.00")), (organizer.pk, rosa.pk, Decimal("175.00"))],
    )
    newcomer = neighbor(pod, make_user, "Newcomer")
    pledge(cycle, newcomer, "20.00", first_week=WEEK + 1)
    services.replan(cycle=cycle, from_week=WEEK + 1)
    assert pairs(services.week_plan(cycle=cycle, week=WEEK + 1)) == {
        (donor.pk, tomas.pk): Decimal("175.00"),
        (organizer.pk, rosa.pk): Decimal("175.00"),
    }


def test_replan_when_a_recipient_leaves_moves_only_their_payers(cycle, pod, make_user):
    donors = [neighbor(pod, make_user, f"N{n}") for n in range(8)]
    for person in donors:
        pledge(cycle, person, "50.00")
    rosa, tomas = recipient_in(cycle, "Rosa"), recipient_in(cycle, "Tomás")
    before = services.week_plan(cycle=cycle, week=WEEK + 1)
    Enrollment.objects.filter(recipient=rosa).update(status=Enrollment.Status.LEFT, last_week=WEEK)
    nadia = recipient_in(cycle, "Nadia", first_week=WEEK + 1)
    services.replan(cycle=cycle, from_week=WEEK + 1)
    after = services.week_plan(cycle=cycle, week=WEEK + 1)
    assert received(after) == {tomas.pk: Decimal("175.00"), nadia.pk: Decimal("175.00")}
    for line in before:
        if line.recipient_id == tomas.pk:
            assert (line.payer_id, tomas.pk) in pairs(after)


def test_replan_leaves_earlier_weeks_and_unbuilt_weeks_alone(cycle, donor, enrollment):
    pledge(cycle, donor, "175.00")
    earlier = pairs(services.week_plan(cycle=cycle, week=WEEK))
    services.replan(cycle=cycle, from_week=WEEK + 1)
    assert pairs(services.week_plan(cycle=cycle, week=WEEK)) == earlier
    assert not Assignment.objects.filter(week__gt=WEEK).exists()


def test_handle_shown_to_organizers_and_assigned_payers_only(
    cycle, pod, donor, organizer, outsider, make_user, recipient, enrollment
):
    other = neighbor(pod, make_user, "Other")
    tomas = recipient_in(cycle, "Tomás")
    pledge(cycle, donor, "175.00")
    pledge(cycle, other, "175.00")
    plan = services.week_plan(cycle=cycle, week=WEEK)
    payer_of = {line.recipient_id: line.payer_id for line in plan}
    memberships = {m.user_id: m for m in Membership.objects.all()}

    def sees(user, whom, week=WEEK):
        return services.can_see_handle(
            membership=memberships[user.pk], recipient=whom, cycle=cycle, week=week
        )

    rosa_payer = donor if payer_of[recipient.pk] == donor.pk else other
    tomas_payer = other if rosa_payer == donor else donor
    assert sees(organizer, recipient) and sees(organizer, tomas)
    assert sees(rosa_payer, recipient)
    assert not sees(rosa_payer, tomas)
    assert sees(tomas_payer, tomas)
    assert not sees(tomas_payer, recipient)
    # Not in a week they are not assigned, not from another pod, not once they left.
    assert not sees(rosa_payer, recipient, week=WEEK + 20)
    assert not sees(outsider, recipient)
    Membership.objects.filter(user=rosa_payer).update(active=False)
    memberships[rosa_payer.pk].refresh_from_db()
    assert not sees(rosa_payer, recipient)


def test_handle_warning_lasts_14_days(recipient):
    now = timezone.now()
    assert not services.handle_recently_changed(recipient, now)
    recipient.handle_changed_at = now - datetime.timedelta(days=13, hours=23)
    assert services.handle_recently_changed(recipient, now)
    recipient.handle_changed_at = now - datetime.timedelta(days=14, minutes=1)
    assert not services.handle_recently_changed(recipient, now)


def test_set_week_plan_replaces_the_lines_of_an_upcoming_week(
    cycle, donor, organizer, recipient, enrollment
):
    pledge(cycle, donor, "175.00")
    services.week_plan(cycle=cycle, week=WEEK + 1)
    services.set_week_plan(
        cycle=cycle,
        week=WEEK + 1,
        lines=[
            (donor.pk, recipient.pk, Decimal("100.00")),
            (organizer.pk, recipient.pk, Decimal("75.00")),
        ],
    )
    assert pairs(Assignment.objects.filter(week=WEEK + 1)) == {
        (donor.pk, recipient.pk): Decimal("100.00"),
        (organizer.pk, recipient.pk): Decimal("75.00"),
    }


@pytest.mark.parametrize(
    ("week", "lines", "message"),
    [
        (WEEK, lambda d, o, r: [(d, r, Decimal("10"))], "has started"),
        (WEEK + 1, lambda d, o, r: [], "at least one"),
        (WEEK + 1, lambda d, o, r: [(d, r, Decimal("100")), (o, r, Decimal("100"))], "more than"),
        (WEEK + 1, lambda d, o, r: [(d, r, Decimal("10")), (d, r, Decimal("10"))], "twice"),
        (WEEK + 1, lambda d, o, r: [(d, r, Decimal("0"))], "more than zero"),
        (WEEK + 1, lambda d, o, r: [(d, r, Decimal("1.005"))], "whole cents"),
        (WEEK + 1, lambda d, o, r: [(d, -1, Decimal("10"))], "not enrolled"),
        (WEEK + 1, lambda d, o, r: [(-1, r, Decimal("10"))], "no longer a member"),
    ],
)
def test_set_week_plan_refuses_an_invalid_plan_and_changes_nothing(
    cycle, donor, organizer, recipient, enrollment, week, lines, message
):
    pledge(cycle, donor, "175.00")
    before = pairs(services.week_plan(cycle=cycle, week=week))
    with pytest.raises(ValidationError, match=message):
        services.set_week_plan(
            cycle=cycle, week=week, lines=lines(donor.pk, organizer.pk, recipient.pk)
        )
    assert pairs(Assignment.objects.filter(week=week)) == before


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
@pytest.mark.django_db(transaction=True)
def test_two_first_visits_at_once_build_the_week_once(cycle, donor, organizer, enrollment):
    pledge(cycle, donor, "100.00")
    pledge(cycle, organizer, "75.00")
    barrier = threading.Barrier(2)
    errors = []

    def visit():
        try:
            barrier.wait(timeout=10)
            services.week_plan(cycle=cycle, week=WEEK)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=visit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert Assignment.objects.filter(cycle=cycle, week=WEEK).count() == 2
