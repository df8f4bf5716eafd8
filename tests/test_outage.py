"""A database outage, as people live it: the app under gunicorn, on a PostgreSQL cluster of
the test's own that the test stops and starts again.

While the database is away every page answers within a few seconds with a short page that
says so (503, Retry-After), never the 500 page or a half-minute wait; once it is back the
app serves again within 2 s; /healthz answers throughout and /readyz follows the database.

The cluster is made with pg_createcluster on a free port and dropped at the end: the
machine's main cluster (port 5432) is never stopped. pg_createcluster needs root, as CI
has. The first tests need neither: they send a view's query to a port where nothing
listens, and run on SQLite too.
"""

import http.client
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import DatabaseError, OperationalError, connection
from django.db.utils import ConnectionHandler
from django.http import HttpResponse
from django.urls import path

import mutualaid.urls
from mutualaid.middleware import database_unavailable
from tests.test_audit_pages import Page, a11y_problems, csp_problems

BASE_DIR = Path(settings.BASE_DIR)
MAIN_PORT = 5432
UNAVAILABLE = "The pod is briefly unavailable"

# Long enough for psycopg's default reconnection back-off (tries 1, 2, 4, 8 s apart) to
# have grown past the 2 s allowed for coming back.
OUTAGE_SECONDS = 12


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def unreachable_database(**pool):
    """A real PostgreSQL connection (psycopg, through Django) to a port where nothing
    listens, pooled as the app's own when pool options are given."""
    options = {"connect_timeout": 2}
    if pool:
        options["pool"] = pool
    handler = ConnectionHandler(
        {
            # A handler of its own, whose default is never used; pools are kept by alias,
            # so this one must not be called "default".
            "default": {"ENGINE": "django.db.backends.dummy"},
            "unreachable": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": "mutualaid",
                "USER": "postgres",
                "HOST": "127.0.0.1",
                "PORT": free_port(),
                "OPTIONS": options,
            },
        }
    )
    return handler["unreachable"]


UNREACHABLE = {}


def query_the_unreachable_database(request):
    with UNREACHABLE["database"].cursor() as cursor:
        cursor.execute("SELECT 1")


def a_page_that_needs_nothing(request):
    return HttpResponse("ok")


def a_broken_page(request):
    return HttpResponse(1 / 0)


