"""Settings read from the environment. Each case starts Django in a fresh process with an
environment we control, because settings are read once, at import."""

import json
import os
import subprocess
import sys

from django.conf import settings
from django.core.management.utils import get_random_secret_key

# Variables the settings read, or that pytest sets for the suite; each case starts without
# them. A developer's .env fills only variables that are not set at all, so a case that
# needs one empty sets it to "" rather than leaving it out.
CONTROLLED = [
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "DATABASE_POOL_MIN",
    "DATABASE_POOL_MAX",
    "DATABASE_POOL_TIMEOUT",
    "EMAIL_URL",
    "CACHE_URL",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_PROXY_SSL_HEADER_ENABLED",
]

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": get_random_secret_key(),
    "ALLOWED_HOSTS": "pod.example.org",
    "EMAIL_URL": "smtp://mailer:secret@smtp.example.org:587",
}

SHOW_SETTINGS = """
import json, django
django.setup()
from django.conf import settings
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "SECRET_KEY": settings.SECRET_KEY,
    "ALLOWED_HOSTS": settings.ALLOWED_HOSTS,
    "DATABASE": settings.DATABASES["default"],
    "MAILER": settings.MAILERS["default"],
}, default=str))
"""


def run(args, **environment):
    env = {key: value for key, value in os.environ.items() if key not in CONTROLLED}
    env.update(environment, DJANGO_SETTINGS_MODULE="mutualaid.settings")
    return subprocess.run(
        [sys.executable, *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def settings_under(**environment):
    process = run(["-c", SHOW_SETTINGS], **environment)
    assert process.returncode == 0, process.stderr
    return json.loads(process.stdout)


def test_production_without_secret_key_refuses_to_start():
    process = run(
        ["-c", "import django; django.setup()"],
        DEBUG="false",
        SECRET_KEY="",
        ALLOWED_HOSTS="pod.example.org",
    )
    assert process.returncode != 0
    assert "ImproperlyConfigured: Set SECRET_KEY in the environment (DEBUG is off)." in (
        process.stderr
    )


def test_production_without_allowed_hosts_refuses_to_start():
    process = run(
        ["-c", "import django; django.setup()"],
        DEBUG="false",
        SECRET_KEY=get_random_secret_key(),
        ALLOWED_HOSTS="",
    )
    assert process.returncode != 0
    assert "ImproperlyConfigured: Set ALLOWED_HOSTS in the environment (DEBUG is off)." in (
        process.stderr
    )


def test_secret_key_starting_with_a_dollar_is_taken_as_it_is():
    key = "$" + get_random_secret_key()
    production = settings_under(
        DEBUG="false", SECRET_KEY=key, ALLOWED_HOSTS="pod.example.org", EMAIL_URL=""
    )

    assert production["SECRET_KEY"] == key


def test_debug_starts_with_local_defaults():
    local = settings_under(DEBUG="true", SECRET_KEY="", ALLOWED_HOSTS="", EMAIL_URL="")

    assert local["DEBUG"] is True
    assert local["SECRET_KEY"].startswith("django-insecure-")
    assert local["ALLOWED_HOSTS"] == ["127.0.0.1", "localhost", "[::1]"]
    assert local["DATABASE"]["ENGINE"] == "django.db.backends.sqlite3"
    assert local["DATABASE"]["NAME"] == str(settings.BASE_DIR / "db.sqlite3")
    assert local["MAILER"] == {"BACKEND": "django.core.mail.backends.console.EmailBackend"}


def test_database_url_gives_pooled_postgresql():
    database = settings_under(
        **PRODUCTION, DATABASE_URL="postgres://pods:pw@db.example.org:5433/mutualaid"
    )["DATABASE"]

    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["NAME"], database["HOST"], database["PORT"]) == (
        "mutualaid",
        "db.example.org",
        5433,
    )
    assert (database["USER"], database["PASSWORD"]) == ("pods", "pw")
    # Short waits in an outage, and back as soon as PostgreSQL is (tests/test_outage.py):
    # the pool's check of a connection is the app's (mutualaid/database.py).
    pool = database["OPTIONS"]["pool"]
    assert pool.pop("check").startswith("<function check_connection ")
    assert pool == {
        "min_size": 2,
        "max_size": 10,
        "timeout": 3.0,
        "reconnect_timeout": 2.0,
    }
    assert database["OPTIONS"]["connect_timeout"] == 2
    assert database["CONN_HEALTH_CHECKS"] is True


def test_email_url_gives_smtp():
    mailer = settings_under(DEBUG="true", EMAIL_URL="smtp://user:pw@host:587")["MAILER"]

    assert mailer["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    options = mailer["OPTIONS"]
    assert (options["host"], options["port"]) == ("host", 587)
    assert (options["username"], options["password"]) == ("user", "pw")
    assert (options["use_tls"], options["use_ssl"]) == (True, False)


def test_without_email_url_mail_goes_to_the_console():
    mailer = settings_under(DEBUG="true", EMAIL_URL="")["MAILER"]

    assert mailer == {"BACKEND": "django.core.mail.backends.console.EmailBackend"}


def test_deploy_checks_pass_with_production_settings():
    process = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        **PRODUCTION,
    )

    assert process.returncode == 0, process.stderr
    assert "System check identified no issues (0 silenced)." in process.stdout


def test_deploy_checks_catch_production_without_a_mail_server():
    """Sign-in works by an emailed code: mail left on the console would lock everyone out."""
    process = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        **{**PRODUCTION, "EMAIL_URL": ""},
    )

    assert process.returncode != 0
    assert "mail.E001" in process.stderr


def test_commands_that_read_only_the_code_need_no_production_secrets():
    # As CI and a checker run it: no DEBUG, no SECRET_KEY, no ALLOWED_HOSTS.
    process = run(["manage.py", "makemigrations", "--check", "--dry-run"], SECRET_KEY="")
    assert process.returncode == 0, process.stderr
    assert "No changes detected" in process.stdout
    # Any other command still refuses, as the app does.
    refused = run(["manage.py", "check"], SECRET_KEY="", ALLOWED_HOSTS="pod.example.org")
    assert refused.returncode != 0
    assert "Set SECRET_KEY in the environment (DEBUG is off)." in refused.stderr
