"""Receipt screenshots: checked by decoding them, then re-encoded from their pixels alone.

A phone's photo carries where and when it was taken (EXIF GPS), the device, sometimes
the owner's name; a PNG can carry text chunks. None of that belongs on a board that a
hundred neighbors read, so nothing of the upload is kept but its pixels: a new image is
built from them and encoded afresh, which leaves every kind of metadata behind, including
kinds this module does not know about.
"""

import io
import secrets
import struct
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 10 * 1024 * 1024
# A phone screenshot is a few megapixels; 40 leaves room for a photo of a paper receipt.
# The limit is on the pixels, not the bytes: a few kilobytes of PNG can unpack into
# gigabytes (a decompression bomb), and the size is read from the header before decoding.
MAX_PIXELS = 40_000_000

# Pillow's name for the format: the extension it is stored under and its content type.
FORMATS = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
}
CONTENT_TYPES = dict(FORMATS.values())

# Errors Pillow raises for a file that is not a readable image of an allowed format
# (unknown, truncated or malformed data).
_UNREADABLE = (
    UnidentifiedImageError,
    OSError,
    SyntaxError,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    EOFError,
    struct.error,
)


@dataclass(frozen=True)
class CleanImage:
    """A screenshot that passed the checks, re-encoded without metadata."""

    content: bytes
    extension: str
    width: int
    height: int

    @property
    def content_type(self):
        return CONTENT_TYPES[self.extension]

    def as_file(self):
        # A random name, never the uploaded one: the name must not reveal anything (a
        # file name can hold a person's name) nor let anyone guess another receipt's.
        return ContentFile(self.content, name=f"{secrets.token_hex(16)}.{self.extension}")


def content_type_for(name):
    """The content type a stored screenshot is served with, from its extension; None
    for a name this module did not write."""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return CONTENT_TYPES.get(extension)


def clean_screenshot(upload) -> CleanImage:
    """Decode `upload` (an uploaded file) and return it re-encoded without metadata.

    Raises ValidationError with a message for the person posting when the file is too
    large, not a JPEG, PNG or WebP image, or has too many pixels."""
    if upload.size > MAX_BYTES:
        raise ValidationError(
            _(
                "The screenshot is larger than 10 MB. Take a screenshot instead of a photo, "
                "or crop it."
            ),
            code="too_large",
        )
    upload.seek(0)
    try:
        with Image.open(upload, formats=list(FORMATS)) as image:
            if image.width * image.height > MAX_PIXELS:
                raise _too_many_pixels()
            image_format = image.format
            # Turn the pixels the way the phone meant them before the orientation tag
            # is dropped with the rest of the metadata.
            upright = ImageOps.exif_transpose(image)
            mode = "RGBA" if upright.has_transparency_data and image_format != "JPEG" else "RGB"
            pixels = upright.convert(mode)
    except Image.DecompressionBombError as error:
        raise _too_many_pixels() from error
    except _UNREADABLE as error:
        raise ValidationError(
            _("This file is not a picture we can read. Upload a JPEG, PNG or WebP screenshot."),
            code="not_an_image",
        ) from error

    # A new image holds nothing but what is pasted into it: no EXIF, GPS, ICC profile,
    # comments or text chunks can follow the pixels across.
    clean = Image.new(mode, pixels.size)
    clean.paste(pixels)
    buffer = io.BytesIO()
    if image_format == "JPEG":
        clean.save(buffer, "JPEG", quality=85, optimize=True)
    elif image_format == "PNG":
        clean.save(buffer, "PNG")
    else:
        clean.save(buffer, "WEBP", quality=85)
    extension = FORMATS[image_format][0]
    return CleanImage(
        content=buffer.getvalue(), extension=extension, width=clean.width, height=clean.height
    )


def _too_many_pixels():
    return ValidationError(
        _(
            "This picture is too large (more than %(megapixels)s megapixels). "
            "Send a screenshot instead."
        )
        % {"megapixels": MAX_PIXELS // 1_000_000},
        code="too_many_pixels",
    )
