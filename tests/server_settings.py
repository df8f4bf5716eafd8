"""The app's own settings for a real server started by a test (tests/test_outage.py), with
one change the test suite makes too (tests/conftest.py): static files are read from the
source tree, since no collectstatic has written the manifest that production reads."""

from mutualaid.settings import *  # noqa: F403

STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
