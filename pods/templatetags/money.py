"""Money for the reader: `{{ amount|money:pod.currency }}` gives "$1,925.00" in English
and "1 925,00" grouped the Spanish way, always with two decimal places."""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.formats import number_format

register = template.Library()

# A few currencies pods are likely to use. Any other shows its ISO code after the
# number, which every reader can still understand.
CURRENCY_SYMBOLS = {
    "USD": "$",
    "CAD": "CA$",
    "AUD": "A$",
    "MXN": "MX$",
    "EUR": "€",
    "GBP": "£",
}


def format_money(value, currency="USD"):
    """`value` (a Decimal or int, never a float) in the active language's number format."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return ""
    sign = "-" if amount < 0 else ""
    number = number_format(abs(amount), decimal_pos=2, use_l10n=True, force_grouping=True)
    currency = (currency or "").upper()
    symbol = CURRENCY_SYMBOLS.get(currency)
    if symbol:
        return f"{sign}{symbol}{number}"
    return f"{sign}{number} {currency}".strip()


@register.filter
def money(value, currency="USD"):
    return format_money(value, currency)
