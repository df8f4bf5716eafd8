from decimal import Decimal

from django import forms
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from mutualaid import dates
from mutualaid.money import MoneyField, grouped
from pods.templatetags.money import format_money

# Far above what a neighbor gives in a week, low enough to catch a slipped finger
# (the database would take up to 99,999,999.99).
MAX_WEEKLY_PLEDGE = Decimal("10000.00")


class PledgeForm(forms.Form):
    """Set, change, pause or cancel the signed-in member's weekly pledge, from this week
    or the next. Which actions make sense depends on what they pledge now."""

    SET = "set"
    PAUSE = "pause"
    CANCEL = "cancel"

    action = forms.ChoiceField(
        label=_("What would you like to do?"),
        widget=forms.RadioSelect,
        initial=SET,
        # Reached when the page was stale: say so rather than "select a valid choice".
        error_messages={
            "invalid_choice": _("Your pledge has changed since this page was shown: try again.")
        },
    )
    amount = MoneyField(
        label=_("Weekly amount"),
        required=False,
        max_value=MAX_WEEKLY_PLEDGE,
        error_messages={
            "invalid": _("Enter an amount of money, such as 25 or 25.50."),
            "min_value": _("The amount must be more than zero. To stop, choose cancel."),
            "max_decimal_places": _("Use at most two decimal places, such as 25.50."),
        },
    )
    starts = forms.TypedChoiceField(
        label=_("Starting"),
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "invalid_choice": _("A change can start this week or next week, never in the past.")
        },
    )

    def __init__(
        self, *args, cycle, weeks, current_week, has_active, has_paused, currency, **kwargs
    ):
        super().__init__(*args, **kwargs)
        if has_active:
            set_label = _("Change my weekly amount")
        elif has_paused:
            set_label = _("Resume my pledge")
        else:
            set_label = _("Pledge a weekly amount")
        actions = [(self.SET, set_label)]
        if has_active:
            actions.append((self.PAUSE, _("Pause my pledge")))
        if has_active or has_paused:
            actions.append((self.CANCEL, _("Cancel my pledge")))
        self.fields["action"].choices = actions
        if len(actions) == 1:
            self.fields["action"].widget = forms.HiddenInput()
        help_text = _("In %(currency)s, at most %(max)s a week.") % {
            "currency": currency,
            "max": grouped(MAX_WEEKLY_PLEDGE),
        }
        if len(actions) > 1:
            # Not in an f-string: makemessages would not find it there.
            not_needed = _("Not needed to pause or cancel.")
            help_text = f"{help_text} {not_needed}"
        self.fields["amount"].help_text = help_text
        self.fields["amount"].error_messages["max_value"] = _(
            "That is more than %(max)s a week. Please check the amount."
        ) % {"max": grouped(MAX_WEEKLY_PLEDGE)}
        self.fields["starts"].choices = [
            (week, _week_label(cycle, week, current_week)) for week in weeks
        ]

    def clean(self):
        cleaned = super().clean()
        amount_missing = cleaned.get("amount") is None and "amount" not in self.errors
        if cleaned.get("action") == self.SET and amount_missing:
            self.add_error("amount", _("Enter the amount you want to give each week."))
        return cleaned


def _week_label(cycle, week, current_week):
    values = {"week": week, "date": date_format(cycle.week_starts_on(week), "MONTH_DAY_FORMAT")}
    if current_week is None:
        return _("the start of the cycle (week %(week)s, from %(date)s)") % values
    if week == current_week:
        return _("this week (week %(week)s, from %(date)s)") % values
    return _("next week (week %(week)s, from %(date)s)") % values


class PayerField(forms.CharField):
    """A payer typed (or picked from the page's <datalist>) by name: one text input
    instead of a dropdown of every member on every line. `labels` is {user id: label}."""

    default_error_messages = {
        "unknown": _("Pick a member of the pod from the list."),
    }

    def __init__(self, *, labels, **kwargs):
        super().__init__(**kwargs)
        self.ids = {label.casefold(): pk for pk, label in labels.items()}

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        pk = self.ids.get(" ".join(value.split()).casefold())
        if pk is None:
            raise forms.ValidationError(self.error_messages["unknown"], code="unknown")
        return pk


