"""An organizer's invitations page: create (link and QR code shown once), list with
status and who joined, revoke. Tried as a signed-out visitor, an outsider, a donor and
an organizer."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from pods.models import Invitation, Membership, hash_token

pytestmark = pytest.mark.django_db

LIST = reverse("pods:invitations", args=["maple"])
CREATE = reverse("pods:invitation_create", args=["maple"])
VALID = {
    "role": "donor",
    "days": "14",
    "max_uses": "1",
    "submission_key": "0f1e2d3c-4b5a-4697-8877-665544332211",
}


def make_invitation(pod, **fields):
    invitation = Invitation(
        pod=pod, expires_at=timezone.now() + datetime.timedelta(days=7), **fields
    )
    invitation.new_token()
    invitation.save()
    return invitation


def revoke_url(invitation):
    return reverse("pods:invitation_revoke", args=["maple", invitation.pk])


# Who may see and do what.


@pytest.mark.parametrize("url", [LIST, CREATE])
def test_signed_out_visitor_is_sent_to_sign_in(client, pod, url):
    response = client.post(url, VALID) if url == CREATE else client.get(url)

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert not Invitation.objects.exists()


@pytest.mark.parametrize("url", [LIST, CREATE])
def test_outsider_gets_404(client, pod, outsider, url):
    client.force_login(outsider)

    response = client.post(url, VALID) if url == CREATE else client.get(url)

    assert response.status_code == 404
    assert not Invitation.objects.exists()


@pytest.mark.parametrize("url", [LIST, CREATE])
def test_donor_gets_403(client, donor, url):
    client.force_login(donor)

    response = client.post(url, VALID) if url == CREATE else client.get(url)

    assert response.status_code == 403
    assert not Invitation.objects.exists()


def test_revoke_is_for_organizers_of_this_pod_only(client, pod, other_pod, donor, outsider):
    invitation = make_invitation(pod)
    for person, status in [(None, 302), (outsider, 404), (donor, 403)]:
        client.logout()
        if person:
            client.force_login(person)
        assert client.post(revoke_url(invitation)).status_code == status
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


def test_organizer_cannot_revoke_another_pods_invitation(client, pod, other_pod, organizer):
    theirs = make_invitation(other_pod)
    client.force_login(organizer)

    response = client.post(reverse("pods:invitation_revoke", args=["maple", theirs.pk]))

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


# Creating.


def test_organizer_creates_an_invitation_and_sees_its_link_and_qr_once(client, pod, organizer):
    client.force_login(organizer)

    created = client.post(CREATE, {**VALID, "role": "organizer", "days": "3", "max_uses": "10"})

    invitation = Invitation.objects.get(pod=pod)
    assert created.status_code == 302
    assert created.url == reverse("pods:invitation", args=["maple", invitation.pk])
    response = client.get(created.url)
    assert response.status_code == 200
    assert invitation.role == Membership.Role.ORGANIZER
    assert invitation.max_uses == 10
    assert invitation.uses == 0
    assert invitation.created_by == organizer
    assert (
        datetime.timedelta(days=3, minutes=-1)
        < invitation.expires_at - timezone.now()
        <= datetime.timedelta(days=3)
    )
    link = re.search(r'value="(http://testserver/join/([^/"]+)/)"', response.text)
    assert link, response.text
    assert hash_token(link.group(2)) == invitation.token_hash
    assert "This page shows it again if you reload it" in response.text
    assert response["Cache-Control"].startswith("max-age=0")
    # The list never shows the link again: only its hash is kept.
    assert link.group(2) not in client.get(LIST).text


def test_qr_code_is_inline_svg_with_no_outside_reference(client, organizer):
    client.force_login(organizer)

    response = client.post(CREATE, VALID, follow=True)

    svg = re.search(r"<svg.*?</svg>", response.text, re.DOTALL).group(0)
    assert 'role="img"' in svg
    assert "<title>" in svg
    assert "<path" in svg
    for outside in ["href", "<image", "<script", "url(", "http"]:
        assert outside not in svg
    assert "<img" not in response.text


@pytest.mark.parametrize(
    "data",
    [
        {"role": "donor", "days": "0", "max_uses": "1"},
        {"role": "donor", "days": "-3", "max_uses": "1"},
        {"role": "donor", "days": "91", "max_uses": "1"},
        {"role": "donor", "days": "many", "max_uses": "1"},
        {"role": "donor", "days": "7", "max_uses": "0"},
        {"role": "donor", "days": "7", "max_uses": "1.5"},
        {"role": "donor", "days": "7", "max_uses": "99999999999999999999"},
        {"role": "admin", "days": "7", "max_uses": "1"},
        {"days": "7", "max_uses": "1"},
    ],
)
def test_invalid_input_is_a_form_error_and_creates_nothing(client, organizer, data):
    client.force_login(organizer)

    response = client.post(CREATE, data)

    assert response.status_code == 200
    assert response.context["form"].errors
    assert 'class="errorlist' in response.text
    assert not Invitation.objects.exists()


# Listing.


def test_list_shows_each_status_and_who_joined(client, pod, organizer, make_user):
    active = make_invitation(pod, created_by=organizer)
    used = make_invitation(pod, max_uses=1, uses=1)
    make_invitation(pod, revoked_at=timezone.now())
    expired = make_invitation(pod)
    Invitation.objects.filter(pk=expired.pk).update(
        expires_at=timezone.now() - datetime.timedelta(days=1)
    )
    nina = make_user("nina@example.org", display_name="Nina")
    Membership.objects.create(pod=pod, user=nina, invitation=used)
    client.force_login(organizer)

    response = client.get(LIST)

    assert response.status_code == 200
    statuses = {row["invitation"].pk: row["status"] for row in response.context["rows"]}
    assert statuses[active.pk] == Invitation.Status.ACTIVE
    assert statuses[used.pk] == Invitation.Status.USED_UP
    assert statuses[expired.pk] == Invitation.Status.EXPIRED
    assert sorted(statuses.values()) == ["active", "expired", "revoked", "used_up"]
    for label in ["Active", "Used up", "Revoked", "Expired"]:
        assert label in response.text
    assert "Nina" in response.text
    assert "by <bdi>Olive</bdi>" in response.text
    # Only the active one can be revoked.
    assert response.text.count("Revoke this link") == 1


def test_list_does_not_show_other_pods_invitations(client, pod, other_pod, organizer):
    make_invitation(other_pod, max_uses=7)
    client.force_login(organizer)

    response = client.get(LIST)

    assert response.context["rows"] == []


def test_list_runs_the_same_queries_for_many_invitations(
    client, pod, organizer, make_user, django_assert_max_num_queries
):
    client.force_login(organizer)

    def add(count, start):
        for n in range(start, start + count):
            invitation = make_invitation(pod, max_uses=3, created_by=organizer)
            Membership.objects.create(
                pod=pod, user=make_user(f"n{n}@example.org"), invitation=invitation
            )

    add(1, 0)
    with django_assert_max_num_queries(6) as one:
        client.get(LIST)
    add(20, 1)
    with django_assert_max_num_queries(6) as many:
        client.get(LIST)
    assert len(one.captured_queries) == len(many.captured_queries)


# Revoking.


def test_organizer_revokes_and_the_link_stops_working(client, pod, organizer):
    client.force_login(organizer)
    client.post(CREATE, VALID)
    invitation = Invitation.objects.get()

    response = client.post(revoke_url(invitation))

    assert response.status_code == 302
    assert response.url == LIST
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert invitation.status() == Invitation.Status.REVOKED


def test_revoke_needs_post(client, pod, organizer):
    invitation = make_invitation(pod)
    client.force_login(organizer)

    response = client.get(revoke_url(invitation))

    assert response.status_code == 405
    invitation.refresh_from_db()
    assert invitation.revoked_at is None
