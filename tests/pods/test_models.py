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


def make_cycle(pod, number, status=Cycle.Status.PLANNED, **fields):
    return Cycle.objects.create(
        pod=pod,
        number=number,
        starts_on=datetime.date(2026, 1, 2) + datetime.timedelta(weeks=15 * (number - 1)),
        status=status,
        **fields,
    )


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
    with refused_by(
        "pods_cycle_unique_number",
        sqlite_says="UNIQUE constraint failed: pods_cycle.pod_id, pods_cycle.number",
    ):
        make_cycle(pod, 1)
    make_cycle(other_pod, 1)
    assert Cycle.objects.filter(number=1).count() == 2


def test_cycle_number_must_be_positive(pod):
    with refused_by("pods_cycle_number_positive"):
        Cycle.objects.create(pod=pod, number=0, starts_on=datetime.date(2026, 1, 2))


def test_pod_has_one_active_cycle(pod):
    make_cycle(pod, 1, status=Cycle.Status.ACTIVE)
    with refused_by(
        "pods_cycle_one_active_per_pod",
        sqlite_says="UNIQUE constraint failed: pods_cycle.pod_id",
    ):
        make_cycle(pod, 2, status=Cycle.Status.ACTIVE)


def test_second_active_cycle_by_update_is_refused(pod):
    make_cycle(pod, 1, status=Cycle.Status.ACTIVE)
    planned = make_cycle(pod, 2)
    with refused_by(
        "pods_cycle_one_active_per_pod",
        sqlite_says="UNIQUE constraint failed: pods_cycle.pod_id",
    ):
        Cycle.objects.filter(pk=planned.pk).update(status=Cycle.Status.ACTIVE)
    planned.refresh_from_db()
    assert planned.status == Cycle.Status.PLANNED


def test_planned_and_closed_cycles_beside_the_active_one_are_fine(pod, other_pod):
    make_cycle(pod, 1, status=Cycle.Status.CLOSED)
    make_cycle(pod, 2, status=Cycle.Status.CLOSED)
    make_cycle(pod, 3, status=Cycle.Status.ACTIVE)
    make_cycle(pod, 4)
    make_cycle(pod, 5)
    make_cycle(other_pod, 1, status=Cycle.Status.ACTIVE)
    assert pod.cycles.count() == 5
    assert Cycle.objects.active().count() == 2


def test_second_active_cycle_gets_a_friendly_message(pod):
    make_cycle(pod, 1, status=Cycle.Status.ACTIVE)
    second = Cycle(
        pod=pod, number=2, starts_on=datetime.date(2026, 6, 1), status=Cycle.Status.ACTIVE
    )
    with pytest.raises(ValidationError) as caught:
        second.full_clean()
    assert "This pod already has an active cycle." in caught.value.messages


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


def test_cycle_status_must_be_a_known_one(pod):
    with refused_by("pods_cycle_status_valid"):
        make_cycle(pod, 1, status="paused")


# Alert


def test_alert_message_cannot_be_empty(pod):
    with refused_by("pods_alert_message_not_empty"):
        Alert.objects.create(pod=pod, message="")
