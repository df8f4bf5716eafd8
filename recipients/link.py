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
from django.utils.html import conditional_escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import check_for_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.defaults import page_not_found

from mutualaid.money import money_formatter
from mutualaid.text import format_isolated, isolate
from pods.models import Cycle, hash_token
from recipients import services
from recipients.forms import EndForm
from recipients.models import Enrollment, PaymentMethod, Recipient, Referral

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


# What a receipt's line is written from, and nothing more: plain values, not model
# instances, since a cycle can hold dozens.
RECEIPT_FIELDS = [
    "pk",
    "week",
    "amount",
    "method",
    "sent_on",
    "reference",
    "screenshot",
    "confirmed_at",
    "voided_at",
    "void_reason",
    "payer__display_name",
    "payer__anonymous_to_recipients",
]


def _cycle_receipts(recipient, cycle_id, number, *, token):
    """(live, voided): the receipts of one cycle to `recipient`, newest first, each a dict
    with its whole line written here once (amount, cycle and week, dates, method, sender,
    what the sender added, its "It arrived" address; a voided one's line with its reason),
    so that the template's loop only puts them in place: per receipt, a filter, {% url %}
    or {% translate %} costs a lookup, and pages list dozens. The words are the messages
    the templates said before."""
    rows = (
        recipient.receipts.filter(cycle_id=cycle_id)
        .order_by("-sent_on", "-posted_at", "-pk")
        .values(*RECEIPT_FIELDS)
    )
    # Each value written (and escaped) once, however many receipts share it: a page's
    # receipts have a few amounts, dates, weeks and senders between them.
    money = functools.cache(money_formatter(recipient.pod.currency))
    zone = zoneinfo.ZoneInfo(recipient.pod.time_zone)
    dates = functools.cache(lambda day: conditional_escape(date_format(day, "DATE_FORMAT")))
    methods = {value: conditional_escape(label) for value, label in PaymentMethod.choices}
    cycle_week, sent_from = _("cycle %(number)s, week %(week)s"), _("from %(name)s")
    weeks = functools.cache(
        lambda week: conditional_escape(cycle_week % {"number": number, "week": week})
    )
    senders = functools.cache(lambda name: format_isolated(sent_from, {"name": name}))
    a_neighbor, from_a_neighbor = _("a neighbor"), conditional_escape(_("from a neighbor"))
    confirmed = conditional_escape(_("You confirmed it arrived (%(date)s)."))
    added = {
        (True, True): _(
            "The sender added a reference and a screenshot; the pod keeps them until your "
            "data is erased."
        ),
        (True, False): _(
            "The sender added a reference; the pod keeps it until your data is erased."
        ),
        (False, True): _(
            "The sender added a screenshot; the pod keeps it until your data is erased."
        ),
    }
    added_to_voided = conditional_escape(
        _(
            "The sender added a reference or a screenshot; the pod keeps it until your data "
            "is erased."
        )
    )
    voided_line = conditional_escape(
        _(
            "%(amount)s · cycle %(number)s, week %(week)s · %(date)s · %(method)s · "
            "voided: “%(reason)s”"
        )
    )
    # Each "It arrived" posts to its receipt's own address: reversed once, the id put in.
    head, _zero, tail = reverse("recipients:confirm_arrival", args=[token, 0]).rpartition("/0/")
    live, voided = [], []
    for row in rows:
        amount, sent = money(row["amount"]), dates(row["sent_on"])
        method = methods.get(row["method"]) or conditional_escape(row["method"])
        hint = added.get((bool(row["reference"]), bool(row["screenshot"])), "")
        if row["voided_at"] is not None:
            # Escaped part by part, the reason (someone's words) isolated as |bdi does.
            line = voided_line % {
                "amount": conditional_escape(amount),
                "number": number,
                "week": row["week"],
                "date": sent,
                "method": method,
                "reason": isolate(row["void_reason"]),
            }
            if hint:
                line += " · " + added_to_voided
            voided.append({**row, "line": mark_safe(line)})  # noqa: S308 - escaped above
            continue
        if row["payer__anonymous_to_recipients"]:
            sender = from_a_neighbor
        else:
            sender = senders(row["payer__display_name"] or a_neighbor)
        # What follows the amount: cycle and week, date, method, who sent it.
        details = f"{weeks(row['week'])} · {sent} · {method} · {sender}"
        receipt = {
            **row,
            "amount_text": amount,
            "details": mark_safe(details),  # noqa: S308 - each part escaped
            "hint": hint,
        }
        if row["confirmed_at"]:
            day = timezone.localtime(row["confirmed_at"], zone).date()
            receipt["confirmed_text"] = mark_safe(confirmed % {"date": dates(day)})  # noqa: S308
            receipt["confirm_url"] = ""
        else:
            receipt["confirm_url"] = f"{head}/{row['pk']}/{tail}"
        live.append(receipt)
    return live, voided


