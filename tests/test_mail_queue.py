"""Mail on the task queue, as production runs it: the database backend (django-tasks-db)
and its worker's own loop, sending to a real SMTP server.

A message is queued with the change it reports (rolled back with it), sent by a worker,
and while the mail server cannot be reached or refuses, tried again after a back-off,
until every message is delivered exactly once."""

import datetime
import smtplib
import threading
import time

import pytest
from django.core import mail as django_mail
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from mutualaid import mail
from pledges import tasks
from tests.services import SmtpServer, run_workers

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.MAIL_RETRY_DELAY = 0.1
    settings.MAIL_RETRY_MAX_DELAY = 0.4


@pytest.fixture
def smtp(settings):
    server = SmtpServer()
    settings.MAILERS = server.mailers()
    yield server
    server.stop()


def message(number):
    email = EmailMultiAlternatives(
        subject=f"Notice {number}", body=f"Body {number}", to=[f"n{number}@example.org"]
    )
    email.attach_alternative(f"<p>Body {number}</p>", "text/html")
    return email


def test_a_message_is_queued_with_its_change_and_rolled_back_with_it(queue):
    with transaction.atomic():
        mail.send_on_commit([message(1)])
        # Written inside the transaction: it commits with the change or not at all.
        assert DBTaskResult.objects.count() == 1
        transaction.set_rollback(True)
    assert DBTaskResult.objects.count() == 0

    with transaction.atomic():
        mail.send_on_commit([message(2)])
    (queued,) = DBTaskResult.objects.all()
    assert queued.task_path == "mutualaid.mail.send_email"
    assert queued.args_kwargs["args"][0]["to"] == ["n2@example.org"]
    # Nothing is sent until a worker runs it.
    assert django_mail.outbox == []


def test_a_worker_sends_the_queued_message_whole(queue, smtp):
    smtp.start()
    mail.send_on_commit([message(1)])

    assert run_workers(until=lambda: len(smtp.received) == 1, timeout=20)

    ((recipients, content),) = smtp.received
    assert recipients == ["n1@example.org"]
    assert b"Subject: Notice 1" in content
    assert b"Body 1" in content and b"<p>Body 1</p>" in content
    assert DBTaskResult.objects.get().return_value == "sent"


def test_a_message_whose_worker_died_while_sending_it_is_sent_after_all(queue, smtp):
    smtp.start()
    mail.send_on_commit([message(1)])
    # A worker claims it, as db_worker does, and dies there (killed, its machine gone):
    # the row stays "running", with nobody to run it.
    claimed = DBTaskResult.objects.get()
    claimed.claim("a-worker-that-died")
    DBTaskResult.objects.filter(pk=claimed.pk).update(
        started_at=timezone.now() - tasks.STALLED_AFTER - datetime.timedelta(minutes=1)
    )
    # A task claimed a moment ago is left alone: its worker may be busy with it.
    mail.send_on_commit([message(2)])
    busy = DBTaskResult.objects.exclude(pk=claimed.pk).get()
    busy.claim("a-busy-worker")

    assert tasks.requeue_stalled_tasks.call() == "1 stalled task(s) queued again"

    assert run_workers(until=lambda: len(smtp.received) == 1, timeout=20)
    assert [recipients for recipients, _content in smtp.received] == [["n1@example.org"]]
    claimed.refresh_from_db()
    busy.refresh_from_db()
    assert (claimed.status, busy.status) == ("SUCCESSFUL", "RUNNING")


def test_mail_waits_out_an_outage_and_every_message_is_delivered_exactly_once(queue, smtp):
    """Nothing listens at first (connection refused), then the server answers 451 "try
    again later" for a while, then accepts."""
    count = 10
    with transaction.atomic():
        mail.send_on_commit([message(n) for n in range(count)])

    def outage():
        time.sleep(1.0)
        smtp.refusing = True
        smtp.start()
        time.sleep(1.5)
        smtp.refusing = False

    threading.Thread(target=outage, daemon=True).start()
    started = time.monotonic()
    # Run on a little after the last delivery: a duplicate would show by then.
    done = []

    def delivered():
        if len(smtp.received) >= count and not done:
            done.append(time.monotonic())
        return bool(done) and time.monotonic() - done[0] > 1.0

    assert run_workers(until=delivered, timeout=45)

    assert time.monotonic() - started > 2.5
    assert smtp.refused > 0
    delivered_to = sorted(to for recipients, _content in smtp.received for to in recipients)
    assert delivered_to == sorted(f"n{n}@example.org" for n in range(count))
    results = list(DBTaskResult.objects.values_list("status", "return_value"))
    # Every failed attempt queued the next one and ended well; nothing is left to run.
    assert {status for status, _value in results} == {"SUCCESSFUL"}
    assert sum(value == "sent" for _status, value in results) == count
    assert sum(str(value).startswith("retrying") for _status, value in results) >= count


def test_a_permanent_refusal_is_not_tried_again(queue, smtp):
    smtp.start()
    smtp.unknown = {"n1@example.org"}
    mail.send_on_commit([message(1), message(2)])

    assert run_workers(until=lambda: len(smtp.received) == 1, timeout=20)

    assert [recipients for recipients, _content in smtp.received] == [["n2@example.org"]]
    # The refused one failed, with the reason kept for the operator, and was not queued
    # again: two tasks in all.
    results = {r.args_kwargs["args"][0]["to"][0]: r for r in DBTaskResult.objects.all()}
    assert len(results) == 2
    assert results["n1@example.org"].status == "FAILED"
    assert results["n1@example.org"].exception_class_path == "smtplib.SMTPRecipientsRefused"
    assert results["n2@example.org"].return_value == "sent"
    assert not mail.is_permanent(smtplib.SMTPRecipientsRefused({"x@example.org": (451, b"")}))
    assert not mail.is_permanent(smtplib.SMTPAuthenticationError(535, b"bad login"))
    assert not mail.is_permanent(ConnectionRefusedError())


def test_the_back_off_doubles_up_to_its_ceiling(settings):
    settings.MAIL_RETRY_DELAY = 30
    settings.MAIL_RETRY_MAX_DELAY = 3600
    assert [mail.retry_delay(n) for n in (1, 2, 3, 7, 8, 50)] == [30, 60, 120, 1920, 3600, 3600]


def test_a_sign_in_code_goes_through_the_queue(queue, client, donor, settings):
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=donor, email=donor.email, verified=True, primary=True)
    response = client.post(reverse("account_login"), {"login": donor.email})
    assert response.status_code == 302
    # The request queued the code and returned; the worker sends it.
    (queued,) = DBTaskResult.objects.all()
    assert queued.args_kwargs["args"][0]["to"] == [donor.email]
    assert django_mail.outbox == []

    assert run_workers(until=lambda: len(django_mail.outbox) == 1, timeout=20)
    (sent,) = django_mail.outbox
    assert sent.to == [donor.email]


def test_starting_the_next_cycle_queues_one_task_and_the_worker_tells_every_donor(
    queue, cycle, donor, organizer, make_user, pod
):
    from decimal import Decimal

    from pledges.models import Pledge
    from pledges.services import start_next_cycle
    from pods.models import Membership

    donors = [donor, organizer]
    for n in range(5):
        user = make_user(f"d{n}@example.org")
        Membership.objects.create(pod=pod, user=user)
        donors.append(user)
    for user in donors:
        Pledge.objects.create(cycle=cycle, donor=user, amount=Decimal("20.00"), last_week=15)

    with transaction.atomic():
        start_next_cycle(cycle=cycle)
    # The organizer's request wrote one task, whatever the number of donors.
    (queued,) = DBTaskResult.objects.all()
    assert queued.task_path == "pledges.tasks.send_rollover_notices"

    assert run_workers(until=lambda: len(django_mail.outbox) == len(donors), timeout=20)
    assert sorted(m.to[0] for m in django_mail.outbox) == sorted(u.email for u in donors)
    assert DBTaskResult.objects.count() == 1 + len(donors)
