"""The database itself refuses what the recipients rules forbid, on SQLite and PostgreSQL
alike: each write here bypasses forms and clean() (objects.create, .update())."""

import contextlib
import datetime
import re
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from pods.models import Cycle
from recipients.models import Enrollment, Recipient, Referral

pytestmark = pytest.mark.django_db


@contextlib.contextmanager
def refused_by(constraint, sqlite_says=None):
    """Expect the database to refuse the write and name the rule it broke, so that no
    other rule (NOT NULL, a positive-integer column check) passes the test by accident.
    SQLite names CHECK constraints and triggers but lists the columns of a UNIQUE one."""
    expected = sqlite_says if sqlite_says and connection.vendor == "sqlite" else constraint
    # The savepoint keeps the test's transaction usable after the error.
    with pytest.raises(IntegrityError, match=re.escape(expected)), transaction.atomic():
        yield


SLOT_TAKEN = "recipients_enrollment_slot_weeks_exclusive"


@pytest.fixture
def make_recipient(pod):
    def make(name, **fields):
        return Recipient.objects.create(pod=pod, display_name=name, **fields)

    return make


def place(recipient, cycle, slot, **fields):
    fields.setdefault("last_week", cycle.weeks)
    return Enrollment.objects.create(recipient=recipient, cycle=cycle, slot=slot, **fields)


# Recipient


def test_recipient_display_name_cannot_be_empty(pod):
    with refused_by("recipients_recipient_name_not_empty"):
        Recipient.objects.create(pod=pod, display_name="")


def test_recipient_token_hash_is_unique(make_recipient):
    make_recipient("Rosa", access_token_hash="a" * 64)
    with refused_by(
        "recipients_recipient_unique_token",
        sqlite_says="UNIQUE constraint failed: recipients_recipient.access_token_hash",
    ):
        make_recipient("Sam", access_token_hash="a" * 64)


def test_recipients_without_a_link_may_share_the_blank_hash(make_recipient):
    make_recipient("Rosa")
    make_recipient("Sam")
    assert Recipient.objects.filter(access_token_hash="").count() == 2


# Enrollment: once per cycle; a slot is held by one enrollment in any week


def test_recipient_is_enrolled_once_per_cycle(recipient, cycle):
    place(recipient, cycle, 1, status=Enrollment.Status.LEFT)
    with refused_by(
        "recipients_enrollment_once_per_cycle",
        sqlite_says="UNIQUE constraint failed: "
        "recipients_enrollment.recipient_id, recipients_enrollment.cycle_id",
    ):
        place(recipient, cycle, 2)


def test_slot_is_held_by_one_enrollment_in_any_week(recipient, make_recipient, cycle):
    place(recipient, cycle, 1)
    with refused_by(SLOT_TAKEN):
        place(make_recipient("Sam"), cycle, 1)
    # One shared week is enough to be refused.
    with refused_by(SLOT_TAKEN):
        place(make_recipient("Tia"), cycle, 1, first_week=15)


def test_someone_who_left_still_holds_their_slot_to_their_last_week(
    recipient, make_recipient, cycle
):
    """Someone who left is paid to their last week: the slot is not free before it."""
    place(recipient, cycle, 1, status=Enrollment.Status.LEFT, last_week=6)
    with refused_by(SLOT_TAKEN):
        place(make_recipient("Sam"), cycle, 1, first_week=6)
    place(make_recipient("Sam"), cycle, 1, first_week=7)
    assert cycle.enrollments.filter(slot=1).count() == 2


def test_an_enrollment_that_covers_no_week_holds_no_slot(recipient, make_recipient, cycle):
    """Left before its first week began (last_week = first_week - 1): it holds nothing."""
    place(recipient, cycle, 1, status=Enrollment.Status.LEFT, first_week=7, last_week=6)
    place(make_recipient("Sam"), cycle, 1)
    assert cycle.enrollments.filter(slot=1).count() == 2


def test_moving_into_a_held_slot_is_refused(recipient, make_recipient, cycle):
    place(recipient, cycle, 1)
    sam = place(make_recipient("Sam"), cycle, 2)
    with refused_by(SLOT_TAKEN):
        Enrollment.objects.filter(pk=sam.pk).update(slot=1)


def test_stretching_into_weeks_someone_else_holds_is_refused(recipient, make_recipient, cycle):
    rosa = place(recipient, cycle, 1, status=Enrollment.Status.LEFT, last_week=3)
    place(make_recipient("Sam"), cycle, 1, first_week=4)
    with refused_by(SLOT_TAKEN):
        Enrollment.objects.filter(pk=rosa.pk).update(last_week=4)


