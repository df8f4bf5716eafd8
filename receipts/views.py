import hashlib
import logging
import uuid
import zoneinfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import prefetch_related_objects
from django.http import FileResponse, Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mutualaid.forms import add_service_errors
from mutualaid.middleware import unavailable_response
from mutualaid.money import money_formatter
from mutualaid.text import format_isolated
from pods.access import get_pod_for_member
from pods.models import Membership
from pods.templatetags.money import format_money
from pods.views import distinct_names, member_names, public_name
from receipts import services
from receipts.admin import receipts_csv_response
from receipts.forms import BoardFilterForm, ReceiptForm, VoidForm, prefill
from receipts.images import content_type_for
from receipts.models import STORAGE_ERRORS, Receipt, StagedScreenshot
from recipients.models import PaymentMethod

logger = logging.getLogger(__name__)

PER_PAGE = 50


@login_required
@require_http_methods(["GET", "POST"])
def receipt_create(request, slug):
    """Post a transfer: any member for one they made, an organizer for anyone's. The
    "this week" page links here with ?recipient=&week=&amount= filled in."""
    pod = get_pod_for_member(request, slug)
    membership = request.membership
    cycle = pod.current_cycle()
    context = {"pod": pod, "membership": membership, "section": "post_receipt", "cycle": cycle}
    if cycle is None:
        return render(request, "receipts/receipt_form.html", context)

    today = pod.today()
    enrollments = list(
        cycle.enrollments.select_related("recipient").order_by("slot", "first_week", "pk")
    )
    weeks = _postable_weeks(cycle, today)
    payers = members = None
    if membership.is_organizer:
        members = {m.user_id: m.user for m in pod.memberships.active().select_related("user")}
        # Organizers see members' addresses (as on the members page): two neighbors may
        # share a display name, and the wrong one must not be picked as the payer.
        payers = sorted(
            ((pk, f"{public_name(user)} ({user.email})") for pk, user in members.items()),
            key=lambda p: p[1].casefold(),
        )
    form_kwargs = {
        "cycle": cycle,
        "enrollments": enrollments,
        "weeks": weeks,
        "today": today,
        "payers": payers,
    }

    # A screenshot shared from the phone's share sheet (pledges.views.share_target),
    # waiting to be attached: only its owner's, and only by this CSRF-checked form.
    staged = _staged(request, request.POST if request.method == "POST" else request.GET)
    context["staged"] = staged

    if request.method == "POST":
        key = _as_uuid(request.POST.get("submission_key"))
        existing = Receipt.objects.filter(submission_key=key).first() if key else None
        if existing and existing.pod_id == pod.pk and existing.posted_by_id == request.user.pk:
            messages.info(request, _("You already posted this receipt; here it is."))
            return redirect("receipts:receipt_detail", slug=pod.slug, pk=existing.pk)
        # No key, or someone else's (an old page, a copied or edited form): never show
        # their receipt, never save a second one under it. A fresh key lets the person
        # check the details and post again.
        stale = key is None or existing is not None
        data = request.POST
        if stale:
            data = data.copy()
            data["submission_key"] = str(uuid.uuid4())
        form = ReceiptForm(data, request.FILES, **form_kwargs)
        attach = form.is_valid() and not stale and staged is not None
        if attach and not form.cleaned_data["screenshot"]:
            try:
                form.cleaned_data["screenshot"] = staged.as_clean_image()
            except FileNotFoundError:
                # Deleted from storage since the page was opened (a day-old staged
                # screenshot is purged daily): say so rather than post without it.
                form.add_error(
                    "screenshot",
                    _("The shared screenshot is no longer here: attach it again."),
                )
                staged = context["staged"] = None
            except ValidationError as error:
                # Storage cannot give it back just now: kept, to post once it can.
                form.add_error("screenshot", error)
        if form.is_valid() and not stale:
            response = _post(request, pod, cycle, form, enrollments, members)
            if response is not None:
                if staged is not None:
                    staged.discard()
                return response
        elif stale:
            form.add_error(None, _("This form is out of date. Check the details and post again."))
    else:
        initial = prefill(
            request.GET,
            recipients={e.recipient_id: e.recipient for e in enrollments},
            weeks=weeks,
        )
        current = cycle.week_of(today)
        initial.setdefault("week", current if current in weeks else weeks[-1])
        initial.update(sent_on=today, submission_key=uuid.uuid4(), payer=request.user.pk)
        form = ReceiptForm(initial=initial, **form_kwargs)
    context["form"] = form
    return render(request, "receipts/receipt_form.html", context)


