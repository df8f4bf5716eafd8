"""Money for the reader: `{{ amount|money:pod.currency }}`, written by CLDR's rules for
the active language (Babel): "$1,970.00" in English, "1.970,00 US$" in Spanish, and in
Arabic "US$ 1,970.00" isolated from the text around it (see mutualaid.money)."""

from django import template

from mutualaid.money import format_money

__all__ = ["format_money", "money"]

register = template.Library()


@register.filter
def money(value, currency="USD"):
    return format_money(value, currency)
