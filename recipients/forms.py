from django import forms
from django.conf import settings
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from mutualaid.forms import SubmissionKeyField
from mutualaid.text import TypedFormField
from recipients.models import Enrollment, PaymentMethod, Recipient, Referral
from recipients.payment import handle_problem

NAME_MAX = Referral._meta.get_field("display_name").max_length
CONTACT_MAX = Referral._meta.get_field("contact").max_length
NOTE_MAX = Referral._meta.get_field("note").max_length
HANDLE_MAX = Recipient._meta.get_field("payment_handle").max_length
END_REASON_MAX = Enrollment._meta.get_field("end_reason").max_length
MOVE_REASON_MAX = 300


class ReferralForm(forms.Form):
    """Who to refer, and nothing that would make them prove need: a name, at most one way
    to reach them and a short note. Any other field sent along is ignored."""

    display_name = TypedFormField(
        label=_("Their name"),
        max_length=NAME_MAX,
        help_text=_("A nickname or first name is fine."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={
            "required": _("Give a name for your neighbor: a nickname is fine."),
            "max_length": ngettext_lazy(
                "Keep the name to %(limit_value)d character at most.",
                "Keep the name to %(limit_value)d characters at most.",
                "limit_value",
            ),
        },
    )
    contact = TypedFormField(
        label=_("How to reach them (optional)"),
        max_length=CONTACT_MAX,
        required=False,
        help_text=_("One phone number, email or other way, so an organizer can call them."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={
            "max_length": ngettext_lazy(
                "Keep this to %(limit_value)d character at most.",
                "Keep this to %(limit_value)d characters at most.",
                "limit_value",
            ),
        },
    )
    note = TypedFormField(
        label=_("A short note for the organizers (optional)"),
        max_length=NOTE_MAX,
        required=False,
        help_text=_(
            "For example, the best time to call. Nobody has to explain why they need support."
        ),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "max_length": ngettext_lazy(
                "Keep the note to %(limit_value)d character at most.",
                "Keep the note to %(limit_value)d characters at most.",
                "limit_value",
            ),
        },
    )
    submission_key = SubmissionKeyField()

    # Bidi controls out of what others read next to amounts (see mutualaid/text.py).


class MoveForm(forms.Form):
    to_position = forms.IntegerField(
        label=_("New place in the queue"),
        min_value=1,
        help_text=_("1 is next in line."),
        error_messages={
            "required": _("Give the new place, such as 1."),
            "invalid": _("Give the new place as a number, such as 1."),
            "min_value": _("1 is the first place."),
        },
    )
    reason = TypedFormField(
        label=_("Why (kept and shown to the other organizers)"),
        max_length=MOVE_REASON_MAX,
        help_text=_("The waitlist is first come, first served: say why this neighbor moves."),
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={
            "required": _("Say why this neighbor is moved."),
            "max_length": ngettext_lazy(
                "Keep the reason to %(limit_value)d character at most.",
                "Keep the reason to %(limit_value)d characters at most.",
                "limit_value",
            ),
        },
    )


class PaymentForm(forms.Form):
    """Where neighbors send the money, and at most one way to reach the recipient."""

    payment_method = forms.ChoiceField(label=_("Payment method"), choices=PaymentMethod.choices)
    payment_handle = TypedFormField(
        label=_("Payment handle"),
        max_length=HANDLE_MAX,
        required=False,
        help_text=_("Such as $name for Cash App. Not needed for cash."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={
            "max_length": ngettext_lazy(
                "Keep the handle to %(limit_value)d character.",
                "Keep the handle to %(limit_value)d characters.",
                "limit_value",
            )
        },
    )
    contact = TypedFormField(
        label=_("How to reach them (optional)"),
        max_length=CONTACT_MAX,
        required=False,
        help_text=_("One phone number, email or other way. Nothing more."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={
            "max_length": ngettext_lazy(
                "Keep this to %(limit_value)d character at most.",
                "Keep this to %(limit_value)d characters at most.",
                "limit_value",
            )
        },
    )

    language = forms.ChoiceField(
        label=_("Language of their private page"),
        choices=[("", _("Their browser's language")), *settings.LANGUAGES],
        required=False,
        help_text=_("They can change it on their page."),
    )

    # A handle that shows other than it is sends money elsewhere (see mutualaid/text.py).

    def clean(self):
        cleaned_data = super().clean()
        method = cleaned_data.get("payment_method")
        if method and method != PaymentMethod.CASH and not cleaned_data.get("payment_handle"):
            self.add_error("payment_handle", _("Give the handle neighbors send the money to."))
        elif method and "payment_handle" in cleaned_data:
            # Payers get a one-tap link only from a handle that fits its method: say
            # why one does not, before anyone sends money to a typo.
            problem = handle_problem(method, cleaned_data["payment_handle"])
            if problem:
                self.add_error("payment_handle", problem)
        return cleaned_data


class LinkForm(forms.Form):
    """A new private link, in a language the organizer may choose for it."""

    language = PaymentForm.base_fields["language"]


class EnrollForm(PaymentForm):
    first_week = forms.TypedChoiceField(
        label=_("Support starts in"),
        coerce=int,
        error_messages={"invalid_choice": _("Choose one of the weeks still to come.")},
    )

    def __init__(self, *args, cycle, weeks, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["first_week"].choices = [
            (
                week,
                _("week %(week)s (from %(date)s)")
                % {
                    "week": week,
                    "date": date_format(cycle.week_starts_on(week), "MONTH_DAY_FORMAT"),
                },
            )
            for week in weeks
        ]


class EndForm(forms.Form):
    """Leaving asks nothing: a word for the organizers is welcome, never required."""

    reason = TypedFormField(
        label=_("A word for the organizers (optional)"),
        max_length=END_REASON_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={
            "max_length": ngettext_lazy(
                "Keep it to %(limit_value)d character at most.",
                "Keep it to %(limit_value)d characters at most.",
                "limit_value",
            )
        },
    )
