"""Pictures made on the spot for upload tests: with GPS and other metadata, broken, or
built to unpack into far more pixels than their size suggests."""

import io
import struct
import zlib

from PIL import Image, PngImagePlugin

ORIENTATION = 0x0112
MAKE = 0x010F
GPS_IFD = 0x8825


def jpeg_with_gps(width=40, height=20, *, rotated=True):
    """A JPEG like a phone's: GPS position, device maker, a comment, and an
    orientation tag that says "turn me 90 degrees"."""
    exif = Image.Exif()
    exif[MAKE] = "Neighbor's Phone"
    if rotated:
        exif[ORIENTATION] = 6
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (40.0, 41.0, 22.0)
    gps[3] = "W"
    gps[4] = (73.0, 56.0, 11.0)
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "red").save(
        buffer, "JPEG", exif=exif, comment=b"Corner of Maple and 3rd"
    )
    return buffer.getvalue()


def png_with_text():
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Rosa Example")
    info.add_itxt("Location", "Corner of Maple and 3rd")
    info.add_text("Comment", "secret note", zip=True)
    buffer = io.BytesIO()
    Image.new("RGBA", (30, 30), (10, 20, 30, 128)).save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def webp_with_exif():
    exif = Image.Exif()
    exif[MAKE] = "Neighbor's Phone"
    exif.get_ifd(GPS_IFD)[1] = "N"
    buffer = io.BytesIO()
    Image.new("RGB", (24, 12), "blue").save(buffer, "WEBP", exif=exif)
    return buffer.getvalue()


def gif():
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, "GIF")
    return buffer.getvalue()


def png_bomb(width=8000, height=8000):
    """A real, complete PNG of width x height black pixels: a few kilobytes that
    would unpack into width x height bytes of memory and more."""
    buffer = io.BytesIO()
    Image.new("1", (width, height)).save(buffer, "PNG")
    return buffer.getvalue()


def png_claiming_size(width, height):
    """A tiny PNG whose header claims `width` x `height` pixels (with a valid checksum),
    as an attacker would send without bothering to compress real pixel data."""
    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    # The IHDR chunk follows the 8-byte signature: length, type, 13 bytes, CRC.
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def has_gps(data):
    with Image.open(io.BytesIO(data)) as image:
        return bool(image.getexif().get_ifd(GPS_IFD))


def stored_files(root):
    """Every file under `root` (the media folder)."""
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []
