"""Dates and times people type, kept to years the pod's calendar can work with.

Two bounds. A fixed one, the same in every form and in the database: years 2000 to 2199.
Far wider than a pod needs; what it buys is that every date the app works out from a
stored one (a time on any pod's clock, a cycle's last week, a payday) is still a date
Python can hold, where year 9999 plus a few hours east of UTC is not. And a nearer one per
field, on the model field (`NoLaterThan`), so that the admin, the app's forms and the
services that call `full_clean()` all refuse an alert shown for ten years or a cycle
planned for 2150.
"""

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.formats import date_format
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

FIRST_DAY = datetime.date(2000, 1, 1)
LAST_DAY = datetime.date(2199, 12, 31)
# The same range for moments, in UTC: [FIRST_MOMENT, END_MOMENT).
FIRST_MOMENT = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
END_MOMENT = datetime.datetime(2200, 1, 1, tzinfo=datetime.UTC)

OUT_OF_RANGE = _("Enter a date between %(first)s and %(last)s.")
YEARS = {"first": FIRST_DAY.year, "last": LAST_DAY.year}


def in_range(value):
    """True when `value` (a date, or an aware date and time) is within the fixed range.
    Compares without converting between time zones, which is what overflows."""
    if isinstance(value, datetime.datetime):
        return FIRST_MOMENT <= value < END_MOMENT
    return FIRST_DAY <= value <= LAST_DAY


def check_range(value):
    if value is not None and not in_range(value):
        raise ValidationError(
            OUT_OF_RANGE,
            code="out_of_range",
            params=YEARS,
        )


# Translated when shown, not when the models are loaded.
_range_message = lazy(lambda: OUT_OF_RANGE % YEARS, str)


def range_constraint(field, *, name, datetimes=False):
    """The fixed range, held by the database. A NULL passes (the field may be empty)."""
    low, high = (FIRST_MOMENT, END_MOMENT) if datetimes else (FIRST_DAY, LAST_DAY)
    upper = "lt" if datetimes else "lte"
    return models.CheckConstraint(
        condition=Q(**{f"{field}__gte": low, f"{field}__{upper}": high}),
        name=name,
        violation_error_message=_range_message(),
    )


class DateField(forms.DateField):
    """A date within the fixed range."""

    def validate(self, value):
        super().validate(value)
        check_range(value)


class DateTimeField(forms.DateTimeField):
    """A date and time within the fixed range."""

    def validate(self, value):
        super().validate(value)
        check_range(value)


class SplitDateTimeField(forms.SplitDateTimeField):
    """The admin's date and time boxes, within the fixed range."""

    def validate(self, value):
        super().validate(value)
        check_range(value)


@deconstructible
class NoLaterThan:
    """A model field validator: at most `days` after today (after now, for a date and
    time). Only the future is bounded: a value saved when it was near enough stays valid
    as time passes, so an old row can always be edited."""

    def __init__(self, days):
        self.days = days

    def limit(self, value):
        if isinstance(value, datetime.datetime):
            return timezone.now() + datetime.timedelta(days=self.days)
        return timezone.localdate() + datetime.timedelta(days=self.days)

    def __call__(self, value):
        if value is None:
            return
        limit = self.limit(value)
        # Compared as they are: converting a far-off year between zones overflows.
        if value > limit:
            if isinstance(limit, datetime.datetime):
                limit = timezone.localtime(limit).date()
            raise ValidationError(
                _("That is too far ahead: choose a date up to %(limit)s."),
                code="too_far",
                params={"limit": date_format(limit, "DATE_FORMAT")},
            )

    def __eq__(self, other):
        return isinstance(other, NoLaterThan) and self.days == other.days
