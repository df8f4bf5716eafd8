"""Money is a Decimal with two places, never a float."""

from decimal import Decimal

from django.core.validators import MinValueValidator

# Up to 99,999,999.99: enough for any pod, small enough to catch a typo in a form.
MONEY = {
    "max_digits": 10,
    "decimal_places": 2,
    "validators": [MinValueValidator(Decimal("0.01"))],
}
