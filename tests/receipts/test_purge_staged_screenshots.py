"""`manage.py purge_staged_screenshots`, one of the daily jobs (pledges.tasks.DAILY):
screenshots shared from the share sheet and left waiting more than a day without their
receipt posted are deleted, file and row, from the real storage (the disk, or the
SeaweedFS bucket)."""

import datetime
import uuid
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from pledges import tasks
from receipts.models import Receipt, StagedScreenshot
from tests.pledges.test_pay_in_one_tap import png_upload

pytestmark = pytest.mark.django_db


def share(client, donor):
    """Stage a screenshot as the share sheet does, through the share target."""
    client.force_login(donor)
    assert client.post(reverse("share_target"), {"screenshot": png_upload()}).status_code == 302
    return StagedScreenshot.objects.filter(owner=donor).latest("pk")


def age(staged, **ago):
    StagedScreenshot.objects.filter(pk=staged.pk).update(
        created_at=timezone.now() - datetime.timedelta(**ago)
    )


def purge():
    out = StringIO()
    call_command("purge_staged_screenshots", stdout=out)
    return out.getvalue().strip()


def test_a_screenshot_left_a_day_is_deleted_from_the_disk_and_the_database(
    client, pod, cycle, donor, media_root
):
    old, young = share(client, donor), share(client, donor)
    age(old, hours=24, minutes=1)
    age(young, hours=23)
    old_file, young_file = media_root / old.image.name, media_root / young.image.name
    assert old_file.is_file() and young_file.is_file()

    assert purge() == "Deleted 1 staged screenshot(s) older than a day."

    assert not old_file.exists()
    assert list(StagedScreenshot.objects.all()) == [young]
    assert young_file.is_file()
    # A second run (the cron line on two machines) finds nothing left.
    assert purge() == "Deleted 0 staged screenshot(s) older than a day."
    assert young_file.is_file()


def test_a_row_whose_file_is_already_gone_is_deleted_too(client, pod, cycle, donor, media_root):
    # As after a run that stopped between deleting the file and the row.
    staged = share(client, donor)
    (media_root / staged.image.name).unlink()
    age(staged, days=2)
    assert purge() == "Deleted 1 staged screenshot(s) older than a day."
    assert not StagedScreenshot.objects.exists()


def test_a_stale_screenshot_is_deleted_from_the_bucket(
    client, pod, cycle, donor, s3_storage, media_root
):
    server, bucket, folder = s3_storage
    old, young = share(client, donor), share(client, donor)
    age(old, days=3)
    assert sorted(server.keys(bucket, folder)) == sorted(
        f"{folder}/{s.image.name}" for s in (old, young)
    )

    assert purge() == "Deleted 1 staged screenshot(s) older than a day."

    assert server.keys(bucket, folder) == [f"{folder}/{young.image.name}"]
    assert list(StagedScreenshot.objects.all()) == [young]
    assert not media_root.exists() or not any(p.is_file() for p in media_root.rglob("*"))


def test_it_is_a_daily_job():
    assert tasks.purge_staged_screenshots in tasks.DAILY


def test_posting_with_a_screenshot_purged_meanwhile_says_so_and_saves_nothing(
    client, pod, cycle, donor, recipient, enrollment, media_root
):
    staged = share(client, donor)
    page = client.get(reverse("receipts:receipt_create", args=[pod.slug]), {"staged": staged.pk})
    assert page.context["staged"] == staged
    # The page stayed open past a day, and the daily job ran.
    (media_root / staged.image.name).unlink()
    response = client.post(
        reverse("receipts:receipt_create", args=[pod.slug]),
        {
            "recipient": recipient.pk,
            "week": 6,
            "amount": "175.00",
            "method": "cashapp",
            "sent_on": pod.today().isoformat(),
            "submission_key": str(uuid.uuid4()),
            "staged": staged.pk,
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["screenshot"] == [
        "The shared screenshot is no longer here: attach it again."
    ]
    assert response.context["staged"] is None
    assert not Receipt.objects.exists()
