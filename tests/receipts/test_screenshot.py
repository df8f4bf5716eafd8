"""Screenshots: checked by decoding, stripped of metadata, stored under a random name,
and served only to the pod's members at /pods/<slug>/receipts/<id>/screenshot/."""

import io
import uuid

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from pods.models import Cycle, Membership
from receipts import images
from receipts.models import Receipt
from recipients.models import Recipient
from tests.receipts import pictures

pytestmark = pytest.mark.django_db


def post_url(pod):
    return reverse("receipts:receipt_create", args=[pod.slug])


def screenshot_url(receipt):
    return reverse("receipts:screenshot", args=[receipt.pod.slug, receipt.pk])


def post_with(client, pod, recipient, content, name="IMG_0042 Rosa at home.jpg"):
    return client.post(
        post_url(pod),
        {
            "recipient": recipient.pk,
            "week": 6,
            "amount": "175.00",
            "method": "cashapp",
            "sent_on": pod.today().isoformat(),
            "submission_key": str(uuid.uuid4()),
            "screenshot": SimpleUploadedFile(name, content),
        },
    )


@pytest.fixture
def member_client(client, donor):
    client.force_login(donor)
    return client


def posted(client, pod, recipient, content, **kwargs):
    response = post_with(client, pod, recipient, content, **kwargs)
    assert response.status_code == 302, response.context["form"].errors
    return Receipt.objects.get()


def test_gps_and_other_exif_are_gone_from_the_served_picture(
    member_client, pod, cycle, enrollment, recipient, media_root
):
    original = pictures.jpeg_with_gps()
    assert pictures.has_gps(original)
    receipt = posted(member_client, pod, recipient, original)

    response = member_client.get(screenshot_url(receipt))
    assert response.status_code == 200
    served = b"".join(response.streaming_content)
    assert not pictures.has_gps(served)
    with Image.open(io.BytesIO(served)) as image:
        assert image.format == "JPEG"
        assert dict(image.getexif()) == {}
        assert "exif" not in image.info
        assert "comment" not in image.info
        # Turned upright as the orientation tag asked, before the tag was dropped.
        assert image.size == (20, 40)
    assert b"Exif" not in served
    assert b"Neighbor's Phone" not in served
    assert b"Maple and 3rd" not in served
    # What is on disk is the clean picture too.
    (stored,) = pictures.stored_files(media_root)
    assert stored.read_bytes() == served


def test_png_text_chunks_are_gone(member_client, pod, cycle, enrollment, recipient):
    receipt = posted(member_client, pod, recipient, pictures.png_with_text(), name="a.png")
    response = member_client.get(screenshot_url(receipt))
    served = b"".join(response.streaming_content)
    assert response["Content-Type"] == "image/png"
    with Image.open(io.BytesIO(served)) as image:
        assert image.format == "PNG"
        assert image.mode == "RGBA"
        assert image.text == {}
    for secret in (b"Rosa Example", b"Maple and 3rd", b"tEXt", b"iTXt", b"zTXt"):
        assert secret not in served


def test_webp_is_accepted_without_its_exif(member_client, pod, cycle, enrollment, recipient):
    receipt = posted(member_client, pod, recipient, pictures.webp_with_exif(), name="a.webp")
    response = member_client.get(screenshot_url(receipt))
    served = b"".join(response.streaming_content)
    assert response["Content-Type"] == "image/webp"
    with Image.open(io.BytesIO(served)) as image:
        assert image.format == "WEBP"
        assert dict(image.getexif()) == {}
    assert b"EXIF" not in served


def test_stored_under_a_random_name_never_the_uploaded_one(
    member_client, pod, cycle, enrollment, recipient, media_root
):
    receipt = posted(member_client, pod, recipient, pictures.jpeg_with_gps())
    name = receipt.screenshot.name
    assert "Rosa" not in name
    assert "IMG_0042" not in name
    stem = name.rsplit("/", 1)[-1].removesuffix(".jpg")
    assert len(stem) == 32
    int(stem, 16)  # 128 random bits in hex
    assert default_storage.exists(name)


