"""The database itself refuses what the receipts rules forbid, on SQLite and PostgreSQL
alike: each write here bypasses forms and clean() (objects.create, .update())."""

import contextlib
import datetime
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from receipts.models import Receipt

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


@pytest.fixture
def make_receipt(pod, cycle, recipient, donor):
    def make(**fields):
        fields = {
            "pod": pod,
            "cycle": cycle,
            "week": 1,
            "recipient": recipient,
            "payer": donor,
            "amount": Decimal("175.00"),
            "method": "cashapp",
            "sent_on": datetime.date(2026, 1, 2),
            "posted_by": donor,
            **fields,
        }
        return Receipt.objects.create(**fields)

    return make


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-1")])
def test_receipt_amount_must_be_positive(make_receipt, amount):
    with refused_by("receipts_receipt_amount_positive"):
        make_receipt(amount=amount)


def test_receipt_week_is_at_least_one(make_receipt):
    with refused_by("receipts_receipt_week_positive"):
        make_receipt(week=0)


def test_void_without_a_reason_is_refused(make_receipt, organizer):
    receipt = make_receipt()
    with refused_by("receipts_receipt_void_has_reason"):
        Receipt.objects.filter(pk=receipt.pk).update(voided_at=timezone.now(), voided_by=organizer)
    receipt.refresh_from_db()
    assert not receipt.is_void


def test_void_without_who_voided_it_is_refused(make_receipt):
    receipt = make_receipt()
    with refused_by("receipts_receipt_void_has_reason"):
        Receipt.objects.filter(pk=receipt.pk).update(
            voided_at=timezone.now(), void_reason="Wrong week"
        )
    receipt.refresh_from_db()
    assert not receipt.is_void


def test_void_with_reason_and_who_is_kept(make_receipt, organizer):
    receipt = make_receipt()
    assert receipt.void(by=organizer, reason="Wrong week")
    receipt.refresh_from_db()
    assert (receipt.voided_by, receipt.void_reason) == (organizer, "Wrong week")
    assert receipt.voided_at is not None


def test_void_without_a_reason_gets_a_friendly_message(pod, cycle, recipient, donor, organizer):
    receipt = Receipt(
        pod=pod,
        cycle=cycle,
        week=1,
        recipient=recipient,
        payer=donor,
        amount=Decimal("175.00"),
        method="cashapp",
        sent_on=datetime.date(2026, 1, 2),
        posted_by=donor,
        voided_at=timezone.now(),
        voided_by=organizer,
    )
    with pytest.raises(ValidationError) as caught:
        receipt.full_clean()
    assert caught.value.messages == ["A voided receipt needs a reason."]
