"""The one-click way out of the alert emails: a signed link that needs no sign-in, whose
GET only asks (mail scanners fetch links) and whose POST stops them, from the page's
button or from a mail program (RFC 8058, no cookie or CSRF token); and the same setting
on the person's profile."""

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from users.unsubscribe import SALT, unsubscribe_token, unsubscribe_url

pytestmark = pytest.mark.django_db


def url(token):
    return reverse("users:unsubscribe", args=[token])


def test_the_link_asks_and_changes_nothing(client, donor):
    response = client.get(url(unsubscribe_token(donor)))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Stop the alert emails</button>" in page
    assert "dana@example.org" in page
    donor.refresh_from_db()
    assert donor.alert_emails is True
    assert response["Cache-Control"].startswith("max-age=0")


def test_the_button_stops_them_without_signing_in(client, donor):
    response = client.post(url(unsubscribe_token(donor)))

    assert response.status_code == 200
    assert "gets no more alert emails" in response.content.decode()
    donor.refresh_from_db()
    assert donor.alert_emails is False


def test_a_mail_programs_one_click_post_works_without_a_csrf_token(donor):
    # What RFC 8058 says the mail program sends: no cookie, no token, this body.
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        url(unsubscribe_token(donor)),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    donor.refresh_from_db()
    assert donor.alert_emails is False


def test_a_second_visit_says_it_is_done_already(client, donor):
    donor.alert_emails = False
    donor.save()
    response = client.get(url(unsubscribe_token(donor)))
    assert "already gets no alert emails" in response.content.decode()


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-2] + ("aa" if not token.endswith("aa") else "bb"),
        lambda token: token.split(":")[0],
        lambda token: "not-a-token",
    ],
)
def test_a_tampered_link_is_404_and_changes_nothing(client, donor, tamper):
    token = tamper(unsubscribe_token(donor))
    assert client.get(url(token)).status_code == 404
    assert client.post(url(token)).status_code == 404
    donor.refresh_from_db()
    assert donor.alert_emails is True


def test_a_link_cannot_be_turned_into_another_persons(client, donor, organizer):
    # Dana's signature on Olive's id, and an id signed for something else.
    dana = unsubscribe_token(donor)
    forged = signing.dumps(organizer.pk, salt="another.purpose")
    swapped = signing.dumps(organizer.pk, salt=SALT).split(":")[0] + ":" + dana.split(":")[1]
    for token in [forged, swapped]:
        assert client.post(url(token)).status_code == 404
    organizer.refresh_from_db()
    assert organizer.alert_emails is True


def test_a_link_followed_by_someone_else_signed_in_stops_only_its_owners(client, donor, organizer):
    client.force_login(organizer)
    client.post(url(unsubscribe_token(donor)))
    donor.refresh_from_db()
    organizer.refresh_from_db()
    assert donor.alert_emails is False
    assert organizer.alert_emails is True


def test_the_link_of_a_deleted_account_is_404(client, donor):
    token = unsubscribe_token(donor)
    donor.delete()
    assert client.post(url(token)).status_code == 404


def test_the_link_is_absolute_on_the_site(donor, settings):
    settings.SITE_URL = "http://127.0.0.1:8123"
    assert unsubscribe_url(donor).startswith("http://127.0.0.1:8123/unsubscribe/")


def test_the_profile_has_the_same_setting(client, donor):
    client.force_login(donor)
    page = client.get(reverse("users:profile")).content.decode()
    assert 'name="alert_emails"' in page

    response = client.post(
        reverse("users:profile"),
        {"display_name": "Dana", "language": "", "anonymous_to_recipients": ""},
    )
    assert response.status_code == 302
    donor.refresh_from_db()
    assert donor.alert_emails is False

    client.post(reverse("users:profile"), {"display_name": "Dana", "alert_emails": "on"})
    donor.refresh_from_db()
    assert donor.alert_emails is True


def test_the_profile_is_for_signed_in_people(client):
    response = client.post(reverse("users:profile"), {"alert_emails": ""})
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
