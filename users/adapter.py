"""How allauth meets our one sign-up rule: nobody signs up without an organizer's
invitation. Following a valid link (users.views.join) puts the invitation in the
session; sign-up is open only while it is there and still usable."""

from allauth.account.adapter import DefaultAccountAdapter
from django.urls import reverse

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