def _post(request, pod, cycle, form, enrollments, members):
    """Save a valid form; a redirect, or None when the form got an error instead.
    `members` (user id to user) is given when the poster chose the payer."""
    data = form.cleaned_data
    payer = members[data["payer"]] if members is not None else request.user
    recipient = next(e.recipient for e in enrollments if e.recipient_id == data["recipient"])
    try:
        receipt, created = services.post_receipt(
            pod=pod,
            cycle=cycle,
            posted_by=request.user,
            payer=payer,
            recipient=recipient,
            week=data["week"],
            amount=data["amount"],
            method=data["method"],
            sent_on=data["sent_on"],
            reference=data["reference"],
            screenshot=data["screenshot"],
            submission_key=data["submission_key"],
        )
    except ValidationError as error:
        add_service_errors(form, error)
        return None
    if not created:
        messages.info(request, _("You already posted this receipt; here it is."))
        return redirect("receipts:receipt_detail", slug=pod.slug, pk=receipt.pk)
    messages.success(
        request,
        format_isolated(
            _("Posted: %(amount)s to %(recipient)s for week %(week)s. Thank you!"),
            {
                "amount": format_money(receipt.amount, pod.currency),
                "recipient": recipient.display_name,
                "week": receipt.week,
            },
        ),
    )
    return redirect("receipts:board", slug=pod.slug)


def _staged(request, data):
    try:
        pk = int(data.get("staged", ""))
    except ValueError:
        return None
    return StagedScreenshot.objects.filter(owner=request.user, pk=pk).first()


@login_required
@require_GET
def staged_screenshot(request, slug, pk):
    """A shared screenshot waiting to be posted, for its owner's eyes only."""
    get_pod_for_member(request, slug)
    staged = get_object_or_404(StagedScreenshot, owner=request.user, pk=pk)
    content_type = content_type_for(staged.image.name)
    if content_type is None:
        raise Http404(_("No such screenshot."))
    return _private_file(staged.image, content_type)


def _private_file(field, content_type, filename=""):
    """A stored screenshot, streamed, that browsers and proxies are told not to keep. A
    file gone from storage is a 404 (django-storages raises FileNotFoundError for a
    missing object too); storage that cannot answer just now is the 503 page, as for the
    database."""
    try:
        file = field.open("rb")
    except FileNotFoundError as error:
        raise Http404(_("No such screenshot.")) from error
    except STORAGE_ERRORS as error:
        logger.warning("Screenshot %s unreadable: %s", field.name, error)
        return unavailable_response()
    response = FileResponse(file, content_type=content_type, filename=filename)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


def _as_uuid(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _postable_weeks(cycle, today):
    """Weeks a receipt may be for: any week so far and the next one (paying a little
    ahead is common), never further ahead, where a week is most likely a typo."""
    last = cycle.due_week(today)
    return list(range(1, min(cycle.weeks, last + 1) + 1))


@login_required
@require_GET
def receipt_detail(request, slug, pk):
    pod = get_pod_for_member(request, slug)
    receipt = _get_receipt(pod, pk)
    return _render_detail(request, pod, receipt, VoidForm())


@login_required
@require_POST
def receipt_void(request, slug, pk):
    """Void a receipt with a reason: it stays, struck through, with the reason."""
    pod = get_pod_for_member(request, slug)
    receipt = _get_receipt(pod, pk)
    if not services.can_void(request.membership, receipt):
        raise PermissionDenied(
            _("Only the person who posted a receipt or an organizer can void it.")
        )
    if receipt.is_void:
        messages.warning(request, _("This receipt is already void."))
        return redirect("receipts:receipt_detail", slug=pod.slug, pk=receipt.pk)
    form = VoidForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, pod, receipt, form)
    if receipt.void(by=request.user, reason=form.cleaned_data["reason"]):
        messages.success(request, _("The receipt is void. It stays on the board with your reason."))
    else:
        messages.warning(request, _("This receipt is already void."))
    return redirect("receipts:receipt_detail", slug=pod.slug, pk=receipt.pk)


