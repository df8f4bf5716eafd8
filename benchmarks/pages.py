"""What each member page costs, for a 5-donor pod and for a big one (500 donors, 100
recipients, 20,000 receipts over three cycles), against a bare Django view served by the
same process with the same middleware (session, CSRF...): `return HttpResponse('ok')`.

Run from the project root: `.venv/bin/python benchmarks/pages.py` (needs PostgreSQL at
127.0.0.1:5432, Redis at 127.0.0.1:6379 and `wrk`; BENCH_SECONDS sets each run's length).
A benchmark, not a test: timings depend on the machine, so nothing here fails; it prints
the numbers and the goals beside them. The pods live in a throwaway database of its own
(`bench_pages`), dropped at the end.

The app is served by gunicorn (one sync worker, DEBUG off), and wrk (one connection)
alternates between the bare view and each page, so that the ratio compares runs made
moments apart. Queries and bytes are counted in this process, with Django's test client,
on a second request (the first one fills the caches).
"""

import datetime
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DB_NAME = "bench_pages"
SERVER = "postgres://postgres@127.0.0.1:5432"
SECONDS = int(os.environ.get("BENCH_SECONDS", "4"))
os.environ.update(
    DJANGO_SETTINGS_MODULE="benchmarks.pages_settings",
    DATABASE_URL=f"{SERVER}/{DB_NAME}",
    DEBUG="false",
    SECRET_KEY="benchmark-only-not-a-secret",
    ALLOWED_HOSTS="127.0.0.1,testserver",
    SECURE_SSL_REDIRECT="false",
    AWS_STORAGE_BUCKET_NAME="",
    TASKS_BACKEND="django.tasks.backends.dummy.DummyBackend",
    BENCH_CACHE_PREFIX=f"bench-pages-{uuid.uuid4().hex[:8]}",
    LOG_LEVEL="ERROR",
)

import warnings  # noqa: E402

import psycopg  # noqa: E402

warnings.filterwarnings("ignore", "No directory at")

GOALS = {"board": 0.25, "page": 0.15, "big_over_small": 1.2, "max_bytes": 100_000}


def recreate_database():
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")


def drop_database():
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


