"""The recipient's private link, /r/<secret>/: no account, no password.

The secret in the address is the only key, so these pages:
- answer a wrong, revoked or erased secret with a plain 404, and count such misses per
  client address: past LINK_MISSES_ALLOWED in LINK_MISS_WINDOW seconds, every link page
  answers 429 to that address (checked before the lookup, so a blocked guesser cannot tell
  a hit from a miss);
- never leak the secret to another site (Referrer-Policy: same-origin: the address, secret
  and all, is sent as the referrer only to this site, and these pages link nowhere else),
  are never stored by a cache (Cache-Control: private, no-store), and ask search engines
  to stay away;
- keep Django's CSRF check, as every other form of the site does, rather than an
  exemption to reason about: no other site can make a recipient's browser post here.
  (Under "no-referrer" browsers send "Origin: null" with these POSTs, which the check
  refuses; "same-origin" sends the real origin.)
"""

import functools

from allauth.account.adapter import get_adapter
from django.core.cache import cache
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_http_methods, require_POST
from django.views.defaults import page_not_found

from pods.models import hash_token
from recipients import services
from recipients.forms import EndForm
from recipients.models import Enrollment, Recipient

LINK_MISSES_ALLOWED = 20
LINK_MISS_WINDOW = 10 * 60


def _miss_key(request):
    return f"recipient-link-misses:{get_adapter(request).get_client_ip(request)}"


def _private(response):
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    # Replace, not add to, anything set before: only these two directives.
    response.headers.pop("Cache-Control", None)
    patch_cache_control(response, private=True, no_store=True)
    return response


def recipient_link_view(view):
    """Find the recipient by the secret in the URL (or 404, counting the miss) and give
    the response the private link's headers."""

    @functools.wraps(view)
    def wrapper(request, token, *args, **kwargs):
        key = _miss_key(request)
        if cache.get(key, 0) >= LINK_MISSES_ALLOWED:
            return _private(render(request, "429.html", status=429))
        recipient = (
            Recipient.objects.select_related("pod")
            .filter(access_token_hash=hash_token(token), erased_at=None)
            .first()
        )
        if recipient is None:
            # add() starts the window at the first miss; incr() counts within it.
            cache.add(key, 0, timeout=LINK_MISS_WINDOW)
            try:
                cache.incr(key)
            except ValueError:  # expired between the two calls
                cache.set(key, 1, timeout=LINK_MISS_WINDOW)
            return _private(page_not_found(request, Http404()))
        request.recipient_token = token
        return _private(view(request, recipient, *args, **kwargs))

    return wrapper


@require_http_methods(["GET", "HEAD"])
@recipient_link_view
def link(request, recipient):
    """The pod's name, the recipient's schedule, the receipts sent to them (confirm each
    one's arrival) and a way to leave. No one's payment handle but their own."""
    enrollments = list(
        recipient.enrollments.select_related("cycle").order_by("-cycle__number", "-first_week")
    )
    receipts = list(
        recipient.receipts.live()
        .select_related("payer", "cycle")
        .order_by("-sent_on", "-posted_at", "-pk")
    )
    current = services.current_enrollment(recipient)
    latest = enrollments[0] if enrollments else None
    # The latest cycle's receipts up front; years of older ones fold away below them.
    recent_cycle = latest.cycle_id if latest else None
    recent = [r for r in receipts if r.cycle_id == recent_cycle or recent_cycle is None]
    earlier = [r for r in receipts if r.cycle_id != recent_cycle and recent_cycle is not None]
    left = latest if latest and latest.status == Enrollment.Status.LEFT else None
    return render(
        request,
        "recipients/link.html",
        {
            "recipient": recipient,
            "pod": recipient.pod,
            "token": request.recipient_token,
            "enrollments": enrollments,
            "current": current,
            "left": left,
            "left_until": left.cycle.week_ends_on(left.last_week) if left else None,
            "receipts": receipts,
            "recent": recent,
            "earlier": earlier,
        },
    )


@require_POST
@recipient_link_view
def confirm_arrival(request, recipient, pk):
    """ "It arrived": recorded once, the first time."""
    if not services.confirm_arrival(recipient=recipient, receipt_id=pk):
        return page_not_found(request, Http404())
    return redirect(reverse("recipients:link", args=[request.recipient_token]) + f"#receipt-{pk}")


@require_http_methods(["GET", "POST"])
@recipient_link_view
def leave(request, recipient):
    """ "I no longer need support", then a confirmation. No questions: a word for the
    organizers is welcome but never asked for."""
    enrollment = services.current_enrollment(recipient)
    form = EndForm(request.POST if request.method == "POST" else None)
    if enrollment is not None and form.is_bound and form.is_valid():
        services.end_enrollment(enrollment=enrollment, reason=form.cleaned_data["reason"])
        return redirect("recipients:link", token=request.recipient_token)
    return render(
        request,
        "recipients/link_leave.html",
        {
            "recipient": recipient,
            "pod": recipient.pod,
            "token": request.recipient_token,
            "enrollment": enrollment,
            "form": form,
        },
        status=400 if form.is_bound else 200,
    )
