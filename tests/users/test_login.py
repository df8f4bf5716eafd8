"""Signing in: an emailed code works for everyone, a password only for whoever set one."""

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from pods.models import Membership

pytestmark = pytest.mark.django_db


def signed_in_user(client):
    return client.get(reverse("home")).context["user"]


def test_login_page_uses_the_apps_layout_with_labelled_fields(client):
    response = client.get(reverse("account_login"))

    assert response.status_code == 200
    assert "Skip to content" in response.text  # base.html
    assert 'for="id_login"' in response.text
    assert 'for="id_password"' in response.text
    assert "invitation link" in response.text
    assert reverse("account_signup") not in response.text


def test_sign_in_by_code_end_to_end(client, donor, mailoutbox, code_in):
    response = client.post(reverse("account_login"), {"login": "Dana@example.org"})

    assert response.status_code == 302
    assert response.url == reverse("account_confirm_login_code")
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [donor.email]
    page = client.get(response.url)
    assert 'autocomplete="one-time-code"' in page.text

    done = client.post(response.url, {"code": code_in(mailoutbox[0])})

    assert done.status_code == 302
    assert done.url == reverse("home")
    assert signed_in_user(client) == donor
    # The code proved the address, so it counts as verified from now on.
    assert EmailAddress.objects.get(user=donor, email=donor.email).verified


def test_code_from_the_request_login_code_page_works_too(client, donor, mailoutbox, code_in):
    response = client.post(reverse("account_request_login_code"), {"email": donor.email})
    client.post(response.url, {"code": code_in(mailoutbox[0])})

    assert signed_in_user(client) == donor


def test_wrong_code_does_not_sign_in(client, donor, mailoutbox, code_in):
    client.post(reverse("account_login"), {"login": donor.email})
    right = code_in(mailoutbox[0])
    wrong = "AAAA-AAAA" if right != "AAAA-AAAA" else "BBBB-BBBB"

    response = client.post(reverse("account_confirm_login_code"), {"code": wrong})

    assert response.status_code == 200
    assert response.context["form"].errors["code"]
    assert not signed_in_user(client).is_authenticated


def test_unknown_address_learns_nothing_on_the_page_and_is_told_about_invitations_by_email(
    client, donor, mailoutbox
):
    response = client.post(reverse("account_login"), {"login": "nobody@example.org"})

    # Same answer as for a known address: nobody can probe who has an account.
    assert response.status_code == 302
    assert response.url == reverse("account_confirm_login_code")
    assert len(mailoutbox) == 1
    assert "invitation link" in mailoutbox[0].body
    assert reverse("account_signup") not in mailoutbox[0].body


def test_password_is_optional_but_works_once_set(client, make_user):
    user = make_user("pat@example.org", password="a long enough passphrase")
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)

    response = client.post(
        reverse("account_login"),
        {"login": user.email, "password": "a long enough passphrase"},
    )

    assert response.status_code == 302
    assert response.url == reverse("home")
    assert signed_in_user(client) == user


def test_wrong_password_is_a_form_error(client, make_user):
    user = make_user("pat@example.org", password="a long enough passphrase")
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)

    response = client.post(reverse("account_login"), {"login": user.email, "password": "nope"})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert not signed_in_user(client).is_authenticated


def test_member_of_another_pod_signs_in_from_an_invitation_and_comes_back_to_join(
    client, pod, outsider, make_invitation, mailoutbox, code_in
):
    invitation, token = make_invitation()
    join = reverse("users:join", args=[token])
    client.get(join)

    response = client.post(
        f"{reverse('account_login')}?next={join}", {"login": outsider.email, "next": join}
    )
    done = client.post(response.url, {"code": code_in(mailoutbox[0]), "next": join})

    assert done.url == join
    client.post(join)
    assert Membership.objects.get(pod=pod, user=outsider).active
