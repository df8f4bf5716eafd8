"""The database itself refuses what the pods rules forbid, on SQLite and PostgreSQL alike:
each write here bypasses forms and clean() (objects.create, .update())."""

import contextlib
import datetime
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from pods.models import Alert, Cycle, Invitation, Membership, Pod

pytestmark = pytest.mark.django_db


@contextlib.contextmanager
def refused_by(constraint, sqlite_says=None):
    """Expect the database to refuse the write and name the rule it broke, so that no
    other rule (NOT NULL, a positive-integer column check) passes the test by accident.
    SQLite names CHECK constraints but lists the columns of a UNIQUE one."""
    expected = sqlite_says if sqlite_says and connection.vendor == "sqlite" else constraint
    # The savepoint keeps the test's transaction usable after the error.
    with pytest.raises(IntegrityError, match=re.escape(expected)), transaction.atomic():
        yield


FIRST_START = datetime.date(2026, 1, 2)


def make_cycle(pod, number, **fields):
    """Cycle `number` of `pod`, 15 weeks long, starting the day after cycle number - 1
    ends: back to back, as the pod's cycles follow each other."""
    fields.setdefault("starts_on", FIRST_START + datetime.timedelta(weeks=15 * (number - 1)))
    return Cycle.objects.create(pod=pod, number=number, **fields)


def day(n):
    return datetime.timedelta(days=n)


# Pod


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-1")])
def test_pod_default_weekly_amount_must_be_positive(amount):
    with refused_by("pods_pod_default_weekly_amount_positive"):
        Pod.objects.create(name="Pod", slug="pod", default_weekly_amount=amount)


def test_pod_default_weeks_must_be_positive():
    with refused_by("pods_pod_default_weeks_positive"):
        Pod.objects.create(name="Pod", slug="pod", default_weeks=0)


def test_pod_default_slots_must_be_positive():
    with refused_by("pods_pod_default_slots_positive"):
        Pod.objects.create(name="Pod", slug="pod", default_slots=0)


def test_pod_payday_must_be_a_weekday(pod):
    with refused_by("pods_pod_payday_weekday"):
        Pod.objects.filter(pk=pod.pk).update(payday=7)
    pod.refresh_from_db()
    assert pod.payday == 4


# Membership


def test_person_is_a_member_of_a_pod_only_once(pod, donor, other_pod):
    with refused_by(
        "pods_membership_unique_person",
        sqlite_says="UNIQUE constraint failed: pods_membership.pod_id, pods_membership.user_id",
    ):
        Membership.objects.create(pod=pod, user=donor, role=Membership.Role.ORGANIZER)
    Membership.objects.create(pod=other_pod, user=donor)
    assert donor.memberships.count() == 2


# Invitation


def make_invitation(pod, **fields):
    return Invitation.objects.create(
        pod=pod, expires_at=timezone.now() + datetime.timedelta(days=7), **fields
    )


def test_invitation_max_uses_must_be_positive(pod):
    with refused_by("pods_invitation_max_uses_positive"):
        make_invitation(pod, token_hash="a" * 64, max_uses=0)


def test_invitation_uses_cannot_exceed_max_uses(pod):
    invitation = make_invitation(pod, token_hash="a" * 64, max_uses=2)
    Invitation.objects.filter(pk=invitation.pk).update(uses=2)
    with refused_by("pods_invitation_uses_within_max"):
        Invitation.objects.filter(pk=invitation.pk).update(uses=3)
    invitation.refresh_from_db()
    assert invitation.uses == 2


def test_invitation_token_hash_is_unique(pod, other_pod):
    make_invitation(pod, token_hash="a" * 64)
    with refused_by(
        "pods_invitation_token_hash",
        sqlite_says="UNIQUE constraint failed: pods_invitation.token_hash",
    ):
        make_invitation(other_pod, token_hash="a" * 64)


# Cycle


