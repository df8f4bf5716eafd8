"""The language menu on every page: the browser's language by default; a choice kept in
the cookie for a visitor, on the account for a signed-in person (on every device they
sign in on, and for their mail); and on the recipient's private page, kept on the
recipient, as the organizer who made the link may have set it."""

import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from pledges.models import Pledge
from pledges.services import notify_rolled_over

pytestmark = pytest.mark.django_db

SET = reverse("users:set_language")


def html_lang(response):
    return re.search(r'<html lang="([^"]+)" dir="([^"]+)"', response.text).groups()


def test_the_browsers_language_is_the_default(client):
    response = client.get(reverse("account_login"), headers={"accept-language": "ar"})
    assert html_lang(response) == ("ar", "rtl")
    assert response.headers["Content-Language"] == "ar"


def test_every_page_has_the_menu_naming_each_language_in_its_own_words(client, donor):
    for who in (None, donor):
        if who:
            client.force_login(who)
        page = client.get(reverse("home")).text
        assert f'action="{SET}"' in page
        assert '<label for="language-menu">' in page
        for code, name in [("en", "English"), ("es", "español"), ("ar", "العربيّة")]:
            assert f'<option value="{code}" lang="{code}"' in page
            assert f">{name}</option>" in page


def test_a_visitor_chooses_and_the_cookie_keeps_it(client):
    response = client.post(SET, {"language": "es", "next": reverse("account_login")})
    assert response.status_code == 302
    assert response.url == reverse("account_login")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    # Over the browser's own language from now on.
    page = client.get(reverse("account_login"), headers={"accept-language": "ar"})
    assert html_lang(page) == ("es", "ltr")
    assert re.search(r'<option value="es"[^>]* selected>español</option>', page.text)


def test_a_signed_in_persons_choice_is_kept_on_their_account(client, donor):
    client.force_login(donor)
    client.post(SET, {"language": "ar", "next": "/"})
    donor.refresh_from_db()
    assert donor.language == "ar"
    # Another device: no cookie, a browser in English; the account's setting wins.
    other = Client()
    other.force_login(donor)
    page = other.get(reverse("users:profile"), headers={"accept-language": "en"})
    assert html_lang(page) == ("ar", "rtl")


def test_a_language_not_offered_changes_nothing(client, donor):
    client.force_login(donor)
    response = client.post(SET, {"language": "fr", "next": "/"})
    assert response.status_code == 302
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    donor.refresh_from_db()
    assert donor.language == ""


def test_the_menu_sends_nobody_to_another_site(client):
    response = client.post(SET, {"language": "es", "next": "https://evil.example/"})
    assert response.url == "/"


def test_the_menu_is_a_post(client):
    assert client.get(SET).status_code == 405


def test_the_profile_sets_the_language_too(client, donor):
    client.force_login(donor)
    client.post(reverse("users:profile"), {"display_name": "Dana", "language": "es"})
    donor.refresh_from_db()
    assert donor.language == "es"


# The recipient's private page.


def test_the_recipients_page_has_its_own_menu(client, recipient_link):
    page = client.get(reverse("recipients:link", args=[recipient_link]))
    action = reverse("recipients:link_language", args=[recipient_link])
    assert f'action="{action}"' in page.text
    assert f'action="{SET}"' not in page.text


def test_the_recipient_chooses_and_their_page_keeps_it(client, recipient, recipient_link):
    link = reverse("recipients:link", args=[recipient_link])
    response = client.post(
        reverse("recipients:link_language", args=[recipient_link]),
        {"language": "ar", "next": reverse("recipients:leave", args=[recipient_link])},
    )
    assert response.status_code == 302
    assert response.url == reverse("recipients:leave", args=[recipient_link])
    recipient.refresh_from_db()
    assert recipient.language == "ar"
    # Kept on the recipient: any browser, whatever its language, opens it in Arabic.
    page = Client().get(link, headers={"accept-language": "es"})
    assert html_lang(page) == ("ar", "rtl")
    assert page.headers["Content-Language"] == "ar"


