"""recipients.services.enroll: the lowest free slot, never more than the cycle's slots,
even when organizers enroll at the same moment."""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from pods.models import Cycle
from recipients.models import Enrollment, Recipient
from recipients.services import enroll

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL row locks"
)


@pytest.fixture
def make_recipient(pod):
    def make(name):
        return Recipient.objects.create(pod=pod, display_name=name)

    return make


@pytest.fixture
def full_cycle(cycle, make_recipient):
    for name in ["Ana", "Ben", "Cal"]:
        enroll(recipient=make_recipient(name), cycle=cycle)
    return cycle


@pytest.mark.django_db
def test_enroll_fills_the_lowest_free_slot_to_the_end_of_the_cycle(cycle, make_recipient):
    first = enroll(recipient=make_recipient("Ana"), cycle=cycle)
    second = enroll(recipient=make_recipient("Ben"), cycle=cycle, first_week=6)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.slot, first.first_week, first.last_week, first.status) == (1, 1, 15, "active")
    assert (second.slot, second.first_week, second.last_week) == (2, 6, 15)


@pytest.mark.django_db
def test_enroll_takes_a_gap_before_higher_slots(cycle, make_recipient):
    Enrollment.objects.create(recipient=make_recipient("Ana"), cycle=cycle, slot=1, last_week=15)
    Enrollment.objects.create(recipient=make_recipient("Cal"), cycle=cycle, slot=3, last_week=15)

    assert enroll(recipient=make_recipient("Ben"), cycle=cycle).slot == 2


@pytest.mark.django_db
def test_enroll_refuses_a_full_cycle(full_cycle, make_recipient):
    with pytest.raises(ValidationError, match="No slot of this cycle is free from week 1."):
        enroll(recipient=make_recipient("Dee"), cycle=full_cycle)
    with pytest.raises(ValidationError, match="No slot of this cycle is free from week 7."):
        enroll(recipient=make_recipient("Eve"), cycle=full_cycle, first_week=7)
    assert full_cycle.enrollments.count() == 3


@pytest.mark.django_db
def test_enroll_refuses_a_recipient_already_in_the_cycle(enrollment, recipient, cycle):
    with pytest.raises(ValidationError, match="Rosa is already enrolled in this cycle."):
        enroll(recipient=recipient, cycle=cycle)
    assert cycle.enrollments.count() == 1


@pytest.mark.django_db
def test_enroll_refuses_a_recipient_of_another_pod(cycle, other_pod):
    stranger = Recipient.objects.create(pod=other_pod, display_name="Otis")
    with pytest.raises(ValidationError, match="belong to different pods"):
        enroll(recipient=stranger, cycle=cycle)
    assert not cycle.enrollments.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("first_week", [0, 16])
def test_enroll_refuses_a_week_outside_the_cycle(cycle, recipient, first_week):
    with pytest.raises(ValidationError) as caught:
        enroll(recipient=recipient, cycle=cycle, first_week=first_week)
    assert caught.value.message_dict == {"first_week": ["This cycle has 15 weeks."]}
    assert not cycle.enrollments.exists()


@pytest.mark.django_db
def test_enroll_reuses_the_slot_of_someone_who_left(full_cycle, make_recipient):
    ben = full_cycle.enrollments.get(slot=2)
    Enrollment.objects.filter(pk=ben.pk).update(status=Enrollment.Status.LEFT, last_week=5)
    # Ben is still paid to week 5: the slot is free from week 6 only.
    with pytest.raises(ValidationError, match="No slot of this cycle is free from week 5."):
        enroll(recipient=make_recipient("Eve"), cycle=full_cycle, first_week=5)

    newcomer = enroll(recipient=make_recipient("Dee"), cycle=full_cycle, first_week=6)

    assert newcomer.slot == 2
    assert full_cycle.enrollments.filter(slot=2).count() == 2
    assert full_cycle.enrollments.active().count() == 3


def enroll_at_once(cycle, recipients):
    """Enroll each recipient from its own thread and connection, all released together.
    Returns what each got: a slot number or the kind of error."""
    barrier = threading.Barrier(len(recipients))
    outcomes = []

    def attempt(recipient):
        try:
            barrier.wait(timeout=10)
            outcomes.append(enroll(recipient=recipient, cycle=cycle).slot)
        except ValidationError:
            outcomes.append("full")
        except IntegrityError:
            outcomes.append("integrity error")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(r,)) for r in recipients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.mark.postgres
@needs_postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("free", [1, 2, 3])
def test_racing_enrollments_fill_exactly_the_free_slots(free, cycle, make_recipient):
    for name in ["Ana", "Ben", "Cal"][: cycle.slots - free]:
        enroll(recipient=make_recipient(name), cycle=cycle)
    racers = [make_recipient(f"Racer {n}") for n in range(8)]

    outcomes = enroll_at_once(cycle, racers)

    # The losers are told the cycle is full; none collides with the unique slot index.
    assert sorted(outcomes, key=str) == sorted(
        [*range(4 - free, 4), *["full"] * (8 - free)], key=str
    )
    assert cycle.enrollments.active().count() == cycle.slots
    assert sorted(cycle.enrollments.values_list("slot", flat=True)) == [1, 2, 3]


def wait_for_a_blocked_query(timeout=10):
    """Poll until another connection to this database waits on a lock."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return True
        time.sleep(0.05)
    return False


@pytest.mark.postgres
@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_enroll_waits_on_the_cycle_row_lock_and_then_sees_the_taken_slot(cycle, make_recipient):
    """The lock, not the unique index, settles a race: an enrollment that comes while
    another transaction holds the cycle waits, then counts the slot just taken instead of
    colliding with it (IntegrityError)."""
    ana, ben = make_recipient("Ana"), make_recipient("Ben")
    locked, release = threading.Event(), threading.Event()
    outcome = []

    def hold_the_cycle():
        try:
            with transaction.atomic():
                Cycle.objects.select_for_update().get(pk=cycle.pk)
                Enrollment.objects.create(recipient=ana, cycle=cycle, slot=1, last_week=15)
                locked.set()
                release.wait(timeout=10)
        finally:
            locked.set()
            connection.close()

    def enroll_ben():
        try:
            outcome.append(enroll(recipient=ben, cycle=cycle).slot)
        except (ValidationError, IntegrityError) as error:
            outcome.append(error)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_cycle)
    holder.start()
    assert locked.wait(timeout=10)
    enroller = threading.Thread(target=enroll_ben)
    enroller.start()
    try:
        assert wait_for_a_blocked_query(), (
            "enroll did not wait for the transaction holding the cycle"
        )
        assert enroller.is_alive()
    finally:
        release.set()
        holder.join(timeout=10)
        enroller.join(timeout=10)

    assert outcome == [2]
    assert sorted(cycle.enrollments.values_list("slot", flat=True)) == [1, 2]