def test_cycle_number_is_unique_per_pod(pod, other_pod):
    make_cycle(pod, 1)
    # Years later, so that only the number clashes, not the dates.
    with refused_by(
        "pods_cycle_unique_number",
        sqlite_says="UNIQUE constraint failed: pods_cycle.pod_id, pods_cycle.number",
    ):
        make_cycle(pod, 1, starts_on=datetime.date(2030, 1, 4))
    make_cycle(other_pod, 1)
    assert Cycle.objects.filter(number=1).count() == 2


def test_cycle_number_must_be_positive(pod):
    with refused_by("pods_cycle_number_positive"):
        Cycle.objects.create(pod=pod, number=0, starts_on=datetime.date(2026, 1, 2))


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-1"), Decimal("-0.01")])
def test_cycle_weekly_amount_must_be_positive(pod, amount):
    with refused_by("pods_cycle_weekly_amount_positive"):
        make_cycle(pod, 1, weekly_amount=amount)


def test_cycle_weeks_must_be_positive(pod):
    with refused_by("pods_cycle_weeks_positive"):
        make_cycle(pod, 1, weeks=0)


def test_cycle_slots_must_be_positive(pod):
    with refused_by("pods_cycle_slots_positive"):
        make_cycle(pod, 1, slots=0)


# A cycle's status comes from its dates and the pod's today; nothing stores it.


def test_cycle_status_is_not_stored(pod):
    names = {field.name for field in Cycle._meta.get_fields()}
    assert "status" not in names
    assert not Cycle._meta.get_field("ended_early_at").editable
    with pytest.raises(TypeError):
        Cycle(pod=pod, number=1, starts_on=FIRST_START, status="active")


def test_cycle_status_follows_the_dates(pod):
    cycle = make_cycle(pod, 1, weeks=2)
    assert cycle.ends_on == FIRST_START + day(13)
    assert cycle.status(FIRST_START - day(1)) == Cycle.Status.PLANNED
    assert cycle.status(FIRST_START) == Cycle.Status.ACTIVE
    assert cycle.status(cycle.ends_on) == Cycle.Status.ACTIVE
    assert cycle.status(cycle.ends_on + day(1)) == Cycle.Status.CLOSED


def test_cycle_status_defaults_to_the_pods_today(pod):
    today = pod.today()
    running = make_cycle(pod, 1, starts_on=today - day(7), weeks=2)
    planned = make_cycle(pod, 2, starts_on=running.ends_on + day(1))
    past = make_cycle(pod, 3, starts_on=today - day(200), weeks=2)
    assert (running.status(), planned.status(), past.status()) == (
        Cycle.Status.ACTIVE,
        Cycle.Status.PLANNED,
        Cycle.Status.CLOSED,
    )


def test_planned_cycle_becomes_current_on_its_first_day_without_a_write(pod):
    first = make_cycle(pod, 1)
    second = make_cycle(pod, 2)
    assert second.starts_on == first.ends_on + day(1)
    # Before any cycle: the next one; then the one covering the day; after the last one,
    # the last one. Nothing is written in between.
    assert pod.current_cycle(FIRST_START - day(1)) == first
    assert pod.current_cycle(first.ends_on) == first
    assert pod.current_cycle(second.starts_on) == second
    assert pod.current_cycle(second.ends_on + day(30)) == second
    assert pod.cycle_on(first.ends_on) == first
    assert pod.cycle_on(second.starts_on) == second
    assert pod.cycle_on(second.ends_on + day(1)) is None
    assert (first.status(first.ends_on), second.status(first.ends_on)) == (
        Cycle.Status.ACTIVE,
        Cycle.Status.PLANNED,
    )
    assert (first.status(second.starts_on), second.status(second.starts_on)) == (
        Cycle.Status.CLOSED,
        Cycle.Status.ACTIVE,
    )


