"""What a worker's memory comes to while it checks a screenshot, on the worst shapes an
upload can have: under 200 MB for anything accepted, and next to nothing for a refusal,
which comes from the header before any pixel is decoded.

The pictures are checked in a child process with the app loaded as in a worker (about
70 MB), one after another as a worker would meet them, and the child reports its peak
resident memory for each: VmHWM from /proc/self/status, the high-water mark of the process,
set back to the current size before each picture (/proc/self/clear_refs). What an earlier
picture freed but the allocator kept still counts, as it does in a worker. (getrusage's
ru_maxrss is no good here: a child starts with its parent's figure, so it would report this
test process's own size, which making a 50-megapixel picture has just raised.)
"""

import json
import subprocess
import sys

import pytest
from django.conf import settings
from PIL import Image

from receipts import images
from tests.receipts import pictures

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads the peak from /proc/self/status"
)

WORKER_LIMIT_MB = 200

CHILD = r"""
import json, sys, time

from django.urls import get_resolver

from mutualaid.wsgi import application  # sets Django up, as a worker does

get_resolver().url_patterns  # and every view, as the first request does

from django.core.exceptions import ValidationError
from django.core.files import File

from receipts.images import clean_screenshot


def status_mb(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024


for path in sys.argv[1:]:
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")  # the peak starts again from the current size
    with open(path, "rb") as upload:
        before = status_mb("VmRSS")
        started = time.monotonic()
        try:
            kept = clean_screenshot(File(upload, name="upload"))
            outcome = {"kept": [kept.width, kept.height]}
        except ValidationError as error:
            outcome = {"refused": error.code}
        seconds = time.monotonic() - started
    print(json.dumps({"before": before, "peak": status_mb("VmHWM"), "seconds": seconds, **outcome}))
"""


def measure(tmp_path, shapes):
    """Check each of `shapes` (name: function making the file) in turn in one new child
    process; what it reports for each, by name."""
    paths = []
    for number, make in enumerate(shapes.values()):
        content = make()
        assert len(content) <= images.MAX_BYTES, "each shape must pass the 10 MB limit"
        paths.append(tmp_path / f"upload-{number}")
        paths[-1].write_bytes(content)
    child = subprocess.run(
        [sys.executable, "-c", CHILD, *map(str, paths)],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    results = [json.loads(line) for line in child.stdout.splitlines()]
    return dict(zip(shapes, results, strict=True))


def _turned_with_a_large_icc_profile():
    """EXIF asking for a quarter turn (one more copy of the pixels) and an 8 MB ICC profile,
    which Pillow holds, twice over, while it decodes."""
    exif = Image.Exif()
    exif[pictures.ORIENTATION] = 6
    return {"exif": exif, "icc_profile": bytes(8 * 1024 * 1024)}


# JPEGs at every bound a worker accepts, of the kinds that cost the most to decode.
ACCEPTED_JPEGS = {
    "40 MP JPEG": lambda: pictures.jpeg(8000, 5000),
    "50 MP CMYK JPEG, 10,000 px long": lambda: pictures.jpeg(10_000, 5000, mode="CMYK"),
    "50 MP JPEG turned by EXIF, with an 8 MB ICC profile": lambda: pictures.jpeg(
        8160, 6120, **_turned_with_a_large_icc_profile()
    ),
    "6 MP progressive CMYK JPEG": lambda: pictures.jpeg(2000, 3000, mode="CMYK", progressive=True),
}
# And the same for PNG and WebP; the first is 52 MB once decoded (see below).
ACCEPTED_OTHERS = {
    "13 MP RGBA PNG": lambda: pictures.png(3600, 3600),
    "13 MP 16-bit RGBA PNG, interlaced, turned by eXIf": lambda: pictures.png(
        3600, 3600, bit_depth=16, interlaced=True, chunks=[(b"eXIf", pictures.exif_chunk(6))]
    ),
    "13 MP 16-bit grey PNG": lambda: pictures.png(3600, 3600, color_type=0, bit_depth=16),
    "13 MP palette PNG with transparency": lambda: pictures.png(3600, 3600, color_type=3),
    "6 MP RGBA WebP": lambda: pictures.webp(2000, 3000),
    "1 MB of PNG text": lambda: pictures.png_text_bomb(chunks=1),
}

# Shapes refused from their header alone.
REFUSED = {
    "1 x 40,000,000 PNG strip": lambda: pictures.png(1, 40_000_000, color_type=0, bit_depth=1),
    "40 MP RGBA PNG": lambda: pictures.png(8000, 5000),
    "10 MP progressive JPEG": lambda: pictures.jpeg(4000, 2500, progressive=True),
    # Decoded at 1/8 of its size, this one took 233 MB: libjpeg holds every coefficient.
    "40 MP JPEG in separate scans": lambda: pictures.jpeg_in_separate_scans(8000, 5000),
    "JPEG header claiming 65,535 x 65,535": lambda: pictures.jpeg_claiming_size(65_535, 65_535),
    "6.25 MP WebP": lambda: pictures.webp(2500, 2500),
    "WebP header claiming 16,383 x 16,383": lambda: pictures.webp_claiming_size(16_383, 16_383),
    "PNG of 64 MB of compressed text": pictures.png_text_bomb,
}


@pytest.mark.parametrize("shapes", [ACCEPTED_JPEGS, ACCEPTED_OTHERS], ids=["jpeg", "png-webp"])
def test_an_accepted_picture_keeps_a_worker_under_200_mb(tmp_path, shapes):
    results = measure(tmp_path, shapes)
    for shape, result in results.items():
        assert "kept" in result, (shape, result)
        width, height = result["kept"]
        assert width * height <= images.MAX_PIXELS, (shape, result)
        assert max(width, height) <= images.MAX_SIDE, (shape, result)
        assert result["peak"] < WORKER_LIMIT_MB, (shape, result)
    # The first of each is 40 MB or more once decoded: a peak that did not move would mean
    # the measure is blind, and proves nothing.
    first = next(iter(results.values()))
    assert first["peak"] - first["before"] > 40, results


def test_a_picture_too_large_to_decode_is_refused_before_decoding(tmp_path):
    for shape, result in measure(tmp_path, REFUSED).items():
        assert result.get("refused") in {"too_many_pixels", "not_an_image"}, (shape, result)
        # Nothing decoded: the peak is the app's own, give or take the file's bytes.
        assert result["peak"] - result["before"] < 16, (shape, result)
        assert result["seconds"] < 2, (shape, result)
