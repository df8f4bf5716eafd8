"""Money for the reader: `{{ amount|money:pod.currency }}`, written by CLDR's rules for
the active language (Babel): "$1,970.00" in English, "1.970,00 US$" in Spanish, and in
Arabic "‏1,970.00 US$", led by the right-to-left mark CLDR gives so that the sign and the
currency keep their places in a right-to-left sentence.

In a right-to-left language the amount is also isolated (RLI … PDI, plain characters,
so that it holds in attributes, <option>s and text emails as in HTML), with a
left-to-right mark closing "US$": without them the "$" lands before the "US" ("$US
100.00"), and a Latin word after the amount ("· Venmo") runs into it."""

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
    written = format_currency(amount, (currency or "USD").upper(), locale=reader_locale())
    if translation.get_language_bidi():
        return f"{RLI}{written}{LRM}{PDI}"
    return written


@register.filter
def money(value, currency="USD"):
    return format_money(value, currency)
