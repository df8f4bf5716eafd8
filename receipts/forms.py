import datetime
from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from mutualaid.money import MoneyField, grouped
from mutualaid.text import TypedFormField
from pods.models import Cycle
from pods.views import distinct_names
from receipts.images import clean_screenshot
from receipts.models import Receipt
from recipients.models import PaymentMethod

# Far above a week's transfer to one neighbor, low enough to catch a slipped finger.
MAX_RECEIPT_AMOUNT = Decimal("10000.00")

# A payment is often sent a few days before its week (a cycle's first week included).
EARLIEST_DAYS_BEFORE_CYCLE = 14


class ReceiptForm(forms.Form):
    """One transfer, posted in seconds from a phone. Organizers also choose who paid
    (they may post for any payer); a donor is always the payer of what they post."""

    payer = forms.TypedChoiceField(label=_("Who paid"), coerce=int)
    recipient = forms.TypedChoiceField(
        label=_("Sent to"),
        coerce=int,
        error_messages={"invalid_choice": _("Choose a recipient enrolled in this cycle.")},
    )
    week = forms.TypedChoiceField(
        label=_("For week"),
        coerce=int,
        error_messages={"invalid_choice": _("Choose a week of this cycle up to next week.")},
    )
    amount = MoneyField(
        label=_("Amount"),
        max_value=MAX_RECEIPT_AMOUNT,
        error_messages={
            "invalid": _("Enter an amount of money, such as 175 or 87.50."),
            "min_value": _("The amount must be more than zero."),
            "max_decimal_places": _("Use at most two decimal places, such as 87.50."),
        },
    )
    method = forms.ChoiceField(label=_("Sent with"), choices=PaymentMethod.choices)
    sent_on = forms.DateField(
        label=_("Sent on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter the date you sent it.")},
    )
    reference = TypedFormField(
        label=_("Reference"),
        required=False,
        max_length=Receipt._meta.get_field("reference").max_length,
        help_text=_("Optional: the app's note or transaction ID."),
    )
    screenshot = forms.FileField(
        label=_("Screenshot"),
        required=False,
        # image/* lets a phone offer its camera and photo library; the server decides
        # what it accepts by decoding the file, not by this hint.
        widget=forms.FileInput(attrs={"accept": "image/*"}),
        help_text=_(
            "Optional: JPEG, PNG or WebP, at most 10 MB. Location and other hidden "
            "details are removed; only the pod's members can see it."
        ),
    )
    submission_key = forms.UUIDField(
        widget=forms.HiddenInput,
        error_messages={
            "required": _("This form is out of date. Check the details and post again."),
            "invalid": _("This form is out of date. Check the details and post again."),
        },
    )

    def __init__(self, *args, cycle, enrollments, weeks, today, payers=None, **kwargs):
        """`enrollments`: the cycle's enrollments with their recipients; `weeks`: the
        weeks a receipt may be posted for; `payers`: (user id, name) pairs, given only
        when the person posting may choose the payer."""
        super().__init__(*args, **kwargs)
        self.cycle = cycle
        self.today = today
        self.enrollments = {e.recipient_id: e for e in enrollments}
        names = distinct_names([(e.recipient_id, e.recipient.display_name) for e in enrollments])
        self.fields["recipient"].choices = [("", _("Choose…"))] + sorted(
            names.items(), key=lambda choice: choice[1].casefold()
        )
        self.fields["week"].choices = [
            (
                week,
                _("Week %(week)s (from %(date)s)")
                % {
                    "week": week,
                    "date": date_format(cycle.week_starts_on(week), "MONTH_DAY_FORMAT"),
                },
            )
            for week in weeks
        ]
        if payers is None:
            del self.fields["payer"]
        else:
            self.fields["payer"].choices = payers
        self.fields["amount"].help_text = _("In %(currency)s.") % {"currency": cycle.pod.currency}
        self.fields["amount"].error_messages["max_value"] = _(
            "That is more than %(max)s. Please check the amount."
        ) % {"max": grouped(MAX_RECEIPT_AMOUNT)}

    def clean_sent_on(self):
        sent_on = self.cleaned_data["sent_on"]
        if sent_on > self.today:
            raise forms.ValidationError(_("The date is in the future. When did you send it?"))
        earliest = self.cycle.starts_on - datetime.timedelta(days=EARLIEST_DAYS_BEFORE_CYCLE)
        if sent_on < earliest:
            raise forms.ValidationError(
                _("This cycle started on %(date)s. Check the date.")
                % {"date": date_format(self.cycle.starts_on, "DATE_FORMAT")}
            )
        return sent_on

    def clean_screenshot(self):
        upload = self.cleaned_data.get("screenshot")
        if not upload:
            return None
        return clean_screenshot(upload)

    def clean(self):
        cleaned = super().clean()
        enrollment = self.enrollments.get(cleaned.get("recipient"))
        week = cleaned.get("week")
        if enrollment and week and not enrollment.first_week <= week <= enrollment.last_week:
            self.add_error(
                "week",
                _("%(name)s is enrolled for weeks %(first)s to %(last)s of this cycle.")
                % {
                    "name": enrollment.recipient.display_name,
                    "first": enrollment.first_week,
                    "last": enrollment.last_week,
                },
            )
        return cleaned


