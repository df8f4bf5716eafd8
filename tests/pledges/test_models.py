"""The database itself refuses what the pledges rules forbid, on SQLite and PostgreSQL
alike: each write here bypasses forms and clean() (objects.create, .update())."""

import contextlib
import re
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from pledges.models import Assignment, Pledge

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


def pledge(cycle, donor, **fields):
    fields = {"amount": Decimal("25.00"), "last_week": cycle.weeks, **fields}
    return Pledge.objects.create(cycle=cycle, donor=donor, **fields)


def assignment(cycle, donor, recipient, **fields):
    fields = {"week": 1, "amount": Decimal("25.00"), **fields}
    return Assignment.objects.create(cycle=cycle, payer=donor, recipient=recipient, **fields)


# Pledge


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-1")])
def test_pledge_amount_must_be_positive(cycle, donor, amount):
    with refused_by("pledges_pledge_amount_positive"):
        pledge(cycle, donor, amount=amount)


def test_pledge_amount_cannot_be_lowered_to_zero(cycle, donor):
    kept = pledge(cycle, donor)
    with refused_by("pledges_pledge_amount_positive"):
        Pledge.objects.filter(pk=kept.pk).update(amount=Decimal("0"))
    kept.refresh_from_db()
    assert kept.amount == Decimal("25.00")


def test_pledge_first_week_is_at_least_one(cycle, donor):
    with refused_by("pledges_pledge_weeks_ordered"):
        pledge(cycle, donor, first_week=0)


def test_pledge_last_week_is_not_before_first_week(cycle, donor):
    with refused_by("pledges_pledge_weeks_ordered"):
        pledge(cycle, donor, first_week=6, last_week=5)
    pledge(cycle, donor, first_week=6, last_week=6)


def test_pledge_status_must_be_a_known_one(cycle, donor):
    with refused_by("pledges_pledge_status_valid"):
        pledge(cycle, donor, status="ended")


# Assignment


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-1")])
def test_assignment_amount_must_be_positive(cycle, donor, recipient, amount):
    with refused_by("pledges_assignment_amount_positive"):
        assignment(cycle, donor, recipient, amount=amount)


def test_assignment_week_is_at_least_one(cycle, donor, recipient):
    with refused_by("pledges_assignment_week_positive"):
        assignment(cycle, donor, recipient, week=0)


def test_assignment_is_one_transfer_per_week_payer_and_recipient(cycle, donor, recipient):
    assignment(cycle, donor, recipient)
    with refused_by(
        "pledges_assignment_unique_transfer",
        sqlite_says="UNIQUE constraint failed: pledges_assignment.cycle_id, "
        "pledges_assignment.week, pledges_assignment.payer_id, pledges_assignment.recipient_id",
    ):
        assignment(cycle, donor, recipient, amount=Decimal("10.00"))
    assignment(cycle, donor, recipient, week=2)
    assert Assignment.objects.count() == 2
