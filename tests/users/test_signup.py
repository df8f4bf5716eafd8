"""Sign-up through allauth: open only to someone holding a usable invitation, and the
new account becomes a member of the pod (end to end, code from the test mailbox)."""

import datetime

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from pods.models import Invitation, Membership

pytestmark = pytest.mark.django_db

User = get_user_model()


def sign_up(client, email="nina@example.org", display_name=""):
    return client.post(reverse("account_signup"), {"email": email, "display_name": display_name})


def test_signup_page_without_invitation_says_joining_is_by_invitation(client):
    response = client.get(reverse("account_signup"))

    assert response.status_code == 200
    assert "Joining is by invitation" in response.text
    assert 'name="email"' not in response.text


def test_signup_without_invitation_is_refused(client, mailoutbox):
    before = User.objects.count()

    response = sign_up(client)

    assert "Joining is by invitation" in response.text
    assert User.objects.count() == before
    assert not User.objects.filter(email="nina@example.org").exists()
    assert mailoutbox == []


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ({"days": -1}, 410),
        ({"uses": 1, "max_uses": 1}, 410),
        ({"revoked": True}, 410),
    ],
    ids=["expired", "used_up", "revoked"],
)
def test_bad_invitation_creates_no_account_and_no_membership(
    client, make_invitation, mailoutbox, state, status
):
    invitation, token = make_invitation(**state)
    users_before, members_before = User.objects.count(), Membership.objects.count()

    page = client.get(reverse("users:join", args=[token]))
    response = sign_up(client)

    assert page.status_code == status
    assert "Nothing has been created" in page.text
    assert "Joining is by invitation" in response.text
    assert User.objects.count() == users_before
    assert Membership.objects.count() == members_before
    invitation.refresh_from_db()
    assert invitation.uses == state.get("uses", 0)
    assert mailoutbox == []


def test_unknown_invitation_creates_no_account_and_no_membership(client, pod, organizer):
    users_before, members_before = User.objects.count(), Membership.objects.count()

    page = client.get(reverse("users:join", args=["not-a-real-token"]))
    response = sign_up(client)

    assert page.status_code == 404
    assert "We do not know this link" in page.text
    assert "Joining is by invitation" in response.text
    assert User.objects.count() == users_before
    assert Membership.objects.count() == members_before


def test_invitation_that_expires_after_the_link_was_opened_creates_nothing(client, make_invitation):
    invitation, token = make_invitation()
    client.get(reverse("users:join", args=[token]))
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )

    response = sign_up(client)

    assert "Joining is by invitation" in response.text
    assert not User.objects.filter(email="nina@example.org").exists()


def test_good_invitation_signs_up_verifies_and_joins_end_to_end(
    client, pod, make_invitation, mailoutbox, code_in
):
    invitation, token = make_invitation()

    page = client.get(reverse("users:join", args=[token]))
    assert page.status_code == 200
    assert reverse("account_signup") in page.text
    form = client.get(reverse("account_signup"))
    assert "Join <bdi>Maple Street Pod</bdi>" in form.text
    assert 'for="id_email"' in form.text

    response = sign_up(client, email="Nina@Example.org", display_name="Nina")

    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    user = User.objects.get(email="nina@example.org")
    assert user.display_name == "Nina"
    assert not user.has_usable_password()
    membership = Membership.objects.get(pod=pod, user=user)
    assert membership.role == Membership.Role.DONOR
    assert membership.active
    assert membership.invitation == invitation
    invitation.refresh_from_db()
    assert invitation.uses == 1
    assert "invitation_id" not in client.session

    # The address is confirmed by a code from the mailbox, which also signs them in.
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["nina@example.org"]
    verify = client.get(response.url)
    assert "nina@example.org" in verify.text
    done = client.post(response.url, {"code": code_in(mailoutbox[0])})

    assert done.status_code == 302
    # Straight to what a new member does first: set a weekly pledge.
    assert done.url == reverse("pods:pledge", args=["maple"])
    assert EmailAddress.objects.get(user=user).verified
    home = client.get(reverse("home"))
    assert home.context["user"] == user
    assert "Maple Street Pod" in home.text


def test_one_use_link_cannot_sign_up_a_second_person(client, make_invitation):
    invitation, token = make_invitation(max_uses=1)
    client.get(reverse("users:join", args=[token]))
    sign_up(client, email="first@example.org")
    client.logout()

    page = client.get(reverse("users:join", args=[token]))
    response = sign_up(client, email="second@example.org")

    assert page.status_code == 410
    assert "Joining is by invitation" in response.text
    assert not User.objects.filter(email="second@example.org").exists()
    invitation.refresh_from_db()
    assert invitation.uses == 1


def test_organizer_invitation_makes_an_organizer(client, pod, make_invitation):
    _, token = make_invitation(role=Membership.Role.ORGANIZER, max_uses=3)
    client.get(reverse("users:join", args=[token]))

    sign_up(client, email="ozzie@example.org")

    membership = Membership.objects.get(pod=pod, user__email="ozzie@example.org")
    assert membership.role == Membership.Role.ORGANIZER


def test_signup_with_an_email_that_has_an_account_creates_nothing_and_says_so_by_email(
    client, pod, outsider, make_invitation, mailoutbox
):
    invitation, token = make_invitation()
    client.get(reverse("users:join", args=[token]))

    response = sign_up(client, email=outsider.email)

    # The page looks the same as for a new address (no telling who has an account).
    assert response.status_code == 302
    assert User.objects.filter(email=outsider.email).count() == 1
    assert not Membership.objects.filter(pod=pod, user=outsider).exists()
    invitation.refresh_from_db()
    assert invitation.uses == 0
    assert len(mailoutbox) == 1
    assert "open the invitation link again" in mailoutbox[0].body


def test_invalid_email_is_a_form_error_next_to_the_field(client, make_invitation):
    _, token = make_invitation()
    client.get(reverse("users:join", args=[token]))

    response = sign_up(client, email="not an email")

    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    assert 'aria-invalid="true"' in response.text
    assert not User.objects.filter(email="not an email").exists()
