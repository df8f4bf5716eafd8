"""Static files as production serves them (collectstatic with WhiteNoise's compressed
manifest storage): every stylesheet and script compressed and cached for good under its
hashed name, and a member page asks for one stylesheet and nothing else that blocks it."""

import re

import pytest
from django.core.management import call_command
from django.templatetags.static import static
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def collected(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    return settings.STATIC_ROOT


@pytest.mark.parametrize("name", ["css/app.css", "css/account.css", "js/copy.js"])
def test_each_asset_is_compressed_and_cached_for_good(collected, name):
    url = static(name)
    assert re.search(r"\.[0-9a-f]{12}\.(css|js)$", url), url
    response = Client().get(url, headers={"accept-encoding": "gzip"})
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    cache_control = response["Cache-Control"]
    assert "immutable" in cache_control
    assert int(re.search(r"max-age=(\d+)", cache_control).group(1)) >= 365 * 24 * 3600


def test_a_member_page_blocks_on_one_stylesheet_only(
    collected, client, donor, pod, cycle, enrollment
):
    client.force_login(donor)
    for name in ("receipts:board", "pods:this_week", "pods:dashboard"):
        text = client.get(reverse(name, args=[pod.slug])).text
        head = text.split("</head>")[0]
        assert len(re.findall(r'<link rel="stylesheet"', head)) == 1, name
        for script in re.findall(r"<script[^>]*>", text):
            assert "defer" in script or "async" in script or "src" not in script, script
