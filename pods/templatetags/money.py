"""Money for the reader: `{{ amount|money:pod.currency }}`, written by CLDR's rules for
the active language (Babel): "$1,970.00" in English, "1.970,00 US$" in Spanish, and in
Arabic "‏1,970.00 US$", led by the right-to-left mark CLDR gives so that the sign and the
currency keep their places in a right-to-left sentence.

In a right-to-left language the amount is also isolated (RLI … PDI, plain characters,
so that it holds in attributes, <option>s and text emails as in HTML), with a
left-to-right mark closing "US$": without them the "$" lands before the "US" ("$US
100.00"), and a Latin word after the amount ("· Venmo") runs into it."""

import functools
from decimal import Decimal, InvalidOperation

from babel.numbers import format_currency
from django import template
from django.utils import translation

from mutualaid.money import reader_locale

register = template.Library()

RLI, PDI, LRM = "\u2067", "\u2069", "\u200e"


def format_money(value, currency="USD"):
    """`value` (a Decimal or int, never a float) in the active language's money format,
    with the currency's own number of decimal places (two for the dollar)."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return ""
    if not amount.is_finite():
        return ""
    return _formatted(amount, (currency or "USD").upper(), translation.get_language())


@functools.lru_cache(maxsize=4096)
def _formatted(amount, currency, language):
    # A page shows the same few amounts many times (175.00 in every cell of a grid), and
    # Babel takes a fraction of a millisecond for each: each is written once per language
    # (`language` is the active one, which the locale and the direction below follow).
    # Equal amounts (175 and 175.00) are written alike: the currency fixes the decimals.
    written = format_currency(amount, currency, locale=reader_locale())
    if translation.get_language_bidi():
        return f"{RLI}{written}{LRM}{PDI}"
    return written


@register.filter
def money(value, currency="USD"):
    return format_money(value, currency)
