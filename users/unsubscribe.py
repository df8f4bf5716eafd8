"""The one-click way out of the pods' alert emails: a signed link in every such email,
that works without signing in (the person reading the mail may be on another device).

The link's GET only shows a button: mail scanners and link previews fetch every link
in a message, and must not unsubscribe anyone by looking. The button POSTs to the same
address, and so do mail programs that offer "Unsubscribe" (RFC 8058: the message's
List-Unsubscribe and List-Unsubscribe-Post headers), which send no cookie and no CSRF
token: the signature is what proves the link came from us, for this person."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

SALT = "users.unsubscribe.alert_emails"


def unsubscribe_token(user) -> str:
    # No expiry: the link in a message read a year later still works.
    return signing.dumps(user.pk, salt=SALT, compress=False)


def unsubscribe_url(user) -> str:
    return settings.SITE_URL.rstrip("/") + reverse(
        "users:unsubscribe", args=[unsubscribe_token(user)]
    )


def unsubscribe_headers(user) -> dict:
    """The headers that let a mail program offer "Unsubscribe" itself (RFC 2369, 8058)."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(user)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def user_for_token(token):
    """The person the link was made for, or None when it was not made by us (tampered,
    cut short) or the person no longer exists."""
    try:
        pk = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    if not isinstance(pk, int):
        return None
    return get_user_model().objects.filter(pk=pk).first()


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    person = user_for_token(token)
    if person is None:
        return render(request, "users/unsubscribe.html", {"invalid": True}, status=404)
    done = False
    if request.method == "POST":
        # Only this field, whatever else of the account is being saved at the moment.
        get_user_model().objects.filter(pk=person.pk).update(alert_emails=False)
        person.alert_emails = False
        done = True
    return render(
        request,
        "users/unsubscribe.html",
        {
            "person": person,
            "done": done,
            "already": not done and not person.alert_emails,
            "token": token,
        },
    )
