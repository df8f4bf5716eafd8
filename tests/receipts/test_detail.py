"""One receipt at /pods/<slug>/receipts/<id>/: where a double submit lands and where
the poster or an organizer voids it."""

import pytest
from django.urls import reverse
from django.utils import timezone

from pods.models import Membership

pytestmark = pytest.mark.django_db


def url(receipt):
    return reverse("receipts:receipt_detail", args=[receipt.pod.slug, receipt.pk])


@pytest.fixture
def receipt(add_receipt, enrollment):
    return add_receipt(reference="week one")


def test_signed_out_visitor_is_sent_to_sign_in(client, receipt):
    response = client.get(url(receipt))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_outsider_gets_404(client, outsider, receipt):
    client.force_login(outsider)
    assert client.get(url(receipt)).status_code == 404


def test_unknown_receipt_gets_404(client, donor, pod, cycle):
    client.force_login(donor)
    assert (
        client.get(reverse("receipts:receipt_detail", args=[pod.slug, 999999])).status_code == 404
    )


def test_poster_sees_it_with_the_void_form(client, donor, receipt):
    client.force_login(donor)
    response = client.get(url(receipt))
    assert response.status_code == 200
    text = response.text
    assert "$175.00 to <bdi>Rosa</bdi>" in text
    assert "week one" in text
    assert "Void this receipt" in text
    assert "$rosa" not in text


def test_organizer_sees_the_void_form(client, organizer, receipt):
    client.force_login(organizer)
    assert "Void this receipt" in client.get(url(receipt)).text


def test_other_donor_sees_it_without_the_void_form(client, make_user, pod, receipt):
    neighbor = make_user("nell@example.org")
    Membership.objects.create(pod=pod, user=neighbor)
    client.force_login(neighbor)
    response = client.get(url(receipt))
    assert response.status_code == 200
    assert "Void this receipt" not in response.text


def test_void_receipt_shows_why_and_no_form(client, donor, organizer, receipt):
    receipt.void(by=organizer, reason="Posted twice")
    client.force_login(donor)
    text = client.get(url(receipt)).text
    assert "Voided" in text
    assert "Posted twice" in text
    assert "Olive" in text
    assert "Void this receipt" not in text


def test_confirmed_arrival_is_shown(client, donor, receipt):
    receipt.confirmed_at = timezone.now()
    receipt.save()
    client.force_login(donor)
    assert "confirmed by the recipient" in client.get(url(receipt)).text


def test_post_is_not_allowed(client, donor, receipt):
    client.force_login(donor)
    assert client.post(url(receipt)).status_code == 405
