"""An alert emailed to every member: each in their own language, with a signed link (and
the RFC 8058 headers) to stop such emails; members who stopped them, other pods' members
and people who left get nothing; the task run twice sends nobody the alert twice."""

import uuid

import pytest
from django.urls import reverse

from pods.models import Alert, Membership, Notification
from pods.notices import send_alert_emails
from users.unsubscribe import user_for_token

pytestmark = pytest.mark.django_db

LIST = reverse("pods:alerts", args=["maple"])
MESSAGE = "Nobody from the pod will ask you to pay a new handle.\nTell us if someone does."


def post(client, *, email_members=True, message=MESSAGE):
    data = {"message": message, "expires_at": "", "submission_key": str(uuid.uuid4())}
    if email_members:
        data["email_members"] = "on"
    return client.post(LIST, data)


@pytest.fixture
def members(pod, other_pod, make_user, donor, organizer):
    """Beside Olive (organizer) and Dana (donor, no language set): Sofía reads Spanish,
    Amal Arabic; Quinn stopped the alert emails; Lee left; Otto is in another pod."""
    for email, extra in [
        ("sofia@example.org", {"display_name": "Sofía", "language": "es"}),
        ("amal@example.org", {"display_name": "Amal", "language": "ar"}),
        ("quinn@example.org", {"alert_emails": False}),
    ]:
        Membership.objects.create(pod=pod, user=make_user(email, **extra))
    Membership.objects.create(pod=pod, user=make_user("lee@example.org"), active=False)
    Membership.objects.create(pod=other_pod, user=make_user("oren@example.org"))


def test_each_member_gets_the_alert_in_their_language_with_a_way_out(
    client, organizer, members, mailoutbox, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://pods.example.net/"
    client.force_login(organizer)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client)

    assert response.status_code == 302
    assert sorted(m.to[0] for m in mailoutbox) == [
        "amal@example.org",
        "dana@example.org",
        "olive@example.org",
        "sofia@example.org",
    ]
    by_address = {m.to[0]: m for m in mailoutbox}
    english = by_address["dana@example.org"]
    assert english.subject == "Warning from the organizers of Maple Street Pod"
    assert "Hello Dana," in english.body
    assert MESSAGE in english.body
    assert by_address["sofia@example.org"].subject == (
        "Aviso de los organizadores de Maple Street Pod"
    )
    assert "Hola, Sofía:" in by_address["sofia@example.org"].body
    assert "تنبيه من منسّقي" in by_address["amal@example.org"].subject
    html, mimetype = english.alternatives[0]
    assert mimetype == "text/html"
    assert "Nobody from the pod will ask you to pay a new handle.<br>" in html

    # Each message's way out is its reader's own, in the body and in the headers.
    for address, message in by_address.items():
        link = message.extra_headers["List-Unsubscribe"].strip("<>")
        assert link.startswith("https://pods.example.net/unsubscribe/")
        assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert link in message.body
        assert f'href="{link}"' in message.alternatives[0][0]
        token = link.rstrip("/").rsplit("/", 1)[1]
        assert user_for_token(token).email == address
    assert Notification.objects.filter(kind=Notification.Kind.ALERT).count() == 4


def test_the_page_says_how_many_members_it_is_emailed_to(
    client, organizer, members, django_capture_on_commit_callbacks
):
    client.force_login(organizer)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client)
    page = client.get(response.url).content.decode()
    assert "is being emailed to 4 members" in page


def test_unticked_the_alert_is_only_shown(
    client, organizer, members, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(organizer)
    with django_capture_on_commit_callbacks(execute=True):
        post(client, email_members=False)
    assert Alert.objects.count() == 1
    assert mailoutbox == []


def test_a_member_who_stopped_them_gets_nothing(
    client, organizer, donor, mailoutbox, django_capture_on_commit_callbacks
):
    donor.alert_emails = False
    donor.save()
    client.force_login(organizer)
    with django_capture_on_commit_callbacks(execute=True):
        post(client)
    assert [m.to[0] for m in mailoutbox] == ["olive@example.org"]


def test_the_task_run_twice_sends_each_member_the_alert_once(
    pod, organizer, members, mailoutbox, django_capture_on_commit_callbacks
):
    alert = Alert.objects.create(pod=pod, message=MESSAGE, created_by=organizer)
    with django_capture_on_commit_callbacks(execute=True):
        assert send_alert_emails.call(alert.pk) == "4 alert emails queued"
    with django_capture_on_commit_callbacks(execute=True):
        assert send_alert_emails.call(alert.pk) == "0 alert emails queued"
    assert len(mailoutbox) == 4


def test_the_same_form_sent_twice_emails_once(
    client, organizer, members, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(organizer)
    data = {
        "message": MESSAGE,
        "expires_at": "",
        "email_members": "on",
        "submission_key": str(uuid.uuid4()),
    }
    with django_capture_on_commit_callbacks(execute=True):
        client.post(LIST, data)
        client.post(LIST, data)
    assert Alert.objects.count() == 1
    assert len(mailoutbox) == 4


@pytest.mark.parametrize("who", ["signed_out", "outsider", "donor"])
def test_nobody_but_the_pods_organizers_can_email_the_pod(
    client, who, members, donor, outsider, mailoutbox, django_capture_on_commit_callbacks
):
    if who != "signed_out":
        client.force_login({"outsider": outsider, "donor": donor}[who])
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client)
    assert response.status_code == {"signed_out": 302, "outsider": 404, "donor": 403}[who]
    assert Alert.objects.count() == 0
    assert mailoutbox == []


def test_an_alert_taken_down_before_the_worker_runs_is_not_sent(
    pod, organizer, members, mailoutbox, django_capture_on_commit_callbacks
):
    alert = Alert.objects.create(pod=pod, message=MESSAGE, created_by=organizer)
    alert.take_down()
    with django_capture_on_commit_callbacks(execute=True):
        assert send_alert_emails.call(alert.pk) == "alert no longer showing: nothing sent"
    assert mailoutbox == []


@pytest.mark.django_db(transaction=True)
def test_on_the_real_queue_a_worker_sends_them(client, settings, organizer, members):
    from django.core import mail as django_mail
    from django_tasks_db.models import DBTaskResult

    from tests.services import run_workers

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    client.force_login(organizer)
    post(client)
    # The request only queued one task; the worker makes the four messages and sends them.
    assert DBTaskResult.objects.count() == 1
    assert django_mail.outbox == []

    assert run_workers(until=lambda: len(django_mail.outbox) >= 4, timeout=30)
    assert sorted(m.to[0] for m in django_mail.outbox) == [
        "amal@example.org",
        "dana@example.org",
        "olive@example.org",
        "sofia@example.org",
    ]
