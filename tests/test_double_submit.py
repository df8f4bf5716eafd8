"""The same form sent twice (a double tap, a retry on a bad connection) makes one row:
a referral, an alert, an invitation, as a receipt. Each form carries a key made when it
is shown; the second submit finds what the first made, and two arriving at once are
settled by the database's unique key. A missing key, or one of someone else's row, saves
nothing and asks to check and send again."""

import datetime
import re
import threading
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from pods.models import Alert, Invitation, Membership, hash_token
from recipients.models import Referral

OUT_OF_DATE = "This form is out of date. Check the details and send it again."


def refer_url(pod):
    return reverse("recipients:refer", args=[pod.slug])


def alerts_url(pod):
    return reverse("pods:alerts", args=[pod.slug])


def invite_url(pod):
    return reverse("pods:invitation_create", args=[pod.slug])


def key_on(page):
    """The key the form of a page was shown with."""
    return re.search(r'name="submission_key" value="([^"]+)"', page.text).group(1)


def join_token(page):
    return re.search(r'value="http://testserver/join/([^/"]+)/"', page.text).group(1)


# Referrals


@pytest.mark.django_db
def test_a_referral_sent_twice_is_one_place_in_the_queue(client, pod, donor):
    client.force_login(donor)
    data = {
        "display_name": "Sam",
        "contact": "555-0100",
        "submission_key": key_on(client.get(refer_url(pod))),
    }

    first = client.post(refer_url(pod), data)
    second = client.post(refer_url(pod), data, follow=True)

    assert first.status_code == 302
    assert second.redirect_chain == [(refer_url(pod), 302)]
    assert "You already referred <bdi>Sam</bdi>" in second.text
    referral = Referral.objects.get()
    assert str(referral.submission_key) == data["submission_key"]
    assert list(Referral.objects.filter(pod=pod).waiting()) == [referral]


@pytest.mark.django_db
def test_each_page_shown_refers_anew(client, pod, donor):
    """Two neighbors called Sam, referred one after the other, are two referrals."""
    client.force_login(donor)
    for _ in range(2):
        key = key_on(client.get(refer_url(pod)))
        assert (
            client.post(refer_url(pod), {"display_name": "Sam", "submission_key": key}).status_code
            == 302
        )
    assert Referral.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("key", [None, "", "not-a-key"])
def test_a_referral_without_a_good_key_saves_nothing(client, pod, donor, key):
    client.force_login(donor)
    data = {"display_name": "Sam"}
    if key is not None:
        data["submission_key"] = key

    response = client.post(refer_url(pod), data)

    assert response.status_code == 200
    assert OUT_OF_DATE in response.text
    assert not Referral.objects.exists()
    # A fresh key, so that sending the form again works.
    fresh = key_on(response)
    assert uuid.UUID(fresh)
    assert client.post(refer_url(pod), {**data, "submission_key": fresh}).status_code == 302
    assert Referral.objects.count() == 1


@pytest.mark.django_db
def test_someone_elses_key_saves_nothing_and_shows_nothing_of_theirs(client, pod, donor, organizer):
    theirs = Referral.objects.create(
        pod=pod, referred_by=organizer, display_name="Secret name", submission_key=uuid.uuid4()
    )
    client.force_login(donor)

    response = client.post(
        refer_url(pod), {"display_name": "Sam", "submission_key": str(theirs.submission_key)}
    )

    assert response.status_code == 200
    assert OUT_OF_DATE in response.text
    assert "Secret name" not in response.text
    assert list(Referral.objects.all()) == [theirs]
    assert key_on(response) != str(theirs.submission_key)


# Alerts


@pytest.mark.django_db
def test_an_alert_sent_twice_is_posted_once(client, pod, organizer):
    client.force_login(organizer)
    data = {
        "message": "Scam texts are going around.",
        "submission_key": key_on(client.get(alerts_url(pod))),
    }

    first = client.post(alerts_url(pod), data)
    second = client.post(alerts_url(pod), data, follow=True)

    assert first.status_code == 302
    assert "You already posted this warning." in second.text
    alert = Alert.objects.get()
    assert second.context["current"] == [alert]


@pytest.mark.django_db
def test_an_alert_without_a_key_saves_nothing(client, pod, organizer):
    client.force_login(organizer)

    response = client.post(alerts_url(pod), {"message": "Scam texts are going around."})

    assert response.status_code == 200
    assert OUT_OF_DATE in response.text
    assert not Alert.objects.exists()


@pytest.mark.django_db
def test_another_organizers_alert_key_saves_nothing(client, pod, organizer, make_user):
    other = make_user("oona@example.org")
    Membership.objects.create(pod=pod, user=other, role=Membership.Role.ORGANIZER)
    theirs = Alert.objects.create(
        pod=pod, message="Theirs", created_by=other, submission_key=uuid.uuid4()
    )
    client.force_login(organizer)

    response = client.post(
        alerts_url(pod), {"message": "Mine", "submission_key": str(theirs.submission_key)}
    )

    assert response.status_code == 200
    assert OUT_OF_DATE in response.text
    assert list(Alert.objects.all()) == [theirs]


# Invitations


