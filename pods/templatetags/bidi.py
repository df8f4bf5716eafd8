"""{% load bidi %}, then `{{ name|bdi }}`: text people typed, isolated in a <bdi> so that
it cannot reorder the sentence around it (see mutualaid/text.py). Most useful inside
{% blocktranslate with name=person|bdi %}, where the sentence is the translator's and
the isolation must not depend on them keeping a tag.

Under {% autoescape off %} (the plain-text emails) the value is left as it is: there is
no markup there to isolate it with."""

from django import template

from mutualaid.text import isolate

register = template.Library()


@register.filter(needs_autoescape=True)
def bdi(value, autoescape=True):
    return isolate(value) if autoescape else value
