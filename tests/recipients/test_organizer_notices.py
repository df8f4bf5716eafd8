"""Organizers hear of a new referral and a new member: at once by email (in their own
language), or in one daily digest, or not at all, as each chose on their membership. The
digest runs with the daily jobs and goes out once per organizer per day, however many
times the job runs and however many workers take it."""

import datetime
import uuid
import zoneinfo
from io import StringIO

import pytest
from django.core import mail as django_mail
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from pledges import tasks
from pods.models import Invitation, Membership, Notification
from recipients.models import Referral
from recipients.notices import send_digests
from tests.services import run_workers

pytestmark = pytest.mark.django_db


def organizers(pod, make_user, organizer):
    """Olive wants an email for each (the default); Diego, in Spanish, a daily digest;
    Nell no email."""
    diego = make_user("diego@example.org", display_name="Diego", language="es")
    Membership.objects.create(
        pod=pod, user=diego, role=Membership.Role.ORGANIZER, notices=Membership.Notices.DAILY
    )
    nell = make_user("nell@example.org")
    Membership.objects.create(
        pod=pod, user=nell, role=Membership.Role.ORGANIZER, notices=Membership.Notices.NONE
    )
    return diego, nell


@pytest.fixture
def team(pod, make_user, organizer):
    return organizers(pod, make_user, organizer)


def invitation_for(pod, organizer):
    invitation = Invitation(
        pod=pod,
        expires_at=timezone.now() + datetime.timedelta(days=7),
        created_by=organizer,
    )
    token = invitation.new_token()
    invitation.save()
    return token


def test_a_new_member_is_news_at_once_for_who_chose_it(
    client, pod, organizer, team, outsider, mailoutbox, django_capture_on_commit_callbacks
):
    token = invitation_for(pod, organizer)
    client.force_login(outsider)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("users:join", args=[token]))

    assert response.status_code == 302
    assert [m.to[0] for m in mailoutbox] == ["olive@example.org"]
    (message,) = mailoutbox
    assert message.subject == "Otto joined Maple Street Pod"
    assert "Otto joined Maple Street Pod as donor." in message.body
    assert "/pods/maple/members/" in message.body


def test_the_new_members_role_is_in_the_organizers_language(
    client, pod, organizer, outsider, mailoutbox, django_capture_on_commit_callbacks
):
    organizer.language = "es"
    organizer.save(update_fields=["language"])
    token = invitation_for(pod, organizer)
    client.force_login(outsider)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("users:join", args=[token]))
    (message,) = mailoutbox
    assert "como donante" in message.body
    assert "donor" not in message.body


def test_a_member_coming_back_is_news_a_role_change_is_not(
    client, pod, organizer, donor, mailoutbox, django_capture_on_commit_callbacks
):
    membership = Membership.objects.get(pod=pod, user=donor)
    client.force_login(donor)
    raise_to_organizer = Invitation(
        pod=pod, role="organizer", expires_at=timezone.now() + datetime.timedelta(days=7)
    )
    token = raise_to_organizer.new_token()
    raise_to_organizer.save()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("users:join", args=[token]))
    assert mailoutbox == []

    membership.refresh_from_db()
    Membership.objects.filter(pk=membership.pk).update(active=False, role="donor")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("users:join", args=[invitation_for(pod, organizer)]))
    assert [m.to[0] for m in mailoutbox] == ["olive@example.org"]


def test_a_new_organizer_is_not_told_of_themselves(
    client, pod, organizer, outsider, mailoutbox, django_capture_on_commit_callbacks
):
    invitation = Invitation(
        pod=pod, role="organizer", expires_at=timezone.now() + datetime.timedelta(days=7)
    )
    token = invitation.new_token()
    invitation.save()
    client.force_login(outsider)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("users:join", args=[token]))
    assert [m.to[0] for m in mailoutbox] == ["olive@example.org"]


def test_a_new_referral_is_news_at_once_in_the_organizers_language(
    client, pod, organizer, team, donor, mailoutbox, django_capture_on_commit_callbacks
):
    organizer.language = "es"
    organizer.save()
    client.force_login(donor)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("recipients:refer", args=["maple"]),
            {"display_name": "Sam", "contact": "555-0100", "submission_key": str(uuid.uuid4())},
        )

    referral = Referral.objects.get()
    (message,) = mailoutbox
    assert message.to == ["olive@example.org"]
    assert message.subject == "Maple Street Pod: Sam fue propuesta"
    assert "Dana" in message.body
    assert f"/pods/maple/waitlist/{referral.pk}/" in message.body


def test_an_organizers_own_referral_is_no_news_to_them(
    client, pod, organizer, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(organizer)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("recipients:refer", args=["maple"]),
            {"display_name": "Sam", "submission_key": str(uuid.uuid4())},
        )
    assert Referral.objects.count() == 1
    assert mailoutbox == []