def test_served_privately_with_its_type_and_no_sniffing(
    member_client, pod, cycle, enrollment, recipient
):
    receipt = posted(member_client, pod, recipient, pictures.jpeg_with_gps())
    response = member_client.get(screenshot_url(receipt))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == f'inline; filename="receipt-{receipt.pk}.jpg"'


def test_every_member_of_the_pod_sees_it(
    client, donor, organizer, make_user, pod, cycle, enrollment, recipient
):
    client.force_login(donor)
    receipt = posted(client, pod, recipient, pictures.jpeg_with_gps())
    neighbor = make_user("nell@example.org")
    Membership.objects.create(pod=pod, user=neighbor)
    for person in (organizer, neighbor):
        client.force_login(person)
        assert client.get(screenshot_url(receipt)).status_code == 200


def test_member_of_another_pod_gets_404(client, donor, outsider, pod, cycle, enrollment, recipient):
    client.force_login(donor)
    receipt = posted(client, pod, recipient, pictures.jpeg_with_gps())
    client.force_login(outsider)
    assert client.get(screenshot_url(receipt)).status_code == 404
    # Nor through their own pod's address.
    other = reverse("receipts:screenshot", args=["elm", receipt.pk])
    assert client.get(other).status_code == 404


def test_signed_out_visitor_is_sent_to_sign_in(client, donor, pod, cycle, enrollment, recipient):
    client.force_login(donor)
    receipt = posted(client, pod, recipient, pictures.jpeg_with_gps())
    client.logout()
    response = client.get(screenshot_url(receipt))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_former_member_gets_404(client, donor, pod, cycle, enrollment, recipient):
    client.force_login(donor)
    receipt = posted(client, pod, recipient, pictures.jpeg_with_gps())
    Membership.objects.filter(pod=pod, user=donor).update(active=False)
    assert client.get(screenshot_url(receipt)).status_code == 404


def test_no_public_media_url_serves_it(member_client, pod, cycle, enrollment, recipient, settings):
    receipt = posted(member_client, pod, recipient, pictures.jpeg_with_gps())
    assert not settings.MEDIA_URL or settings.MEDIA_URL == "/"
    for path in (f"/{receipt.screenshot.name}", f"/media/{receipt.screenshot.name}"):
        assert member_client.get(path).status_code == 404


def test_receipt_without_a_screenshot_gets_404(member_client, add_receipt):
    receipt = add_receipt()
    assert member_client.get(screenshot_url(receipt)).status_code == 404


def test_a_missing_file_gets_404_not_500(member_client, add_receipt):
    receipt = add_receipt(screenshot="receipts/2026/01/" + "0" * 32 + ".jpg")
    assert member_client.get(screenshot_url(receipt)).status_code == 404


def test_a_file_this_app_did_not_write_is_not_served(member_client, add_receipt):
    # Say an admin import left an HTML file behind: it must never go out as a page.
    name = default_storage.save("receipts/2026/01/page.html", ContentFile(b"<script>1</script>"))
    receipt = add_receipt(screenshot=name)
    assert member_client.get(screenshot_url(receipt)).status_code == 404