def build_pod(slug, *, donors, recipients, cycles, receipts_per_week):
    """A pod with an organizer, `donors` donors pledging enough for `recipients`
    recipients, `cycles` cycles (the last one running, in its 10th week) and receipts for
    every week so far. Everything by bulk_create. Returns (pod, organizer, donor, token,
    current cycle)."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from pledges.models import Pledge
    from pods.models import Cycle, Membership, Pod
    from receipts.models import Receipt
    from recipients.models import Enrollment, Recipient

    user_model = get_user_model()
    pod = Pod.objects.create(name=f"{slug.title()} Street Pod", slug=slug, default_slots=recipients)
    people = user_model.objects.bulk_create(
        user_model(email=f"{slug}{n}@example.org", display_name=f"Neighbor {n}", password="!")
        for n in range(donors + 1)
    )
    organizer, donors_ = people[0], people[1:]
    Membership.objects.bulk_create(
        [Membership(pod=pod, user=organizer, role=Membership.Role.ORGANIZER)]
        + [Membership(pod=pod, user=user) for user in donors_]
    )
    neighbors = Recipient.objects.bulk_create(
        Recipient(
            pod=pod,
            display_name=f"Recipient {n}",
            payment_method="cashapp",
            payment_handle=f"$recipient-{slug}-{n}",
        )
        for n in range(recipients)
    )
    today = pod.today()
    current_start = today - datetime.timedelta(days=7 * 9)  # week 10 of 15
    weekly = Decimal("175.00")
    all_cycles = []
    for number in range(1, cycles + 1):
        starts_on = current_start - datetime.timedelta(days=105 * (cycles - number))
        all_cycles.append(
            Cycle.objects.create(
                pod=pod,
                number=number,
                starts_on=starts_on,
                weeks=15,
                weekly_amount=weekly,
                slots=recipients,
            )
        )
    per_donor = (weekly * recipients / donors).quantize(Decimal("0.01"))
    receipts = []
    now = timezone.now()
    for cycle in all_cycles:
        Enrollment.objects.bulk_create(
            Enrollment(recipient=neighbor, cycle=cycle, slot=n + 1, first_week=1, last_week=15)
            for n, neighbor in enumerate(neighbors)
        )
        Pledge.objects.bulk_create(
            Pledge(cycle=cycle, donor=user, amount=per_donor, last_week=15) for user in donors_
        )
        weeks = min(15, (today - cycle.starts_on).days // 7 + 1)
        for week in range(1, weeks + 1):
            sent_on = cycle.week_starts_on(week)
            for n in range(receipts_per_week):
                payer = donors_[n % donors]
                posted_at = timezone.make_aware(
                    datetime.datetime.combine(sent_on, datetime.time(12))
                ) + datetime.timedelta(minutes=n)
                receipts.append(
                    Receipt(
                        pod=pod,
                        cycle=cycle,
                        week=week,
                        recipient=neighbors[(n % donors) * recipients // donors],
                        payer=payer,
                        posted_by=payer,
                        amount=per_donor,
                        method="cashapp",
                        sent_on=sent_on,
                        posted_at=min(posted_at, now),
                        reference=f"ref {week}-{n}",
                        confirmed_at=posted_at if n % 3 == 0 else None,
                        voided_at=posted_at if n % 97 == 0 else None,
                        voided_by=payer if n % 97 == 0 else None,
                        void_reason="Wrong amount" if n % 97 == 0 else "",
                    )
                )
    Receipt.objects.bulk_create(receipts, batch_size=2000)
    token = neighbors[0].new_access_token()
    neighbors[0].save(update_fields=["access_token_hash"])
    return pod, organizer, donors_[0], token, all_cycles[-1], len(receipts)


def explain(cycle, payer):
    """PostgreSQL's plan for each of the board's list queries on the big pod: a page of
    50 under each filter (the index it uses, or a sort of the whole cycle)."""
    from receipts import services
    from receipts.views import LIST_FIELDS

    recipient_id = cycle.enrollments.order_by("slot").values_list("recipient_id", flat=True)[0]
    filters = {
        "no filter": {},
        "week": {"week": 5},
        "recipient": {"recipient_id": recipient_id},
        "payer": {"payer_id": payer.pk},
    }
    print("\nEXPLAIN ANALYZE of a page of the board's list (big pod, current cycle):")
    for name, kwargs in filters.items():
        query = (
            services.filtered_receipts(cycle=cycle, **kwargs)
            .only(*LIST_FIELDS)
            .order_by("-posted_at", "-pk")[:50]
        )
        plan = query.explain(analyze=True).splitlines()
        print(f"  {name}: {plan[1].strip() if len(plan) > 1 else plan[0]}")
        print(f"      {next(line for line in plan if 'Execution Time' in line).strip()}")


def session_for(user):
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return session.session_key


def pages_of(pod, organizer, donor, token, cycle):
    donor_session, organizer_session = session_for(donor), session_for(organizer)
    base = f"/pods/{pod.slug}"
    return [
        ("board", f"{base}/receipts/", donor_session),
        ("dashboard", f"{base}/", donor_session),
        ("this week (donor)", f"{base}/this-week/", donor_session),
        ("this week (organizer)", f"{base}/this-week/", organizer_session),
        ("members", f"{base}/members/", donor_session),
        ("recipient's page", f"/r/{token}/", None),
        ("admin cycle page", f"/admin/pods/cycle/{cycle.pk}/change/", organizer_session),
        ("pledge", f"{base}/pledge/", donor_session),
    ]


def count(url, session):
    """(status, bytes, queries) of the second of two requests, in this process."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    if session:
        client.cookies["sessionid"] = session
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return response.status_code, len(response.content), len(queries)