def test_left_and_active_enrollments_share_a_slot(recipient, make_recipient, cycle):
    place(recipient, cycle, 1, status=Enrollment.Status.LEFT, last_week=3)
    place(make_recipient("Sam"), cycle, 1, first_week=4)
    assert cycle.enrollments.filter(slot=1).count() == 2


def test_enrollment_rules_give_friendly_messages(recipient, make_recipient, cycle):
    place(recipient, cycle, 1)
    again = Enrollment(recipient=recipient, cycle=cycle, slot=2, last_week=15)
    taken = Enrollment(recipient=make_recipient("Sam"), cycle=cycle, slot=1, last_week=15)
    beyond = Enrollment(recipient=make_recipient("Tia"), cycle=cycle, slot=4, last_week=15)

    with pytest.raises(ValidationError) as caught:
        again.full_clean()
    assert "This recipient is already enrolled in this cycle." in caught.value.messages
    with pytest.raises(ValidationError) as caught:
        taken.full_clean()
    assert caught.value.message_dict == {"slot": ["Rosa holds slot 1 in weeks 1 to 15."]}
    with pytest.raises(ValidationError) as caught:
        beyond.full_clean()
    assert caught.value.message_dict == {"slot": ["This cycle has 3 slots."]}


# Enrollment: the slot lies within the cycle's slots (the trigger)


def test_enrollment_slot_must_be_positive(recipient, cycle):
    with refused_by("recipients_enrollment_slot_positive"):
        place(recipient, cycle, 0)


def test_enrollment_slot_beyond_the_cycle_is_refused(recipient, cycle):
    with refused_by("recipients_enrollment_slot_within_cycle"):
        place(recipient, cycle, cycle.slots + 1)
    place(recipient, cycle, cycle.slots)


def test_moving_an_enrollment_beyond_the_slots_is_refused(enrollment, cycle):
    with refused_by("recipients_enrollment_slot_within_cycle"):
        Enrollment.objects.filter(pk=enrollment.pk).update(slot=cycle.slots + 1)
    enrollment.refresh_from_db()
    assert enrollment.slot == 1


def test_moving_an_enrollment_to_a_smaller_cycle_is_refused(recipient, pod, cycle):
    place(recipient, cycle, 3)
    # Cycles of a pod cannot overlap: the next one starts the day after this one ends.
    small = Cycle.objects.create(
        pod=pod, number=2, starts_on=cycle.ends_on + datetime.timedelta(days=1), slots=2
    )
    with refused_by("recipients_enrollment_slot_within_cycle"):
        Enrollment.objects.filter(recipient=recipient).update(cycle=small)


def test_cutting_slots_below_a_held_slot_is_refused(recipient, cycle):
    place(recipient, cycle, 3)
    with refused_by("recipients_enrollment_slot_within_cycle"):
        Cycle.objects.filter(pk=cycle.pk).update(slots=2)
    cycle.refresh_from_db()
    assert cycle.slots == 3


def test_cutting_slots_to_the_highest_held_slot_is_fine(recipient, make_recipient, cycle):
    place(make_recipient("Sam"), cycle, 2, status=Enrollment.Status.LEFT, last_week=2)
    place(recipient, cycle, 2, first_week=3)
    place(make_recipient("Tia"), cycle, 1)
    Cycle.objects.filter(pk=cycle.pk).update(slots=2)
    cycle.refresh_from_db()
    assert cycle.slots == 2


def test_cutting_slots_below_a_slot_someone_left_is_refused(recipient, cycle):
    """Whatever its status, an enrollment was paid in its slot: the slot stays."""
    place(recipient, cycle, 3, status=Enrollment.Status.LEFT, last_week=2)
    with refused_by("recipients_enrollment_slot_within_cycle"):
        Cycle.objects.filter(pk=cycle.pk).update(slots=2)
    cycle.refresh_from_db()
    assert cycle.slots == 3


def test_a_left_enrollment_beyond_the_slots_is_refused_too(recipient, cycle):
    """So no enrollment, left or not, lies beyond the slots, and bringing one back
    (status active again) can never overfill the cycle."""
    with refused_by("recipients_enrollment_slot_within_cycle"):
        place(recipient, cycle, 4, status=Enrollment.Status.LEFT, last_week=2)
    left = place(recipient, cycle, 3, status=Enrollment.Status.LEFT, last_week=2)
    with refused_by("recipients_enrollment_slot_within_cycle"):
        Enrollment.objects.filter(pk=left.pk).update(slot=4)
    Enrollment.objects.filter(pk=left.pk).update(status=Enrollment.Status.ACTIVE, last_week=15)
    assert list(cycle.enrollments.active().values_list("slot", flat=True)) == [3]