def test_another_pods_receipt_is_not_served_through_this_pod(
    member_client, pod, other_pod, cycle, donor, make_user
):
    stranger = Recipient.objects.create(pod=other_pod, display_name="Ed")
    other_cycle = Cycle.objects.create(pod=other_pod, number=1, starts_on=cycle.starts_on)
    payer = make_user("paul@example.org")
    name = default_storage.save("receipts/x.jpg", ContentFile(pictures.jpeg_with_gps()))
    theirs = Receipt.objects.create(
        pod=other_pod,
        cycle=other_cycle,
        week=1,
        recipient=stranger,
        payer=payer,
        posted_by=payer,
        amount="10.00",
        method="cash",
        sent_on=cycle.starts_on,
        screenshot=name,
    )
    url = reverse("receipts:screenshot", args=[pod.slug, theirs.pk])
    assert member_client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"%PDF-1.4 this is not a picture", "receipt.jpg"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "a.png"),
        (pictures.gif(), "a.gif"),
        (pictures.jpeg_with_gps()[:200], "cut-short.jpg"),
        (b"", "empty.jpg"),
    ],
)
def test_a_file_that_is_not_an_allowed_picture_is_refused(
    member_client, pod, cycle, enrollment, recipient, media_root, content, name
):
    response = post_with(member_client, pod, recipient, content, name=name)
    assert response.status_code == 200
    assert "screenshot" in response.context["form"].errors
    assert any(
        phrase in response.text
        for phrase in ("This file is not a picture we can read.", "The submitted file is empty.")
    )
    assert not Receipt.objects.exists()
    assert pictures.stored_files(media_root) == []


def test_a_file_over_10_mb_is_refused(member_client, pod, cycle, enrollment, recipient, media_root):
    # A real JPEG at the start, padded past the limit.
    content = pictures.jpeg_with_gps() + b"\0" * images.MAX_BYTES
    response = post_with(member_client, pod, recipient, content)
    assert response.status_code == 200
    assert "The screenshot is larger than 10 MB." in response.text
    assert not Receipt.objects.exists()
    assert pictures.stored_files(media_root) == []


def test_a_decompression_bomb_is_refused(
    member_client, pod, cycle, enrollment, recipient, media_root
):
    bomb = pictures.png_bomb(8000, 8000)  # 64 megapixels in a few kilobytes
    assert len(bomb) < 100_000
    response = post_with(member_client, pod, recipient, bomb, name="bomb.png")
    assert response.status_code == 200
    megapixels = images.MAX_PIXELS // 1_000_000
    assert f"This picture is too large (more than {megapixels} megapixels)." in response.text
    assert not Receipt.objects.exists()
    assert pictures.stored_files(media_root) == []


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (50_000, 1_000),  # over our limit, under Pillow's own
        (20_000, 20_000),  # over twice Pillow's limit: Pillow refuses it itself
        (2**31 - 1, 2**31 - 1),
    ],
)
def test_a_header_claiming_too_many_pixels_is_refused(
    member_client, pod, cycle, enrollment, recipient, width, height
):
    content = pictures.png_claiming_size(width, height)
    response = post_with(member_client, pod, recipient, content, name="a.png")
    assert response.status_code == 200
    assert "screenshot" in response.context["form"].errors
    assert not Receipt.objects.exists()


def test_the_rest_of_the_form_is_checked_too(
    member_client, pod, cycle, enrollment, recipient, media_root
):
    response = member_client.post(
        post_url(pod),
        {
            "recipient": recipient.pk,
            "week": 6,
            "amount": "0",
            "method": "cashapp",
            "sent_on": pod.today().isoformat(),
            "submission_key": str(uuid.uuid4()),
            "screenshot": SimpleUploadedFile("a.jpg", pictures.jpeg_with_gps()),
        },
    )
    assert response.status_code == 200
    assert not Receipt.objects.exists()
    assert pictures.stored_files(media_root) == []


def test_double_submit_with_a_screenshot_stores_one_file(
    member_client, pod, cycle, enrollment, recipient, media_root
):
    data = {
        "recipient": recipient.pk,
        "week": 6,
        "amount": "175.00",
        "method": "cashapp",
        "sent_on": pod.today().isoformat(),
        "submission_key": str(uuid.uuid4()),
    }
    for _attempt in range(2):
        member_client.post(
            post_url(pod),
            {**data, "screenshot": SimpleUploadedFile("a.jpg", pictures.jpeg_with_gps())},
        )
    assert Receipt.objects.count() == 1
    assert len(pictures.stored_files(media_root)) == 1
