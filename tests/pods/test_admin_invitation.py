"""Invitations in the admin: the join link is shown once, only its hash is kept."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from pods.models import Invitation, hash_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def organizer_client(client, organizer):
    client.force_login(organizer)
    return client


def add(client, pod, **fields):
    data = {
        "pod": pod.pk,
        "role": "donor",
        "expires_at_0": (timezone.localdate() + datetime.timedelta(days=7)).isoformat(),
        "expires_at_1": "12:00:00",
        "max_uses": 5,
    }
    data.update(fields)
    return client.post(reverse("admin:pods_invitation_add"), data, follow=True)


def test_add_form_is_filled_for_the_organizers_only_pod(organizer_client, pod):
    response = organizer_client.get(reverse("admin:pods_invitation_add"))
    form = response.context["adminform"].form
    assert form.initial["pod"] == pod.pk
    assert form.initial["expires_at"] > timezone.now()


def test_creating_an_invitation_shows_its_link_once(organizer_client, organizer, pod):
    response = add(organizer_client, pod)
    invitation = Invitation.objects.get()
    notes = [str(m) for m in response.context["messages"]]
    (link_note,) = [note for note in notes if "/join/" in note]
    token = link_note.split("/join/")[1].rstrip("/")
    assert link_note.endswith(f"/join/{token}/")
    assert "http://testserver/" in link_note
    assert invitation.token_hash == hash_token(token)
    assert invitation.created_by == organizer
    assert (invitation.max_uses, invitation.uses) == (5, 0)
    # Never again: not on the invitation's page, not in the list.
    page = organizer_client.get(reverse("admin:pods_invitation_change", args=[invitation.pk]))
    assert token not in page.text
    assert token not in organizer_client.get(reverse("admin:pods_invitation_changelist")).text


def test_invitation_to_another_pod_is_refused(organizer_client, other_pod):
    response = add(organizer_client, other_pod)
    assert "Select a valid choice" in response.text
    assert not Invitation.objects.exists()


def test_revoking_stops_an_invitation(organizer_client, pod):
    add(organizer_client, pod)
    invitation = Invitation.objects.get()
    organizer_client.post(
        reverse("admin:pods_invitation_changelist"),
        {"action": "revoke", "_selected_action": [invitation.pk], "index": 0},
    )
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert not Invitation.objects.usable().exists()
