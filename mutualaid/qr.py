"""QR codes drawn on the server as inline SVG: no outside service ever sees an invitation
link, and the page needs no image request (the CSP allows none from elsewhere)."""

import segno
from django.utils.safestring import SafeString, mark_safe


def qr_svg(data: str, *, title: str, scale: int = 5) -> SafeString:
    """An <svg> element showing `data` as a QR code, `title` as its accessible name."""
    # Error level M survives a phone screen's glare or a crumpled printout; a white
    # background keeps the code readable on any page colour.
    code = segno.make(data, error="m", micro=False)
    svg = code.svg_inline(scale=scale, title=title, light="#fff", dark="#000", svgclass="qr-code")
    # segno escapes the title and writes no links, scripts or styles, so the markup is
    # safe to inline; role="img" makes screen readers announce it as one picture.
    return mark_safe(svg.replace("<svg ", '<svg role="img" ', 1))  # noqa: S308
