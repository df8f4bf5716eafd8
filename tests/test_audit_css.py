"""The stylesheets: right-to-left ready (logical properties only) and readable (WCAG AA
contrast for every text colour against the backgrounds it is drawn on)."""

import re
from pathlib import Path

import pytest
from django.conf import settings

CSS_DIR = Path(settings.BASE_DIR) / "static" / "css"
STYLESHEETS = sorted(CSS_DIR.glob("*.css"))

# Properties tied to the left or right of the screen. Each has a logical twin that
# follows the writing direction (margin-inline-start, inset-inline-end, text-align: end…).
PHYSICAL = re.compile(
    r"""(?<![\w-])(
        (margin|padding|border)-(left|right)(-\w+)*
        | border-(top|bottom)-(left|right)-radius
        | (left|right)
        | scroll-(margin|padding)-(left|right)
    )\s*:"""
    r"""|(text-align|float|clear)\s*:\s*(left|right)\b""",
    re.VERBOSE,
)

# Shorthands whose four values run top, right, bottom, left: lopsided ones (right and
# left differ) are physical too. Two or three values are symmetric, hence safe.
SHORTHANDS = re.compile(
    r"(?<![\w-])(margin|padding|inset|border-width|border-style|border-color|border-radius)"
    r"\s*:\s*([^;{}]+)"
)


def lopsided(css):
    for match in SHORTHANDS.finditer(css):
        values = match.group(2).split()
        if len(values) == 4 and values[1] != values[3]:
            yield match


# The page backgrounds text sits on when its rule sets none: the page, cards and forms,
# and the warnings' yellow.
PAGE_BACKGROUNDS = ["--color-bg", "--color-surface", "--color-warn-bg"]


def rules(css):
    """(selectors, {property: value}) for every rule, comments dropped, @media unwrapped."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    css = re.sub(r"@media[^{]*\{", "", css)
    found = []
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        declarations = {}
        for declaration in body.split(";"):
            if ":" in declaration:
                name, value = declaration.split(":", 1)
                declarations[name.strip()] = value.strip()
        found.append((selectors.strip(), declarations))
    return found


def custom_properties():
    root = {}
    for path in STYLESHEETS:
        for selectors, declarations in rules(path.read_text()):
            if selectors == ":root":
                root.update({k: v for k, v in declarations.items() if k.startswith("--")})
    return root


def resolve(value, root):
    """A colour as #rrggbb, or None when it is not a plain colour (inherit, none…)."""
    match = re.fullmatch(r"var\((--[\w-]+)\)", value)
    if match:
        value = root.get(match.group(1), "")
    match = re.fullmatch(r"#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})", value)
    if not match:
        return None
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return "#" + digits.lower()


def luminance(colour):
    def channel(c):
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a, b):
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("path", STYLESHEETS, ids=lambda p: p.name)
def test_stylesheets_use_logical_properties_only(path):
    css = re.sub(r"/\*.*?\*/", "", path.read_text(), flags=re.DOTALL)
    physical = [
        f"{path.name}:{css[: match.start()].count(chr(10)) + 1}: {match.group(0)}"
        for match in [*PHYSICAL.finditer(css), *lopsided(css)]
    ]
    assert not physical, "Use the logical property instead:\n" + "\n".join(physical)


def test_the_physical_property_check_catches_what_it_should():
    for css in [
        "margin-left: 1rem",
        "padding-right:0",
        "border-left-width: 2px",
        "left: 0",
        "right : 1px",
        "text-align: left",
        "float: right",
        "border-top-left-radius: 2px",
    ]:
        assert PHYSICAL.search(css), css
    assert list(lopsided("padding: 0 1rem 0 2rem"))
    assert not list(lopsided("padding: 0 1rem 0 1rem; margin: 1rem 0; inset: 0 1px 2px"))
    for css in [
        "margin-inline-start: 1rem",
        "inset-inline-end: 0",
        "text-align: start",
        "border-inline-start-width: 6px",
        "margin-block: 0 1rem",
    ]:
        assert not PHYSICAL.search(css), css


def test_every_text_colour_meets_wcag_aa_contrast():
    """4.5:1 for normal text: each rule's colour against its own background, or against
    every page background when it sets none."""
    root = custom_properties()
    page = [resolve(f"var({name})", root) for name in PAGE_BACKGROUNDS]
    low = []
    checked = 0
    for path in STYLESHEETS:
        for selectors, declarations in rules(path.read_text()):
            colour = resolve(declarations.get("color", ""), root)
            if colour is None:
                continue
            own = resolve(declarations.get("background", ""), root) or resolve(
                declarations.get("background-color", ""), root
            )
            for background in [own] if own else page:
                checked += 1
                ratio = contrast(colour, background)
                if ratio < 4.5:
                    low.append(f"{path.name} {selectors}: {colour} on {background} is {ratio:.2f}")
    assert checked > 20
    assert not low, "\n".join(low)


def test_the_focus_ring_and_field_borders_stand_out():
    """Non-text contrast (WCAG 1.4.11), 3:1: the focus outline on every page background,
    and the border that shows where a form field is."""
    root = custom_properties()
    for background in PAGE_BACKGROUNDS:
        for line in ("--color-focus", "--color-muted"):
            ratio = contrast(resolve(f"var({line})", root), resolve(f"var({background})", root))
            assert ratio >= 3, (line, background, ratio)


def test_contrast_is_computed_as_wcag_defines_it():
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast("#777777", "#ffffff"), 2) == 4.48
