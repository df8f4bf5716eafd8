"""pledges.services.start_next_cycle: cycle n+1 is planned to start after cycle n ends,
with the same terms unless changed; cycle n keeps running to its last week, and who is
still enrolled or pledging at its end carries on."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection
from django.utils import translation
from django.utils.formats import date_format

from pledges import services
from pledges.models import Pledge
from pledges.services import start_next_cycle
from pods.models import Cycle
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


def assert_keeps_running(cycle):
    """Cycle n is never closed nor shortened by planning the next one."""
    cycle.refresh_from_db()
    assert cycle.status() == Cycle.Status.ACTIVE
    assert (cycle.weeks, cycle.ended_early_at) == (15, None)


@pytest.mark.django_db
def test_next_cycle_is_planned_and_the_running_one_keeps_its_weeks(cycle):
    new = start_next_cycle(cycle=cycle)

    new.refresh_from_db()
    assert_keeps_running(cycle)
    assert (new.number, new.status(), new.pod) == (2, Cycle.Status.PLANNED, cycle.pod)
    pod = cycle.pod
    assert pod.current_cycle() == cycle
    assert pod.next_cycle() == new
    assert (cycle.following(), new.preceding()) == (new, cycle)
    # Cycle n runs through its last day; n+1 is the current one from its first day on,
    # worked out from the dates with nothing written.
    assert pod.current_cycle(today=cycle.ends_on) == cycle
    assert pod.current_cycle(today=new.starts_on) == new
    assert new.status(today=new.starts_on) == Cycle.Status.ACTIVE
    assert cycle.status(today=new.starts_on) == Cycle.Status.CLOSED


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
def test_next_cycle_may_start_on_a_chosen_later_day(cycle):
    chosen = cycle.ends_on + datetime.timedelta(days=10)

    new = start_next_cycle(cycle=cycle, starts_on=chosen)

    new.refresh_from_db()
    assert new.starts_on == chosen
    assert_keeps_running(cycle)
    # Between the two cycles, the pod's pages are about the next one.
    assert cycle.pod.cycle_on(cycle.ends_on + datetime.timedelta(days=1)) is None
    assert cycle.pod.current_cycle(today=cycle.ends_on + datetime.timedelta(days=1)) == new


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
    # In cycle 1, which keeps running, nobody's enrollment is ended or shortened.
    old = {e.recipient: (e.status, e.last_week) for e in cycle.enrollments.all()}
    assert old == {
        ana: (Enrollment.Status.LEFT, 4),
        ben: (Enrollment.Status.ACTIVE, 15),
        cal: (Enrollment.Status.ACTIVE, 15),
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
def test_changes_made_in_the_running_cycle_go_on_into_the_planned_one(
    cycle, donor, organizer, recipient
):
    pledge(cycle, donor, amount=Decimal("25.00"))
    new = start_next_cycle(cycle=cycle)

    services.set_pledge(cycle=cycle, donor=donor, amount=Decimal("40.00"), from_week=7)
    services.set_pledge(cycle=cycle, donor=organizer, amount=Decimal("10.00"), from_week=7)
    enroll(recipient=recipient, cycle=cycle, first_week=7)

    rolled = {p.donor: (p.amount, p.first_week, p.last_week) for p in new.pledges.active()}
    assert rolled == {
        donor: (Decimal("40.00"), 1, 15),
        organizer: (Decimal("10.00"), 1, 15),
    }
    assert [(e.recipient, e.first_week) for e in new.enrollments.all()] == [(recipient, 1)]
    assert_keeps_running(cycle)


@pytest.mark.django_db
def test_a_cycle_already_followed_cannot_be_followed_again(cycle):
    start_next_cycle(cycle=cycle)

    with pytest.raises(ValidationError) as caught:
        start_next_cycle(cycle=cycle)

    assert caught.value.messages == ["Cycle 2 is already planned."]
    assert list(cycle.pod.cycles.values_list("number", flat=True)) == [2, 1]
    assert_keeps_running(cycle)


@pytest.mark.django_db
@pytest.mark.parametrize("when", ["planned", "over"])
def test_a_cycle_that_is_not_running_can_be_followed_too(pod, when):
    today = pod.today()
    starts_on = {
        "planned": today + datetime.timedelta(days=3),
        "over": today - datetime.timedelta(weeks=20),
    }[when]
    cycle = Cycle.objects.create(pod=pod, number=1, starts_on=starts_on, weeks=15)
    later = max(cycle.ends_on + datetime.timedelta(days=1), today + datetime.timedelta(days=1))

    new = start_next_cycle(cycle=cycle, starts_on=later)

    assert (new.number, new.starts_on, new.status()) == (2, later, Cycle.Status.PLANNED)
    cycle.refresh_from_db()
    assert cycle.weeks == 15


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
        "slots": [
            "3 recipients are enrolled to the end of cycle 1; the new cycle needs at least "
            "that many slots."
        ]
    }
    assert_keeps_running(cycle)
    assert cycle.pod.cycles.count() == 1
    assert cycle.enrollments.active().count() == 3
    assert Pledge.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "starts",
    [
        lambda cycle: cycle.ends_on,  # the last day of cycle 1
        lambda cycle: cycle.pod.today() + datetime.timedelta(days=1),  # in its week 6
        lambda cycle: cycle.starts_on,
        lambda cycle: cycle.starts_on - datetime.timedelta(days=1),
    ],
    ids=["last-day", "tomorrow", "same-start", "before"],
)
def test_a_start_before_the_running_cycle_ends_is_refused(cycle, starts):
    with pytest.raises(ValidationError) as caught:
        start_next_cycle(cycle=cycle, starts_on=starts(cycle))

    # Dates as the reader writes them ("Feb. 10, 2027"), not as the database keeps them.
    end = date_format(cycle.ends_on)
    earliest = date_format(cycle.ends_on + datetime.timedelta(days=1))
    assert caught.value.message_dict == {
        "starts_on": [f"Cycle 1 runs until {end}: the next one can start on {earliest} or later."]
    }
    assert_keeps_running(cycle)
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
    assert_keeps_running(cycle)
    assert cycle.pod.cycles.count() == 1


@pytest.mark.django_db
def test_a_cycle_planned_by_hand_with_the_next_number_is_refused_not_a_crash(cycle):
    Cycle.objects.create(
        pod=cycle.pod, number=2, starts_on=cycle.ends_on + datetime.timedelta(days=1)
    )

    with pytest.raises(ValidationError) as caught:
        start_next_cycle(cycle=cycle)

    assert caught.value.messages == ["Cycle 2 is already planned."]
    assert_keeps_running(cycle)
    assert cycle.pod.cycles.count() == 2


@pytest.mark.django_db
def test_a_start_overlapping_another_planned_cycle_is_refused_not_a_crash(cycle):
    # Cycle 3 was planned by hand for right after cycle 1: a cycle 2 there would overlap.
    Cycle.objects.create(
        pod=cycle.pod, number=3, starts_on=cycle.ends_on + datetime.timedelta(days=1)
    )

    with pytest.raises(ValidationError) as caught:
        start_next_cycle(cycle=cycle)

    assert "cycles of a pod cannot overlap" in caught.value.messages[0]
    assert_keeps_running(cycle)
    assert cycle.pod.cycles.count() == 2


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

    # The loser waited for the winner's lock on the old cycle, then found cycle 2 planned.
    assert sorted(outcomes, key=str) == [2, ["Cycle 2 is already planned."]]
    assert [(c.number, c.status()) for c in cycle.pod.cycles.all()] == [
        (2, Cycle.Status.PLANNED),
        (1, Cycle.Status.ACTIVE),
    ]
    assert Enrollment.objects.filter(cycle__number=2).count() == 1
    assert Pledge.objects.filter(cycle__number=2).count() == 1


def test_the_refusal_writes_its_dates_as_the_reader_does(cycle):
    with translation.override("es"), pytest.raises(ValidationError) as caught:
        start_next_cycle(cycle=cycle, starts_on=cycle.ends_on)
    (message,) = caught.value.message_dict["starts_on"]
    with translation.override("es"):
        assert date_format(cycle.ends_on) in message
    assert cycle.ends_on.isoformat() not in message