def _get_receipt(pod, pk):
    return get_object_or_404(
        Receipt.objects.for_pod(pod).select_related(
            "cycle", "recipient", "payer", "posted_by", "voided_by"
        ),
        pk=pk,
    )


def _render_detail(request, pod, receipt, form):
    may_void = services.can_void(request.membership, receipt) and not receipt.is_void
    _name_people([receipt])
    return render(
        request,
        "receipts/receipt_detail.html",
        {
            "pod": pod,
            "membership": request.membership,
            "section": "receipts",
            "receipt": receipt,
            "form": form if may_void else None,
        },
    )


@login_required
@require_GET
def screenshot(request, slug, pk):
    """A receipt's screenshot, for the pod's members only: there is no public URL, and
    browsers and proxies are told not to keep a copy."""
    pod = get_pod_for_member(request, slug)
    receipt = get_object_or_404(Receipt.objects.for_pod(pod).exclude(screenshot=""), pk=pk)
    content_type = content_type_for(receipt.screenshot.name)
    if content_type is None:
        raise Http404(_("No such screenshot."))
    extension = receipt.screenshot.name.rsplit(".", 1)[-1].lower()
    return _private_file(receipt.screenshot, content_type, f"receipt-{receipt.pk}.{extension}")


# The board's fragments are cached for this long at most; a write the board shows
# changes their key at once (Pod.board_version), so this only bounds what a cache keeps.
FRAGMENT_SECONDS = 60 * 60
# Rows of the grid (recipients) on one page of the board: the page's size does not grow
# with the pod.
GRID_ROWS = 20
# Beyond this many members, the payer filter is reached from the names in the list.
PAYER_CHOICES = 100
# The board's query parameters, in the order its links write them.
BOARD_PARAMS = ("cycle", "week", "recipient", "payer", "grid", "page")


@login_required
@require_GET
def board(request, slug):
    """The receipts board: the cycle as a grid, then its receipts newest first, filtered,
    paginated and totalled. A fixed number of queries and a bounded size whatever the
    size of the pod.

    The grid and the list (with its filters and totals) are rendered fragments kept in
    the shared cache, under keys made of the pod, its board version (bumped by the
    database in the same transaction as every post, void, confirmation, enrollment,
    cycle and name change: see Pod.board_version), the pod's today (the grid's "due" and
    "missing" turn over with the date), the language and the query that chose them. A
    post changes the version, so it shows on the very next request; one pod's key never
    names another's fragment. Nothing personal is in them: every member sees the same
    board."""
    pod = get_pod_for_member(request, slug)
    context = {"pod": pod, "membership": request.membership, "section": "receipts"}
    today = pod.today()
    # Only the board's own parameters: they choose what it shows and are kept in its
    # links; anything else in the address is left out of both.
    query = QueryDict(mutable=True)
    for name in BOARD_PARAMS:
        if request.GET.get(name):
            query[name] = request.GET[name]
    key = (
        f"board:{pod.pk}:{pod.board_version}:{today.isoformat()}:"
        f"{translation.get_language()}:{hashlib.sha256(query.urlencode().encode()).hexdigest()}"
    )
    fragments = cache.get(key)
    if fragments is None:
        state = _board_state(request, pod)
        if state is None:
            return render(request, "receipts/board.html", context)
        fragments = _render_fragments(request, pod, today, state, query)
        cache.set(key, fragments, FRAGMENT_SECONDS)
    context["fragments"] = fragments
    return render(request, "receipts/board.html", context)


