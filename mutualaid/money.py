"""Money is a Decimal with two places, never a float."""

import re
import unicodedata
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.utils.formats import number_format, sanitize_separators
from django.utils.translation import gettext_lazy as _

# Up to 99,999,999.99: enough for any pod, small enough to catch a typo in a form.
MONEY = {
    "max_digits": 10,
    "decimal_places": 2,
    "validators": [MinValueValidator(Decimal("0.01"))],
}
MONEY_MAX = Decimal("99999999.99")
_WHOLE_DIGITS = MONEY["max_digits"] - MONEY["decimal_places"]

# What an amount may look like once the reader's separators are read: digits, maybe a
# point and digits after it. \d is a digit of any script (١٧٥ from an Arabic keyboard
# is 175); anything Decimal would read besides (NaN, Infinity, 1e5, 1_000) is refused.
_AMOUNT = re.compile(r"(?P<sign>[-+]?)(?P<whole>\d*)(?:\.(?P<cents>\d*))?")
# The Arabic decimal separator, as Arabic keyboards type it.
_ARABIC_DECIMAL_SEPARATOR = "\u066b"


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
            value = format(Decimal(value), "f")
        text = sanitize_separators(str(value).strip().replace(_ARABIC_DECIMAL_SEPARATOR, "."))
        match = _AMOUNT.fullmatch(text.strip())
        if match is None or not (match["whole"] or match["cents"]):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        whole, cents = match["whole"], match["cents"] or ""
        if len(cents) > 2:
            raise ValidationError(
                self.error_messages["max_decimal_places"],
                code="max_decimal_places",
                params={"max": 2},
            )
        # Digits of another script as 0-9; bounded first, so this never walks a
        # million characters.
        whole = "".join(str(unicodedata.decimal(d)) for d in whole[:64]).lstrip("0")
        if len(whole) > _WHOLE_DIGITS or len(match["whole"]) > 64:
            raise self._too_much()
        cents = "".join(str(unicodedata.decimal(d)) for d in cents)
        return Decimal(f"{match['sign']}{whole or '0'}.{cents or '0'}").quantize(Decimal("0.01"))

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
            params={
                "limit_value": number_format(self.max_value, decimal_pos=2, force_grouping=True)
            },
        )
