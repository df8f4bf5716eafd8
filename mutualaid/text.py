"""Text that people type and others read: names, payment handles, contacts, references.

Two defences against text that shows something other than what it is, such as a display
name "Ana\u202e 00.005$ diap" that reads "Ana paid $500.00" next to an amount:
- on input, clean_typed_text() takes the invisible bidi controls out (the forms that
  take names, handles, contacts and references call it in their clean_<field>);
- on output, the templates show such text isolated from what is around it, in
  <bdi> (isolate() here, the `bdi` filter of pods/templatetags/bidi.py), so that text
  typed before this cleaning, or through a path that skips it, cannot reorder a sentence.
"""

import re

from django.utils.html import format_html

# The embeddings and overrides (U+202A-U+202E), the isolates (U+2066-U+2069), and the
# marks (U+200E, U+200F and Arabic's U+061C). Each is invisible and exists only to change
# the order in which the characters around it are shown. The marks are taken out too:
# they can move an amount or punctuation just as well inside a name, and a name that is
# shown isolated (with its direction taken from its first letter) does not need them.
# Joiners (U+200C, U+200D) stay: Persian and Indic names and emoji are spelt with them.
BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def strip_bidi_controls(value: str) -> str:
    return BIDI_CONTROLS.sub("", value)


def clean_typed_text(value: str) -> str:
    """What a person typed in a name, handle, contact or reference field, as it is kept:
    without bidi controls, and without the spaces around it (some controls sit between
    a space and the edge, so the spaces are trimmed after they are gone).

    Taken out, not refused: the controls are invisible, and often come in unnoticed with
    a name pasted from a messaging app; an error about characters nobody can see or
    delete would stop the person with nothing to do. What is kept is the text they saw,
    in the order the characters were typed."""
    return strip_bidi_controls(value).strip()


def isolate(value):
    """`value`, escaped, in a <bdi>: shown in its own direction, whatever it holds,
    without reordering the sentence around it. Only for element content: never for an
    attribute, a <title> or an <option>, which hold plain text."""
    return format_html("<bdi>{}</bdi>", value)
