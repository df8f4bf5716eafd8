"""/pods/<slug>/settings/: organizers set how recipients reach them; nobody else can."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

URL = reverse("pods:settings", args=["maple"])


def test_signed_out_visitor_is_sent_to_sign_in(client, pod):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_outsider_gets_404_and_nothing_changes(client, outsider, pod):
    client.force_login(outsider)
    assert client.get(URL).status_code == 404
    assert client.post(URL, {"organizer_contact": "scam"}).status_code == 404
    pod.refresh_from_db()
    assert pod.organizer_contact == ""


def test_donor_gets_403_and_nothing_changes(client, donor, pod):
    client.force_login(donor)
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"organizer_contact": "scam"}).status_code == 403
    pod.refresh_from_db()
    assert pod.organizer_contact == ""


def test_organizer_sets_how_recipients_reach_them(client, organizer, pod):
    client.force_login(organizer)
    page = client.get(URL)
    assert page.status_code == 200
    assert "How recipients reach you" in page.text
    response = client.post(URL, {"organizer_contact": " Text Olive at 555-0123\u202e "})
    assert response.status_code == 302
    pod.refresh_from_db()
    assert pod.organizer_contact == "Text Olive at 555-0123"
    assert "Text Olive at 555-0123" in client.get(URL).text


def test_a_too_long_contact_is_refused_next_to_the_field(client, organizer, pod):
    client.force_login(organizer)
    response = client.post(URL, {"organizer_contact": "x" * 201})
    assert response.status_code == 400
    assert "at most 200 characters" in response.text
    pod.refresh_from_db()
    assert pod.organizer_contact == ""


def test_organizers_can_set_it_in_the_admin_too(client, organizer, pod):
    client.force_login(organizer)
    page = client.get(reverse("admin:pods_pod_change", args=[pod.pk]))
    assert page.status_code == 200
    assert 'name="organizer_contact"' in page.text


def test_organizer_sets_the_pods_language(client, organizer, pod):
    client.force_login(organizer)
    assert 'name="language"' in client.get(URL).text
    response = client.post(URL, {"organizer_contact": "", "language": "ar"})
    assert response.status_code == 302
    pod.refresh_from_db()
    assert pod.language == "ar"


def test_a_language_the_app_has_not_is_refused(client, organizer, pod):
    client.force_login(organizer)
    response = client.post(URL, {"organizer_contact": "", "language": "xx"})
    assert response.status_code == 400
    pod.refresh_from_db()
    assert pod.language == "en"