def _render_fragments(request, pod, today, state, query):
    """The board's fragments, rendered: "top" (links and filters), "grid" and "list" (with
    the totals). `query` holds the board's parameters, kept in every link."""
    cycle, enrollments, form, receipts, people = state
    money = money_formatter(pod.currency)
    context = {"pod": pod, "cycle": cycle, "current_week": cycle.week_of(today)}
    grid = services.board_grid(cycle=cycle, enrollments=enrollments, today=today)
    rows = Paginator(grid.rows, GRID_ROWS).get_page(query.get("grid"))
    for row in rows:
        row.total_text = money(row.total)
        # (state, symbol, words) of each cell: the words are what a screen reader
        # says, the state and amount, as the legend's symbols only show them.
        row.shown = [
            (c.state, c.symbol, f"{c.label}, {money(c.total)}" if c.total else c.label)
            for c in row.cells
        ]
    context.update(
        grid=grid,
        grid_page=rows,
        grid_nav=_nav(
            query,
            rows,
            "grid",
            label=_("Pages of recipients"),
            previous_label=_("Previous recipients"),
            next_label=_("Next recipients"),
        ),
        weekly_amount=money(cycle.weekly_amount),
    )
    page = Paginator(receipts.only(*LIST_FIELDS).order_by("-posted_at", "-pk"), PER_PAGE).get_page(
        query.get("page")
    )
    page.object_list = list(page.object_list)
    _name_people(page.object_list, people)
    _describe(page.object_list, pod, money)
    # Each payer's name links to the list of their receipts, the other filters kept.
    by_payer = query.copy()
    by_payer.pop("page", None)
    for receipt in page.object_list:
        by_payer["payer"] = receipt.payer_id
        receipt.payer_url = f"?{by_payer.urlencode()}"
    totals = services.receipt_totals(receipts)
    # The download is what the board shows: the same filters, every page.
    filters = query.copy()
    filters.pop("page", None)
    filters.pop("grid", None)
    export_url = reverse("receipts:export", args=[pod.slug])
    context.update(
        export_url=f"{export_url}?{filters.urlencode()}" if filters else export_url,
        form=form,
        filtered=any(form.value(name) is not None for name in ("week", "recipient", "payer")),
        page=page,
        list_nav=_nav(
            query,
            page,
            "page",
            label=_("Pages of receipts"),
            previous_label=_("Newer"),
            next_label=_("Older"),
        ),
        receipt_url=reverse("receipts:board", args=[pod.slug]),
        totals=totals,
        total=money(totals.total),
        per_week=[(week, money(amount)) for week, amount in totals.per_week],
        per_recipient=[(name, money(amount)) for name, amount in totals.per_recipient],
    )
    return {
        name: render_to_string(f"receipts/board.html#{name}", context, request)
        for name in ("top", "grid", "list")
    }


def _nav(query, page, parameter, **labels):
    """The links to a page's neighbours, keeping every other parameter of the query (the
    filters, the other list's page); None when there is one page."""
    if not page.has_other_pages():
        return None

    def url(number):
        linked = query.copy()
        linked[parameter] = number
        return f"?{linked.urlencode()}"

    return {
        **labels,
        "number": page.number,
        "pages": page.paginator.num_pages,
        "previous_url": url(page.previous_page_number()) if page.has_previous() else "",
        "next_url": url(page.next_page_number()) if page.has_next() else "",
    }


# What a row of the board's list shows; names come from the pod's members and the
# cycle's recipients, read once for the filters.
LIST_FIELDS = (
    "pk",
    "posted_at",
    "week",
    "recipient_id",
    "payer_id",
    "posted_by_id",
    "voided_by_id",
    "amount",
    "method",
    "sent_on",
    "reference",
    "screenshot",
    "confirmed_at",
    "voided_at",
    "void_reason",
)


