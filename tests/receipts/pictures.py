"""Pictures made on the spot for upload tests: with GPS and other metadata, broken, of
every kind a phone or a browser may send, or built to unpack into far more pixels than
their size suggests."""

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


def mpo(first=(40, 20), second=(20, 40)):
    """A multi-picture JPEG (MPO) as phones write for portrait depth or bursts: a red
    first picture carrying GPS, an ICC profile and a comment, then a blue second one of
    another size."""
    pictures = [Image.new("RGB", first, "red"), Image.new("RGB", second, "blue")]
    with Image.open(io.BytesIO(jpeg_with_gps(rotated=False))) as phone:
        exif = phone.getexif()
    buffer = io.BytesIO()
    pictures[0].save(
        buffer,
        "MPO",
        save_all=True,
        append_images=pictures[1:],
        exif=exif,
        icc_profile=b"Neighbor's Phone display profile",
        comment=b"Corner of Maple and 3rd",
    )
    return buffer.getvalue()


def animated(image_format, size=(30, 20)):
    """A two-frame animation (GIF, PNG or WEBP): red, then blue."""
    frames = [Image.new("RGB", size, "red"), Image.new("RGB", size, "blue")]
    buffer = io.BytesIO()
    frames[0].save(
        buffer, image_format, save_all=True, append_images=frames[1:], duration=500, loop=0
    )
    return buffer.getvalue()


def heic():
    """The opening of an HEIC photo as an iPhone writes it: an ISO media file whose "ftyp"
    box names the brands heic and mif1, then its "meta" box. Pillow has no HEIC reader."""
    ftyp = b"ftyp" + b"heic" + b"\0\0\0\0" + b"mif1heicmiaf"
    meta = (
        b"meta" + b"\0\0\0\0" + struct.pack(">I", 33) + b"hdlr" + b"\0" * 8 + b"pict" + b"\0" * 13
    )
    return struct.pack(">I", 4 + len(ftyp)) + ftyp + struct.pack(">I", 4 + len(meta)) + meta


def svg():
    return (
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="40" height="20">'
        b'<rect width="40" height="20" fill="red"/><script>alert(1)</script></svg>'
    )


def truncated_jpeg():
    """A real photo-like JPEG (noise, so that its data is long) cut off two thirds in,
    as an interrupted upload leaves it."""
    buffer = io.BytesIO()
    Image.effect_noise((200, 200), 64).convert("RGB").save(buffer, "JPEG", quality=90)
    data = buffer.getvalue()
    return data[: len(data) * 2 // 3]


def jpeg(width, height, *, mode="RGB", **options):
    """A JPEG of one color; `options` go to Pillow (progressive, subsampling, exif...)."""
    buffer = io.BytesIO()
    Image.new(mode, (width, height), "#3a7" if mode != "CMYK" else (200, 50, 100, 0)).save(
        buffer, "JPEG", **options
    )
    return buffer.getvalue()


def webp(width, height, *, mode="RGBA"):
    buffer = io.BytesIO()
    Image.new(mode, (width, height), "#3a7").save(buffer, "WEBP", quality=50)
    return buffer.getvalue()


def webp_claiming_size(width, height):
    """The header of an extended WebP (VP8X) whose canvas is `width` x `height`."""
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\0" * 4
    vp8x += (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", 4 + len(vp8x)) + b"WEBP" + vp8x


# Channels for each PNG color type: gray, RGB, palette, gray and alpha, RGBA.
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
# Adam7 interlacing: the first column and row of each of its seven passes, and their steps.
_ADAM7 = [
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
]


def png(width, height, *, color_type=6, bit_depth=8, interlaced=False, chunks=()):
    """A complete, valid PNG of `width` x `height` black (or transparent) pixels, written a
    block at a time so that making it costs next to no memory however large it is: a
    decompression bomb, or a picture at one of the bounds. `chunks`: (type, data) pairs
    written before the pixels (text, eXIf)."""
    bits = _PNG_CHANNELS[color_type] * bit_depth
    if interlaced:
        passes = [
            (-(-(width - x) // dx), -(-(height - y) // dy))
            for x, y, dx, dy in _ADAM7
            if width > x and height > y
        ]
    else:
        passes = [(width, height)]
    raw_length = sum(rows * (1 + -(-columns * bits // 8)) for columns, rows in passes)
    compressor = zlib.compressobj(9)
    block = bytes(1024 * 1024)
    pixels = []
    for start in range(0, raw_length, len(block)):
        pixels.append(compressor.compress(block[: raw_length - start]))
    pixels.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, int(interlaced))
    out = [b"\x89PNG\r\n\x1a\n", _png_chunk(b"IHDR", header)]
    if color_type == 3:
        out += [_png_chunk(b"PLTE", bytes(3)), _png_chunk(b"tRNS", b"\0")]
    out += [_png_chunk(kind, data) for kind, data in chunks]
    out += [_png_chunk(b"IDAT", b"".join(pixels)), _png_chunk(b"IEND", b"")]
    return b"".join(out)


def _png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_text_bomb(chunks=64):
    """A small PNG with `chunks` compressed text chunks of a megabyte each once unpacked."""
    text = zlib.compress(b"a" * (1024 * 1024 - 1024), 9)
    return png(100, 100, chunks=[(b"zTXt", b"Comment%d\0\0" % i + text) for i in range(chunks)])


def exif_chunk(orientation):
    """An EXIF block (for a PNG's eXIf chunk) holding only an orientation."""
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    return exif.tobytes()


def jpeg_in_separate_scans(width, height):
    """A grey baseline JPEG (not progressive) whose three components come in three scans
    of one component each, as some scanners and encoders write them. Pillow cannot write
    one, so it is written here: every block's coefficients are zero, which Huffman tables of
    a single one-bit code each ("0" for a DC difference of zero, and for end-of-block) make
    into zero bytes."""

    def segment(marker, body):
        return b"\xff" + marker + struct.pack(">H", 2 + len(body)) + body

    one_code = bytes([1] + [0] * 15) + b"\0"  # one code of one bit, for the symbol 0
    out = [
        b"\xff\xd8",
        segment(b"\xdb", b"\0" + bytes([1] * 64)),
        segment(
            b"\xc0",
            struct.pack(">BHHB", 8, height, width, 3)
            + b"".join(bytes([c, 0x11, 0]) for c in (1, 2, 3)),
        ),
        segment(b"\xc4", b"\x00" + one_code + b"\x10" + one_code),
    ]
    bits = 2 * -(-width // 8) * -(-height // 8)  # per block: a DC code and end-of-block
    data = bytes(bits // 8) + (bytes([(1 << (8 - bits % 8)) - 1]) if bits % 8 else b"")
    for component in (1, 2, 3):
        out += [segment(b"\xda", bytes([1, component, 0x00, 0, 63, 0])), data]
    out.append(b"\xff\xd9")
    return b"".join(out)


def jpeg_claiming_size(width, height):
    """A small JPEG whose frame header claims `width` x `height` pixels."""
    data = bytearray(jpeg(8, 8))
    frame = data.index(b"\xff\xc0")  # start of frame: marker, length, precision, then the size
    data[frame + 5 : frame + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def has_gps(data):
    with Image.open(io.BytesIO(data)) as image:
        return bool(image.getexif().get_ifd(GPS_IFD))


def stored_files(root):
    """Every file under `root` (the media folder)."""
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []
