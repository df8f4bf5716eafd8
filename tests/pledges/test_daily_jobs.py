"""The daily jobs on the task queue: `manage.py enqueue_daily_jobs` (the one cron line)
queues them, the workers run them, and with the cron line run twice and two workers
taking the tasks at once, each reminder still goes out once."""

from io import StringIO

import pytest
from django.core import mail as django_mail
from django.core.management import call_command
from django.db import connection
from django_tasks_db.models import DBTaskResult

from pledges import tasks
from pods.models import Notification
from tests.pledges.test_send_reminders import (  # noqa: F401 - fixtures
    day_after,
    pat,
    payday,
    plan,
    sam,
)
from tests.services import run_workers


@pytest.fixture
def queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.mark.django_db
def test_the_cron_line_queues_each_daily_job(queue):
    out = StringIO()
    call_command("enqueue_daily_jobs", stdout=out)

    assert sorted(DBTaskResult.objects.values_list("task_path", flat=True)) == [
        "pledges.tasks.prune_task_results",
        "pledges.tasks.purge_recipient_data",
        "pledges.tasks.purge_staged_screenshots",
        "pledges.tasks.requeue_stalled_tasks",
        "pledges.tasks.send_organizer_digests",
        "pledges.tasks.send_reminders",
    ]
    assert out.getvalue().count("queued ") == 6


@pytest.mark.django_db(transaction=True)
def test_a_worker_runs_the_daily_jobs(queue):
    call_command("enqueue_daily_jobs", stdout=StringIO())

    # Six tasks, run within a few seconds; the workers stop on their own then.
    run_workers(until=lambda: False, timeout=3)
    results = dict(DBTaskResult.objects.values_list("task_path", "return_value"))
    assert results["pledges.tasks.send_reminders"] == (
        "0 pods checked; 0 payers reminded; 0 organizers told."
    )
    assert results["pledges.tasks.purge_recipient_data"].startswith("Erased 0 former")
    assert results["pledges.tasks.purge_staged_screenshots"] == (
        "Deleted 0 staged screenshot(s) older than a day."
    )
    assert results["pledges.tasks.send_organizer_digests"] == (
        "0 digests sent; 0 already sent today."
    )
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent transactions")
@pytest.mark.django_db(transaction=True)
def test_two_cron_runs_and_two_workers_send_each_reminder_once(queue, plan, payday):  # noqa: F811
    today = day_after(payday).isoformat()
    # The cron line ran on two machines.
    for _ in range(2):
        tasks.send_reminders.enqueue(today)

    def four_sent_and_settled():
        return len(django_mail.outbox) >= 4

    assert run_workers(count=2, until=four_sent_and_settled, timeout=30)
    # Both jobs ran, each on one worker; any duplicate mail would be queued by now.
    run_workers(count=2, until=lambda: False, timeout=1.5)

    runs = DBTaskResult.objects.filter(task_path="pledges.tasks.send_reminders")
    assert runs.count() == 2
    assert set(runs.values_list("status", flat=True)) == {"SUCCESSFUL"}
    assert sorted(m.to[0] for m in django_mail.outbox) == [
        "dana@example.org",
        "olive@example.org",
        "olive@example.org",
        "pat@example.org",
    ]
    assert Notification.objects.count() == 4
