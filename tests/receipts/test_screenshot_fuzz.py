"""Whatever bytes arrive as a screenshot, the check answers with a picture or a message
for the person posting, never an exception that would become a 500."""

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from receipts.images import CleanImage, clean_screenshot
from tests.receipts import pictures

SEEDS = [pictures.jpeg_with_gps(), pictures.png_with_text(), pictures.webp_with_exif()]


@st.composite
def damaged(draw):
    """A real picture with some bytes changed, cut short or both."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 8))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data[: draw(st.integers(0, len(data)))])


def check(content):
    try:
        result = clean_screenshot(SimpleUploadedFile("x.jpg", content))
    except ValidationError as error:
        assert error.code in {"not_an_image", "too_many_pixels", "too_large"}
    else:
        assert isinstance(result, CleanImage)
        assert not pictures.has_gps(result.content)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged())
def test_damaged_pictures_give_a_message_or_a_clean_picture(content):
    check(content)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048))
def test_random_bytes_give_a_message(content):
    check(content)
