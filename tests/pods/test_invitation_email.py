"""Invitations by email, many at once, from the invitations page; and a new link's page
after post/redirect/get: a reload shows the same link and makes no other."""

import re
import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from pods.models import Invitation, hash_token

pytestmark = pytest.mark.django_db

LIST = reverse("pods:invitations", args=["maple"])
EMAIL = reverse("pods:invitation_email", args=["maple"])
CREATE = reverse("pods:invitation_create", args=["maple"])


@pytest.fixture
def send(client, django_capture_on_commit_callbacks):
    def post(emails, role="donor"):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(EMAIL, {"role": role, "emails": emails}, follow=True)

    return post


def test_signed_out_outsider_and_donor_send_nothing(client, pod, donor, outsider, mailoutbox):
    data = {"role": "donor", "emails": "ana@example.org"}
    response = client.post(EMAIL, data)
    assert response.status_code == 302 and response.url.startswith(reverse("account_login"))
    client.force_login(outsider)
    assert client.post(EMAIL, data).status_code == 404
    client.force_login(donor)
    assert client.post(EMAIL, data).status_code == 403
    assert not Invitation.objects.exists()
    assert not mailoutbox


def test_each_address_gets_an_invitation_of_its_own(client, pod, organizer, send, mailoutbox):
    client.force_login(organizer)

    page = send("ana@example.org, Bea@Example.org\ncy@example.org;  ")

    assert page.redirect_chain == [(LIST, 302)]
    assert "3 invitations sent by email." in page.text
    assert sorted(Invitation.objects.values_list("email", flat=True)) == [
        "ana@example.org",
        "bea@example.org",
        "cy@example.org",
    ]
    assert all(i.max_uses == 1 and i.role == "donor" for i in Invitation.objects.all())
    assert sorted(m.to[0] for m in mailoutbox) == [
        "ana@example.org",
        "bea@example.org",
        "cy@example.org",
    ]
    # Each mail's link is that person's invitation.
    for message in mailoutbox:
        token = re.search(r"/join/([^/\s]+)/", message.body).group(1)
        assert Invitation.objects.get(token_hash=hash_token(token)).email == message.to[0]
    assert "Sent by email to <bdi>ana@example.org</bdi>" in page.text


def test_bad_addresses_are_named_and_nothing_is_sent(client, pod, organizer, send, mailoutbox):
    client.force_login(organizer)

    response = client.post(
        EMAIL, {"role": "donor", "emails": "ana@example.org\nnot-an-address, bea@@x"}
    )

    assert response.status_code == 400
    assert "“not-an-address” is not an email address." in response.text
    assert "“bea@@x” is not an email address." in response.text
    assert not Invitation.objects.exists()
    assert not mailoutbox


@pytest.mark.parametrize("emails", ["", " , ; ", "a@example.org " * 201])
def test_none_or_too_many_addresses_is_a_form_error(client, pod, organizer, emails):
    client.force_login(organizer)
    response = client.post(EMAIL, {"role": "donor", "emails": emails})
    assert response.status_code == 400
    assert 'class="errorlist' in response.text
    assert not Invitation.objects.exists()


def test_members_repeats_and_people_invited_already_are_skipped_with_a_message(
    client, pod, organizer, donor, send, mailoutbox
):
    client.force_login(organizer)
    send("bea@example.org")
    mailoutbox.clear()

    page = send("dana@example.org\nbea@example.org\ncy@example.org\nCY@example.org")

    assert "1 invitation sent by email." in page.text
    assert "Already members, so not invited: <bdi>dana@example.org</bdi>." in page.text
    assert "Invited already, with an invitation that still works: <bdi>bea@example.org" in (
        page.text
    )
    assert "Written more than once, invited once: <bdi>cy@example.org</bdi>." in page.text
    assert [m.to for m in mailoutbox] == [["cy@example.org"]]
    assert Invitation.objects.count() == 2


