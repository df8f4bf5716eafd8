from allauth.account.fields import PasswordField
from allauth.account.forms import LoginForm as AllauthLoginForm
from allauth.account.forms import RequestLoginCodeForm as AllauthRequestLoginCodeForm
from allauth.account.forms import SignupForm as AllauthSignupForm
from allauth.account.models import EmailAddress
from allauth.core import context
from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from mutualaid.text import TypedFormField
from users.adapter import forget_invitation, invitation_from_session, start_onboarding


class SignupForm(AllauthSignupForm):
    """allauth's sign-up (email only, no password) that also makes the new person a
    member of the pod whose invitation they followed."""

    display_name = TypedFormField(
        label=_("Display name (optional)"),
        max_length=80,
        required=False,
        help_text=_("How other members of your pod see you. A nickname is fine."),
        widget=forms.TextInput(attrs={"autocomplete": "nickname"}),
    )

    field_order = ["email", "display_name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # allauth builds the form without the request; its middleware keeps it at hand.
        # The page names the pod the person is about to join.
        self.invitation = invitation_from_session(context.request)

    def signup(self, request, user):
        # allauth's hook, called once the user is saved.
        display_name = self.cleaned_data.get("display_name", "").strip()
        if display_name:
            user.display_name = display_name
            user.save(update_fields=["display_name"])

    def save(self, request):
        invitation = invitation_from_session(request)
        if invitation is None:
            raise ValidationError(_("This invitation can no longer be used."), code="unusable")
        # One transaction: if the invitation is used up between the page loading and this
        # moment, the account is not created either.
        with transaction.atomic():
            user = super().save(request)
            invitation.accept(user)
        forget_invitation(request)
        start_onboarding(request, invitation.pod)
        return user

    def try_save(self, request):
        try:
            return super().try_save(request)
        except ValidationError as error:
            if error.code != "unusable":
                raise
            forget_invitation(request)
            response = render(
                request, "users/join_invalid.html", {"reason": "unusable"}, status=410
            )
            return None, response


def ensure_email_address(user):
    """Accounts made outside allauth (the admin, createsuperuser, seed_demo) have no
    allauth EmailAddress row. Without one, the sign-in code cannot mark the address as
    proven, and allauth would then ask for a second code to verify it. Give them the row,
    unverified: the code they are about to enter verifies it."""
    if user is None or not user.email:
        return
    if not EmailAddress.objects.filter(user=user, email__iexact=user.email).exists():
        EmailAddress.objects.create(
            user=user,
            email=user.email.lower(),
            primary=not EmailAddress.objects.filter(user=user, primary=True).exists(),
            verified=False,
        )


class RequestLoginCodeForm(AllauthRequestLoginCodeForm):
    def clean(self):
        cleaned_data = super().clean()
        ensure_email_address(getattr(self, "_user", None))
        return cleaned_data


class LoginForm(AllauthLoginForm):
    """Email alone gets a sign-in code by email; someone who has set a password may
    type it instead. allauth drops the password field when sign-up asks for none, so it
    is put back here, optional."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password"] = PasswordField(
            label=_("Password (optional)"),
            required=False,
            autocomplete="current-password",
            help_text=_("Leave it empty and we email you a sign-in code."),
        )
        if "remember" in self.fields:
            self.fields["remember"].label = _("Stay signed in on this device")
        self.order_fields(["login", "password"])

    def clean(self):
        cleaned_data = super().clean()
        if not self.errors and not cleaned_data.get("password"):
            ensure_email_address(self.user)
        return cleaned_data


class ProfileForm(forms.ModelForm):
    """What a member may set about themselves: how others see them."""

    class Meta:
        model = get_user_model()
        fields = ["display_name", "anonymous_to_recipients", "language", "alert_emails"]
        widgets = {"display_name": forms.TextInput(attrs={"autocomplete": "nickname"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [
            ("", _("Your browser's language")),
            *settings.LANGUAGES,
        ]
