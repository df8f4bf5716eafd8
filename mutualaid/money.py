"""Money is a Decimal with two places, never a float. Read and written the reader's way,
by CLDR's rules for the active language (Babel), never by rules of our own.

How a typed amount is read (MoneyField), in every language:
- digits of any script: 175, ١٧٥ (an Arabic keyboard) and ۱۷۵ are all 175;
- at most one decimal mark, the reader's language's (CLDR: "." in English and Arabic, ","
  in Spanish; the Arabic decimal separator ٫ in any language), followed by one or two
  digits;
- grouping marks (the language's: "," in English and Arabic, "." in Spanish; the Arabic
  thousands separator ٬ and spaces in any language), one kind only, and only between
  groups of three digits before the decimal mark: "1.970,50" in Spanish, "1,970.50" in
  English; "17.50" in Spanish is refused, as is "١٧٥,٥٠" in Arabic;
- refused as ambiguous, in every language: one "." or "," with exactly three digits after
  it and nothing else ("1.970" in Spanish, "1,970" in English). Writers of one country
  read it as 1970 and of another as 1.97 (many Spanish speakers in the US write a decimal
  point), and an amount off by a factor of a thousand is money sent wrong. The message
  offers both unambiguous ways: 1970, or 1.970,00 with the cents.
"""

import functools
import re
import unicodedata
from decimal import Decimal, InvalidOperation

from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency, format_decimal, get_decimal_symbol, get_group_symbol
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.utils import translation
from django.utils.translation import gettext_lazy as _

# Up to 99,999,999.99: enough for any pod, small enough to catch a typo in a form.
MONEY = {
    "max_digits": 10,
    "decimal_places": 2,
    "validators": [MinValueValidator(Decimal("0.01"))],
}
MONEY_MAX = Decimal("99999999.99")
_WHOLE_DIGITS = MONEY["max_digits"] - MONEY["decimal_places"]

# Marks an amount may hold, whatever the language; which of "." and "," is the decimal
# one is the language's. \d is a digit of any script; anything Decimal would read
# besides (NaN, Infinity, 1e5, 1_000, 0x10) is refused.
_ARABIC_DECIMAL = "\u066b"
_ARABIC_GROUP = "\u066c"
_SPACES = " \u00a0\u202f"
_AMOUNT = re.compile(rf"(?P<sign>[-+]?)(?P<body>[\d.,{_ARABIC_DECIMAL}{_ARABIC_GROUP}{_SPACES}]*)")
# Direction marks a copied amount may carry (CLDR puts one before Arabic money, and
# pods/templatetags/money.py isolates it).
_BIDI_MARKS = dict.fromkeys(map(ord, "\u200e\u200f\u061c\u2066\u2067\u2068\u2069"))


@functools.lru_cache(maxsize=32)
def _locale(language):
    try:
        return Locale.parse(translation.to_locale(language))
    except (ValueError, TypeError, UnknownLocaleError):
        return Locale.parse("en")


def reader_locale() -> Locale:
    """Babel's locale for the active language (the site's when none is active)."""
    return _locale(translation.get_language() or settings.LANGUAGE_CODE)


def _ascii_digits(digits):
    return "".join(str(unicodedata.decimal(d)) for d in digits)


