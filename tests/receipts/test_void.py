"""Voiding a receipt in the app: POST /pods/<slug>/receipts/<id>/void/ with a reason.
The receipt stays, struck through, with the reason."""

import pytest
from django.urls import reverse

from pods.models import Cycle, Membership
from receipts.models import Receipt
from recipients.models import Recipient

pytestmark = pytest.mark.django_db


def url(receipt):
    return reverse("receipts:receipt_void", args=[receipt.pod.slug, receipt.pk])


def detail(receipt):
    return reverse("receipts:receipt_detail", args=[receipt.pod.slug, receipt.pk])


@pytest.fixture
def receipt(add_receipt, enrollment):
    """Posted by the donor."""
    return add_receipt(reference="week one")


def assert_untouched(receipt):
    receipt.refresh_from_db()
    assert receipt.voided_at is None
    assert receipt.voided_by is None
    assert receipt.void_reason == ""


def test_signed_out_visitor_is_sent_to_sign_in(client, receipt):
    response = client.post(url(receipt), {"reason": "Wrong week"})
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert_untouched(receipt)


def test_outsider_gets_404(client, outsider, receipt):
    client.force_login(outsider)
    assert client.post(url(receipt), {"reason": "Wrong week"}).status_code == 404
    assert_untouched(receipt)


def test_another_pods_receipt_gets_404_through_this_pod(
    client, donor, pod, other_pod, cycle, make_user
):
    payer = make_user("paul@example.org")
    theirs = Receipt.objects.create(
        pod=other_pod,
        cycle=Cycle.objects.create(pod=other_pod, number=1, starts_on=cycle.starts_on),
        week=1,
        recipient=Recipient.objects.create(pod=other_pod, display_name="Ed"),
        payer=payer,
        posted_by=payer,
        amount="10.00",
        method="cash",
        sent_on=cycle.starts_on,
    )
    client.force_login(donor)
    response = client.post(
        reverse("receipts:receipt_void", args=[pod.slug, theirs.pk]), {"reason": "Mine now"}
    )
    assert response.status_code == 404
    assert_untouched(theirs)


def test_donor_who_did_not_post_it_gets_403(client, make_user, pod, receipt):
    neighbor = make_user("nell@example.org")
    Membership.objects.create(pod=pod, user=neighbor)
    client.force_login(neighbor)
    assert client.post(url(receipt), {"reason": "I don't like it"}).status_code == 403
    assert_untouched(receipt)
    # Nor is the form offered to them.
    assert "Void this receipt" not in client.get(detail(receipt)).text


def test_payer_who_did_not_post_it_gets_403(client, organizer, donor, add_receipt, enrollment):
    receipt = add_receipt(payer=donor, posted_by=organizer)
    client.force_login(donor)
    assert client.post(url(receipt), {"reason": "Wrong"}).status_code == 403
    assert_untouched(receipt)


def test_poster_voids_and_the_receipt_is_kept_with_its_reason(client, donor, receipt):
    client.force_login(donor)
    response = client.post(url(receipt), {"reason": "  Sent to the wrong week  "}, follow=True)
    assert response.redirect_chain == [(detail(receipt), 302)]
    receipt.refresh_from_db()
    assert receipt.is_void
    assert receipt.voided_by == donor
    assert receipt.void_reason == "Sent to the wrong week"
    assert Receipt.objects.filter(pk=receipt.pk).exists()
    assert "The receipt is void. It stays on the board with your reason." in response.text
    assert "Sent to the wrong week" in response.text
    # And the board shows it, struck through, with the reason.
    board = client.get(reverse("receipts:board", args=[receipt.pod.slug])).text
    assert "voided</strong>: <bdi>Sent to the wrong week</bdi>" in board
    assert "<del>$175.00</del>" in board


def test_organizer_voids_anyones_receipt(client, organizer, receipt):
    client.force_login(organizer)
    assert client.post(url(receipt), {"reason": "Duplicate"}).status_code == 302
    receipt.refresh_from_db()
    assert receipt.is_void
    assert receipt.voided_by == organizer
    assert receipt.void_reason == "Duplicate"


@pytest.mark.parametrize("data", [{}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 301}])
def test_a_reason_is_required(client, donor, receipt, data):
    client.force_login(donor)
    response = client.post(url(receipt), data)
    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    assert_untouched(receipt)


def test_voiding_twice_keeps_the_first_reason(client, donor, organizer, receipt):
    client.force_login(donor)
    client.post(url(receipt), {"reason": "First reason"})
    client.force_login(organizer)
    response = client.post(url(receipt), {"reason": "Second reason"}, follow=True)
    assert "This receipt is already void." in response.text
    receipt.refresh_from_db()
    assert receipt.void_reason == "First reason"
    assert receipt.voided_by == donor


def test_get_is_not_allowed(client, donor, receipt):
    client.force_login(donor)
    assert client.get(url(receipt)).status_code == 405
    assert_untouched(receipt)