def test_an_invitation_that_no_longer_works_does_not_block_a_new_one(
    client, pod, organizer, send, mailoutbox
):
    client.force_login(organizer)
    send("bea@example.org")
    Invitation.objects.get().revoke()

    page = send("bea@example.org")

    assert "1 invitation sent by email." in page.text
    assert Invitation.objects.count() == 2


def test_invitation_mail_is_in_the_pods_language_or_the_readers(
    client, pod, organizer, make_user, send, mailoutbox
):
    pod.language = "ar"
    pod.save()
    make_user("es@example.org", language="es")
    client.force_login(organizer)

    send("new@example.org es@example.org")

    by_address = {m.to[0]: m for m in mailoutbox}
    assert 'dir="rtl"' in by_address["new@example.org"].alternatives[0][0]
    assert "Maple Street Pod" in by_address["new@example.org"].subject
    assert by_address["es@example.org"].subject == "Te invitan a unirte a Maple Street Pod"


def test_an_organizer_invitation_by_email(client, pod, organizer, send, mailoutbox):
    client.force_login(organizer)
    send("co@example.org", role="organizer")
    assert Invitation.objects.get().role == "organizer"
    assert "a mutual-aid pod, as one of its organizers." in mailoutbox[0].body


# A new link's page: post/redirect/get


def created(client):
    page = client.get(LIST)
    key = re.search(r'name="submission_key" value="([^"]+)"', page.text).group(1)
    return client.post(
        CREATE, {"role": "donor", "days": "14", "max_uses": "1", "submission_key": key}
    )


def link_on(page):
    return re.search(r'value="http://testserver/join/([^/"]+)/"', page.text).group(1)


def test_reloading_a_new_links_page_shows_the_same_link_and_makes_no_other(client, pod, organizer):
    client.force_login(organizer)
    response = created(client)
    assert response.status_code == 302

    first = client.get(response.url)
    second = client.get(response.url)

    invitation = Invitation.objects.get()
    assert link_on(first) == link_on(second)
    assert hash_token(link_on(second)) == invitation.token_hash
    assert Invitation.objects.count() == 1
    assert 'data-copy-value="invitation-link"' in second.text
    assert 'data-share="invitation-link"' in second.text
    assert "js/share.js" in second.text
    assert "<script>" not in second.text


def test_another_browser_or_another_organizer_never_sees_the_link(
    client, pod, organizer, make_user, donor, outsider
):
    client.force_login(organizer)
    url = created(client).url
    other = Client()
    other.force_login(organizer)

    page = other.get(url, follow=True)

    assert "join/" not in page.text
    assert "shown only just after it is created" in page.text
    for person, status in [(donor, 403), (outsider, 404)]:
        other.force_login(person)
        assert other.get(url).status_code == status
    other.logout()
    assert other.get(url).status_code == 302


def test_a_revoked_invitations_page_shows_no_link(client, pod, organizer):
    client.force_login(organizer)
    url = created(client).url
    Invitation.objects.get().revoke()

    page = client.get(url, follow=True)

    assert "join/" not in page.text
    assert page.redirect_chain == [(LIST, 302)]


def test_after_an_hour_the_link_is_not_shown_again(client, pod, organizer):
    client.force_login(organizer)
    url = created(client).url
    session = client.session
    kept = session["invitation_links"]
    for entry in kept.values():
        entry["at"] = "2000-01-01T00:00:00+00:00"
    session["invitation_links"] = kept
    session.save()

    page = client.get(url, follow=True)

    assert "join/" not in page.text


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent transactions")
@pytest.mark.django_db(transaction=True)
def test_the_same_list_sent_at_once_invites_each_person_once(client, pod, organizer, mailoutbox):
    client.force_login(organizer)
    barrier = threading.Barrier(4)
    codes = []

    def attempt():
        browser = Client()
        browser.cookies = client.cookies
        try:
            barrier.wait(timeout=10)
            data = {"role": "donor", "emails": "ana@example.org bea@example.org"}
            codes.append(browser.post(EMAIL, data).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert codes == [302] * 4
    assert sorted(Invitation.objects.values_list("email", flat=True)) == [
        "ana@example.org",
        "bea@example.org",
    ]
    assert len(mailoutbox) == 2