def test_between_two_cycles_the_next_one_is_current(pod):
    first = make_cycle(pod, 1, weeks=2)
    second = make_cycle(pod, 2, starts_on=first.ends_on + day(10))
    gap = first.ends_on + day(5)
    assert pod.cycle_on(gap) is None
    assert pod.current_cycle(gap) == second
    assert (first.status(gap), second.status(gap)) == (Cycle.Status.CLOSED, Cycle.Status.PLANNED)


# At most one cycle of a pod covers any day (pods_cycle_no_overlap).


def test_cycle_overlapping_another_is_refused(pod):
    first = make_cycle(pod, 1)
    # Starting on the first cycle's last day: one day in common is one too many.
    with refused_by("pods_cycle_no_overlap"):
        make_cycle(pod, 2, starts_on=first.ends_on)
    # Nor one that starts before it and runs into it.
    with refused_by("pods_cycle_no_overlap"):
        make_cycle(pod, 2, starts_on=first.starts_on - day(7), weeks=2)
    # Nor one inside it.
    with refused_by("pods_cycle_no_overlap"):
        make_cycle(pod, 2, starts_on=first.starts_on + day(14), weeks=1)
    assert list(pod.cycles.all()) == [first]


def test_cycle_moved_onto_another_by_update_is_refused(pod):
    first = make_cycle(pod, 1)
    second = make_cycle(pod, 2)
    with refused_by("pods_cycle_no_overlap"):
        Cycle.objects.filter(pk=second.pk).update(starts_on=first.ends_on)
    with refused_by("pods_cycle_no_overlap"):
        Cycle.objects.filter(pk=first.pk).update(weeks=16)
    second.refresh_from_db()
    first.refresh_from_db()
    assert (first.weeks, second.starts_on) == (15, first.ends_on + day(1))


def test_cycle_moved_into_a_pod_where_it_overlaps_is_refused(pod, other_pod):
    make_cycle(pod, 1)
    theirs = make_cycle(other_pod, 2)
    Cycle.objects.filter(pk=theirs.pk).update(starts_on=FIRST_START)
    with refused_by("pods_cycle_no_overlap"):
        Cycle.objects.filter(pk=theirs.pk).update(pod=pod)
    theirs.refresh_from_db()
    assert theirs.pod == other_pod


def test_a_cycle_may_change_its_own_dates(pod):
    first = make_cycle(pod, 1)
    make_cycle(pod, 2)
    # Its own old dates are no overlap: shortening or moving later into free days is fine.
    Cycle.objects.filter(pk=first.pk).update(weeks=10)
    Cycle.objects.filter(pk=first.pk).update(starts_on=first.starts_on + day(35))
    first.refresh_from_db()
    assert (first.starts_on, first.weeks) == (FIRST_START + day(35), 10)


def test_back_to_back_cycles_and_other_pods_cycles_are_fine(pod, other_pod):
    cycles = [make_cycle(pod, number) for number in range(1, 6)]
    for before, after in zip(cycles, cycles[1:], strict=False):
        assert after.starts_on == before.ends_on + day(1)
    # Another pod's cycles may cover the same days, or straddle two of this pod's.
    make_cycle(other_pod, 1)
    make_cycle(other_pod, 2, starts_on=cycles[2].ends_on - day(3))
    assert pod.cycles.count() == 5
    assert other_pod.cycles.count() == 2


def test_overlapping_cycle_gets_a_friendly_message(pod):
    first = make_cycle(pod, 1)
    second = Cycle(pod=pod, number=2, starts_on=first.ends_on, slots=3)
    with pytest.raises(ValidationError) as caught:
        second.full_clean()
    assert (
        f"Cycle 1 runs from {first.starts_on} to {first.ends_on}: cycles of a pod cannot overlap."
        in caught.value.messages
    )
    # The day after is fine, and so is the cycle checking itself.
    Cycle(pod=pod, number=2, starts_on=first.ends_on + day(1), slots=3).full_clean()
    first.full_clean()


# Alert


def test_alert_message_cannot_be_empty(pod):
    with refused_by("pods_alert_message_not_empty"):
        Alert.objects.create(pod=pod, message="")
