"""Receipt screenshots: checked by decoding them, then re-encoded from their pixels alone.

A phone's photo carries where and when it was taken (EXIF GPS), the device, sometimes
the owner's name; a PNG can carry text chunks. None of that belongs on a board that a
hundred neighbors read, so nothing of the upload is kept but its pixels: a new image is
built from them and encoded afresh, which leaves every kind of metadata behind, including
kinds this module does not know about.

A file's size says little about what decoding it costs: a few kilobytes of PNG can unpack
into gigabytes. So every bound below is read from the file's header before a pixel is
decoded, and together they keep what a worker holds for one upload to about 120 MB on top
of the app itself (tests/receipts/test_upload_memory.py measures the worst shapes).
"""

import io
import os
import secrets
import struct
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from PIL import ExifTags, Image, PngImagePlugin, UnidentifiedImageError

MAX_BYTES = 10 * 1024 * 1024

# What is kept, and the most pixels decoded for one upload: 13 megapixels, 52 MB as RGBA,
# of which at most two copies exist at a time. A phone screenshot is at most 1440 x 3200
# (4.6 MP), an iPad's 2048 x 2732 (5.6 MP), a scrolling capture of two or three screens
# about 1440 x 8000 (11.5 MP), and a phone's photo of a paper receipt 4032 x 3024 (12.2 MP).
MAX_PIXELS = 13_000_000
# Nor may a side be longer than this, whatever the pixel count: decoding pays for every row
# too, which is how a 77 KB PNG of 1 x 40,000,000 pixels once took 1.7 GB. 10,000 leaves room
# for a long scrolling capture and for the long side of a 50-megapixel photo (8160).
MAX_SIDE = 10_000
# A JPEG can be decoded at 1/2, 1/4 or 1/8 of its size for the memory of that size
# (Image.draft), so a larger one is taken, decoded at the largest of those sizes that fits
# MAX_PIXELS: up to a 50-megapixel phone photo (8160 x 6120), decoded at half its size.
MAX_JPEG_PIXELS = 50_000_000
# Two kinds cost several times their pixels while they decode, so they are held to what a
# screen is, with room: a WebP (libwebp keeps its canvas twice over and Pillow copies it,
# about 16 bytes a pixel), and a JPEG in several scans (progressive, as saved for the web),
# for which libjpeg keeps every coefficient of the whole picture until the last scan, up to
# 8 bytes a pixel at any draft size.
MAX_COSTLY_PIXELS = 6_000_000

# Pillow keeps a PNG's text chunks, decompressed, while it decodes the pixels: up to 64 MB of
# them by default. A screenshot has a few hundred bytes of text, and none of it is kept; a
# file with more than this is refused as unreadable. (Pillow documents this setting; nothing
# else in the app reads PNGs.)
PngImagePlugin.MAX_TEXT_MEMORY = PngImagePlugin.MAX_TEXT_CHUNK

# Pillow's name for each format that is stored: the extension and the content type it is
# stored and served with.
FORMATS = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
}
CONTENT_TYPES = dict(FORMATS.values())
# What each format Pillow may report is stored as; any other is refused. Asked for a JPEG,
# Pillow reports a multi-picture JPEG (MPO: several JPEGs in one file, as phones write for
# depth maps and bursts) as "MPO": its first picture is an ordinary JPEG, and is what is kept.
# An animated PNG or WebP is kept as its first frame, the one a viewer shows first.
STORED_AS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WEBP"}

# The major brands of an HEIF file holding HEVC pictures (HEIC, as iPhones take photos),
# which Pillow cannot read: the file's first box says so, and the person is told.
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}

