"""/pods/<slug>/recipients/<pk>/link/: an organizer makes a new private link, shown once;
the old one stops working."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from pods.models import hash_token
from recipients.models import Recipient

pytestmark = pytest.mark.django_db


def url(recipient):
    return reverse("recipients:link_replace", args=[recipient.pod.slug, recipient.pk])


def unchanged(recipient, before):
    recipient.refresh_from_db()
    return recipient.access_token_hash == before


def test_signed_out_visitor_is_sent_to_sign_in(client, recipient, recipient_link):
    before = Recipient.objects.get().access_token_hash
    response = client.post(url(recipient))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert unchanged(recipient, before)


def test_member_of_another_pod_gets_404(client, outsider, recipient, recipient_link):
    before = Recipient.objects.get().access_token_hash
    client.force_login(outsider)
    assert client.post(url(recipient)).status_code == 404
    assert unchanged(recipient, before)


def test_donor_gets_403(client, donor, recipient, recipient_link):
    before = Recipient.objects.get().access_token_hash
    client.force_login(donor)
    assert client.post(url(recipient)).status_code == 403
    assert unchanged(recipient, before)


def test_get_is_not_allowed(client, organizer, recipient):
    client.force_login(organizer)
    assert client.get(url(recipient)).status_code == 405


def test_organizer_replaces_the_link_and_the_old_one_stops_working(
    client, organizer, recipient, recipient_link
):
    client.force_login(organizer)

    response = client.post(url(recipient))

    assert response.status_code == 200
    token = re.search(r"/r/([A-Za-z0-9_-]+)/", response.context["link"]).group(1)
    assert token != recipient_link
    assert "the only time this link is shown" in response.text
    assert response.headers["Cache-Control"].startswith("max-age=0")
    recipient.refresh_from_db()
    assert recipient.access_token_hash == hash_token(token)
    client.logout()
    assert client.get(reverse("recipients:link", args=[recipient_link])).status_code == 404
    assert client.get(reverse("recipients:link", args=[token])).status_code == 200


def test_an_erased_recipient_gets_no_new_link(client, organizer, recipient):
    Recipient.objects.filter(pk=recipient.pk).update(erased_at=timezone.now())
    client.force_login(organizer)
    response = client.post(url(recipient), follow=True)
    assert "data is erased" in response.text
    recipient.refresh_from_db()
    assert recipient.access_token_hash == ""