def test_left_enrollment_can_still_be_closed(recipient, cycle):
    left = place(recipient, cycle, 3, status=Enrollment.Status.LEFT, last_week=2)
    Enrollment.objects.filter(pk=left.pk).update(status=Enrollment.Status.COMPLETED)
    left.refresh_from_db()
    assert left.status == Enrollment.Status.COMPLETED


def race(first, second):
    """Run `first` in a transaction that stays open, then `second` in another thread.
    Return whether `second` waited for `first` to commit, and what became of each."""
    outcome = {}
    holding, release = threading.Event(), threading.Event()

    def run(name, write, hold):
        try:
            with transaction.atomic():
                write()
                if hold:
                    holding.set()
                    release.wait(timeout=10)
            outcome[name] = "done"
        except IntegrityError:
            outcome[name] = "refused"
        finally:
            holding.set()
            connection.close()

    one = threading.Thread(target=run, args=("first", first, True))
    two = threading.Thread(target=run, args=("second", second, False))
    one.start()
    assert holding.wait(timeout=10)
    two.start()
    try:
        two.join(timeout=1)
        waited = two.is_alive()
    finally:
        release.set()
        one.join(timeout=10)
        two.join(timeout=10)
    return waited, outcome


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
@pytest.mark.django_db(transaction=True)
def test_cutting_slots_waits_for_an_enrollment_in_flight(recipient, cycle):
    """Neither trigger sees the other transaction's uncommitted row, so without a lock an
    enrollment into slot 3 and a cut to 2 slots would both pass."""
    waited, outcome = race(
        lambda: place(recipient, cycle, 3),
        lambda: Cycle.objects.filter(pk=cycle.pk).update(slots=2),
    )
    assert waited
    assert outcome == {"first": "done", "second": "refused"}
    cycle.refresh_from_db()
    assert cycle.slots == 3
    assert cycle.enrollments.active().get().slot == 3


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
@pytest.mark.django_db(transaction=True)
def test_enrollment_waits_for_a_cut_of_slots_in_flight(recipient, cycle):
    waited, outcome = race(
        lambda: Cycle.objects.filter(pk=cycle.pk).update(slots=2),
        lambda: place(recipient, cycle, 3),
    )
    assert waited
    assert outcome == {"first": "done", "second": "refused"}
    cycle.refresh_from_db()
    assert cycle.slots == 2
    assert not cycle.enrollments.exists()


# Enrollment: weeks and status


def test_enrollment_first_week_is_at_least_one(recipient, cycle):
    with refused_by("recipients_enrollment_weeks_ordered"):
        place(recipient, cycle, 1, first_week=0)


def test_enrollment_last_week_is_not_before_first_week(recipient, cycle):
    with refused_by("recipients_enrollment_weeks_ordered"):
        place(recipient, cycle, 1, first_week=5, last_week=4)
    place(recipient, cycle, 1, first_week=5, last_week=5)


def test_an_ended_enrollment_may_end_just_before_its_first_week(recipient, cycle):
    """Someone who left before their support began: an enrollment covering no week."""
    with refused_by("recipients_enrollment_weeks_ordered"):
        place(recipient, cycle, 1, first_week=5, last_week=4, status=Enrollment.Status.ACTIVE)
    with refused_by("recipients_enrollment_weeks_ordered"):
        place(recipient, cycle, 1, first_week=5, last_week=3, status=Enrollment.Status.LEFT)
    place(recipient, cycle, 1, first_week=5, last_week=4, status=Enrollment.Status.LEFT)


def test_enrollment_status_must_be_a_known_one(recipient, cycle):
    with refused_by("recipients_enrollment_status_valid"):
        place(recipient, cycle, 1, status="paused")


# Referral


def test_referral_display_name_cannot_be_empty(pod):
    with refused_by("recipients_referral_name_not_empty"):
        Referral.objects.create(pod=pod, display_name="")


def test_referral_status_must_be_a_known_one(pod):
    with refused_by("recipients_referral_status_valid"):
        Referral.objects.create(pod=pod, display_name="Sam", status="approved")


def test_recipient_comes_from_one_referral_at_most(pod, recipient):
    Referral.objects.create(pod=pod, display_name="Rosa", recipient=recipient)
    with refused_by(
        "recipients_referral_recipient_id",
        sqlite_says="UNIQUE constraint failed: recipients_referral.recipient_id",
    ):
        Referral.objects.create(pod=pod, display_name="Rosa again", recipient=recipient)