# How to turn the pixels for each EXIF orientation, as ImageOps.exif_transpose does, but
# without rewriting the EXIF block (which can be megabytes) that is about to be dropped.
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

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
    large, not a JPEG, PNG or WebP image, or has too many pixels to decode."""
    if upload.size > MAX_BYTES:
        raise ValidationError(
            _(
                "The screenshot is larger than 10 MB. Take a screenshot instead of a photo, "
                "or crop it."
            ),
            code="too_large",
        )
    upload.seek(0)
    head = upload.read(30)
    upload.seek(0)
    if head[4:8] == b"ftyp" and head[8:12] in _HEIC_BRANDS:
        raise ValidationError(
            _(
                "This is an HEIC photo, which we can't read. Take a screenshot of it and "
                "upload that instead."
            ),
            code="not_an_image",
        )
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        # libwebp sets aside its canvas as soon as the file is opened, so the size is read
        # here, before Pillow opens it.
        size = _webp_size(head)
        if size is None:
            raise _not_an_image()
        _check_size(*size, max_pixels=MAX_COSTLY_PIXELS)
    try:
        stored_as, clean = _decode(upload)
    except Image.DecompressionBombError as error:
        # Pillow refuses on its own beyond 178 megapixels, where a side is over MAX_SIDE.
        raise _too_long() from error
    except _UNREADABLE as error:
        raise _not_an_image() from error

    buffer = io.BytesIO()
    if stored_as == "JPEG":
        # Optimized Huffman tables make a screenshot's JPEG a good deal smaller, but libjpeg
        # then holds the coefficients of the whole picture (3 bytes a pixel, and a buffer of
        # one): done up to a screen's size, not for the largest photos.
        optimize = clean.width * clean.height <= MAX_COSTLY_PIXELS
        clean.save(buffer, "JPEG", quality=85, optimize=optimize)
    elif stored_as == "PNG":
        clean.save(buffer, "PNG")
    else:
        clean.save(buffer, "WEBP", quality=85)
    return CleanImage(
        content=buffer.getvalue(),
        extension=FORMATS[stored_as][0],
        width=clean.width,
        height=clean.height,
    )


def _decode(upload):
    """What `upload` is stored as, and a new image of its pixels alone.

    A function of its own so that everything the decoder held (the opened file's object,
    and for a WebP libwebp's canvases) is gone when it returns, before encoding starts."""
    with Image.open(upload, formats=list(FORMATS)) as image:
        stored_as = STORED_AS.get(image.format)
        if stored_as is None:
            raise _not_an_image()
        _check_size(*image.size, max_pixels=_max_pixels(image, stored_as, upload))
        if stored_as == "JPEG":
            _draft(image)
        mode = "RGBA" if image.has_transparency_data and stored_as != "JPEG" else "RGB"
        return stored_as, _pixels_only(image, mode)


def _max_pixels(image, stored_as, upload):
    """The most pixels `image` (opened, not decoded) may have, by what decoding it costs."""
    if stored_as == "PNG":
        return MAX_PIXELS
    if stored_as == "WEBP":
        return MAX_COSTLY_PIXELS
    if image.info.get("progressive"):
        return MAX_COSTLY_PIXELS
    if image.width * image.height <= MAX_COSTLY_PIXELS:
        return MAX_JPEG_PIXELS  # within both bounds: no need to read its scans
    if _first_scan_has_every_component(upload, image.layers):
        return MAX_JPEG_PIXELS
    return MAX_COSTLY_PIXELS


def _first_scan_has_every_component(upload, components):
    """Whether this JPEG's first scan holds all its `components`: then libjpeg decodes it a
    band of rows at a time. Otherwise (or if this walk over the markers before the first
    scan does not follow them) it may hold every coefficient of the picture at once."""
    position = upload.tell()
    try:
        upload.seek(2)  # past the start-of-image marker
        while True:
            marker = upload.read(2)
            while marker[1:] == b"\xff":  # a marker may be padded with fill bytes
                marker = b"\xff" + upload.read(1)
            if len(marker) < 2 or marker[0] != 0xFF:
                return False
            if marker[1] == 0x01 or 0xD0 <= marker[1] <= 0xD7:
                continue  # markers without a length
            length = upload.read(2)
            if len(length) < 2 or int.from_bytes(length, "big") < 2:
                return False
            if marker[1] == 0xDA:  # start of scan: its first byte counts its components
                return upload.read(1) == bytes([components])
            upload.seek(int.from_bytes(length, "big") - 2, os.SEEK_CUR)
    finally:
        upload.seek(position)


def _webp_size(head):
    """The canvas size a WebP file's header states, as Pillow reads it; None if unclear."""
    chunk = head[12:16]
    if chunk == b"VP8 " and len(head) >= 30 and head[23:26] == b"\x9d\x01\x2a":
        return (
            int.from_bytes(head[26:28], "little") & 0x3FFF,
            int.from_bytes(head[28:30], "little") & 0x3FFF,
        )
    if chunk == b"VP8X" and len(head) >= 30:
        return int.from_bytes(head[24:27], "little") + 1, int.from_bytes(head[27:30], "little") + 1
    if chunk == b"VP8L" and len(head) >= 25 and head[20] == 0x2F:
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def _check_size(width, height, *, max_pixels):
    if max(width, height) > MAX_SIDE:
        raise _too_long()
    if width * height > max_pixels:
        raise _too_many_pixels(max_pixels)


def _draft(image):
    """Have a JPEG decode at the largest of 1/1, 1/2, 1/4 and 1/8 of its size that fits
    MAX_PIXELS: libjpeg then never holds more than that, and nothing is left to shrink."""
    width, height = image.size
    scale = next(s for s in (1, 2, 4, 8) if -(-width // s) * -(-height // s) <= MAX_PIXELS)
    if scale > 1:
        image.draft(image.mode, (width // scale, height // scale))
    if image.width * image.height > MAX_PIXELS:
        raise _too_many_pixels(MAX_JPEG_PIXELS)


def _pixels_only(image, mode):
    """A new image of `image`'s pixels alone, turned upright and in `mode`.

    Nothing but the pixels may follow them across: no EXIF, GPS, ICC profile, comments or
    text chunks. An image Pillow makes from another's pixels (turned, converted) is a new
    image like those of Image.new but for `info`, which it copies over, so that is emptied;
    when no such step is needed, the pixels are pasted into an image of Image.new. Either
    way there is one copy of the pixels or two, and at most two pictures held at a time."""
    image.load()
    # Turn the pixels the way the phone meant them before the orientation tag is dropped
    # with the rest of the metadata.
    upright = _UPRIGHT.get(image.getexif().get(ExifTags.Base.Orientation))
    # Let go of what else Pillow read (an ICC profile or an EXIF block can be megabytes)
    # before the pixels are copied; converting needs only the transparency.
    transparency = image.info.get("transparency")
    image.info.clear()
    if transparency is not None:
        image.info["transparency"] = transparency
    picture = image
    if upright is not None:
        picture = _instead(picture, picture.transpose(upright))
    if picture.mode != mode:
        picture = _instead(picture, picture.convert(mode))
    if picture is image:
        picture = Image.new(mode, image.size)
        picture.paste(image)
        image.close()
    picture.info = {}
    return picture


def _instead(old, new):
    old.close()  # frees its pixels now rather than when the last reference goes
    return new


def _not_an_image():
    return ValidationError(
        _("This file is not a picture we can read. Upload a JPEG, PNG or WebP screenshot."),
        code="not_an_image",
    )


def _too_many_pixels(max_pixels):
    return ValidationError(
        ngettext(
            "This picture is too large (more than %(megapixels)s megapixel). "
            "Send a screenshot instead.",
            "This picture is too large (more than %(megapixels)s megapixels). "
            "Send a screenshot instead.",
            max_pixels // 1_000_000,
        )
        % {"megapixels": max_pixels // 1_000_000},
        code="too_many_pixels",
    )


def _too_long():
    return ValidationError(
        ngettext(
            "This picture is too long or too wide (more than %(pixels)s pixel on a side). "
            "Crop it, or send a screenshot instead.",
            "This picture is too long or too wide (more than %(pixels)s pixels on a side). "
            "Crop it, or send a screenshot instead.",
            MAX_SIDE,
        )
        % {"pixels": number_format(MAX_SIDE, force_grouping=True)},
        code="too_many_pixels",
    )