class QueryOnTheWayOut:
    """A middleware that reaches the database after the view has answered, as the
    messages and the session do when they save themselves."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        query_the_unreachable_database(request)
        return response


urlpatterns = [
    path("needs-the-database/", query_the_unreachable_database),
    path("needs-nothing/", a_page_that_needs_nothing),
    path("broken/", a_broken_page),
    *mutualaid.urls.urlpatterns,
]
handler500 = mutualaid.urls.handler500


@pytest.fixture
def unreachable(request):
    database = unreachable_database(**getattr(request, "param", {}))
    UNREACHABLE["database"] = database
    yield database
    database.close()
    if database.pool:
        database.close_pool()


@pytest.mark.django_db
@pytest.mark.urls(__name__)
@pytest.mark.parametrize(
    "unreachable",
    [{}, {"min_size": 1, "timeout": 1, "reconnect_timeout": 1}],
    ids=["refused", "pool_timeout"],
    indirect=True,
)
def test_a_view_that_cannot_reach_the_database_gives_the_short_503_page(
    client, organizer, unreachable, django_assert_num_queries
):
    client.force_login(organizer)
    started = time.monotonic()
    # Neither the page nor the middleware on its way out reads the messages; the only
    # reads of the (working) default database are the session and the user, for the
    # person's language, before the view (in a real outage they fail and are passed over).
    with django_assert_num_queries(2):
        response = client.get("/needs-the-database/", HTTP_ACCEPT_LANGUAGE="es")
    assert time.monotonic() - started < 3

    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert "no-store" in response["Cache-Control"]
    text = response.content.decode()
    # In the visitor's language, as every page.
    assert "<h1>El grupo no está disponible por un momento</h1>" in text
    assert "No se perdió nada; vuelve a intentarlo en un minuto." in text
    assert '<html lang="es"' in text
    page = Page(text)
    assert not csp_problems(page)
    assert not a11y_problems(page)


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_an_outage_met_by_a_middleware_after_the_view_gives_the_503_page_too(
    client, settings, unreachable
):
    # Outside the database middleware's reach: after SessionMiddleware, so that it runs
    # on the way out once the view has answered.
    at = settings.MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware")
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE[: at + 1],
        f"{__name__}.QueryOnTheWayOut",
        *settings.MIDDLEWARE[at + 1 :],
    ]
    client.raise_request_exception = False
    response = client.get("/needs-nothing/")
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert UNAVAILABLE in response.content.decode()


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_any_other_error_is_still_the_500_page(client):
    client.raise_request_exception = False
    response = client.get("/broken/")
    assert response.status_code == 500
    assert UNAVAILABLE not in response.content.decode()


@pytest.mark.django_db
def test_a_wrong_query_is_a_bug_not_an_outage():
    with pytest.raises(DatabaseError) as raised, connection.cursor() as cursor:
        cursor.execute("SELECT * FROM no_such_table")
    assert not database_unavailable(raised.value)


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
@pytest.mark.django_db
def test_a_cancelled_statement_is_not_an_outage():
    with pytest.raises(OperationalError) as raised, connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = 1")
        cursor.execute("SELECT pg_sleep(1)")
    assert not database_unavailable(raised.value)


@pytest.mark.django_db
def test_a_refused_connection_is_an_outage(unreachable):
    with pytest.raises(OperationalError) as raised:
        unreachable.ensure_connection()
    assert database_unavailable(raised.value)


# --- The outage, on a real server -------------------------------------------------------


class Cluster:
    """A PostgreSQL cluster of the test's own, on its own port."""

    def __init__(self):
        self.version = max(os.listdir("/etc/postgresql"), key=int)
        self.name = f"outage{os.getpid()}"
        self.port = free_port()
        # Never the machine's main cluster, whatever the port finder said.
        assert self.port != MAIN_PORT and self.name != "main"
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/mutualaid"

    def run(self, *command):
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def create(self):
        self.run(
            "pg_createcluster",
            self.version,
            self.name,
            "--port",
            str(self.port),
            "--start-conf",
            "manual",
            "-o",
            "fsync=off",
            "--",
            "--auth=trust",
        )

    def ctl(self, action):
        assert self.port != MAIN_PORT and self.name != "main"
        self.run(
            "pg_ctlcluster",
            "--skip-systemctl-redirect",
            "--mode",
            "fast",
            self.version,
            self.name,
            action,
        )

    def drop(self):
        subprocess.run(
            ["pg_dropcluster", "--stop", self.version, self.name],
            capture_output=True,
            timeout=60,
        )

    def psql(self, sql):
        """What psql prints for the query, unaligned, without headers."""
        command = ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-tAc", sql]
        return subprocess.run(
            command, check=True, capture_output=True, text=True, timeout=60
        ).stdout.strip()


@pytest.fixture
def cluster():
    if os.geteuid() != 0 or not shutil.which("pg_createcluster"):
        pytest.skip("needs root and pg_createcluster (Debian's postgresql-common), as in CI")
    cluster = Cluster()
    try:
        cluster.create()
        cluster.ctl("start")
        cluster.psql("CREATE DATABASE mutualaid")
        yield cluster
    finally:
        cluster.drop()


def server_environment(cluster):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")}
    env.update(
        DJANGO_SETTINGS_MODULE="tests.server_settings",
        DATABASE_URL=cluster.url,
        DEBUG="false",
        SECRET_KEY="tests-only-not-a-secret",
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        # Production keeps its cache in Redis, not in the database.
        CACHE_URL="locmemcache://",
    )
    return env


