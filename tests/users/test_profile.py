"""/profile/: a member sets how others see them, and whether recipients see their name on
the receipts sent to them."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

URL = reverse("users:profile")


def test_signed_out_visitor_is_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


@pytest.mark.parametrize("who", ["donor", "organizer", "outsider"])
def test_anyone_signed_in_edits_their_own_profile_only(client, who, request, donor):
    user = request.getfixturevalue(who)
    client.force_login(user)
    assert client.get(URL).status_code == 200

    response = client.post(
        URL,
        {
            "display_name": "New name",
            "anonymous_to_recipients": "on",
            "email": "taken@example.org",
            "is_staff": "on",
        },
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.display_name, user.anonymous_to_recipients) == ("New name", True)
    assert not user.is_staff
    assert user.email.endswith("@example.org") and user.email != "taken@example.org"
    if user != donor:
        donor.refresh_from_db()
        assert donor.display_name == "Dana"


def test_the_choice_can_be_undone(client, donor):
    donor.anonymous_to_recipients = True
    donor.save()
    client.force_login(donor)
    client.post(URL, {"display_name": "Dana"})
    donor.refresh_from_db()
    assert not donor.anonymous_to_recipients


def test_payers_are_named_to_recipients_unless_they_choose_not_to(make_user):
    assert make_user("new@example.org").anonymous_to_recipients is False


def test_a_too_long_name_is_refused(client, donor):
    client.force_login(donor)
    response = client.post(URL, {"display_name": "x" * 81})
    assert response.status_code == 400
    assert "at most 80 characters" in response.text
    donor.refresh_from_db()
    assert donor.display_name == "Dana"


def test_the_header_links_to_the_profile(client, donor, pod):
    client.force_login(donor)
    assert f'href="{URL}"' in client.get(reverse("pods:dashboard", args=[pod.slug])).text
