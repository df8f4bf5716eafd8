"""Erasing a recipient at once costs the same number of queries however many receipts
were sent to them and however many entries the admin's history holds about them: the
history is read and rewritten in bulk."""

from decimal import Decimal

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from receipts.models import Receipt
from receipts.retention import leave_and_erase
from recipients.models import Recipient
from recipients.services import enroll

pytestmark = pytest.mark.django_db


def erase_with(count, cycle, recipient, donor, organizer):
    content_type = ContentType.objects.get_for_model(Receipt)
    for number in range(count):
        receipt = Receipt.objects.create(
            pod=cycle.pod,
            cycle=cycle,
            week=1 + number % 5,
            recipient=recipient,
            payer=donor,
            amount=Decimal("5.00"),
            method="cashapp",
            sent_on=cycle.week_starts_on(1 + number % 5),
            posted_by=donor,
            reference=f"for Rosa {number}",
        )
        # What the admin writes when an organizer changes the receipt.
        LogEntry.objects.create(
            user=organizer,
            content_type=content_type,
            object_id=str(receipt.pk),
            object_repr=str(receipt),
            action_flag=CHANGE,
            change_message="[]",
        )
    with CaptureQueriesContext(connection) as queries:
        assert leave_and_erase(recipient=recipient)
    assert not LogEntry.objects.filter(object_repr__contains="Rosa").exists()
    return len(queries)


@pytest.fixture
def second(pod, cycle):
    other = Recipient.objects.create(
        pod=pod, display_name="Rosa Again", payment_method="cashapp", payment_handle="$rosa2"
    )
    enroll(recipient=other, cycle=cycle)
    return other


def test_the_query_count_does_not_grow_with_the_receipts(
    cycle, recipient, enrollment, donor, organizer, second
):
    few = erase_with(2, cycle, recipient, donor, organizer)
    many = erase_with(20, cycle, second, donor, organizer)
    # At most as many: the first erasure also fills caches (content types) the second
    # finds full. Before the history was rewritten in bulk: 52 and 68.
    assert many <= few
