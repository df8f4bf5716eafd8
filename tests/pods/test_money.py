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
        ("en", 3, "CHF", "3.00 CHF"),
        ("es", Decimal("1925.5"), "USD", "$1\xa0925,50"),
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
