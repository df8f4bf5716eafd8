from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import check_for_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django.views.i18n import set_language as django_set_language

from mutualaid.text import format_isolated
from pods.models import Invitation, Membership, hash_token
from users.adapter import remember_invitation
from users.forms import ProfileForm

# Status codes of the page a bad link gets: an unknown link is Not Found; one that
# existed but can no longer be used is Gone. Either way nothing is created.
INVALID_STATUS = {
    "unknown": 404,
    Invitation.Status.EXPIRED: 410,
    Invitation.Status.USED_UP: 410,
    Invitation.Status.REVOKED: 410,
    "unusable": 410,
}


def _invalid(request, reason):
    return render(
        request, "users/join_invalid.html", {"reason": reason}, status=INVALID_STATUS[reason]
    )


@never_cache
def join(request, token):
    """Where an invitation link leads. Signed out: the invitation is kept in the session
    and the neighbor signs up (or signs in, if they already have an account). Signed in:
    a button to join this pod too."""
    invitation = (
        Invitation.objects.select_related("pod").filter(token_hash=hash_token(token)).first()
    )
    if invitation is None:
        return _invalid(request, "unknown")
    status = invitation.status()
    if status != Invitation.Status.ACTIVE:
        return _invalid(request, status)

    if not request.user.is_authenticated:
        remember_invitation(request, invitation)
        # Someone with an account already (from another pod) signs in and comes back.
        login_url = f"{reverse('account_login')}?{urlencode({'next': request.path})}"
        return render(
            request, "users/join.html", {"invitation": invitation, "login_url": login_url}
        )

    membership = Membership.objects.filter(pod=invitation.pod, user=request.user).first()
    already_member = invitation.grants_nothing_to(membership)
    if request.method == "POST" and not already_member:
        try:
            invitation.accept(request.user)
        except ValidationError:
            return _invalid(request, "unusable")
        messages.success(
            request, format_isolated(_("Welcome to %(pod)s."), {"pod": invitation.pod.name})
        )
        # Straight to what a new member does first: set a weekly pledge.
        return redirect("pods:pledge", slug=invitation.pod.slug)
    return render(
        request,
        "users/join.html",
        {"invitation": invitation, "membership": membership, "already_member": already_member},
    )


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    """How the signed-in person appears to others: their display name, and whether
    recipients see it on the receipts sent to them."""
    form = ProfileForm(request.POST if request.method == "POST" else None, instance=request.user)
    if form.is_bound and form.is_valid():
        form.save()
        messages.success(request, _("Saved."))
        return redirect("users:profile")
    return render(
        request, "users/profile.html", {"form": form}, status=400 if form.is_bound else 200
    )


@require_POST
def set_language(request):
    """The language menu on every page: Django's set_language (the cookie, and back to
    the page the menu was on), and for a signed-in person their account's setting too."""
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES) or not check_for_language(language):
        # Only the languages the menu offers: anything else changes nothing.
        request.POST = request.POST.copy()
        request.POST.pop("language", None)
        language = ""
    response = django_set_language(request)
    if language and request.user.is_authenticated:
        request.user.language = language
        request.user.save(update_fields=["language"])
    return response
