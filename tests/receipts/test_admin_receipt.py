"""Receipts in the admin: read-only and append-only, voided with a reason, exported as
CSV."""

import csv
import datetime
import io
import zoneinfo
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from receipts.models import Receipt
from recipients.models import Recipient

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:receipts_receipt_changelist"


@pytest.fixture
def organizer_client(client, organizer):
    client.force_login(organizer)
    return client


@pytest.fixture
def superuser_client(client, make_user):
    client.force_login(make_user("root@example.org", is_staff=True, is_superuser=True))
    return client


def post_receipt(cycle, recipient, payer, week=1, amount="175.00", **fields):
    return Receipt.objects.create(
        pod=cycle.pod,
        cycle=cycle,
        week=week,
        recipient=recipient,
        payer=payer,
        amount=Decimal(amount),
        method="cashapp",
        sent_on=cycle.week_starts_on(week),
        posted_by=payer,
        **fields,
    )


@pytest.fixture
def receipt(cycle, enrollment, recipient, donor):
    return post_receipt(cycle, recipient, donor, reference="march rent")


def void(client, receipt, reason, **extra):
    return client.post(
        reverse(CHANGELIST),
        {"action": "void", "_selected_action": [receipt.pk], "post": "yes", "reason": reason},
        **extra,
    )


# Listing


def test_list_filters_by_week_and_voided(organizer_client, receipt, cycle, recipient, donor):
    later = post_receipt(cycle, recipient, donor, week=2)
    later.void(by=donor, reason="Posted twice")
    url = reverse(CHANGELIST)
    assert list(organizer_client.get(url, {"week": 2}).context["cl"].result_list) == [later]
    assert list(organizer_client.get(url, {"voided": "yes"}).context["cl"].result_list) == [later]
    assert list(organizer_client.get(url, {"voided": "no"}).context["cl"].result_list) == [receipt]


def test_search_by_recipient_name_or_reference(organizer_client, receipt, cycle, pod, donor):
    sam = Recipient.objects.create(pod=pod, display_name="Sam")
    other = post_receipt(cycle, sam, donor, week=2)
    url = reverse(CHANGELIST)
    assert list(organizer_client.get(url, {"q": "sam"}).context["cl"].result_list) == [other]
    assert list(organizer_client.get(url, {"q": "rent"}).context["cl"].result_list) == [receipt]


# Append-only


def test_receipt_page_is_read_only(organizer_client, receipt):
    response = organizer_client.get(reverse("admin:receipts_receipt_change", args=[receipt.pk]))
    assert response.status_code == 200
    assert not response.context["has_change_permission"]
    assert 'name="amount"' not in response.text


