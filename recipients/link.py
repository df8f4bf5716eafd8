"""The recipient's private link, /r/<secret>/: no account, no password.

The secret in the address is the only key, so these pages:
- always open for the right secret, whoever asks and whatever happened before from the
  same address (see recipient_link_view for the limit on misses);
- answer a wrong, revoked or erased secret with a plain 404, and, past LINK_MISSES_ALLOWED
  misses from one address in LINK_MISS_WINDOW seconds, with a plain 429;
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
import ipaddress
import logging
import zoneinfo

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.core.cache import cache
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.defaults import page_not_found

from mutualaid.money import money_formatter
from mutualaid.text import format_isolated
from pods.models import hash_token
from recipients import services
from recipients.forms import EndForm
from recipients.models import Enrollment, Recipient, Referral

LINK_MISSES_ALLOWED = 20
LINK_MISS_WINDOW = 10 * 60

logger = logging.getLogger(__name__)


def _counted_as(request):
    """Whose misses these are: the client's address, or for IPv6 its /64, the block one
    household or phone is given, so that walking through its addresses does not start
    new counts. Counting wide costs nobody their page: only misses are ever held back."""
    address = get_adapter(request).get_client_ip(request)
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        return str(ip.ipv4_mapped or ipaddress.ip_network(f"{ip}/64", strict=False))
    return address


def _count_miss(key):
    """One more miss for `key`; the number of misses in the current window."""
    # add() starts the window at the first miss; incr() counts within it.
    cache.add(key, 0, timeout=LINK_MISS_WINDOW)
    try:
        return cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.set(key, 1, timeout=LINK_MISS_WINDOW)
        return 1


def _private(response):
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    # Replace, not add to, anything set before: only these two directives.
    response.headers.pop("Cache-Control", None)
    patch_cache_control(response, private=True, no_store=True)
    return response


def recipient_link_view(view):
    """Find the recipient by the secret in the URL (or 404, counting the miss) and give
    the response the private link's headers.

    Only misses are limited. The right secret always opens its page, even from an address
    that is over the limit: recipients often share an address (a shelter's wifi, a phone
    carrier's gateway), and a limit that also held back right secrets would let one
    stranger lock all of them out by guessing.

    The price: an address over the limit can still tell a hit (200) from a miss (429), as
    it could under the limit. No rule can hide that and still open the page for the right
    secret. What keeps the links safe is the secret itself, 192 random bits
    (Recipient.new_access_token), beyond the reach of any number of guesses. The limit is
    defence in depth: it tells clients that heed a 429 to back off, puts a warning in the
    log the first time an address goes over it in a window, and gives a guesser nothing
    that a miss would not:
    - every request looks its secret up the same way, before any counting, so an
      address's being over the limit does not change the time a hit takes;
    - a miss is a miss whatever the reason (never issued, replaced, revoked, erased):
      the same 404, or past the limit the same 429, with the same headers;
    - hits neither count nor reset the count, so a guesser who holds one real link
      cannot use it to wipe out their misses;
    - misses are counted per address (an IPv6 one per /64, see _counted_as), which costs
      no recipient anything, since only misses are held back.
    """

    @functools.wraps(view)
    def wrapper(request, token, *args, **kwargs):
        recipient = (
            Recipient.objects.select_related("pod")
            .filter(access_token_hash=hash_token(token), erased_at=None)
            .first()
        )
        if recipient is None:
            who = _counted_as(request)
            misses = _count_miss(f"recipient-link-misses:{who}")
            if misses == LINK_MISSES_ALLOWED + 1:
                logger.warning("Recipient links: %s misses from %s", misses, who)
            if misses > LINK_MISSES_ALLOWED:
                return _private(render(request, "429.html", status=429))
            return _private(page_not_found(request, Http404()))
        request.recipient_token = token
        # Their page in the language set for them (by the organizer who made the link, or
        # by them from the page's menu), else the cookie's or the browser's.
        language = recipient.language or translation.get_language()
        with translation.override(language):
            response = view(request, recipient, *args, **kwargs)
        response.headers["Content-Language"] = language
        return _private(response)

    return wrapper


@require_http_methods(["GET", "HEAD"])
@recipient_link_view
def link(request, recipient):
    """The pod's name, the recipient's schedule, the receipts sent to them (confirm each
    one's arrival), a way to leave, and all that the pod knows about them. No one's
    payment handle but their own."""
    enrollments = list(
        recipient.enrollments.select_related("cycle").order_by("-cycle__number", "-first_week")
    )
    # Voided ones too, in the same query: the pod keeps them, and this page says so.
    every_receipt = list(
        recipient.receipts.select_related("payer", "cycle").order_by(
            "-sent_on", "-posted_at", "-pk"
        )
    )
    receipts = [r for r in every_receipt if not r.is_void]
    # Written once per value, not by a filter per card: a recipient of a few cycles has
    # hundreds of receipts, and each amount, date and sender's name costs a lookup.
    money = money_formatter(recipient.pod.currency)
    zone = zoneinfo.ZoneInfo(recipient.pod.time_zone)
    # The same words as the template's {% blocktranslate %} (the same messages), said
    # here once a receipt rather than by a tag with its own lookups.
    cycle_week, sent_from = _("cycle %(number)s, week %(week)s"), _("from %(name)s")
    a_neighbor = _("from a neighbor")
    for receipt in every_receipt:
        receipt.amount_text = money(receipt.amount)
        receipt.when_text = cycle_week % {"number": receipt.cycle.number, "week": receipt.week}
        payer = receipt.payer
        receipt.from_text = (
            a_neighbor
            if payer.anonymous_to_recipients
            else format_isolated(sent_from, {"name": payer.display_name or _("a neighbor")})
        )
        receipt.sent_text = date_format(receipt.sent_on, "DATE_FORMAT")
        if receipt.confirmed_at:
            receipt.confirmed_text = date_format(
                timezone.localtime(receipt.confirmed_at, zone), "DATE_FORMAT"
            )
    referral = Referral.objects.filter(recipient=recipient).prefetch_related("moves").first()
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
            "voided": [r for r in every_receipt if r.is_void],
            "recent": recent,
            "earlier": earlier,
            "referral": referral,
            "retention_days": settings.RECIPIENT_RETENTION_DAYS,
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
            "retention_days": settings.RECIPIENT_RETENTION_DAYS,
        },
        status=400 if form.is_bound else 200,
    )


@require_POST
@recipient_link_view
def language(request, recipient):
    """The language menu of the recipient's pages: kept on the recipient, so that their
    page opens in it wherever they open it. Back to the page they were on."""
    chosen = request.POST.get("language", "")
    if chosen in dict(settings.LANGUAGES) and check_for_language(chosen):
        recipient.language = chosen
        recipient.save(update_fields=["language"])
    home = reverse("recipients:link", args=[request.recipient_token])
    back = request.POST.get("next", "")
    if not (
        back.startswith(home)
        and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()})
    ):
        back = home
    return redirect(back)