class Server:
    def __init__(self, port):
        self.port = port
        self.log = open(f"/tmp/bench_pages_gunicorn_{port}.log", "w")  # noqa: SIM115, S108
        self.process = subprocess.Popen(  # noqa: S603
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "mutualaid.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--worker-class",
                "sync",
                "--no-control-socket",
            ],
            cwd=ROOT,
            env=os.environ.copy(),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        import http.client

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/bench-bare/")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise SystemExit("gunicorn did not start; see " + self.log.name)

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def wrk(port, url, session):
    """(requests a second, p50 ms, p99 ms, errors) of one wrk run, one connection."""
    command = ["wrk", "-t1", "-c1", f"-d{SECONDS}s", "--latency"]
    if session:
        command += ["-H", f"Cookie: sessionid={session}"]
    output = subprocess.run(  # noqa: S603
        [*command, f"http://127.0.0.1:{port}{url}"], capture_output=True, text=True, check=True
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    if " 0 requests in" in output:
        return 0.0, float("nan"), float("nan"), 0

    def percentile(name):
        value, unit = re.search(rf"\s{name}%\s+([\d.]+)(us|ms|s|m)\b", output).groups()
        return float(value) * UNITS[unit]

    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return rate, percentile("50"), percentile("99"), int(errors.group(1)) if errors else 0


def main():
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install -y wrk")
    recreate_database()
    server = None
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connections

        call_command("migrate", verbosity=0)
        start = time.perf_counter()
        big = build_pod("big", donors=500, recipients=100, cycles=3, receipts_per_week=500)
        built_big = time.perf_counter() - start
        small = build_pod("small", donors=5, recipients=2, cycles=1, receipts_per_week=5)
        from pledges.services import week_plan

        for _pod, _organizer, _donor, _token, cycle, _n in (big, small):
            week_plan(cycle=cycle, week=cycle.current_week())
        with connections["default"].cursor() as cursor:
            cursor.execute("ANALYZE")
        print(
            f"Built the big pod ({big[5]} receipts, 500 donors, 100 recipients, 3 cycles) "
            f"in {built_big:.1f} s; the small pod has {small[5]} receipts, 5 donors."
        )
        explain(big[4], big[2])
        pages = {"big": pages_of(*big[:5]), "small": pages_of(*small[:5])}
        counted = {
            (size, name): count(url, session)
            for size, rows in pages.items()
            for name, url, session in rows
        }
        connections.close_all()

        port = 8700 + os.getpid() % 200
        server = Server(port)
        bare_session = pages["big"][0][2]
        for _name, url, session in pages["big"] + pages["small"]:
            wrk(port, url, session)  # warm up: caches, the plan, the connection pool
        wrk(port, "/bench-bare/", bare_session)
        results = {}
        bare_rates = []
        for size in ("big", "small"):
            for name, url, session in pages[size]:
                before = wrk(port, "/bench-bare/", bare_session)
                page = wrk(port, url, session)
                after = wrk(port, "/bench-bare/", bare_session)
                bare = (before[0] + after[0]) / 2
                bare_rates += [before[0], after[0]]
                results[size, name] = (page, bare)
        report(pages, counted, results, bare_rates)
    finally:
        if server is not None:
            server.stop()
        from django.db import connections

        connections.close_all()
        drop_database()


def report(pages, counted, results, bare_rates):
    print(
        f"\nBare view: {statistics.median(bare_rates):.0f} req/s (median of "
        f"{len(bare_rates)} runs). wrk, 1 connection, {SECONDS} s a run; gunicorn, one "
        "sync worker, DEBUG off, PostgreSQL, Redis cache.\n"
    )
    header = (
        f"{'page':<22} {'pod':<5} {'req/s':>7} {'/bare':>6} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'bytes':>8} {'queries':>7} {'big/small p50':>13}  goals"
    )
    print(header)
    print("-" * len(header))
    misses = 0
    for size in ("big", "small"):
        for name, _url, _session in pages[size]:
            (rate, p50, p99, errors), bare = results[size, name]
            status, size_bytes, queries = counted[size, name]
            ratio = rate / bare
            goal = GOALS["board"] if name == "board" and size == "big" else GOALS["page"]
            notes = []
            if ratio < goal:
                notes.append(f"ratio < {goal}")
            if size_bytes > GOALS["max_bytes"]:
                notes.append("> 100 KB")
            if status != 200 or errors:
                notes.append(f"status {status}, {errors} errors")
            spread = ""
            if size == "big":
                small_p50 = results["small", name][0][1]
                spread = f"{p50 / small_p50:.2f}"
                if p50 / small_p50 > GOALS["big_over_small"]:
                    notes.append("big/small > 1.2")
            misses += bool(notes)
            print(
                f"{name:<22} {size:<5} {rate:7.1f} {ratio:6.3f} {p50:8.1f} {p99:8.1f} "
                f"{size_bytes:8d} {queries:7d} {spread:>13}  {'; '.join(notes) or 'met'}"
            )
    print(
        f"\nGoals: board of the big pod >= {GOALS['board']} of bare, every page >= "
        f"{GOALS['page']}; p50 big/small <= {GOALS['big_over_small']}; no page over 100 KB. "
        f"{misses} rows miss a goal."
    )


if __name__ == "__main__":
    main()