def test_other_pods_organizers_hear_nothing(
    client, pod, donor, outsider, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(donor)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("recipients:refer", args=["maple"]),
            {"display_name": "Sam", "submission_key": str(uuid.uuid4())},
        )
    assert "otto@example.org" not in [m.to[0] for m in mailoutbox]


# The digest


def at(pod, day, hour):
    return datetime.datetime.combine(
        day, datetime.time(hour), tzinfo=zoneinfo.ZoneInfo(pod.time_zone)
    )


@pytest.fixture
def yesterday_news(pod, organizer, team, donor, make_user):
    """Yesterday, on the pod's clock: two referrals and a new member; today, one more
    referral (tomorrow's news)."""
    today = pod.today()
    yesterday = today - datetime.timedelta(days=1)
    Referral.objects.create(pod=pod, display_name="Sam", created_at=at(pod, yesterday, 0))
    Referral.objects.create(pod=pod, display_name="Tere", created_at=at(pod, yesterday, 23))
    Referral.objects.create(pod=pod, display_name="Later", created_at=at(pod, today, 0))
    Referral.objects.create(
        pod=pod, display_name="Too old", created_at=at(pod, yesterday, 0) - datetime.timedelta(1)
    )
    newcomer = Membership.objects.create(pod=pod, user=make_user("nia@example.org"))
    Membership.objects.filter(pk=newcomer.pk).update(joined_at=at(pod, yesterday, 12))
    Membership.objects.filter(user=donor).update(
        joined_at=at(pod, yesterday, 0) - datetime.timedelta(3)
    )
    return today


def test_the_digest_tells_what_came_in_yesterday_once(
    pod, yesterday_news, mailoutbox, django_capture_on_commit_callbacks
):
    today = yesterday_news
    with django_capture_on_commit_callbacks(execute=True):
        outcome = send_digests(pod=pod, today=today)
    with django_capture_on_commit_callbacks(execute=True):
        again = send_digests(pod=pod, today=today)

    assert [u.email for u in outcome.told] == ["diego@example.org"]
    assert again.told == [] and again.already_sent == 1
    (message,) = mailoutbox
    assert message.to == ["diego@example.org"]
    # In Diego's Spanish.
    assert message.subject == "Maple Street Pod: nuevas personas propuestas e integrantes"
    assert "- Sam\n" in message.body and "- Tere\n" in message.body
    assert "Later" not in message.body and "Too old" not in message.body
    assert "nia (donante)" in message.body  # the role in Spanish too
    assert "Dana" not in message.body
    assert Notification.objects.get(kind=Notification.Kind.ORGANIZER_DIGEST).user.email == (
        "diego@example.org"
    )


def test_the_next_digest_starts_where_the_last_ended(
    pod, yesterday_news, mailoutbox, django_capture_on_commit_callbacks
):
    today = yesterday_news
    with django_capture_on_commit_callbacks(execute=True):
        send_digests(pod=pod, today=today)
    # The job did not run for two days; the third day's digest has today's referral.
    with django_capture_on_commit_callbacks(execute=True):
        outcome = send_digests(pod=pod, today=today + datetime.timedelta(days=3))
    assert len(outcome.told) == 1
    body = mailoutbox[-1].body
    assert "- Later\n" in body
    assert "Sam" not in body


def test_nothing_new_no_digest(
    pod, organizer, team, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        outcome = send_digests(pod=pod, today=pod.today())
    assert outcome.nothing_new == 1
    assert mailoutbox == []
    assert not Notification.objects.exists()


def test_the_command_sends_each_pods_digests(
    pod, yesterday_news, mailoutbox, django_capture_on_commit_callbacks
):
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_organizer_digests", stdout=out)
    assert "1 digests sent; 0 already sent today." in out.getvalue()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_organizer_digests", "--dry-run", stdout=out)
    assert len(mailoutbox) == 1


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent transactions")
@pytest.mark.django_db(transaction=True)
def test_two_cron_runs_and_two_workers_send_each_digest_once(settings, pod, make_user, organizer):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    diego, _ = organizers(pod, make_user, organizer)
    yesterday = pod.today() - datetime.timedelta(days=1)
    Referral.objects.create(pod=pod, display_name="Sam", created_at=at(pod, yesterday, 9))
    for _ in range(2):
        tasks.send_organizer_digests.enqueue(pod.today().isoformat())

    assert run_workers(count=2, until=lambda: len(django_mail.outbox) >= 1, timeout=30)
    run_workers(count=2, until=lambda: False, timeout=1.5)

    assert [m.to[0] for m in django_mail.outbox] == ["diego@example.org"]
    assert Notification.objects.filter(kind=Notification.Kind.ORGANIZER_DIGEST).count() == 1
