from decimal import Decimal

from django import forms
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext_lazy as _

from mutualaid.money import MoneyField
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
            "max": number_format(MAX_WEEKLY_PLEDGE, decimal_pos=2, force_grouping=True),
        }
        if len(actions) > 1:
            help_text = f"{help_text} {_('Not needed to pause or cancel.')}"
        self.fields["amount"].help_text = help_text
        self.fields["amount"].error_messages["max_value"] = _(
            "That is more than %(max)s a week. Please check the amount."
        ) % {"max": number_format(MAX_WEEKLY_PLEDGE, decimal_pos=2, force_grouping=True)}
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


class PlanLineForm(forms.Form):
    """One transfer of a week's plan, as an organizer adjusts it. Payers and recipients
    are choices given by the view (active members; recipients enrolled that week), so
    that a page of any length costs no query per line."""

    payer = forms.TypedChoiceField(label=_("Payer"), coerce=int)
    recipient = forms.TypedChoiceField(label=_("Recipient"), coerce=int)
    amount = MoneyField(
        label=_("Amount"),
        error_messages={
            "invalid": _("Enter an amount of money, such as 25 or 25.50."),
            "min_value": _("The amount must be more than zero. To drop a line, tick remove."),
            "max_decimal_places": _("Use at most two decimal places, such as 25.50."),
        },
    )

    def __init__(self, *args, payers, recipients, **kwargs):
        super().__init__(*args, **kwargs)
        blank = [("", "—")]
        self.fields["payer"].choices = blank + list(payers)
        self.fields["recipient"].choices = blank + list(recipients)


class BasePlanFormSet(forms.BaseFormSet):
    # Lines a posted form may have beyond the page's: the plan may have shrunk since.
    SLACK = 20

    def __init__(self, *args, weekly_amount, currency, **kwargs):
        self.weekly_amount = weekly_amount
        self.currency = currency
        # The page shows the plan's lines and a few empty ones, and no script adds more.
        # A far larger count is forged, and building thousands of lines (each choosing
        # among every member) would tie up the server for a minute: refuse it instead.
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
            (
                form.cleaned_data["payer"],
                form.cleaned_data["recipient"],
                form.cleaned_data["amount"],
            )
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
        seen = {}
        totals = {}
        for form in self._kept_forms():
            pair = (form.cleaned_data["payer"], form.cleaned_data["recipient"])
            if pair in seen:
                form.add_error(
                    "payer",
                    _("This payer already has a line for this recipient: change that line."),
                )
            seen[pair] = form
            recipient = form.cleaned_data["recipient"]
            totals[recipient] = totals.get(recipient, Decimal("0")) + form.cleaned_data["amount"]
        over = [recipient for recipient, total in totals.items() if total > self.weekly_amount]
        if over:
            names = dict(self.forms[0].fields["recipient"].choices) if self.forms else {}
            raise forms.ValidationError(
                [
                    _("%(name)s would get %(total)s, more than the %(amount)s a week.")
                    % {
                        "name": names.get(recipient, recipient),
                        "total": format_money(totals[recipient], self.currency),
                        "amount": format_money(self.weekly_amount, self.currency),
                    }
                    for recipient in over
                ]
            )
        if not seen:
            raise forms.ValidationError(
                _("A plan needs at least one transfer. To change everything, edit the lines.")
            )


PlanFormSet = forms.formset_factory(PlanLineForm, formset=BasePlanFormSet, extra=2, can_delete=True)
