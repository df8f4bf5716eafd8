"""Payment handles: what each method's handle looks like, and the one-tap link that opens
the payment app on the right person with the amount filled in.

A link is built only from a stored handle that fits its method's syntax exactly, never
from anything a payer typed: a handle that does not fit gets no link (the payer copies it
instead), and the organizer who enters it is told why (`handle_problem`)."""

import re
from decimal import Decimal
from urllib.parse import quote, urlencode

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from recipients.models import PaymentMethod

# $cashtag: 1 to 20 letters or digits, at least one letter (no dashes, dots or spaces).
CASHTAG = re.compile(r"\$?(?=[0-9]*[A-Za-z])[A-Za-z0-9]{1,20}")
# @username: 5 to 30 letters, digits, dashes or underscores.
VENMO = re.compile(r"@?[A-Za-z0-9_-]{5,30}")
# The name after paypal.me/: 1 to 20 letters or digits.
PAYPAL = re.compile(r"[A-Za-z0-9]{1,20}")
# Zelle sends to an email address or a (US) phone number.
PHONE = re.compile(r"\+?1?[\s().-]*(?:[0-9][\s().-]*){10}")

# The currencies each app's link can carry (Cash App and Venmo move dollars; Cash App
# pounds too): in another pod's currency the link would ask for the wrong money.
LINK_CURRENCIES = {
    PaymentMethod.CASH_APP: {"USD", "GBP"},
    PaymentMethod.VENMO: {"USD"},
}


def handle_problem(method, handle):
    """Why `handle` cannot be a handle for `method`, or "" when it can. Cash and "other"
    take anything (cash needs no handle)."""
    if not handle or method in (PaymentMethod.CASH, PaymentMethod.OTHER):
        return ""
    if method == PaymentMethod.CASH_APP and not CASHTAG.fullmatch(handle):
        return _(
            "A Cash App $cashtag is $ and 1 to 20 letters or digits, with at least one "
            "letter: no dashes, dots or spaces."
        )
    if method == PaymentMethod.VENMO and not VENMO.fullmatch(handle):
        return _(
            "A Venmo username is 5 to 30 letters, digits, dashes or underscores, "
            "with or without the @."
        )
    if method == PaymentMethod.PAYPAL and not PAYPAL.fullmatch(handle):
        return _(
            "A PayPal.me name is the 1 to 20 letters or digits after paypal.me/ (give "
            "only the name)."
        )
    if method == PaymentMethod.ZELLE and not _is_zelle(handle):
        return _("Zelle sends to an email address or a 10-digit phone number.")
    return ""


def _is_zelle(handle):
    if "@" in handle:
        try:
            validate_email(handle)
        except ValidationError:
            return False
        return True
    return bool(PHONE.fullmatch(handle))


def validate_handle(method, handle):
    """Raise the ValidationError a form shows next to the handle."""
    problem = handle_problem(method, handle)
    if problem:
        raise ValidationError(problem, code="handle_syntax")


def url_amount(amount: Decimal) -> str:
    """175.00 as "175", 87.50 as "87.50": how the apps' links write an amount."""
    amount = Decimal(amount).quantize(Decimal("0.01"))
    return f"{amount:.0f}" if amount == amount.to_integral_value() else f"{amount:.2f}"


def pay_link(*, method, handle, amount, currency, note):
    """The link that opens the payment app on this handle with `amount` (and, where the
    app takes one, `note`) filled in; "" when the method has no such link, the handle
    does not fit it, or the app cannot carry the pod's currency."""
    if not handle or handle_problem(method, handle) or amount <= 0:
        return ""
    if currency not in LINK_CURRENCIES.get(method, {currency}):
        return ""
    value = url_amount(amount)
    if method == PaymentMethod.CASH_APP:
        return f"https://cash.app/${quote(handle.lstrip('$'), safe='')}/{value}"
    if method == PaymentMethod.VENMO:
        query = urlencode(
            {"txn": "pay", "recipients": handle.lstrip("@"), "amount": value, "note": note},
            quote_via=quote,
        )
        return f"https://venmo.com/?{query}"
    if method == PaymentMethod.PAYPAL:
        # paypal.me takes the currency after the amount; dollars are its default.
        suffix = "" if currency == "USD" else currency
        return f"https://paypal.me/{quote(handle, safe='')}/{value}{suffix}"
    return ""
