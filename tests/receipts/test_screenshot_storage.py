"""Screenshots on object storage (a real SeaweedFS, S3 API): stored in a private bucket,
still served only through the members-only view, and deleted from the bucket by the
retention purge."""

import pytest
from django.urls import reverse

from receipts.models import Receipt
from receipts.retention import purge
from recipients.models import Recipient
from tests.receipts import pictures
from tests.receipts.test_screenshot import post_with, screenshot_url

pytestmark = pytest.mark.django_db


def post_screenshot(client, pod, recipient, content):
    response = post_with(client, pod, recipient, content)
    assert response.status_code == 302, response.context["form"].errors
    return Receipt.objects.get()


@pytest.fixture
def posted(client, donor, pod, cycle, enrollment, recipient, s3_storage, media_root):
    client.force_login(donor)
    return post_screenshot(client, pod, recipient, pictures.jpeg_with_gps())


def test_a_posted_screenshot_is_in_the_bucket_and_not_on_the_disk(posted, s3_storage, media_root):
    server, bucket, folder = s3_storage
    assert server.keys(bucket, folder) == [f"{folder}/{posted.screenshot.name}"]
    assert not media_root.exists() or not any(p.is_file() for p in media_root.rglob("*"))


def test_the_bucket_refuses_a_visitor_without_its_keys(posted, s3_storage):
    server, bucket, folder = s3_storage
    assert server.anonymous_get(bucket, f"{folder}/{posted.screenshot.name}") == 403


def test_a_member_is_served_the_clean_picture_from_the_bucket_and_told_not_to_keep_it(
    client, posted, s3_storage
):
    server, bucket, folder = s3_storage
    response = client.get(screenshot_url(posted))

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "private, no-store"
    served = b"".join(response.streaming_content)
    stored = server.client().get_object(Bucket=bucket, Key=f"{folder}/{posted.screenshot.name}")
    assert served == stored["Body"].read()
    assert served.startswith(b"\xff\xd8") and not pictures.has_gps(served)


def test_outsiders_and_signed_out_visitors_get_nothing_from_the_bucket(client, posted, outsider):
    client.logout()
    response = client.get(screenshot_url(posted))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    client.force_login(outsider)
    assert client.get(screenshot_url(posted)).status_code == 404


def test_a_screenshot_missing_from_the_bucket_is_a_404_not_a_500(client, posted, s3_storage):
    server, bucket, folder = s3_storage
    server.client().delete_object(Bucket=bucket, Key=f"{folder}/{posted.screenshot.name}")
    assert client.get(screenshot_url(posted)).status_code == 404


def test_retention_deletes_the_screenshot_from_the_bucket(posted, s3_storage):
    server, bucket, folder = s3_storage
    # The recipient has been erased: their receipts' screenshots go on the next run.
    Recipient.objects.filter(pk=posted.recipient_id).update(erased_at=posted.posted_at)

    done = purge()

    assert done.screenshots == 1
    assert server.keys(bucket, folder) == []
    posted.refresh_from_db()
    assert posted.screenshot.name == ""
    assert purge().screenshots == 0
