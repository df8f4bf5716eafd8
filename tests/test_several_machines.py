"""Several machines for real: the app served by two gunicorn processes on two ports, as
two machines behind a load balancer would, sharing one PostgreSQL (this test's database),
one Redis (a database number of this test's own) and one SeaweedFS, with a task worker
started apart. A screenshot posted through one is served by the other; the sign-in rate
limit counted on one holds on the other; mail queued by one is sent by the worker."""

import html
import http.client
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse

from receipts.models import Receipt
from tests.receipts import pictures
from tests.services import SmtpServer, free_port

BASE_DIR = Path(settings.BASE_DIR)
REDIS_DB = 11

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


class Machine:
    """gunicorn serving the app on a port of its own, as in production (README)."""

    def __init__(self, env, log):
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "mutualaid.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
                "--no-control-socket",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if self.request("GET", "/healthz").status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise AssertionError("gunicorn did not start")

    def request(self, method, url, *, cookies=None, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = dict(headers or {})
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        try:
            conn.request(method, url, body=body, headers=headers)
            response = conn.getresponse()
            response.body = response.read()
        finally:
            conn.close()
        return response

    def form(self, url, cookies):
        """GET a form page: its CSRF token and submission key, and the CSRF cookie."""
        response = self.request("GET", url, cookies=cookies)
        assert response.status == 200, response.body[:500]
        text = response.body.decode()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            cookies[name] = rest.split(";", 1)[0]
        pattern = r'name="(csrfmiddlewaretoken|submission_key)" value="([^"]*)"'
        fields = dict(re.findall(pattern, text))
        return {k: html.unescape(v) for k, v in fields.items()}

    def post(self, url, fields, cookies, files=None):
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in fields.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                f"{value}\r\n".encode()
            )
        for name, (filename, content, content_type) in (files or {}).items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
                + content
                + b"\r\n"
            )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.request(
            "POST",
            url,
            cookies=cookies,
            body=body,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def shared_redis():
    client = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB)
    client.flushdb()
    yield f"redis://127.0.0.1:6379/{REDIS_DB}"
    client.flushdb()


@pytest.fixture
def environment(seaweedfs, shared_redis):
    db = connection.settings_dict
    bucket = seaweedfs.create_bucket(f"machines-{uuid.uuid4().hex[:12]}")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "AWS_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="tests.server_settings",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        f"/{db['NAME']}",
        DEBUG="false",
        SECRET_KEY=settings.SECRET_KEY,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        CACHE_URL=shared_redis,
        TASKS_BACKEND="django_tasks_db.DatabaseBackend",
        **seaweedfs.environment(bucket),
    )
    env["bucket"] = bucket
    return env


@pytest.fixture
def machines(environment, tmp_path):
    env = {k: v for k, v in environment.items() if k != "bucket"}
    started = []
    try:
        for name in ("a", "b"):
            log = open(tmp_path / f"gunicorn-{name}.log", "w")  # noqa: SIM115
            started.append((Machine(env, log), log))
        yield [machine for machine, _log in started]
    finally:
        for machine, log in started:
            machine.stop()
            log.close()


def session_cookie(user):
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return {"sessionid": client.cookies["sessionid"].value}


def test_a_screenshot_posted_through_one_machine_is_served_by_the_other(
    machines, environment, seaweedfs, pod, cycle, enrollment, recipient, donor, outsider
):
    a, b = machines
    cookies = session_cookie(donor)
    url = reverse("receipts:receipt_create", args=[pod.slug])
    fields = a.form(url, cookies)
    picture = pictures.jpeg_with_gps()
    response = a.post(
        url,
        {
            **fields,
            "recipient": recipient.pk,
            "week": 6,
            "amount": "175.00",
            "method": "cashapp",
            "sent_on": pod.today().isoformat(),
        },
        cookies,
        files={"screenshot": ("IMG_0042.jpg", picture, "image/jpeg")},
    )
    assert response.status == 302, response.body[:2000]

    receipt = Receipt.objects.get()
    assert seaweedfs.keys(environment["bucket"]) == [receipt.screenshot.name]
    shot = reverse("receipts:screenshot", args=[pod.slug, receipt.pk])
    served = b.request("GET", shot, cookies={"sessionid": cookies["sessionid"]})
    assert served.status == 200
    assert served.getheader("Cache-Control") == "private, no-store"
    assert served.getheader("Content-Type") == "image/jpeg"
    assert served.body.startswith(b"\xff\xd8") and not pictures.has_gps(served.body)
    # The other machine keeps the page as private as the first.
    assert b.request("GET", shot, cookies=session_cookie(outsider)).status == 404
    assert b.request("GET", shot).status == 302


def test_the_sign_in_limit_holds_across_machines_and_a_worker_apart_sends_the_codes(
    machines, environment, donor, tmp_path
):
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=donor, email=donor.email, verified=True, primary=True)
    a, b = machines
    login = reverse("account_login")
    answers = []
    # Three codes a minute for one address: two asked on one machine, two on the other.
    for machine in (a, b, a, b):
        cookies = {}
        fields = machine.form(login, cookies)
        response = machine.post(login, {**fields, "login": donor.email}, cookies)
        answers.append((response.status, response.body))
    assert [status for status, _body in answers] == [302, 302, 302, 200]
    assert b"Too many" in answers[-1][1]

    smtp = SmtpServer()
    smtp.start()
    env = {k: v for k, v in environment.items() if k != "bucket"}
    env["EMAIL_URL"] = f"smtp://127.0.0.1:{smtp.port}"
    with open(tmp_path / "worker.log", "w") as log:
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--no-reload", "--interval", "0.2"],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while len(smtp.received) < 3 and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            smtp.stop()
    assert [recipients for recipients, _content in smtp.received] == [[donor.email]] * 3
    assert all(b"code" in content.lower() for _recipients, content in smtp.received)