class PlanLineForm(forms.Form):
    """One transfer to the recipient whose lines are being edited. The payer is read by
    name against the labels the view gives (active members), so that a page of any
    length costs no query per line."""

    payer = forms.CharField(label=_("Payer"))
    amount = MoneyField(
        label=_("Amount"),
        error_messages={
            "invalid": _("Enter an amount of money, such as 25 or 25.50."),
            "min_value": _("The amount must be more than zero. To drop a line, tick remove."),
            "max_decimal_places": _("Use at most two decimal places, such as 25.50."),
        },
    )

    def __init__(self, *args, labels, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["payer"] = PayerField(
            label=_("Payer"),
            labels=labels,
            # One list on the page for every line (see pledges/plan.html).
            widget=forms.TextInput(attrs={"list": "plan-payers", "autocomplete": "off"}),
        )


class BasePlanFormSet(forms.BaseFormSet):
    """One recipient's lines of a week's plan."""

    # Lines a posted form may have beyond the page's: the plan may have shrunk since.
    SLACK = 20

    def __init__(self, *args, recipient_id, recipient_name, weekly_amount, currency, **kwargs):
        self.recipient_id = recipient_id
        self.recipient_name = recipient_name
        self.weekly_amount = weekly_amount
        self.currency = currency
        # The page shows the plan's lines and an empty one, and no script adds more. A far
        # larger count is forged: refuse it rather than build thousands of lines.
        self.max_num = self.absolute_max = (
            len(kwargs.get("initial") or []) + self.extra + self.SLACK
        )
        self.validate_max = True
        super().__init__(*args, **kwargs)

    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = _("Remove")

    def lines(self):
        """The kept lines as (payer id, recipient id, amount), once valid."""
        return [
            (form.cleaned_data["payer"], self.recipient_id, form.cleaned_data["amount"])
            for form in self._kept_forms()
        ]

    def _kept_forms(self):
        # Blank extra lines have no cleaned data; removed lines are skipped.
        return [
            form for form in self.forms if form.cleaned_data and not self._should_delete_form(form)
        ]

    def clean(self):
        if any(self.errors):
            return
        seen = set()
        total = Decimal("0")
        for form in self._kept_forms():
            payer = form.cleaned_data["payer"]
            if payer in seen:
                form.add_error(
                    "payer",
                    _("This payer already has a line for this recipient: change that line."),
                )
            seen.add(payer)
            total += form.cleaned_data["amount"]
        if total > self.weekly_amount:
            raise forms.ValidationError(
                _("%(name)s would get %(total)s, more than the %(amount)s a week.")
                % {
                    "name": self.recipient_name,
                    "total": format_money(total, self.currency),
                    "amount": format_money(self.weekly_amount, self.currency),
                }
            )


PlanFormSet = forms.formset_factory(PlanLineForm, formset=BasePlanFormSet, extra=1, can_delete=True)


class NextCycleForm(forms.Form):
    """Plan the cycle after the current one (see services.start_next_cycle); the admin's
    action and the organizers' cycle page both use it."""

    starts_on = dates.DateField(
        label=_("Starts on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    weeks = forms.IntegerField(label=_("Weeks"), min_value=1, max_value=104)
    weekly_amount = MoneyField(label=_("Weekly amount per recipient"))
    slots = forms.IntegerField(
        label=_("Slots"),
        min_value=1,
        max_value=32767,
        help_text=_("How many neighbors the pod supports at once in the new cycle."),
    )


class PlannedCycleForm(forms.Form):
    """Change a cycle that has not started: its start, weekly amount and slots (see
    services.change_planned_cycle)."""

    starts_on = dates.DateField(
        label=_("Starts on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    weekly_amount = MoneyField(label=_("Weekly amount per recipient"))
    slots = forms.IntegerField(
        label=_("Slots"),
        min_value=1,
        max_value=32767,
        help_text=_("How many neighbors the pod supports at once in this cycle."),
    )