def invitation_form(client, pod, **fields):
    page = client.get(reverse("pods:invitations", args=[pod.slug]))
    return {
        "role": "donor",
        "days": "14",
        "max_uses": "1",
        "submission_key": key_on(page),
        **fields,
    }


@pytest.mark.django_db
def test_an_invitation_sent_twice_is_one_invitation_and_its_link_is_shown_again(
    client, pod, organizer
):
    client.force_login(organizer)
    data = invitation_form(client, pod)

    first = client.post(invite_url(pod), data, follow=True)
    second = client.post(invite_url(pod), data, follow=True)

    invitation = Invitation.objects.get()
    assert second.status_code == 200
    assert "You already created this invitation: here is its link." in second.text
    # This browser kept the link: the same one, still working.
    assert invitation.token_hash == hash_token(join_token(second))
    assert join_token(first) == join_token(second)


@pytest.mark.django_db
def test_an_invitation_sent_twice_from_another_browser_gets_a_new_link(client, pod, organizer):
    client.force_login(organizer)
    data = invitation_form(client, pod)
    first = client.post(invite_url(pod), data, follow=True)
    other = Client()
    other.force_login(organizer)

    second = other.post(invite_url(pod), data, follow=True)

    invitation = Invitation.objects.get()
    assert "You already created this invitation. Here is its link again" in second.text
    # The browser shows the second answer: its link is the one that works.
    assert invitation.token_hash == hash_token(join_token(second))
    assert invitation.token_hash != hash_token(join_token(first))
    # The first browser's page no longer shows a link that does not work.
    again = client.get(reverse("pods:invitation", args=[pod.slug, invitation.pk]), follow=True)
    assert "join/" not in again.text
    assert "shown only just after it is created" in again.text


@pytest.mark.django_db
def test_an_invitation_sent_again_after_it_was_used_keeps_its_link(client, pod, organizer, donor):
    client.force_login(organizer)
    data = invitation_form(client, pod, max_uses="5")
    first = client.post(invite_url(pod), data, follow=True)
    invitation = Invitation.objects.get()
    Invitation.objects.filter(pk=invitation.pk).update(uses=1)
    client.session.flush()
    client.force_login(organizer)

    second = client.post(invite_url(pod), data, follow=True)

    assert second.redirect_chain == [(reverse("pods:invitations", args=[pod.slug]), 302)]
    assert "You already created this invitation; its link was shown then." in second.text
    invitation.refresh_from_db()
    assert invitation.token_hash == hash_token(join_token(first))
    assert Invitation.objects.count() == 1


@pytest.mark.django_db
def test_an_invitation_sent_again_much_later_keeps_its_link(client, pod, organizer):
    client.force_login(organizer)
    data = invitation_form(client, pod)
    first = client.post(invite_url(pod), data, follow=True)
    Invitation.objects.update(created_at=timezone.now() - datetime.timedelta(hours=1))
    client.logout()
    client.force_login(organizer)

    second = client.post(invite_url(pod), data, follow=True)

    assert "its link was shown then" in second.text
    assert Invitation.objects.get().token_hash == hash_token(join_token(first))


@pytest.mark.django_db
def test_an_invitation_without_a_key_saves_nothing(client, pod, organizer):
    client.force_login(organizer)

    response = client.post(invite_url(pod), {"role": "donor", "days": "14", "max_uses": "1"})

    assert response.status_code == 200
    assert OUT_OF_DATE in response.text
    assert not Invitation.objects.exists()


# At the same moment, on PostgreSQL


def at_once(client, url, data, times=8):
    """The same POST `times` times at once, each in its own thread and connection.
    Returns the responses, or the exception a request raised (a 500)."""
    barrier = threading.Barrier(times)
    outcomes = [None] * times
    cookies = client.cookies

    def attempt(index):
        browser = Client()
        browser.cookies = cookies
        try:
            barrier.wait(timeout=10)
            outcomes[index] = browser.post(url, data)
        except Exception as error:
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    return outcomes


@pytest.mark.parametrize(
    ("url", "data", "model", "who"),
    [
        (refer_url, {"display_name": "Sam"}, Referral, "donor"),
        (alerts_url, {"message": "Scam texts"}, Alert, "organizer"),
        (invite_url, {"role": "donor", "days": "14", "max_uses": "1"}, Invitation, "organizer"),
    ],
    ids=["referral", "alert", "invitation"],
)
@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent transactions")
@pytest.mark.django_db(transaction=True)
def test_the_same_form_sent_eight_times_at_once_makes_one_row(
    client, pod, request, url, data, model, who
):
    client.force_login(request.getfixturevalue(who))

    outcomes = at_once(client, url(pod), {**data, "submission_key": str(uuid.uuid4())})

    assert model.objects.count() == 1
    assert all(o.status_code in (200, 302) for o in outcomes), [o.status_code for o in outcomes]
    if model is Invitation:
        # Every answer leads to the invitation's page, which shows its working link, or,
        # when the answers' sessions crossed, says it is not shown: never a dead link.
        page = client.get(outcomes[0].url, follow=True)
        links = re.findall(r'value="http://testserver/join/([^/"]+)/"', page.text)
        assert all(hash_token(t) == Invitation.objects.get().token_hash for t in links)
        assert links or "shown only just after it is created" in page.text
