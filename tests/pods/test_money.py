from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from pods.templatetags.money import format_money


@pytest.mark.parametrize(
    ("language", "value", "currency", "expected"),
    [
        ("en", Decimal("1925"), "USD", "$1,925.00"),
        ("en", Decimal("0.5"), "EUR", "€0.50"),
        ("en", Decimal("-25.00"), "USD", "-$25.00"),
        ("en", 3, "CHF", "CHF3.00"),
        ("en", Decimal("1970"), "USD", "$1,970.00"),
        # CLDR's Spanish: a decimal comma, a grouping point, the currency after.
        ("es", Decimal("1970"), "USD", "1.970,00\xa0US$"),
        ("es", Decimal("1925.5"), "EUR", "1.925,50\xa0€"),
        ("es", Decimal("-25"), "USD", "-25,00\xa0US$"),
        # CLDR's Arabic: led by a right-to-left mark, so that the number and the currency
        # keep their order inside a right-to-left sentence; isolated (RLI … PDI) with "US$"
        # closed by a left-to-right mark, so that it reads "US$", not "$US", and a Latin
        # word after it stays out of it.
        ("ar", Decimal("1970"), "USD", "\u2067\u200f1,970.00\xa0US$\u200e\u2069"),
        ("ar", Decimal("-25"), "USD", "\u2067\u200f-25.00\xa0US$\u200e\u2069"),
    ],
)
def test_money_is_formatted_for_the_readers_language(language, value, currency, expected):
    with translation.override(language):
        assert format_money(value, currency) == expected


def test_money_filter_in_a_template():
    template = Template("{% load money %}{{ amount|money:currency }}")
    with translation.override("en"):
        rendered = template.render(Context({"amount": Decimal("175"), "currency": "GBP"}))
    assert rendered == "£175.00"


def test_nothing_to_show_for_a_missing_or_bad_value():
    assert format_money(None) == ""
    assert format_money("not money") == ""
    assert format_money(Decimal("NaN")) == ""
