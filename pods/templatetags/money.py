"""Money for the reader: `{{ amount|money:pod.currency }}`, written by CLDR's rules for
the active language (Babel): "$1,970.00" in English, "1.970,00 US$" in Spanish, and in
Arabic "‏1,970.00 US$", led by the right-to-left mark CLDR gives so that the sign and the
currency keep their places in a right-to-left sentence."""

from decimal import Decimal, InvalidOperation

from babel.numbers import format_currency
from django import template

from mutualaid.money import reader_locale

register = template.Library()


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
    return format_currency(amount, (currency or "USD").upper(), locale=reader_locale())


@register.filter
def money(value, currency="USD"):
    return format_money(value, currency)
