"""/join/<token>/: where an invitation link leads, signed out and signed in."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from pods.models import Membership

pytestmark = pytest.mark.django_db


def join(token):
    return reverse("users:join", args=[token])


def test_signed_out_visitor_is_offered_sign_up_and_sign_in(client, make_invitation):
    invitation, token = make_invitation()

    response = client.get(join(token))

    assert response.status_code == 200
    assert "Join Maple Street Pod" in response.text
    assert reverse("account_signup") in response.text
    assert f"{reverse('account_login')}?next=%2Fjoin%2F{token}%2F" in response.text
    assert client.session["invitation_id"] == invitation.pk


@pytest.mark.parametrize(
    ("state", "status", "explanation"),
    [
        ({"days": -1}, 410, "It has expired."),
        ({"uses": 2, "max_uses": 2}, 410, "already been used as many times"),
        ({"revoked": True}, 410, "An organizer has withdrawn it."),
    ],
    ids=["expired", "used_up", "revoked"],
)
def test_bad_link_gets_a_clear_page_and_is_not_kept(
    client, make_invitation, state, status, explanation
):
    _, token = make_invitation(**state)

    response = client.get(join(token))

    assert response.status_code == status
    assert explanation in response.text
    assert "invitation_id" not in client.session


def test_unknown_link_gets_404(client, pod):
    response = client.get(join("abc123"))

    assert response.status_code == 404
    assert "This invitation link does not work" in response.text


def test_signed_out_post_joins_nothing(client, pod, make_invitation):
    invitation, token = make_invitation()

    client.post(join(token))

    invitation.refresh_from_db()
    assert invitation.uses == 0
    assert Membership.objects.filter(pod=pod).count() == 1  # the organizer


def test_member_of_another_pod_sees_a_confirm_button_and_get_changes_nothing(
    client, pod, outsider, make_invitation
):
    invitation, token = make_invitation()
    client.force_login(outsider)

    response = client.get(join(token))

    assert response.status_code == 200
    assert '<form method="post">' in response.text
    assert not Membership.objects.filter(pod=pod, user=outsider).exists()
    invitation.refresh_from_db()
    assert invitation.uses == 0


def test_member_of_another_pod_joins_this_one_too(
    client, pod, other_pod, outsider, make_invitation
):
    invitation, token = make_invitation()
    client.force_login(outsider)

    response = client.post(join(token))

    assert response.status_code == 302
    # Straight to what a new member does first: set a weekly pledge.
    assert response.url == reverse("pods:pledge", args=["maple"])
    membership = Membership.objects.get(pod=pod, user=outsider)
    assert membership.role == Membership.Role.DONOR
    assert membership.active
    assert membership.invitation == invitation
    assert Membership.objects.get(pod=other_pod, user=outsider).is_organizer
    invitation.refresh_from_db()
    assert invitation.uses == 1


def test_former_member_comes_back_in_the_same_membership(client, pod, donor, make_invitation):
    old = Membership.objects.get(pod=pod, user=donor)
    Membership.objects.filter(pk=old.pk).update(active=False)
    invitation, token = make_invitation()
    client.force_login(donor)

    client.post(join(token))

    old.refresh_from_db()
    assert old.active
    assert old.invitation == invitation
    assert Membership.objects.filter(pod=pod, user=donor).count() == 1


def test_active_member_uses_nothing(client, pod, donor, make_invitation):
    invitation, token = make_invitation()
    client.force_login(donor)

    page = client.get(join(token))
    client.post(join(token))

    assert "You are already a member" in page.text
    invitation.refresh_from_db()
    assert invitation.uses == 0
    assert Membership.objects.get(pod=pod, user=donor).invitation is None


def test_organizer_invitation_makes_a_donor_an_organizer(client, pod, donor, make_invitation):
    invitation, token = make_invitation(role=Membership.Role.ORGANIZER)
    client.force_login(donor)

    client.post(join(token))

    assert Membership.objects.get(pod=pod, user=donor).is_organizer
    invitation.refresh_from_db()
    assert invitation.uses == 1


def test_donor_invitation_never_demotes_an_organizer(client, pod, organizer, make_invitation):
    invitation, token = make_invitation()
    client.force_login(organizer)

    client.post(join(token))

    assert Membership.objects.get(pod=pod, user=organizer).is_organizer
    invitation.refresh_from_db()
    assert invitation.uses == 0


@pytest.mark.parametrize("state", [{"days": -1}, {"uses": 1}, {"revoked": True}])
def test_signed_in_person_cannot_join_through_a_bad_link(
    client, pod, outsider, make_invitation, state
):
    _, token = make_invitation(**state)
    client.force_login(outsider)

    response = client.post(join(token))

    assert response.status_code == 410
    assert not Membership.objects.filter(pod=pod, user=outsider).exists()


# Following one link at the same moment.

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL row locks"
)


@pytest.mark.postgres
@needs_postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("max_uses", [1, 3])
def test_racing_joins_never_use_a_link_more_than_it_allows(
    pod, make_user, make_invitation, max_uses
):
    invitation, _ = make_invitation(max_uses=max_uses)
    people = [make_user(f"racer{n}@example.org") for n in range(8)]
    outcomes = []
    start = threading.Barrier(len(people))

    def attempt(person):
        try:
            start.wait(timeout=10)
            invitation.accept(person)
            outcomes.append("joined")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(p,)) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert outcomes.count("joined") == max_uses
    assert outcomes.count("refused") == 8 - max_uses
    invitation.refresh_from_db()
    assert invitation.uses == max_uses
    assert Membership.objects.filter(pod=pod, invitation=invitation).count() == max_uses
