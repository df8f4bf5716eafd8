"""An organizer's own choice of how they hear of new referrals and members, on the pod's
settings page: tried as a signed-out visitor, an outsider, a donor and an organizer."""

import pytest
from django.urls import reverse

from pods.models import Membership

pytestmark = pytest.mark.django_db

URL = reverse("pods:notices_setting", args=["maple"])
SETTINGS = reverse("pods:settings", args=["maple"])


def test_signed_out_visitor_is_sent_to_sign_in(client, organizer):
    response = client.post(URL, {"notices": "daily"})
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert Membership.objects.get(user=organizer).notices == "each"


def test_outsider_gets_404_and_donor_403(client, pod, outsider, donor):
    client.force_login(outsider)
    assert client.post(URL, {"notices": "daily"}).status_code == 404
    client.force_login(donor)
    assert client.post(URL, {"notices": "daily"}).status_code == 403
    assert Membership.objects.get(pod=pod, user=donor).notices == "each"


def test_get_is_not_allowed(client, organizer):
    client.force_login(organizer)
    assert client.get(URL).status_code == 405


def test_organizer_chooses_the_daily_digest(client, pod, organizer, make_user):
    other = make_user("oona@example.org")
    Membership.objects.create(pod=pod, user=other, role=Membership.Role.ORGANIZER)
    client.force_login(organizer)

    page = client.get(SETTINGS).content.decode()
    assert 'name="notices"' in page and 'value="daily"' in page

    response = client.post(URL, {"notices": "daily"})
    assert response.status_code == 302
    assert response.url == SETTINGS
    assert Membership.objects.get(user=organizer).notices == "daily"
    # Only their own.
    assert Membership.objects.get(user=other).notices == "each"


def test_a_bad_choice_is_a_form_error_and_changes_nothing(client, organizer):
    client.force_login(organizer)
    response = client.post(URL, {"notices": "hourly"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert Membership.objects.get(user=organizer).notices == "each"
