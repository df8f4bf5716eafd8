"""allauth's rate limits are on (ACCOUNT_RATE_LIMITS = {} keeps its defaults) and count
in the configured shared cache: the database cache here, as in local use."""

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.test import Client
from django.urls import reverse

from users.forms import LoginForm

pytestmark = pytest.mark.django_db


def test_tests_count_in_the_configured_shared_cache():
    assert settings.CACHES["default"]["BACKEND"] == ("django.core.cache.backends.db.DatabaseCache")


def test_login_codes_for_one_address_stop_after_three_a_minute(donor, mailoutbox):
    answers = []
    for _ in range(4):
        # A fresh browser each time, as a script would: the limit is per address.
        answers.append(Client().post(reverse("account_login"), {"login": donor.email}))

    assert [a.status_code for a in answers] == [302, 302, 302, 200]
    assert answers[-1].context["form"].errors["login"]
    assert "Too many" in answers[-1].text
    assert len(mailoutbox) == 3


def test_failed_passwords_lock_the_address_for_a_while(client, make_user):
    user = make_user("pat@example.org", password="a long enough passphrase")
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    for _ in range(5):
        client.post(reverse("account_login"), {"login": user.email, "password": "wrong"})

    response = client.post(
        reverse("account_login"), {"login": user.email, "password": "a long enough passphrase"}
    )

    assert response.status_code == 200
    assert "Too many" in str(response.context["form"].errors)
    assert isinstance(response.context["form"], LoginForm)


def test_too_many_sign_up_attempts_from_one_address_get_429(client):
    statuses = [client.post(reverse("account_signup"), {"email": "x@example.org"}).status_code]
    for _ in range(20):
        statuses.append(
            client.post(reverse("account_signup"), {"email": "x@example.org"}).status_code
        )

    assert statuses[:20] == [200] * 20
    assert statuses[20] == 429
    response = client.post(reverse("account_signup"), {"email": "x@example.org"})
    assert "Too many attempts" in response.text
