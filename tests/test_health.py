"""/healthz and /readyz, the load balancer's two questions (mutualaid/health.py). What
they answer while PostgreSQL is stopped is in tests/test_outage.py, on a real server."""

import pytest

from mutualaid import health
from tests.test_outage import unreachable_database


@pytest.mark.django_db
def test_healthz_reads_no_session_no_user_and_no_database(
    client, organizer, django_assert_num_queries
):
    client.force_login(organizer)
    with django_assert_num_queries(0):
        response = client.get("/healthz")

    assert response.status_code == 200
    assert response.content == b"ok"
    assert response["Content-Type"].startswith("text/plain")
    # The session was not even looked at: it would have added Vary: Cookie.
    assert "Cookie" not in response.get("Vary", "")
    assert "no-store" in response["Cache-Control"]
    assert not response.cookies


@pytest.mark.django_db
def test_readyz_is_200_when_the_database_answers(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.content == b"ok"
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_is_503_when_the_database_does_not(client, monkeypatch):
    unreachable = unreachable_database()
    monkeypatch.setattr(health, "connection", unreachable)

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.content == b"database unavailable"


@pytest.mark.django_db
def test_the_checks_are_not_sent_to_https(client, settings):
    """A load balancer that ends TLS asks the process over plain http."""
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/").status_code == 301


@pytest.mark.parametrize("url", ["/healthz", "/readyz"])
def test_the_checks_only_answer_reading(client, url):
    assert client.post(url).status_code == 405