SIGN_IN_A_MEMBER = """
from django.test import Client
from users.models import User
from pods.models import Membership, Pod
user = User.objects.create_user(email="olive@example.org", display_name="Olive")
pod = Pod.objects.create(name="Maple Street Pod", slug="maple")
Membership.objects.create(pod=pod, user=user, role=Membership.Role.ORGANIZER)
client = Client()
client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
print(client.cookies["sessionid"].value)
"""


def manage(env, *args):
    process = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert process.returncode == 0, process.stderr
    return process.stdout


class Server:
    """gunicorn serving the app, as in production (README), on a port of its own."""

    def __init__(self, env, log, workers):
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "mutualaid.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--no-control-socket",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                self.get("/healthz")
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise AssertionError("gunicorn did not start")

    def get(self, url, cookie=None, timeout=60):
        """The response, with .seconds it took and .text."""
        started = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("GET", url, headers={"Cookie": cookie} if cookie else {})
            response = conn.getresponse()
            response.text = response.read().decode()
        finally:
            conn.close()
        response.seconds = time.monotonic() - started
        return response

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def server(cluster, tmp_path, request):
    """Two workers, as in production, unless the test asks otherwise (workers, env)."""
    asked = getattr(request, "param", {})
    env = {**server_environment(cluster), **asked.get("env", {})}
    manage(env, "migrate", "--no-input")
    session = manage(env, "shell", "--no-imports", "-c", SIGN_IN_A_MEMBER).strip()
    with open(tmp_path / "gunicorn.log", "w") as log:
        server = Server(env, log, workers=asked.get("workers", 2))
        server.member_cookie = f"sessionid={session}"
        try:
            yield server
        finally:
            server.stop()


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
def test_an_outage_gives_a_short_503_and_the_app_is_back_as_soon_as_the_database(cluster, server):
    members = "/pods/maple/members/"

    def member_page():
        return server.get(members, cookie=server.member_cookie)

    # Up: the page, and both checks.
    assert member_page().status == 200
    assert server.get("/healthz").status == 200
    assert server.get("/readyz").status == 200

    cluster.ctl("stop")
    outage_started = time.monotonic()
    while time.monotonic() - outage_started < OUTAGE_SECONDS:
        page = member_page()
        assert page.status == 503, page.text[:500]
        assert page.getheader("Retry-After") == "60"
        assert UNAVAILABLE in page.text
        assert page.seconds < 5
        ready = server.get("/readyz")
        assert (ready.status, ready.seconds < 5) == (503, True)
        health = server.get("/healthz")
        assert (health.status, health.text, health.seconds < 1) == (200, "ok", True)

    cluster.ctl("start")
    back = time.monotonic()
    while (page := member_page()).status != 200:
        assert time.monotonic() - back < 2, f"still {page.status} after the restart"
    # Timed at the answer: a request that waited for the pool counts in full.
    assert time.monotonic() - back < 2
    # And every page after it: no worker hands out a connection that the restart broke.
    for _ in range(10):
        assert member_page().status == 200
    assert server.get("/readyz").status == 200
    assert server.get("/healthz").status == 200


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
@pytest.mark.parametrize(
    "server", [{"workers": 1, "env": {"DATABASE_POOL_MIN": "3"}}], indirect=True
)
def test_the_first_page_after_a_restart_does_not_wait_on_each_broken_connection(cluster, server):
    # A worker that served nothing while the database restarted: every connection its
    # pool holds is broken. The pool checks them all on finding the first, instead of
    # one by one with 0, 1 and 2 s between them, past the 3 s a page waits for the pool.
    assert server.get("/pods/maple/members/", cookie=server.member_cookie).status == 200
    connected = "SELECT count(*) FROM pg_stat_activity WHERE datname = 'mutualaid'"
    deadline = time.monotonic() + 10
    while int(cluster.psql(connected)) < 3:
        assert time.monotonic() < deadline, "the pool did not fill to its min_size"
        time.sleep(0.1)

    cluster.ctl("restart")
    page = server.get("/pods/maple/members/", cookie=server.member_cookie)
    assert (page.status, page.seconds < 1) == (200, True), page.seconds
