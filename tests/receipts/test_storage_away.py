"""Storage that cannot keep or give back a screenshot just now (a broken disk, an object
store that is down) is never a 500: posting says so and saves nothing, sharing says so
and stages nothing, and a screenshot that cannot be read is the 503 page. Real failures,
not mocks: a media folder whose parent is a file, an S3 endpoint where nothing listens."""

import uuid

import pytest
from botocore.config import Config
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from receipts.models import STORAGE_DOWN, Receipt, StagedScreenshot
from tests.receipts import pictures
from tests.receipts.test_screenshot import post_with, screenshot_url
from tests.services import ACCESS_KEY, REGION, SECRET_KEY, free_port

pytestmark = pytest.mark.django_db

MESSAGE = str(STORAGE_DOWN)


@pytest.fixture
def broken_disk(settings, tmp_path):
    """A media folder that cannot exist: its parent is a file."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    settings.MEDIA_ROOT = blocker / "media"


@pytest.fixture
def store_away(settings, screenshot_bucket):
    """The S3 store's settings, at a loopback port where nothing listens (one attempt, so
    that the test does not wait out the retries)."""

    def away():
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {
                "BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": {
                    "bucket_name": screenshot_bucket,
                    "endpoint_url": f"http://127.0.0.1:{free_port()}",
                    "access_key": ACCESS_KEY,
                    "secret_key": SECRET_KEY,
                    "region_name": REGION,
                    "file_overwrite": False,
                    "client_config": Config(
                        s3={"addressing_style": "path"},
                        signature_version="s3v4",
                        connect_timeout=1,
                        retries={"max_attempts": 1},
                    ),
                },
            },
        }

    return away


@pytest.fixture
def member(client, donor, cycle, enrollment):
    client.force_login(donor)
    return client


def post_fields(client, pod, recipient, **extra):
    """The receipt form's fields, with no file uploaded."""
    fields = {
        "recipient": recipient.pk,
        "week": 6,
        "amount": "175.00",
        "method": "cashapp",
        "sent_on": pod.today().isoformat(),
        "submission_key": str(uuid.uuid4()),
    }
    return client.post(reverse("receipts:receipt_create", args=[pod.slug]), fields | extra)


def assert_refused_and_nothing_saved(response):
    # The receipt form answers a refused post with the form again, as for any error.
    assert response.status_code == 200
    assert MESSAGE in response.content.decode()
    assert not Receipt.objects.exists()


def test_a_broken_disk_refuses_the_post_with_a_message(member, pod, recipient, broken_disk):
    assert_refused_and_nothing_saved(post_with(member, pod, recipient, pictures.png_with_text()))


def test_a_store_that_is_down_refuses_the_post_with_a_message(member, pod, recipient, store_away):
    store_away()
    assert_refused_and_nothing_saved(post_with(member, pod, recipient, pictures.png_with_text()))


def test_the_same_receipt_posts_once_storage_is_back(
    member, pod, recipient, settings, tmp_path, broken_disk
):
    assert_refused_and_nothing_saved(post_with(member, pod, recipient, pictures.png_with_text()))
    settings.MEDIA_ROOT = tmp_path / "media"
    assert post_with(member, pod, recipient, pictures.png_with_text()).status_code == 302
    assert Receipt.objects.get().screenshot


def test_without_a_screenshot_a_receipt_posts_while_storage_is_down(
    member, pod, recipient, store_away
):
    store_away()
    response = post_fields(member, pod, recipient)
    assert response.status_code == 302
    assert not Receipt.objects.get().screenshot


def test_sharing_while_storage_is_down_stages_nothing(member, broken_disk):
    response = member.post(
        reverse("share_target"),
        {
            "screenshot": SimpleUploadedFile(
                "shot.png", pictures.png_with_text(), content_type="image/png"
            )
        },
    )
    assert response.status_code == 400
    assert MESSAGE in response.content.decode()
    assert not StagedScreenshot.objects.exists()


def test_a_staged_screenshot_storage_lost_is_a_message_and_no_receipt(
    member, pod, recipient, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    member.post(
        reverse("share_target"),
        {
            "screenshot": SimpleUploadedFile(
                "a.png", pictures.png_with_text(), content_type="image/png"
            )
        },
    )
    staged = StagedScreenshot.objects.get()
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    settings.MEDIA_ROOT = blocker / "media"

    response = post_fields(member, pod, recipient, staged=staged.pk)
    assert_refused_and_nothing_saved(response)
    # Kept, to post once storage is back.
    assert StagedScreenshot.objects.get() == staged


def test_a_screenshot_the_store_cannot_give_back_is_the_503_page(
    member, pod, recipient, s3_storage, store_away
):
    response = post_with(member, pod, recipient, pictures.png_with_text())
    assert response.status_code == 302
    receipt = Receipt.objects.get()
    store_away()
    response = member.get(screenshot_url(receipt))
    assert response.status_code == 503
    assert response["Retry-After"]


def test_signed_out_and_outsiders_are_never_told_about_storage(
    client, pod, recipient, outsider, cycle, enrollment, donor, s3_storage, store_away
):
    client.force_login(donor)
    post_with(client, pod, recipient, pictures.png_with_text())
    receipt = Receipt.objects.get()
    store_away()
    client.force_login(outsider)
    assert client.get(screenshot_url(receipt)).status_code == 404
    assert Client().get(screenshot_url(receipt)).status_code == 302
