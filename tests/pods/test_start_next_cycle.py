"""pods.services.start_next_cycle: cycle n closes, n+1 starts with the same terms unless
changed, and who is still enrolled or pledging at the end carries on."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection

from pledges.models import Pledge
from pods.models import Cycle
from pods.services import start_next_cycle
from recipients.models import Enrollment, Recipient
from recipients.services import enroll


@pytest.fixture
def make_recipient(pod):
    def make(name):
        return Recipient.objects.create(pod=pod, display_name=name)

    return make


def pledge(cycle, donor, **fields):
    fields = {"amount": Decimal("50.00"), "last_week": cycle.weeks, **fields}
    return Pledge.objects.create(cycle=cycle, donor=donor, **fields)


@pytest.mark.django_db
def test_next_cycle_is_active_and_the_old_one_closed(cycle):
    new = start_next_cycle(cycle=cycle)

    cycle.refresh_from_db()
    new.refresh_from_db()
    assert cycle.status == Cycle.Status.CLOSED
    assert (new.number, new.status, new.pod) == (2, Cycle.Status.ACTIVE, cycle.pod)
    assert cycle.pod.current_cycle() == new


@pytest.mark.django_db
def test_next_cycle_keeps_amount_weeks_and_slots(cycle):
    new = start_next_cycle(cycle=cycle)

    new.refresh_from_db()
    assert (new.weekly_amount, new.weeks, new.slots) == (Decimal("175.00"), 15, 3)


@pytest.mark.django_db
def test_next_cycle_takes_changed_amount_weeks_and_slots(cycle):
    new = start_next_cycle(cycle=cycle, weeks=12, weekly_amount=Decimal("200.00"), slots=5)

    new.refresh_from_db()
    assert (new.weekly_amount, new.weeks, new.slots) == (Decimal("200.00"), 12, 5)


@pytest.mark.django_db
def test_next_cycle_starts_the_day_after_the_old_one_ends(cycle):
    new = start_next_cycle(cycle=cycle)

    assert new.starts_on == cycle.ends_on + datetime.timedelta(days=1)
    assert new.starts_on == cycle.starts_on + datetime.timedelta(weeks=15)


@pytest.mark.django_db
def test_next_cycle_may_start_on_a_chosen_day(cycle):
    chosen = cycle.starts_on + datetime.timedelta(days=1)

    new = start_next_cycle(cycle=cycle, starts_on=chosen)

    new.refresh_from_db()
    assert new.starts_on == chosen


@pytest.mark.django_db
def test_enrollments_running_to_the_end_roll_over_into_the_first_slots(cycle, make_recipient):
    ana, ben, cal = (make_recipient(name) for name in ["Ana", "Ben", "Cal"])
    for recipient in (ana, ben, cal):
        enroll(recipient=recipient, cycle=cycle)
    Enrollment.objects.filter(recipient=ana).update(status=Enrollment.Status.LEFT, last_week=4)

    new = start_next_cycle(cycle=cycle)

    rolled = list(new.enrollments.order_by("slot"))
    assert [(e.recipient, e.slot, e.first_week, e.last_week) for e in rolled] == [
        (ben, 1, 1, 15),
        (cal, 2, 1, 15),
    ]
    assert all(e.status == Enrollment.Status.ACTIVE for e in rolled)
    old = {e.recipient: e.status for e in cycle.enrollments.all()}
    assert old == {
        ana: Enrollment.Status.LEFT,
        ben: Enrollment.Status.COMPLETED,
        cal: Enrollment.Status.COMPLETED,
    }


@pytest.mark.django_db
def test_enrollment_ending_before_the_last_week_does_not_roll_over(cycle, make_recipient):
    leaving = enroll(recipient=make_recipient("Ana"), cycle=cycle)
    Enrollment.objects.filter(pk=leaving.pk).update(last_week=14)

    new = start_next_cycle(cycle=cycle)

    assert not new.enrollments.exists()


@pytest.mark.django_db
def test_rolled_enrollments_run_through_the_new_cycles_weeks(cycle, recipient):
    enroll(recipient=recipient, cycle=cycle)

    new = start_next_cycle(cycle=cycle, weeks=10)

    assert new.enrollments.get().last_week == 10


@pytest.mark.django_db
def test_active_pledges_running_to_the_end_roll_over(cycle, donor, organizer):
    pledge(cycle, donor, amount=Decimal("25.50"))
    pledge(cycle, organizer, amount=Decimal("10.00"), first_week=8)

    new = start_next_cycle(cycle=cycle, weeks=12)

    rolled = {p.donor: (p.amount, p.first_week, p.last_week, p.status) for p in new.pledges.all()}
    assert rolled == {
        donor: (Decimal("25.50"), 1, 12, Pledge.Status.ACTIVE),
        organizer: (Decimal("10.00"), 1, 12, Pledge.Status.ACTIVE),
    }
    assert cycle.pledges.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields",
    [
        {"status": Pledge.Status.PAUSED},
        {"status": Pledge.Status.CANCELLED},
        {"last_week": 9},
    ],
    ids=["paused", "cancelled", "ended"],
)
def test_pledges_not_running_at_the_end_do_not_roll_over(cycle, donor, fields):
    pledge(cycle, donor, **fields)

    new = start_next_cycle(cycle=cycle)

    assert not new.pledges.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("status", [Cycle.Status.PLANNED, Cycle.Status.CLOSED])
def test_only_the_active_cycle_can_be_followed(cycle, status):
    Cycle.objects.filter(pk=cycle.pk).update(status=status)

    with pytest.raises(ValidationError, match="Only the active cycle"):
        start_next_cycle(cycle=cycle)
    assert cycle.pod.cycles.count() == 1


@pytest.mark.django_db
def test_fewer_slots_than_rolling_recipients_is_refused_and_changes_nothing(
    cycle, make_recipient, donor
):
    for name in ["Ana", "Ben", "Cal"]:
        enroll(recipient=make_recipient(name), cycle=cycle)
    pledge(cycle, donor)

    with pytest.raises(ValidationError) as caught:
        start_next_cycle(cycle=cycle, slots=2)

    assert caught.value.message_dict == {
        "slots": ["3 recipients are enrolled; the new cycle needs at least that many slots."]
    }
    cycle.refresh_from_db()
    assert cycle.status == Cycle.Status.ACTIVE
    assert cycle.pod.cycles.count() == 1
    assert cycle.enrollments.active().count() == 3
    assert Pledge.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("days", [0, -1])
def test_start_not_after_the_old_start_is_refused(cycle, days):
    with pytest.raises(ValidationError) as caught:
        start_next_cycle(cycle=cycle, starts_on=cycle.starts_on + datetime.timedelta(days=days))

    assert caught.value.message_dict == {
        "starts_on": ["The new cycle must start after cycle 1 started."]
    }
    cycle.refresh_from_db()
    assert cycle.status == Cycle.Status.ACTIVE
    assert cycle.pod.cycles.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [{"weeks": 0}, {"slots": 0}, {"weekly_amount": Decimal("0.00")}],
    ids=["weeks", "slots", "weekly_amount"],
)
def test_zero_for_a_term_is_refused_not_ignored(cycle, change):
    with pytest.raises(ValidationError) as caught:
        start_next_cycle(cycle=cycle, **change)

    assert list(caught.value.message_dict) == list(change)
    cycle.refresh_from_db()
    assert cycle.status == Cycle.Status.ACTIVE
    assert cycle.pod.cycles.count() == 1


@pytest.mark.django_db
def test_a_planned_cycle_with_the_next_number_is_refused_not_a_crash(cycle):
    Cycle.objects.create(pod=cycle.pod, number=2, starts_on=cycle.ends_on)

    with pytest.raises(ValidationError) as caught:
        start_next_cycle(cycle=cycle)

    assert caught.value.messages == ["Cycle with this Pod and Number already exists."]
    cycle.refresh_from_db()
    assert cycle.status == Cycle.Status.ACTIVE
    assert not cycle.pod.cycles.active().exclude(pk=cycle.pk).exists()


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
@pytest.mark.django_db(transaction=True)
def test_two_organizers_rolling_over_at_once_make_one_new_cycle(cycle, recipient, donor):
    enroll(recipient=recipient, cycle=cycle)
    pledge(cycle, donor)
    barrier = threading.Barrier(2)
    outcomes = []

    def roll_over():
        try:
            barrier.wait(timeout=10)
            outcomes.append(start_next_cycle(cycle=cycle).number)
        except ValidationError as error:
            outcomes.append(error.messages)
        except IntegrityError:
            outcomes.append("integrity error")
        finally:
            connection.close()

    threads = [threading.Thread(target=roll_over) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # The loser waited for the winner's lock on the old cycle, then found it closed.
    assert sorted(outcomes, key=str) == [2, ["Only the active cycle can be followed by a new one."]]
    assert list(cycle.pod.cycles.values_list("number", "status")) == [
        (2, Cycle.Status.ACTIVE),
        (1, Cycle.Status.CLOSED),
    ]
    assert Enrollment.objects.filter(cycle__number=2).count() == 1
    assert Pledge.objects.filter(cycle__number=2).count() == 1
