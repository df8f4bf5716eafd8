"""How allauth meets our one sign-up rule: nobody signs up without an organizer's
invitation. Following a valid link (users.views.join) puts the invitation in the
session; sign-up is open only while it is there and still usable.

And how its mail (sign-in codes, address confirmations) reaches people in their own
language: the account's setting, else the language of the page that asked for it (the
person asking is then the reader)."""

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import translation

from pods.models import Invitation

SESSION_KEY = "invitation_id"


def remember_invitation(request, invitation):
    request.session[SESSION_KEY] = invitation.pk


def forget_invitation(request):
    request.session.pop(SESSION_KEY, None)


def invitation_from_session(request):
    """The invitation this visitor followed, if it can still be used; else None."""
    pk = request.session.get(SESSION_KEY)
    if not isinstance(pk, int):
        return None
    return Invitation.objects.usable().select_related("pod").filter(pk=pk).first()


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        return invitation_from_session(request) is not None

    def save_user(self, request, user, form, commit=True):
        # A new account keeps the language its person signed up in: their mail follows it.
        language = translation.get_language()
        if not user.language and language in dict(settings.LANGUAGES):
            user.language = language
        return super().save_user(request, user, form, commit=commit)

    def render_mail(self, template_prefix, email, context, headers=None):
        language = self._language_of(email) or translation.get_language()
        with translation.override(language):
            return super().render_mail(template_prefix, email, context, headers=headers)

    @staticmethod
    def _language_of(email):
        """The language setting of the account at `email` ("" when none)."""
        if not isinstance(email, str):
            return ""
        found = (
            get_user_model()
            .objects.filter(email__iexact=email)
            .values_list("language", flat=True)
            .first()
        )
        return found or ""