def prefill(query, *, recipients, weeks):
    """Initial values from the "this week" page's link (?recipient=&week=&amount=&method=).
    Anything that is not a valid choice or amount is left out, never an error."""
    initial = {}
    try:
        recipient_id = int(query.get("recipient", ""))
    except ValueError:
        recipient_id = None
    if recipient_id in recipients:
        initial["recipient"] = recipient_id
        # Most pay with the method the recipient asked for.
        initial["method"] = recipients[recipient_id].payment_method
    if query.get("method") in PaymentMethod.values:
        initial["method"] = query["method"]
    try:
        week = int(query.get("week", ""))
    except ValueError:
        week = None
    if week in weeks:
        initial["week"] = week
    try:
        amount = Decimal(query.get("amount", ""))
    except InvalidOperation:
        amount = None
    if (
        amount is not None
        and amount.is_finite()
        and Decimal("0.01") <= amount <= MAX_RECEIPT_AMOUNT
        and amount == amount.quantize(Decimal("0.01"))
    ):
        initial["amount"] = amount.quantize(Decimal("0.01"))
    return initial


class VoidForm(forms.Form):
    reason = TypedFormField(
        label=_("Why is it voided?"),
        max_length=Receipt._meta.get_field("void_reason").max_length,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Every member of the pod sees the receipt struck through with this reason."),
        error_messages={"required": _("Say why the receipt is voided.")},
    )


class BoardFilterForm(forms.Form):
    """The board's filters, read from the query string. A value that is not one of the
    choices is ignored (the filter is left off), so an old or edited link still works."""

    cycle = forms.TypedChoiceField(label=_("Cycle"), coerce=int, required=False)
    week = forms.TypedChoiceField(label=_("Week"), coerce=int, required=False, empty_value=None)
    recipient = forms.TypedChoiceField(
        label=_("Recipient"), coerce=int, required=False, empty_value=None
    )
    payer = forms.TypedChoiceField(label=_("Payer"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args, cycles, cycle, recipients, payers, **kwargs):
        super().__init__(*args, **kwargs)
        labels = {
            Cycle.Status.ACTIVE: _("Cycle %(number)s (running)"),
            Cycle.Status.PLANNED: _("Cycle %(number)s (planned)"),
            Cycle.Status.CLOSED: _("Cycle %(number)s"),
        }
        today = cycle.pod.today()
        self.fields["cycle"].choices = [
            (c.number, labels[c.status(today)] % {"number": c.number}) for c in cycles
        ]
        # "All" agrees with what it stands for (weeks, recipients, payers) in Spanish and
        # Arabic, hence one message each.
        self.fields["week"].choices = [("", pgettext("all weeks", "All"))] + [
            (w, w) for w in cycle.weeks_range
        ]
        self.fields["recipient"].choices = [("", pgettext("all recipients", "All"))] + recipients
        self.fields["payer"].choices = [("", pgettext("all payers", "All"))] + payers

    def value(self, name):
        """The field's valid value, or None when it was left empty or is not a choice
        (an invalid field is left out of cleaned_data)."""
        self.is_valid()
        return self.cleaned_data.get(name)
