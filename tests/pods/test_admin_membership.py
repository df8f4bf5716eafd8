"""Memberships in the admin: organizers change roles in their pods; people join by
invitation, not here."""

import pytest
from django.urls import reverse

from pods.models import Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def organizer_client(client, organizer):
    client.force_login(organizer)
    return client


def change(client, membership, **fields):
    return client.post(
        reverse("admin:pods_membership_change", args=[membership.pk]),
        {"role": membership.role, "active": "on" if membership.active else "", **fields},
    )


def test_organizer_makes_a_donor_an_organizer(organizer_client, donor, pod):
    membership = Membership.objects.get(user=donor)
    response = change(organizer_client, membership, role="organizer")
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == "organizer"


def test_pod_and_person_of_a_membership_stay_put(organizer_client, donor, organizer, pod):
    membership = Membership.objects.get(user=donor)
    change(organizer_client, membership, user=organizer.pk, pod=999)
    membership.refresh_from_db()
    assert (membership.user, membership.pod) == (donor, pod)


def test_last_organizer_cannot_step_down(organizer_client, organizer):
    membership = Membership.objects.get(user=organizer)
    response = change(organizer_client, membership, role="donor")
    assert response.status_code == 200
    assert "A pod needs an organizer" in response.text
    membership.refresh_from_db()
    assert membership.is_organizer


def test_organizer_cannot_add_memberships(organizer_client, pod, make_user):
    newcomer = make_user("new@example.org")
    assert organizer_client.get(reverse("admin:pods_membership_add")).status_code == 403
    response = organizer_client.post(
        reverse("admin:pods_membership_add"),
        {"pod": pod.pk, "user": newcomer.pk, "role": "organizer", "active": "on"},
    )
    assert response.status_code == 403
    assert not Membership.objects.filter(user=newcomer).exists()


def test_organizer_cannot_change_another_pods_membership(organizer_client, outsider):
    membership = Membership.objects.get(user=outsider)
    response = change(organizer_client, membership, role="donor", active="")
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.is_organizer


def test_site_admin_adds_a_pods_first_organizer(client, make_user, pod):
    client.force_login(make_user("root@example.org", is_staff=True, is_superuser=True))
    person = make_user("first@example.org")
    response = client.post(
        reverse("admin:pods_membership_add"),
        {"pod": pod.pk, "user": person.pk, "role": "organizer", "active": "on"},
    )
    assert response.status_code == 302
    assert Membership.objects.get(user=person).is_organizer