def _describe(receipts, pod, money):
    """Each row's words, written once here rather than by a tag per cell: the amount,
    dates in the pod's time zone, the method, who posted it, its status."""
    zone = zoneinfo.ZoneInfo(pod.time_zone)
    methods = dict(PaymentMethod.choices)
    void = pgettext("receipt state", "voided")
    confirmed = _("arrival confirmed")
    posted = pgettext("receipt state", "posted")
    for receipt in receipts:
        receipt.amount_text = money(receipt.amount)
        receipt.posted_text = date_format(
            timezone.localtime(receipt.posted_at, zone), "SHORT_DATETIME_FORMAT"
        )
        receipt.method_text = methods.get(receipt.method, receipt.method)
        receipt.sent_text = date_format(receipt.sent_on, "SHORT_DATE_FORMAT")
        receipt.status_text = (
            void if receipt.is_void else confirmed if receipt.confirmed_at else posted
        )


@login_required
@require_GET
def export(request, slug):
    """What the board shows as CSV: the same filters, every page, voided receipts too."""
    pod = get_pod_for_member(request, slug)
    state = _board_state(request, pod)
    if state is None:
        raise Http404(_("This pod has no cycle yet."))
    cycle, _enrollments, _form, receipts, (members, recipients) = state
    return receipts_csv_response(
        receipts,
        f"{pod.slug}-cycle-{cycle.number}-receipts.csv",
        person=lambda user: members.get(user.pk) or public_name(user),
        recipient_name=lambda recipient: recipients.get(recipient.pk) or str(recipient),
    )


def _board_state(request, pod):
    """The cycle the board shows, its enrollments, the filter form, and the receipts
    the filters select; None when the pod has no cycle at all."""
    # Read once: the filter lists them, and the calendar picks the current one from them.
    prefetch_related_objects([pod], "cycles")
    cycles = sorted(pod.cycles.all(), key=lambda c: -c.number)
    if not cycles:
        return None
    by_number = {c.number: c for c in cycles}
    try:
        wanted = int(request.GET.get("cycle", ""))
    except ValueError:
        wanted = None
    current = pod.current_cycle()
    cycle = by_number.get(wanted) or by_number.get(current.number)
    enrollments = list(
        cycle.enrollments.select_related("recipient").order_by("slot", "first_week", "pk")
    )
    # Former members too: their receipts stay on the board.
    members = Membership.objects.filter(pod=pod).select_related("user")
    names = member_names(members)
    payers = sorted(names.items(), key=lambda p: p[1].casefold())
    listed = len(payers) <= PAYER_CHOICES
    if not listed:
        # Hundreds of names would make the page grow with the pod: the list's payer names
        # link to their filter instead, and only the chosen payer is kept here.
        wanted = request.GET.get("payer", "")
        payers = [p for p in payers if str(p[0]) == wanted]
    recipient_names = distinct_names(
        [(e.recipient_id, e.recipient.display_name) for e in enrollments]
    )
    data = request.GET.copy()
    data["cycle"] = cycle.number
    form = BoardFilterForm(
        data,
        cycles=cycles,
        cycle=cycle,
        recipients=list(recipient_names.items()),
        payers=payers,
    )
    if not listed:
        form.fields["payer"].help_text = _(
            "To see one person's receipts, choose their name in the list below."
        )
    receipts = services.filtered_receipts(
        cycle=cycle,
        week=form.value("week"),
        recipient_id=form.value("recipient"),
        payer_id=form.value("payer"),
    )
    return cycle, enrollments, form, receipts, (names, recipient_names)


def _name_people(receipts, names=None):
    """Members see each other by display name, never by email address; `names` (member
    and recipient names told apart, see pods.views.distinct_names) where two share one.
    Looked up by id first, so that a list whose people are all in `names` loads none."""
    members, recipients = names or ({}, {})

    def name(receipt, field):
        user_id = getattr(receipt, f"{field}_id")
        if user_id is None:
            return ""
        return members.get(user_id) or public_name(getattr(receipt, field))

    for receipt in receipts:
        receipt.payer_name = name(receipt, "payer")
        receipt.poster_name = name(receipt, "posted_by")
        receipt.voider_name = name(receipt, "voided_by")
        receipt.recipient_name = recipients.get(receipt.recipient_id) or str(receipt.recipient)
