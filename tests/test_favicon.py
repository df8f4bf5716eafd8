"""The app's icon, in the app's pages and the admin's: a file of ours, collected and
served by whitenoise as in production (hashed name, no third party)."""

import re

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def collected(settings, tmp_path):
    """Production's static files: collected with hashed names, served by whitenoise."""
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", "--no-input", verbosity=0)
    return settings.STATIC_ROOT


def icon_links(page):
    return re.findall(r'<link rel="icon" href="([^"]+)"', page)


def test_the_app_and_the_admin_link_an_icon_that_is_served(collected, organizer):
    client = Client()
    client.force_login(organizer)
    pages = [client.get(reverse("home")).text, client.get(reverse("admin:index")).text]
    for page in pages:
        links = icon_links(page)
        ico = [link for link in links if "favicon" in link]
        assert ico, links
        assert ico[0].startswith("/static/icons/favicon.")
        assert all(link.startswith("/static/") for link in links)
        response = client.get(ico[0])
        assert response.status_code == 200
        body = b"".join(response.streaming_content)
        assert body[:4] == b"\x00\x00\x01\x00"
        # Hashed names are kept for a year.
        assert "max-age=315360000" in response["Cache-Control"]
