"""The cast every view is tried with: an organizer and a donor of one pod, an outsider
from another pod, a signed-out visitor (the plain client), and a recipient's link."""

import datetime
import uuid
from decimal import Decimal

import pytest

from pods.models import Cycle, Membership, Pod
from recipients.models import Recipient
from recipients.services import enroll
from tests.services import SeaweedFS


@pytest.fixture(autouse=True)
def _test_settings(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The manifest needs collectstatic; tests read static files from the source tree.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def make_user(django_user_model):
    def make(email, **extra):
        return django_user_model.objects.create_user(email=email, **extra)

    return make


@pytest.fixture
def pod(db):
    return Pod.objects.create(name="Maple Street Pod", slug="maple")


@pytest.fixture
def other_pod(db):
    return Pod.objects.create(name="Elm Street Pod", slug="elm")


@pytest.fixture
def organizer(make_user, pod):
    user = make_user("olive@example.org", display_name="Olive")
    Membership.objects.create(pod=pod, user=user, role=Membership.Role.ORGANIZER)
    return user


@pytest.fixture
def donor(make_user, pod):
    user = make_user("dana@example.org", display_name="Dana")
    Membership.objects.create(pod=pod, user=user, role=Membership.Role.DONOR)
    return user


@pytest.fixture
def outsider(make_user, other_pod):
    """An organizer, but of another pod: the strongest stranger there is."""
    user = make_user("otto@example.org", display_name="Otto")
    Membership.objects.create(pod=other_pod, user=user, role=Membership.Role.ORGANIZER)
    return user


@pytest.fixture
def cycle(pod):
    return Cycle.objects.create(
        pod=pod,
        number=1,
        starts_on=pod.today() - datetime.timedelta(days=7 * 5),
        weeks=15,
        weekly_amount=Decimal("175.00"),
        slots=3,
    )


@pytest.fixture
def recipient(pod):
    return Recipient.objects.create(
        pod=pod, display_name="Rosa", payment_method="cashapp", payment_handle="$rosa"
    )


@pytest.fixture
def enrollment(recipient, cycle):
    return enroll(recipient=recipient, cycle=cycle)


@pytest.fixture
def recipient_link(recipient):
    """The secret of the recipient's private link (only its hash is stored)."""
    token = recipient.new_access_token()
    recipient.save(update_fields=["access_token_hash"])
    return token


@pytest.fixture(scope="session")
def seaweedfs():
    """A real S3-compatible store (SeaweedFS) for the session, started on first use."""
    server = SeaweedFS()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def screenshot_bucket(seaweedfs):
    return seaweedfs.create_bucket("screenshots")


@pytest.fixture
def s3_storage(settings, seaweedfs, screenshot_bucket):
    """Uploads go to the SeaweedFS bucket, under a folder of this test's own; returns
    (server, bucket, folder)."""
    folder = f"test-{uuid.uuid4().hex}"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": seaweedfs.storage_settings(screenshot_bucket, location=folder),
    }
    return seaweedfs, screenshot_bucket, folder
