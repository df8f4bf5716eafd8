"""/pods/<slug>/recipients/<pk>/: an organizer's page for one recipient."""

import pytest
from django.urls import reverse
from django.utils import timezone

from recipients.models import Recipient

pytestmark = pytest.mark.django_db


def url(recipient):
    return reverse("recipients:recipient", args=[recipient.pod.slug, recipient.pk])


def test_signed_out_visitor_is_sent_to_sign_in(client, recipient):
    response = client.get(url(recipient))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_member_of_another_pod_gets_404(client, outsider, recipient):
    client.force_login(outsider)
    assert client.get(url(recipient)).status_code == 404


def test_donor_gets_403(client, donor, recipient):
    client.force_login(donor)
    assert client.get(url(recipient)).status_code == 403


def test_another_pods_recipient_is_404_to_an_organizer(client, organizer, other_pod):
    stranger = Recipient.objects.create(pod=other_pod, display_name="Otis")
    client.force_login(organizer)
    assert (
        client.get(reverse("recipients:recipient", args=["maple", stranger.pk])).status_code == 404
    )


def test_organizer_sees_where_they_are_paid_and_their_enrollment(
    client, organizer, recipient, enrollment, recipient_link
):
    client.force_login(organizer)
    response = client.get(url(recipient))
    assert response.status_code == 200
    assert "$rosa" in response.text
    assert "Cycle 1, slot 1" in response.text
    assert "They have a private link." in response.text
    assert recipient_link not in response.text
    assert reverse("recipients:enrollment_end", args=["maple", recipient.pk]) in response.text


def test_an_erased_recipient_shows_only_the_label(client, organizer, recipient):
    Recipient.objects.filter(pk=recipient.pk).update(
        display_name="Former recipient 1", payment_handle="", erased_at=timezone.now()
    )
    client.force_login(organizer)
    response = client.get(url(recipient))
    assert "details were erased" in response.text
    assert "Make a link" not in response.text