def _enrollment_lines(enrollments, *, pod, current):
    """Each enrollment's two lines written once, as for the receipts: in the schedule (its
    weeks and amount) and in what the pod knows (its slot, weeks, status, when and why it
    ended). A recipient has one a cycle; the words are the template's messages."""
    money = money_formatter(pod.currency)
    zone = zoneinfo.ZoneInfo(pod.time_zone)
    for enrollment in enrollments:
        cycle = enrollment.cycle
        values = {
            "number": cycle.number,
            "slot": enrollment.slot,
            "week": enrollment.first_week,
            "first": enrollment.first_week,
            "last": enrollment.last_week,
            "amount": money(cycle.weekly_amount),
            "start": date_format(cycle.starts_on, "DATE_FORMAT"),
        }
        if enrollment.last_week == enrollment.first_week:
            schedule = _("Cycle %(number)s (from %(start)s): %(amount)s for week %(week)s.")
        elif enrollment.last_week > enrollment.first_week:
            schedule = _(
                "Cycle %(number)s (from %(start)s): %(amount)s a week, weeks %(first)s to %(last)s."
            )
        else:
            schedule = _("Cycle %(number)s: ended before it began.")
        enrollment.schedule_text = schedule % values
        enrollment.is_current = enrollment == current
        if enrollment.holds_weeks:
            place = _("Cycle %(number)s, slot %(slot)s: weeks %(first)s to %(last)s")
        else:
            place = _("Cycle %(number)s, slot %(slot)s: no week")
        parts = [place % values, enrollment.get_status_display()]
        if enrollment.ended_at:
            ended = timezone.localtime(enrollment.ended_at, zone)
            parts.append(_("ended on %(date)s") % {"date": date_format(ended, "DATE_FORMAT")})
        parts = [conditional_escape(part) for part in parts]
        if enrollment.end_reason:
            # Someone's words: isolated, as |bdi does.
            why = conditional_escape(_("why: “%(reason)s”"))
            parts.append(why % {"reason": isolate(enrollment.end_reason)})
        enrollment.place_text = mark_safe(" · ".join(parts))  # noqa: S308 - each part escaped


def _summary(row, *, money, url=""):
    """One cycle in a line, from a row of by_cycle(): its receipts and their total, how
    many wait for the recipient's "It arrived", how many were voided; `url`, its page."""
    parts = [
        ngettext("one receipt, %(total)s", "%(count)s receipts, %(total)s in all", row["count"])
        % {"count": row["count"], "total": money(row["total"] or 0)}
    ]
    if row["unconfirmed"]:
        parts.append(
            ngettext("one not confirmed yet", "%(count)s not confirmed yet", row["unconfirmed"])
            % {"count": row["unconfirmed"]}
        )
    if row["voided"]:
        parts.append(
            ngettext("one voided", "%(count)s voided", row["voided"]) % {"count": row["voided"]}
        )
    return {
        "number": row["cycle__number"],
        "name": _("Cycle %(number)s") % {"number": row["cycle__number"]},
        "text": " · ".join(parts),
        "url": url,
    }


