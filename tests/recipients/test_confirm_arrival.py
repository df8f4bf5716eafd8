"""/r/<secret>/receipts/<pk>/arrived/: the recipient says the money arrived. Recorded
once; only for receipts sent to them."""

import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from recipients.models import Recipient

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


def url(token, receipt):
    return reverse("recipients:confirm_arrival", args=[token, receipt.pk])


def test_recipient_confirms_that_the_money_arrived(client, recipient, recipient_link, make_receipt):
    receipt = make_receipt(recipient)

    response = client.post(url(recipient_link, receipt))

    assert response.status_code == 302
    assert response.url == reverse("recipients:link", args=[recipient_link]) + (
        f"#receipt-{receipt.pk}"
    )
    receipt.refresh_from_db()
    assert receipt.confirmed_at is not None
    page = client.get(reverse("recipients:link", args=[recipient_link])).text
    assert "You confirmed it arrived" in page
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_a_second_confirmation_keeps_the_first_time(
    client, recipient, recipient_link, make_receipt
):
    receipt = make_receipt(recipient)
    client.post(url(recipient_link, receipt))
    receipt.refresh_from_db()
    first = receipt.confirmed_at

    assert client.post(url(recipient_link, receipt)).status_code == 302

    receipt.refresh_from_db()
    assert receipt.confirmed_at == first


def test_the_button_on_the_page_works_with_csrf_checks_on(recipient, recipient_link, make_receipt):
    """As a browser does it: the page's form carries the CSRF token, and the POST comes
    with the site's own origin (Referrer-Policy: same-origin lets the browser send it)."""
    receipt = make_receipt(recipient)
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(reverse("recipients:link", args=[recipient_link]))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)

    response = browser.post(
        url(recipient_link, receipt),
        {"csrfmiddlewaretoken": token},
        HTTP_ORIGIN="http://testserver",
    )

    assert response.status_code == 302
    receipt.refresh_from_db()
    assert receipt.confirmed_at is not None


def test_a_post_without_the_csrf_token_changes_nothing(recipient, recipient_link, make_receipt):
    """A form on another site cannot confirm for the recipient, even knowing the link."""
    receipt = make_receipt(recipient)
    browser = Client(enforce_csrf_checks=True)
    response = browser.post(url(recipient_link, receipt), HTTP_ORIGIN="https://elsewhere.example")
    assert response.status_code == 403
    assert "The form could not be sent" in response.text
    receipt.refresh_from_db()
    assert receipt.confirmed_at is None


def test_origin_null_is_refused_which_is_why_the_page_is_same_origin(
    recipient, recipient_link, make_receipt
):
    """Under Referrer-Policy: no-referrer browsers post with "Origin: null", which the CSRF
    check refuses even with a good token. The link pages say same-origin instead."""
    receipt = make_receipt(recipient)
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(reverse("recipients:link", args=[recipient_link]))
    assert page.headers["Referrer-Policy"] == "same-origin"
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = browser.post(
        url(recipient_link, receipt), {"csrfmiddlewaretoken": token}, HTTP_ORIGIN="null"
    )
    assert response.status_code == 403
    receipt.refresh_from_db()
    assert receipt.confirmed_at is None


def test_another_recipients_receipt_gets_404(
    client, recipient, recipient_link, make_receipt, make_recipient
):
    theirs = make_receipt(make_recipient("Ana"))
    assert client.post(url(recipient_link, theirs)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.confirmed_at is None


def test_a_voided_receipt_cannot_be_confirmed(
    client, recipient, recipient_link, make_receipt, organizer
):
    receipt = make_receipt(recipient)
    receipt.void(by=organizer, reason="Posted twice")
    assert client.post(url(recipient_link, receipt)).status_code == 404
    receipt.refresh_from_db()
    assert receipt.confirmed_at is None


@pytest.mark.parametrize("secret", ["wrong", "revoked"])
def test_a_wrong_or_revoked_secret_gets_404(
    client, recipient, recipient_link, make_receipt, secret
):
    receipt = make_receipt(recipient)
    if secret == "revoked":
        Recipient.objects.filter(pk=recipient.pk).update(access_token_hash="")
        token = recipient_link
    else:
        token = "not-" + recipient_link
    assert client.post(url(token, receipt)).status_code == 404
    receipt.refresh_from_db()
    assert receipt.confirmed_at is None


@pytest.mark.parametrize("who", ["outsider", "donor", "organizer"])
def test_signing_in_gives_no_way_around_the_secret(
    client, recipient, recipient_link, make_receipt, who, request
):
    receipt = make_receipt(recipient)
    client.force_login(request.getfixturevalue(who))
    assert client.post(url("wrong-secret", receipt)).status_code == 404
    receipt.refresh_from_db()
    assert receipt.confirmed_at is None


def test_get_does_not_confirm(client, recipient, recipient_link, make_receipt):
    receipt = make_receipt(recipient)
    assert client.get(url(recipient_link, receipt)).status_code == 405
    receipt.refresh_from_db()
    assert receipt.confirmed_at is None
