"""`make run` serves on PORT and its mail links there: the web server and the worker that
sends the mail both get SITE_URL for that port, unless one is given."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def planned(*args, **env):
    """The commands `make run` would run (make -n runs none of them)."""
    environment = {k: v for k, v in os.environ.items() if k not in ("SITE_URL", "PORT")}
    environment.update(env)
    result = subprocess.run(
        ["make", "-n", "run", *args], cwd=ROOT, env=environment, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def serving(commands):
    (server,) = [line for line in commands.splitlines() if "runserver" in line]
    (worker,) = [line for line in commands.splitlines() if "db_worker" in line]
    return server, worker


def test_the_port_reaches_the_mail_links():
    server, worker = serving(planned("PORT=8123"))
    assert server.rstrip().endswith("runserver 127.0.0.1:8123")
    for line in (server, worker):
        assert "SITE_URL=http://127.0.0.1:8123 " in line


def test_the_default_port_is_8000():
    server, worker = serving(planned())
    assert "SITE_URL=http://127.0.0.1:8000 " in server
    assert "SITE_URL=http://127.0.0.1:8000 " in worker


def test_a_site_url_given_is_kept():
    server, worker = serving(planned("PORT=8123", SITE_URL="https://pod.example.org"))
    assert re.search(r"SITE_URL=https://pod\.example\.org ", server)
    assert re.search(r"SITE_URL=https://pod\.example\.org ", worker)


def test_the_settings_read_it():
    code = (
        "import django; django.setup(); from django.conf import settings; print(settings.SITE_URL)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "mutualaid.settings",
            "DEBUG": "true",
            "SITE_URL": "http://127.0.0.1:8123",
        },
        capture_output=True,
        text=True,
    )
    assert result.stdout.strip() == "http://127.0.0.1:8123", result.stderr