def test_the_recipients_menu_goes_back_only_to_their_own_pages(client, recipient_link):
    response = client.post(
        reverse("recipients:link_language", args=[recipient_link]),
        {"language": "es", "next": "/pods/"},
    )
    assert response.url == reverse("recipients:link", args=[recipient_link])


def test_a_wrong_secret_changes_nothing(client, recipient):
    response = client.post(
        reverse("recipients:link_language", args=["not-a-secret"]), {"language": "ar"}
    )
    assert response.status_code == 404
    recipient.refresh_from_db()
    assert recipient.language == ""


def test_the_organizer_sets_the_language_of_a_new_link(client, organizer, pod, recipient):
    client.force_login(organizer)
    page = client.get(reverse("recipients:recipient", args=[pod.slug, recipient.pk]))
    assert 'name="language"' in page.text
    response = client.post(
        reverse("recipients:link_replace", args=[pod.slug, recipient.pk]), {"language": "es"}
    )
    assert response.status_code == 200
    recipient.refresh_from_db()
    assert recipient.language == "es"
    token = re.search(r"/r/([^/\"<]+)/", response.text).group(1)
    assert html_lang(Client().get(reverse("recipients:link", args=[token]))) == (
        "es",
        "ltr",
    )


def test_a_donor_cannot_set_a_recipients_language(client, donor, pod, recipient):
    client.force_login(donor)
    response = client.post(
        reverse("recipients:link_replace", args=[pod.slug, recipient.pk]), {"language": "es"}
    )
    assert response.status_code == 403
    recipient.refresh_from_db()
    assert recipient.language == ""


# Mail in the reader's language.


def test_each_donor_gets_mail_in_their_own_language(
    cycle, donor, organizer, mailoutbox, django_capture_on_commit_callbacks
):
    donor.language = "es"
    donor.save()
    organizer.language = "ar"
    organizer.save()
    pledges = [
        Pledge.objects.create(cycle=cycle, donor=donor, amount=Decimal("1970.00"), last_week=15),
        Pledge.objects.create(cycle=cycle, donor=organizer, amount=Decimal("25.00"), last_week=15),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        notify_rolled_over(cycle=cycle, pledges=pledges)
    mails = {m.to[0]: m for m in mailoutbox}
    # Amounts as each reader writes them, whatever the language of the request.
    assert "1.970,00\xa0US$" in mails[donor.email].body
    assert "\u200f25.00\xa0US$" in mails[organizer.email].body


def test_mail_to_someone_without_a_setting_is_in_the_sites_language(
    cycle, donor, mailoutbox, django_capture_on_commit_callbacks
):
    pledge = Pledge.objects.create(cycle=cycle, donor=donor, amount=Decimal("1970"), last_week=15)
    with django_capture_on_commit_callbacks(execute=True):
        notify_rolled_over(cycle=cycle, pledges=[pledge])
    assert "$1,970.00" in mailoutbox[0].body


def test_the_sign_in_code_comes_in_the_accounts_language(client, donor, mailoutbox):
    donor.language = "es"
    donor.save()
    # Asked for from a page in Arabic: the code is for the account's reader.
    client.post(
        reverse("account_request_login_code"),
        {"email": donor.email},
        headers={"accept-language": "ar"},
    )
    assert len(mailoutbox) == 1
    assert "Código de inicio de sesión" in mailoutbox[0].subject


def test_without_a_setting_the_code_comes_in_the_pages_language(client, donor, mailoutbox):
    client.post(
        reverse("account_request_login_code"),
        {"email": donor.email},
        headers={"accept-language": "ar"},
    )
    assert "كود تسجيل الدخول" in mailoutbox[0].subject


def test_a_new_account_keeps_the_language_it_signed_up_in(
    client, make_invitation, mailoutbox, django_user_model
):
    _invitation, token = make_invitation()
    client.get(reverse("users:join", args=[token]), headers={"accept-language": "es"})
    client.post(
        reverse("account_signup"),
        {"email": "nina@example.org"},
        headers={"accept-language": "es"},
    )
    assert django_user_model.objects.get(email="nina@example.org").language == "es"