@require_http_methods(["GET", "HEAD"])
@recipient_link_view
def link(request, recipient):
    """The pod's name, the recipient's schedule, the latest cycle's receipts (confirm each
    one's arrival), a line for each earlier cycle leading to its own page, a way to leave,
    and all that the pod knows about them. No one's payment handle but their own.

    The page stays a few lines however long the history: only one cycle's receipts are
    listed, and the same queries are made for two receipts as for two hundred."""
    token = request.recipient_token
    enrollments = list(
        recipient.enrollments.select_related("cycle__pod").order_by("-cycle__number", "-first_week")
    )
    # The latest cycle the pod sent them money in (or voided a receipt in) is listed in
    # full; each earlier one is a line that links to its page.
    cycles = list(recipient.receipts.by_cycle())
    money = money_formatter(recipient.pod.currency)
    receipts, voided, latest, earlier = [], [], None, []
    if cycles:
        latest = _summary(cycles[0], money=money)
        receipts, voided = _cycle_receipts(
            recipient, cycles[0]["cycle_id"], latest["number"], token=token
        )
        # Reversed once, each cycle's number put in (as for the receipts' addresses).
        head, _zero, tail = reverse("recipients:link_cycle", args=[token, 0]).rpartition("/0/")
        earlier = [
            _summary(row, money=money, url=f"{head}/{row['cycle__number']}/{tail}")
            for row in cycles[1:]
        ]
    referral = Referral.objects.filter(recipient=recipient).prefetch_related("moves").first()
    current = services.current_enrollment(recipient, among=enrollments)
    _enrollment_lines(enrollments, pod=recipient.pod, current=current)
    left = enrollments[0] if enrollments else None
    if left is not None and left.status != Enrollment.Status.LEFT:
        left = None
    return render(
        request,
        "recipients/link.html",
        {
            "recipient": recipient,
            "pod": recipient.pod,
            "token": token,
            "enrollments": enrollments,
            "current": current,
            "left": left,
            "left_until": left.cycle.week_ends_on(left.last_week) if left else None,
            "latest": latest,
            "receipts": receipts,
            "voided": voided,
            "earlier": earlier,
            # The honest counts, of every cycle: what the pod keeps, listed or not.
            "receipt_count": sum(row["count"] for row in cycles),
            "voided_count": sum(row["voided"] for row in cycles),
            "earlier_voided": sum(row["voided"] for row in cycles[1:]),
            "referral": referral,
            "retention_days": settings.RECIPIENT_RETENTION_DAYS,
        },
    )


@require_http_methods(["GET", "HEAD"])
@recipient_link_view
def link_cycle(request, recipient, number):
    """One cycle's receipts to the recipient, as the main page lists the latest cycle's
    (confirm each one's arrival from here too), and the ones of it that were voided, with
    their reasons. Any cycle of their pod; another pod's, or none, is a plain 404."""
    cycle = Cycle.objects.filter(pod_id=recipient.pod_id, number=number).first()
    if cycle is None:
        return page_not_found(request, Http404())
    receipts, voided = _cycle_receipts(
        recipient, cycle.pk, cycle.number, token=request.recipient_token
    )
    money = money_formatter(recipient.pod.currency)
    summary = {
        "cycle__number": cycle.number,
        "count": len(receipts),
        "total": sum(r["amount"] for r in receipts),
        "unconfirmed": sum(1 for r in receipts if not r["confirmed_at"]),
        "voided": len(voided),
    }
    return render(
        request,
        "recipients/link_cycle.html",
        {
            "recipient": recipient,
            "pod": recipient.pod,
            "token": request.recipient_token,
            "cycle": cycle,
            "summary": _summary(summary, money=money),
            "receipts": receipts,
            "voided": voided,
        },
    )


def _back(request, *, then=""):
    """Where a form of the recipient's pages goes back to: its `next`, when that is one of
    this recipient's own pages on this site, else their main page; `then` appended."""
    home = reverse("recipients:link", args=[request.recipient_token])
    back = request.POST.get("next", "")
    if not (
        back.startswith(home)
        and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()})
    ):
        back = home
    return redirect(back + then)


@require_POST
@recipient_link_view
def confirm_arrival(request, recipient, pk):
    """ "It arrived": recorded once, the first time. Back to the receipt, on the page the
    button was on (the main page, or a cycle's)."""
    if not services.confirm_arrival(recipient=recipient, receipt_id=pk):
        return page_not_found(request, Http404())
    return _back(request, then=f"#receipt-{pk}")


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
    return _back(request)
