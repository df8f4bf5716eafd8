"""Text that people type and others read: names, payment handles, contacts, references.

Two defences against text that shows something other than what it is, such as a display
name "Ana\u202e 00.005$ diap" that reads "Ana paid $500.00" next to an amount:
- on input, clean_typed_text() takes the invisible bidi controls out: every form field
  for typed text is a TypedTextField, in the app's forms and, for every text column, in
  the admin's (its formfield_overrides);
- on output, the templates show such text isolated from what is around it, in
  <bdi> (isolate() here, the `bdi` filter of pods/templatetags/bidi.py, and
  format_isolated() for the flash messages that name someone), so that text typed
  before this cleaning, or through a path that skips it, cannot reorder a sentence.
"""

import re

from django import forms
from django.db import models
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe

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


def format_isolated(message, values):
    """`message % values` as HTML for a flash message: the translated message escaped,
    each value (a name, an amount, a number) escaped and in its own <bdi>."""
    # Safe: the message is escaped here, and every value by isolate().
    html = conditional_escape(message) % {k: isolate(v) for k, v in values.items()}
    return mark_safe(html)  # noqa: S308


class TypedFormField(forms.CharField):
    """A form field for what a person types for others to read (names, handles,
    contacts, references, notes, reasons, warnings): taken as clean_typed_text() gives
    it, so that a name of nothing but controls is an empty, required field."""

    def to_python(self, value):
        value = super().to_python(value)
        return clean_typed_text(value) if isinstance(value, str) else value


class _TypedModelField:
    """A text column that never holds a bidi control: the value is cleaned whenever it
    becomes a Python value (full_clean(), so every model form: the app's and the admin's)
    and whenever it goes to the database (get_prep_value() calls to_python()), whatever
    path wrote it."""

    def to_python(self, value):
        value = super().to_python(value)
        return clean_typed_text(value) if isinstance(value, str) else value

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": TypedFormField, **kwargs})

    def deconstruct(self):
        # The column is Django's own: migrations record the plain field, so that the
        # cleaning, which is Python's, needs no schema change.
        name, _path, args, kwargs = super().deconstruct()
        base = self.__class__.__mro__[2]
        return name, f"django.db.models.{base.__name__}", args, kwargs


class TypedCharField(_TypedModelField, models.CharField):
    pass


class TypedTextField(_TypedModelField, models.TextField):
    pass
