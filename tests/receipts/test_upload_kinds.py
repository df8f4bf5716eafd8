"""Every kind of file a phone, a browser or a stranger may send as a receipt's screenshot,
posted through the receipt form: kept as the picture it is (its first picture, for a file
that holds several), or refused with a message that says why, and nothing saved.

Multi-picture files are kept as their first picture, the one a viewer shows first: an MPO
(a JPEG with more pictures after it), an animated PNG or WebP. A GIF, animated or not, is
refused like any format other than JPEG, PNG and WebP."""

import io
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape
from PIL import Image, UnidentifiedImageError

from receipts import images
from receipts.models import Receipt
from tests.receipts import pictures

pytestmark = pytest.mark.django_db

NOT_READABLE = "This file is not a picture we can read. Upload a JPEG, PNG or WebP screenshot."
HEIC = (
    "This is an HEIC photo, which we can't read. Take a screenshot of it and upload that instead."
)
TOO_LONG = (
    "This picture is too long or too wide (more than 10,000 pixels on a side). "
    "Crop it, or send a screenshot instead."
)


def too_many(megapixels):
    return (
        f"This picture is too large (more than {megapixels} megapixels). Send a screenshot instead."
    )


@pytest.fixture
def post(client, donor, pod, cycle, enrollment, recipient):
    """Post a receipt with `content` as its screenshot, as the donor."""
    client.force_login(donor)

    def post(content, name):
        return client.post(
            reverse("receipts:receipt_create", args=[pod.slug]),
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

    return post


@pytest.fixture
def kept(post, client, media_root):
    """Post `content` and return the picture the pod's members are then served."""

    def kept(content, name):
        response = post(content, name)
        assert response.status_code == 302, response.context["form"].errors
        receipt = Receipt.objects.get()
        served = client.get(reverse("receipts:screenshot", args=[receipt.pod.slug, receipt.pk]))
        assert served.status_code == 200
        (stored,) = pictures.stored_files(media_root)
        content = b"".join(served.streaming_content)
        assert stored.read_bytes() == content
        return served["Content-Type"], content

    return kept


@pytest.fixture
def refused(post, media_root):
    """Post `content` and check that it is refused with `message`, and nothing saved."""

    def refused(content, name, message):
        response = post(content, name)
        assert response.status_code == 200
        assert response.context["form"].errors["screenshot"] == [message]
        assert escape(message) in response.text
        assert not Receipt.objects.exists()
        assert pictures.stored_files(media_root) == []

    return refused


def test_a_multi_picture_jpeg_is_kept_as_its_first_picture(kept):
    original = pictures.mpo(first=(40, 20), second=(20, 40))
    with Image.open(io.BytesIO(original)) as image:
        assert (image.format, image.n_frames) == ("MPO", 2)
    content_type, served = kept(original, "IMG_0042.JPG")
    assert content_type == "image/jpeg"
    with Image.open(io.BytesIO(served)) as image:
        assert image.format == "JPEG"
        assert getattr(image, "n_frames", 1) == 1
        assert image.size == (40, 20)
        red, green, blue = image.getpixel((20, 10))
        assert red > 200 and green < 50 and blue < 50
        assert dict(image.getexif()) == {}
        assert not {"exif", "mp", "icc_profile", "comment"} & set(image.info)
    for secret in (b"Exif", b"MPF", b"Neighbor's Phone", b"Maple and 3rd"):
        assert secret not in served


def test_an_heic_photo_is_refused_with_a_message_that_names_it(refused):
    content = pictures.heic()
    with pytest.raises(UnidentifiedImageError):
        Image.open(io.BytesIO(content))  # Pillow cannot read one: nor can we
    refused(content, "IMG_0042.HEIC", HEIC)


def test_a_format_pillow_reads_but_we_do_not_take_is_refused(refused):
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), "red").save(buffer, "AVIF")
    refused(buffer.getvalue(), "receipt.avif", NOT_READABLE)


@pytest.mark.parametrize("name", ["receipt.svg", "receipt.png"])
def test_an_svg_is_refused(refused, name):
    refused(pictures.svg(), name, NOT_READABLE)


