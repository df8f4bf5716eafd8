"""How allauth meets our one sign-up rule: nobody signs up without an organizer's
invitation. Following a valid link (users.views.join) puts the invitation in the
session; sign-up is open only while it is there and still usable.

allauth's mail (sign-in and verification codes) goes out like all the app's mail: queued
as a task and sent by the worker (mutualaid/mail.py), in its reader's language: the
account's setting, else the language of the page that asked for it (the person asking
is then the reader)."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sites.shortcuts import get_current_site
from django.urls import reverse
from django.utils import translation

from mutualaid import mail
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


ONBOARDING_KEY = "onboarding_pod"


def start_onboarding(request, pod):
    """A new member's first page is "set your weekly pledge" in the pod they joined."""
    request.session[ONBOARDING_KEY] = pod.slug


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        return invitation_from_session(request) is not None

    def get_signup_redirect_url(self, request):
        slug = request.session.pop(ONBOARDING_KEY, None)
        if isinstance(slug, str):
            return reverse("pods:pledge", args=[slug])
        return super().get_signup_redirect_url(request)

    def send_mail(self, template_prefix, email, context):
        # allauth's own send_mail, but queued rather than sent inside the request. Its
        # codes are kept in the session, not the database: nothing to wait for.
        request = allauth_context.request
        ctx = {"request": request, "email": email, "current_site": get_current_site(request)}
        ctx.update(context)
        mail.enqueue([self.render_mail(template_prefix, email, ctx)])

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
