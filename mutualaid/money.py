"""Money is a Decimal with two places, never a float."""

from decimal import Decimal

from django import forms
from django.core.validators import MinValueValidator

# Up to 99,999,999.99: enough for any pod, small enough to catch a typo in a form.
MONEY = {
    "max_digits": 10,
    "decimal_places": 2,
    "validators": [MinValueValidator(Decimal("0.01"))],
}


class MoneyField(forms.DecimalField):
    """An amount a person types: more than zero, at most two decimal places, written the
    reader's way (localized)."""

    def __init__(self, *, max_value=None, **kwargs):
        # Text with a decimal keypad: a number input would refuse "12,50" in languages
        # that write decimals with a comma.
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})
        )
        super().__init__(
            max_digits=None,
            decimal_places=2,
            min_value=Decimal("0.01"),
            max_value=max_value,
            localize=True,
            **kwargs,
        )