def test_an_animated_gif_is_refused(refused):
    refused(pictures.animated("GIF"), "funny.gif", NOT_READABLE)


@pytest.mark.parametrize(
    ("image_format", "name", "content_type"),
    [("PNG", "moving.png", "image/png"), ("WEBP", "moving.webp", "image/webp")],
)
def test_an_animation_is_kept_as_its_first_frame(kept, image_format, name, content_type):
    original = pictures.animated(image_format, size=(30, 20))
    with Image.open(io.BytesIO(original)) as image:
        assert image.n_frames == 2
    served_type, served = kept(original, name)
    assert served_type == content_type
    with Image.open(io.BytesIO(served)) as image:
        assert image.format == image_format
        assert getattr(image, "n_frames", 1) == 1
        assert image.size == (30, 20)
        red, green, blue = image.convert("RGB").getpixel((15, 10))
        assert red > 200 and green < 50 and blue < 50  # the first frame, not the blue one
    for animation_chunk in (b"acTL", b"fcTL", b"ANIM", b"ANMF"):
        assert animation_chunk not in served


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (pictures.truncated_jpeg, "cut-short.jpg"),
        (lambda: pictures.png_with_text()[:-40], "cut-short.png"),
        (lambda: pictures.webp_with_exif()[:-20], "cut-short.webp"),
    ],
)
def test_a_cut_off_picture_is_refused(refused, make, name):
    refused(make(), name, NOT_READABLE)


@pytest.mark.parametrize("name", ["receipt.png", "receipt.jpg"])
def test_a_text_file_named_as_a_picture_is_refused(refused, name):
    refused(b"Paid Rosa $175 on Tuesday, thanks!\n" * 20, name, NOT_READABLE)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        # 64 megapixels in a few kilobytes.
        (lambda: pictures.png_bomb(8000, 8000), too_many(13)),
        # 40 megapixels, within the old 40-megapixel cap, that took 1.7 GB to decode.
        (lambda: pictures.png(1, 40_000_000, color_type=0, bit_depth=1), TOO_LONG),
        (lambda: pictures.jpeg_claiming_size(65_535, 65_535), TOO_LONG),
        (lambda: pictures.webp_claiming_size(9000, 9000), too_many(6)),
        # Megabytes of text once unpacked: Pillow would hold them while decoding.
        (pictures.png_text_bomb, NOT_READABLE),
    ],
    ids=["png-64-mp", "png-strip", "jpeg-header", "webp-header", "png-text"],
)
def test_a_decompression_bomb_is_refused(refused, make, message):
    content = make()
    assert len(content) < 100_000
    refused(content, "bomb.png", message)


def test_a_large_photo_is_kept_at_half_its_size(kept):
    # A 40-megapixel JPEG is decoded at half its size, which is all that is kept.
    content_type, served = kept(pictures.jpeg(8000, 5000), "IMG_0042.JPG")
    assert content_type == "image/jpeg"
    with Image.open(io.BytesIO(served)) as image:
        assert image.size == (4000, 2500)


def test_a_large_progressive_jpeg_is_refused(refused):
    # Progressive, libjpeg would hold every coefficient of its 10 megapixels at once.
    refused(pictures.jpeg(4000, 2500, progressive=True), "from-the-web.jpg", too_many(6))


def test_a_large_jpeg_in_separate_scans_is_refused(refused, tmp_path):
    """Not progressive, but its first scan holds one component of three, so libjpeg would
    hold the whole picture's coefficients too. Pillow cannot write one: the scans of a
    progressive JPEG are rewritten as one scan per component, each carrying all its
    coefficients."""
    content = pictures.jpeg_in_separate_scans(4000, 2500)
    with Image.open(io.BytesIO(content)) as image:
        assert "progressive" not in image.info
        image.load()  # a real, readable JPEG
    refused(content, "scanner.jpg", too_many(6))


def test_the_bounds_are_what_the_messages_say():
    assert images.MAX_PIXELS // 1_000_000 == 13
    assert images.MAX_COSTLY_PIXELS // 1_000_000 == 6
    assert images.MAX_SIDE == 10_000