class MoneyField(forms.DecimalField):
    """An amount a person types: more than zero, at most two decimal places, at most
    `max_value` (the most the database holds unless told less), written the reader's
    way (localized). Every amount typed into the app or the admin comes through here.

    The text is checked before it becomes a Decimal: "sNaN", "1e1000000" or a million
    digits never reach Decimal arithmetic, not even the comparison `has_changed()`
    makes."""

    default_error_messages = {
        "invalid": _("Enter an amount of money, such as 175 or 87.50."),
        "min_value": _("The amount must be more than zero."),
        "max_value": _("That is more than %(limit_value)s. Please check the amount."),
        "max_decimal_places": _("Use at most two decimal places, such as 87.50."),
        "ambiguous": _(
            "This amount could be read two ways. Write %(plain)s, or %(with_cents)s with the cents."
        ),
    }

    def __init__(self, *, max_value=None, max_digits=None, decimal_places=None, **kwargs):
        # max_digits and decimal_places come from a model field (the admin's forms):
        # the database's limits, which MONEY_MAX and two places already are.
        # Text with a decimal keypad: a number input would refuse "12,50" in languages
        # that write decimals with a comma.
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})
        )
        kwargs["localize"] = True
        super().__init__(max_digits=None, decimal_places=2, **kwargs)
        # Checked in validate(), where the message can show the maximum the reader's way.
        self.min_value = Decimal("0.01")
        self.max_value = MONEY_MAX if max_value is None else min(max_value, MONEY_MAX)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, (Decimal, int)):
            if not Decimal(value).is_finite():
                raise ValidationError(self.error_messages["invalid"], code="invalid")
            return self._read(format(Decimal(value), "f"), decimal=".", group="")
        locale = reader_locale()
        return self._read(
            str(value).translate(_BIDI_MARKS).strip(),
            decimal=get_decimal_symbol(locale),
            group=get_group_symbol(locale),
        )

    def _read(self, text, *, decimal, group):
        """The amount `text` writes, by the rules in this module's docstring."""
        invalid = ValidationError(self.error_messages["invalid"], code="invalid")
        match = _AMOUNT.fullmatch(text)
        if match is None:
            raise invalid
        decimals = {decimal, _ARABIC_DECIMAL}
        groups = (set(_SPACES) | {_ARABIC_GROUP, group}) - decimals - {""}
        body = match["body"]
        points = [i for i, c in enumerate(body) if c in decimals]
        if len(points) > 1:
            raise invalid
        whole, cents = (body[: points[0]], body[points[0] + 1 :]) if points else (body, "")
        used = {c for c in whole if not c.isdigit()}
        if not (whole or cents) or (cents and not cents.isdigit()) or used - groups:
            raise invalid
        parts = re.split(f"[{re.escape(''.join(used))}]", whole) if used else [whole]
        if len(used) > 1 or (
            len(parts) > 1
            and (not 1 <= len(parts[0]) <= 3 or any(len(part) != 3 for part in parts[1:]))
        ):
            raise invalid
        if len(cents) > 2:
            raise ValidationError(
                self.error_messages["max_decimal_places"],
                code="max_decimal_places",
                params={"max": 2},
            )
        if len(whole) > 64:
            raise self._too_much()
        digits = _ascii_digits("".join(parts)).lstrip("0")
        if len(digits) > _WHOLE_DIGITS:
            raise self._too_much()
        if not points and len(parts) == 2 and used <= {".", ","}:
            raise self._ambiguous(Decimal(digits))
        amount = Decimal(f"{digits or '0'}.{_ascii_digits(cents) or '0'}")
        return (-amount if match["sign"] == "-" else amount).quantize(Decimal("0.01"))

    def prepare_value(self, value):
        # An amount shown in the field is written as the field reads it (Django's own
        # formats for Arabic write decimals with a comma, CLDR's with a point).
        if isinstance(value, Decimal) and value.is_finite() or isinstance(value, int):
            return format_decimal(value, format="0.00", locale=reader_locale())
        return value

    def validate(self, value):
        super().validate(value)
        if value is None:
            return
        if value < self.min_value:
            raise ValidationError(
                self.error_messages["min_value"],
                code="min_value",
                params={"limit_value": self.min_value},
            )
        if value > self.max_value:
            raise self._too_much()

    def _too_much(self):
        return ValidationError(
            self.error_messages["max_value"],
            code="max_value",
            params={"limit_value": grouped(self.max_value)},
        )

    def _ambiguous(self, whole):
        return ValidationError(
            self.error_messages["ambiguous"],
            code="ambiguous",
            params={
                "plain": format_decimal(whole, format="0", locale=reader_locale()),
                "with_cents": grouped(whole),
            },
        )


def grouped(amount):
    """`amount` written as CLDR writes it for the reader, grouped, with its cents
    ("10,000.00", "10.000,00"): as a MoneyField reads it back."""
    return format_decimal(amount, format="#,##0.00", locale=reader_locale())


# In a right-to-left language an amount is also isolated (RLI … PDI, plain characters,
# so that it holds in attributes, <option>s and text emails as in HTML), with a
# left-to-right mark closing "US$": without them the "$" lands before the "US" ("$US
# 100.00"), and a Latin word after the amount ("· Venmo") runs into it.
RLI, PDI, LRM = "\u2067", "\u2069", "\u200e"


def format_money(value, currency="USD"):
    """`value` (a Decimal or int, never a float) in the active language's money format
    (CLDR's, by Babel), with the currency's own number of decimal places (two for the
    dollar); "" for nothing or what is not a finite number. The one way the app writes
    money: the `money` template filter, the pages that write many amounts in Python,
    the emails and the messages all call it."""
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


def money_formatter(currency):
    """format_money for one currency, for a page that writes many amounts of it."""
    return functools.partial(format_money, currency=currency)
