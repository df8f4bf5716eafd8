"""Referrals, a full cycle and the leaving cast for the recipients tests."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from receipts.models import Receipt
from recipients.models import Recipient, Referral
from recipients.services import enroll


@pytest.fixture
def make_referral(pod, donor):
    def make(name, *, by=None, at=None, **fields):
        if at is not None:
            fields["created_at"] = at
        return Referral.objects.create(
            pod=pod, referred_by=by or donor, display_name=name, **fields
        )

    return make


@pytest.fixture
def make_recipient(pod):
    def make(name, **fields):
        fields.setdefault("payment_handle", f"${name.lower()}")
        return Recipient.objects.create(pod=pod, display_name=name, **fields)

    return make


@pytest.fixture
def full_cycle(cycle, enrollment, make_recipient):
    """The cycle (3 slots, now in week 6) with Rosa and two more in all its slots."""
    for name in ["Ana", "Ben"]:
        enroll(recipient=make_recipient(name), cycle=cycle)
    return cycle


@pytest.fixture
def make_receipt(pod, cycle, donor):
    def make(recipient, *, week=1, amount="50.00", payer=None, **fields):
        return Receipt.objects.create(
            pod=pod,
            cycle=cycle,
            week=week,
            recipient=recipient,
            payer=payer or donor,
            amount=Decimal(amount),
            method="cashapp",
            sent_on=cycle.week_starts_on(week) + datetime.timedelta(days=1),
            posted_by=payer or donor,
            **fields,
        )

    return make


@pytest.fixture
def count_queries():
    """Run `call` and return (its result, how many queries it made)."""

    def count(call):
        with CaptureQueriesContext(connection) as captured:
            result = call()
        return result, len(captured.captured_queries)

    return count