@pytest.mark.parametrize("who", ["organizer_client", "superuser_client"])
def test_nobody_adds_changes_or_deletes_receipts(request, who, receipt, cycle, recipient, donor):
    client = request.getfixturevalue(who)
    fields = {
        "pod": cycle.pod_id,
        "cycle": cycle.pk,
        "week": 3,
        "recipient": recipient.pk,
        "payer": donor.pk,
        "amount": "1.00",
        "method": "cashapp",
        "sent_on": "2020-01-01",
        "posted_by": donor.pk,
    }
    assert client.get(reverse("admin:receipts_receipt_add")).status_code == 403
    assert client.post(reverse("admin:receipts_receipt_add"), fields).status_code == 403
    change_url = reverse("admin:receipts_receipt_change", args=[receipt.pk])
    assert client.post(change_url, fields).status_code == 403
    delete_url = reverse("admin:receipts_receipt_delete", args=[receipt.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    bulk = client.post(
        reverse(CHANGELIST),
        {"action": "delete_selected", "_selected_action": [receipt.pk], "post": "yes"},
    )
    assert bulk.status_code == 302
    receipt.refresh_from_db()
    assert (receipt.amount, receipt.week) == (Decimal("175.00"), 1)
    assert Receipt.objects.count() == 1


# Voiding


def test_void_asks_for_a_reason_first(organizer_client, receipt):
    response = organizer_client.post(
        reverse(CHANGELIST), {"action": "void", "_selected_action": [receipt.pk], "index": 0}
    )
    assert response.status_code == 200
    assert 'name="reason"' in response.text
    receipt.refresh_from_db()
    assert not receipt.is_void


def test_void_is_offered_on_the_receipt_page(organizer_client, receipt):
    page = organizer_client.get(reverse("admin:receipts_receipt_change", args=[receipt.pk]))
    assert 'value="void"' in page.text
    response = organizer_client.post(
        reverse("admin:receipts_receipt_change", args=[receipt.pk]),
        {"CHANGE_FORM-action": "void", "_selected_action": [receipt.pk], "index": 0},
    )
    assert response.status_code == 200
    assert 'name="reason"' in response.text


def test_voiding_keeps_the_receipt_with_its_reason(organizer_client, organizer, receipt):
    response = void(organizer_client, receipt, "Wrong recipient", follow=True)
    assert "The receipt is void and kept." in response.text
    assert response.redirect_chain[-1][0] == reverse(
        "admin:receipts_receipt_change", args=[receipt.pk]
    )
    receipt.refresh_from_db()
    assert receipt.is_void
    assert receipt.void_reason == "Wrong recipient"
    assert receipt.voided_by == organizer
    assert receipt.amount == Decimal("175.00")


@pytest.mark.parametrize("reason", ["   ", "\u202e", " \u2066\u200f "])
def test_void_without_reason_is_refused(organizer_client, receipt, reason):
    # Bidi controls alone are no reason: they are taken out as the reason is kept.
    response = void(organizer_client, receipt, reason)
    assert response.status_code == 200
    assert "Say why the receipt is voided." in response.text
    receipt.refresh_from_db()
    assert not receipt.is_void


def test_the_model_refuses_a_reason_of_controls_alone(receipt, organizer):
    with pytest.raises(ValidationError):
        receipt.void(by=organizer, reason="\u202e")
    receipt.refresh_from_db()
    assert not receipt.is_void


def test_second_void_keeps_the_first_reason(organizer_client, receipt, donor):
    receipt.void(by=donor, reason="Posted twice")
    response = void(organizer_client, receipt, "Something else", follow=True)
    assert "This receipt is already void." in response.text
    receipt.refresh_from_db()
    assert (receipt.void_reason, receipt.voided_by) == ("Posted twice", donor)


def test_outsider_cannot_void(client, outsider, receipt):
    client.force_login(outsider)
    void(client, receipt, "Mine now")
    receipt.refresh_from_db()
    assert not receipt.is_void


def test_void_takes_one_receipt_at_a_time(organizer_client, receipt, cycle, recipient, donor):
    other = post_receipt(cycle, recipient, donor, week=2)
    response = organizer_client.post(
        reverse(CHANGELIST),
        {"action": "void", "_selected_action": [receipt.pk, other.pk], "index": 0},
        follow=True,
    )
    assert "Select one receipt to void." in response.text
    assert not Receipt.objects.voided().exists()


# CSV


def export(client, *receipts):
    response = client.post(
        reverse(CHANGELIST),
        {"action": "export_csv", "_selected_action": [r.pk for r in receipts], "index": 0},
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_csv_has_every_column_and_voids(organizer_client, receipt, donor, cycle, pod):
    receipt.void(by=donor, reason="Posted twice")
    (row,) = export(organizer_client, receipt)
    assert list(row) == [
        "cycle",
        "week",
        "sent_on",
        "recipient",
        "payer",
        "amount",
        "method",
        "reference",
        "posted_by",
        "posted_at",
        "voided_at",
        "void_reason",
    ]
    assert row["cycle"] == "1"
    assert row["week"] == "1"
    assert row["sent_on"] == cycle.starts_on.isoformat()
    assert (row["recipient"], row["payer"], row["posted_by"]) == ("Rosa", "Dana", "Dana")
    assert row["amount"] == "175.00"
    assert row["method"] == "Cash App"
    assert row["reference"] == "march rent"
    # Times are the pod's local time, to the second, with their offset.
    posted_at = datetime.datetime.fromisoformat(row["posted_at"])
    assert posted_at == receipt.posted_at.replace(microsecond=0)
    assert (
        posted_at.utcoffset()
        == receipt.posted_at.astimezone(zoneinfo.ZoneInfo(pod.time_zone)).utcoffset()
    )
    voided_at = datetime.datetime.fromisoformat(row["voided_at"])
    assert voided_at == receipt.voided_at.replace(microsecond=0)
    assert row["void_reason"] == "Posted twice"


def test_csv_cells_cannot_run_as_formulas(organizer_client, cycle, pod, make_user):
    from pods.models import Membership

    payer = make_user("at@example.org", display_name="@payer")
    Membership.objects.create(pod=pod, user=payer)
    name = Recipient.objects.create(pod=pod, display_name="+1 555 0100")
    receipt = post_receipt(
        cycle, name, payer, amount="12.50", reference='=HYPERLINK("http://evil","x")'
    )
    receipt.void(by=payer, reason="-oops")
    (row,) = export(organizer_client, receipt)
    assert row["reference"] == '\'=HYPERLINK("http://evil","x")'
    assert row["recipient"] == "'+1 555 0100"
    assert row["payer"] == "'@payer"
    assert row["void_reason"] == "'-oops"
    assert row["amount"] == "12.50"


def test_csv_of_another_pods_receipts_is_empty(client, outsider, receipt):
    client.force_login(outsider)
    assert export(client, receipt) == []
