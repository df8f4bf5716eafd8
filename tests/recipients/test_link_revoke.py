"""/pods/<slug>/recipients/<pk>/link/revoke/: an organizer switches the private link off."""

import pytest
from django.urls import reverse

from recipients.models import Recipient

pytestmark = pytest.mark.django_db


def url(recipient):
    return reverse("recipients:link_revoke", args=[recipient.pod.slug, recipient.pk])


def has_link(recipient):
    return bool(Recipient.objects.get(pk=recipient.pk).access_token_hash)


def test_signed_out_visitor_is_sent_to_sign_in(client, recipient, recipient_link):
    response = client.post(url(recipient))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert has_link(recipient)


def test_member_of_another_pod_gets_404(client, outsider, recipient, recipient_link):
    client.force_login(outsider)
    assert client.post(url(recipient)).status_code == 404
    assert has_link(recipient)


def test_donor_gets_403(client, donor, recipient, recipient_link):
    client.force_login(donor)
    assert client.post(url(recipient)).status_code == 403
    assert has_link(recipient)


def test_organizer_revokes_the_link(client, organizer, recipient, recipient_link):
    client.force_login(organizer)
    response = client.post(url(recipient), follow=True)
    assert "private link no longer works" in response.text
    assert "They have no working private link." in response.text
    assert not has_link(recipient)
    client.logout()
    assert client.get(reverse("recipients:link", args=[recipient_link])).status_code == 404
