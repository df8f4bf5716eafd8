"""How long "Start the next cycle" takes with 100 and 1,000 donors, with the rollover
notices sent inside the request (before: what the app used to do) and queued as tasks
(after: what it does now), and how many messages one worker sends a second.

Run from the project root: `.venv/bin/python benchmarks/mail_queue.py`. A benchmark, not a
test: it prints times and their ratio to a bare Django view served in the same run, and
fails on nothing. Mail goes to a real SMTP server on loopback (aiosmtpd) that accepts
everything; the database is a throwaway SQLite file (or DATABASE_URL if set).

"Before" is the old behaviour rebuilt with today's code: the tasks run at once after the
commit, inside the request (Django's ImmediateBackend), each over its own connection to the
SMTP server. The old code shared one connection, so "before" is a little slower here than
it was; either way it grows with the number of donors, which is what is measured.
"""

import datetime
import os
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
_tmp = tempfile.mkdtemp(prefix="mail-bench-")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{_tmp}/bench.sqlite3")
os.environ.update(
    DJANGO_SETTINGS_MODULE="mutualaid.settings",
    DEBUG="false",
    SECRET_KEY="benchmark-only",
    ALLOWED_HOSTS="testserver",
    SECURE_SSL_REDIRECT="false",
    AWS_STORAGE_BUCKET_NAME="",
    TASKS_BACKEND="django_tasks_db.DatabaseBackend",
    LOG_LEVEL="ERROR",
)

import logging  # noqa: E402
import warnings  # noqa: E402

import django  # noqa: E402

warnings.filterwarnings("ignore", "No directory at")
django.setup()
# The SMTP server and the worker log every message at INFO.
logging.getLogger("mail.log").setLevel(logging.ERROR)
logging.getLogger("django.tasks").setLevel(logging.ERROR)
logging.getLogger("django_tasks_db").setLevel(logging.ERROR)

from django.core.management import call_command  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from django.urls import path  # noqa: E402

import mutualaid.urls  # noqa: E402
from tests.services import SmtpServer, run_workers  # noqa: E402

RUNS = 3


def bare(request):
    return HttpResponse("ok")


urlpatterns = [path("bare/", bare), *mutualaid.urls.urlpatterns]


def make_pod(number, donors):
    """A pod in the last week of cycle 1, `donors` members pledging through its end."""
    from django.contrib.auth import get_user_model

    from pledges.models import Pledge
    from pods.models import Cycle, Membership, Pod

    User = get_user_model()
    pod = Pod.objects.create(name=f"Bench {number}", slug=f"bench-{number}")
    cycle = Cycle.objects.create(
        pod=pod,
        number=1,
        starts_on=pod.today() - datetime.timedelta(days=7 * 14),
        weeks=15,
        weekly_amount=Decimal("175.00"),
        slots=11,
    )
    users = User.objects.bulk_create(
        User(email=f"d{number}-{n}@example.org", display_name=f"Donor {n}") for n in range(donors)
    )
    Membership.objects.bulk_create(Membership(pod=pod, user=u) for u in users)
    Pledge.objects.bulk_create(
        Pledge(cycle=cycle, donor=u, amount=Decimal("20.00"), last_week=15) for u in users
    )
    return cycle


def start_next(client, cycle):
    response = client.post(
        "/admin/pods/cycle/",
        {
            "action": "start_next",
            "_selected_action": cycle.pk,
            "post": "yes",
            "starts_on": (cycle.ends_on + datetime.timedelta(days=1)).isoformat(),
            "weeks": 15,
            "weekly_amount": "175.00",
            "slots": 11,
        },
    )
    assert response.status_code == 302, response.content[:2000]


def timed(function):
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def main():
    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model
    from django_tasks_db.models import DBTaskResult

    admin = get_user_model().objects.create_superuser("admin@example.org", "x")
    client = Client()
    client.force_login(admin)
    smtp = SmtpServer()
    smtp.start()
    mailers = smtp.mailers()
    immediate = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}

    with override_settings(ROOT_URLCONF=__name__, MAILERS=mailers):
        for _ in range(20):
            client.get("/bare/")
        bare_time = statistics.median(timed(lambda: client.get("/bare/")) for _ in range(200))
        print(f"bare Django view: {bare_time * 1000:.2f} ms (median of 200)")
        pods = 0
        expected = 0
        for donors in (100, 1_000):
            modes = (("before (sent in the request)", immediate), ("after (queued)", None))
            for label, tasks in modes:
                times = []
                for _ in range(RUNS):
                    pods += 1
                    cycle = make_pod(pods, donors)
                    sent = len(smtp.received)
                    queued = DBTaskResult.objects.count()
                    with override_settings(**({"TASKS": tasks} if tasks else {})):
                        times.append(timed(lambda c=cycle: start_next(client, c)))
                    if tasks:
                        assert len(smtp.received) - sent == donors
                    else:
                        # One task; the worker makes the messages.
                        assert DBTaskResult.objects.count() - queued == 1
                        expected += donors
                median = statistics.median(times)
                print(
                    f"start the next cycle, {donors:>5} donors, {label:<29}: "
                    f"{median * 1000:8.1f} ms median of {RUNS}, {median / bare_time:8.0f}x bare"
                )

        # One worker makes and sends what the "after" runs queued.
        waiting = expected
        before = len(smtp.received)
        started = time.perf_counter()
        run_workers(
            until=lambda: len(smtp.received) - before >= waiting, timeout=600, interval=0.01
        )
        seconds = time.perf_counter() - started
        sent = len(smtp.received) - before
        print(
            f"one worker sent {sent} of {waiting} queued messages in {seconds:.1f} s: "
            f"{sent / seconds:.0f} messages a second, {seconds / sent / bare_time:.0f}x bare "
            f"per message"
        )
    smtp.stop()


if __name__ == "__main__":
    main()
