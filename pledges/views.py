import logging
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q, Sum
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import localize_input
from django.utils.html import format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from mutualaid.forms import add_service_errors
from mutualaid.money import money_formatter
from mutualaid.pwa import SHARED_FILE_FIELD
from mutualaid.text import isolate
from pledges import services
from pledges.forms import PlanFormSet, PledgeForm
from pledges.models import Pledge
from pods.access import get_pod_for_member, get_pod_for_organizer
from pods.models import Invitation, Membership
from pods.views import distinct_names, member_names, public_name, roster
from receipts.images import clean_screenshot
from receipts.models import STORAGE_DOWN, STORAGE_ERRORS, Receipt, StagedScreenshot
from recipients.models import Recipient
from recipients.payment import pay_link

logger = logging.getLogger(__name__)


def _suggested_amount(membership):
    """The weekly amount the pod's list had for a person invited from it: only offered
    in the form (they confirm it, or change it), never pledged for them. Only until
    their first pledge in the pod: after that, their own amounts are the basis."""
    if membership.invitation_id is None:
        return None
    suggested = (
        Invitation.objects.filter(pk=membership.invitation_id)
        .values_list("suggested_amount", flat=True)
        .first()
    )
    if (
        suggested is None
        or Pledge.objects.filter(
            cycle__pod_id=membership.pod_id, donor_id=membership.user_id
        ).exists()
    ):
        return None
    return suggested


@login_required
@require_http_methods(["GET", "POST"])
def pledge(request, slug):
    """The member's pledge for the current cycle: what it is now, what is coming, its
    history, and a form to set, change, pause or cancel it from this week or the next."""
    pod = get_pod_for_member(request, slug)
    cycle = pod.current_cycle()
    context = {"pod": pod, "membership": request.membership, "section": "pledge", "cycle": cycle}
    if cycle is None:
        return render(request, "pledges/pledge.html", context)

    today = pod.today()
    current_week = cycle.week_of(today)
    weeks = services.effective_weeks(cycle)
    following = cycle.following()
    history = list(
        cycle.pledges.filter(donor=request.user).order_by("first_week", "created_at", "pk")
    )
    # "Now" is the week being lived (week 1 before the cycle starts); a change can only
    # touch the weeks from `first`, the first one not started: is something active or
    # paused there?
    shown = cycle.shown_week(today)
    first = weeks[0] if weeks else None
    live = [p for p in history if p.status != Pledge.Status.CANCELLED]
    ahead = [p for p in live if first is not None and p.last_week >= first]
    now = next((p for p in live if shown and p.first_week <= shown <= p.last_week), None)
    context.update(_what_i_gave(pod, cycle, request.user, shown))
    if shown is not None:
        # Beside the form: what the pod still needs (a newcomer lands here first).
        context["coverage"] = services.coverage(cycle, shown)
    context.update(
        current_week=current_week,
        following=following,
        upcoming=today < cycle.starts_on,
        history=history,
        has_cancelled=any(p.status == Pledge.Status.CANCELLED for p in history),
        now=now,
        later=[p for p in live if shown and p.first_week > shown],
    )
    if not weeks:
        return render(request, "pledges/pledge.html", context)

    has_active = any(p.status == Pledge.Status.ACTIVE for p in ahead)
    has_paused = any(p.status == Pledge.Status.PAUSED for p in ahead)
    initial_week = weeks[0]
    basis = ahead[0] if ahead else None
    suggested = None if history else _suggested_amount(request.membership)
    context["suggested"] = suggested
    form = PledgeForm(
        request.POST if request.method == "POST" else None,
        initial={"amount": basis.amount if basis else suggested, "starts": initial_week},
        cycle=cycle,
        weeks=weeks,
        current_week=current_week,
        has_active=has_active,
        has_paused=has_paused,
        currency=pod.currency,
    )
    if form.is_bound and form.is_valid():
        action = form.cleaned_data["action"]
        week = form.cleaned_data["starts"]
        try:
            if action == PledgeForm.SET:
                changed = services.set_pledge(
                    cycle=cycle,
                    donor=request.user,
                    amount=form.cleaned_data["amount"],
                    from_week=week,
                )
            elif action == PledgeForm.PAUSE:
                changed = services.pause_pledge(cycle=cycle, donor=request.user, from_week=week)
            else:
                services.cancel_pledge(cycle=cycle, donor=request.user, from_week=week)
                changed = True
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            if changed is None:
                messages.info(request, _("Your pledge already says that; nothing changed."))
            else:
                messages.success(request, _done_message(action, week))
            return redirect("pods:pledge", slug=pod.slug)
    context["form"] = form
    return render(request, "pledges/pledge.html", context)


def _what_i_gave(pod, cycle, user, shown):
    """The donor's own figures: sent this cycle and since joining (live receipts only),
    and their lines of next week's plan once that plan exists."""
    sent = (
        Receipt.objects.for_pod(pod)
        .live()
        .filter(payer=user)
        .aggregate(
            cycle=Sum("amount", filter=Q(cycle=cycle), default=Decimal("0")),
            ever=Sum("amount", default=Decimal("0")),
        )
    )
    context = {
        "sent_this_cycle": Decimal(sent["cycle"]).quantize(Decimal("0.01")),
        "sent_ever": Decimal(sent["ever"]).quantize(Decimal("0.01")),
        "next_plan_week": None,
    }
    upcoming = (shown or 0) + 1
    if shown is not None and upcoming <= cycle.weeks:
        lines = list(
            cycle.assignments.filter(week=upcoming)
            .select_related("recipient")
            .order_by("recipient__display_name", "pk")
        )
        if lines:
            context["next_plan_week"] = upcoming
            context["next_lines"] = [line for line in lines if line.payer_id == user.pk]
    return context


def _done_message(action, week):
    if action == PledgeForm.PAUSE:
        return _("Your pledge is paused from week %(week)s.") % {"week": week}
    if action == PledgeForm.CANCEL:
        return _("Your pledge is cancelled from week %(week)s on.") % {"week": week}
    return _("Thank you! Your new pledge counts from week %(week)s.") % {"week": week}


@dataclass
class Line:
    """A transfer of the plan as a page shows it: planned, already sent, still owed (see
    services.owed_lines, the one place that works it out)."""

    assignment: object
    recipient: object
    handle_warning: bool
    posted: Decimal = Decimal("0.00")
    outstanding: Decimal = Decimal("0.00")
    receipt_url: str = ""
    payer_name: str = ""
    pay_url: str = ""


@dataclass
class RecipientRow:
    """A recipient's part of the week's plan, for organizers."""

    recipient: object
    # The recipient's shown name, told apart from a namesake's as on the board.
    name: str = ""
    lines: list = field(default_factory=list)
    handle_warning: bool = False
    enrolled: bool = True
    # The need nobody has sent or is asked to send (services.Need.short), and the part of
    # it the plan funded but no line asks for any more (Need.unasked): an organizer
    # reassigns it in the plan editor.
    shortfall: Decimal = Decimal("0.00")
    unasked: Decimal = Decimal("0.00")
    # Written once by _whole_plan: "Paid by N neighbors", "$X planned", "Short $Y", and
    # the list of payers and amounts (HTML, each part escaped).
    paid_by: str = ""
    planned_text: str = ""
    short_text: str = ""
    payers: str = ""
    # The plan editor's: this recipient's lines as a form, and a refusal of the service.
    formset: object = None
    error: str = ""

    @property
    def planned(self):
        return sum((line.assignment.amount for line in self.lines), Decimal("0.00"))

    @property
    def outstanding(self):
        return sum((line.outstanding for line in self.lines), Decimal("0.00"))


@login_required
@require_safe
def this_week(request, slug):
    """Whom to pay this week, how much is still to send (the plan less the receipts
    already posted for it), how and where, with a link to post the receipt.

    A recipient's handle is on this page only for the members assigned to pay them and
    for organizers, who also see the whole week's plan and its shortfalls."""
    pod = get_pod_for_member(request, slug)
    membership = request.membership
    cycle = pod.current_cycle()
    context = {"pod": pod, "membership": membership, "section": "this_week", "cycle": cycle}
    if cycle is None:
        return render(request, "pledges/this_week.html", context)
    today = pod.today()
    week = cycle.shown_week(today)
    context.update(week=week, upcoming=today < cycle.starts_on)
    if week is None:
        return render(request, "pledges/this_week.html", context)

    # The week's lines as ids and amounts, with what is still owed on each (a plan has a
    # line for each of hundreds of payers), and then the people of the lines this page
    # shows: the member's own recipients here, the organizers' page of rows in _whole_plan.
    # Organizers see the whole week; a donor's page makes objects of their own lines only.
    owed, sent = services.week_owed(
        cycle=cycle, week=week, payer_id=None if membership.is_organizer else request.user.pk
    )
    owed_mine = [line for line in owed if line.assignment.payer_id == request.user.pk]
    recipients = Recipient.objects.in_bulk([line.assignment.recipient_id for line in owed_mine])
    now = timezone.now()
    create_url = reverse("receipts:receipt_create", args=[pod.slug])
    # The note the payment app shows beside the amount: which pod, which week.
    note = _("%(pod)s, week %(week)s") % {"pod": pod.name, "week": week}
    mine = []
    for line in owed_mine:
        recipient = recipients[line.assignment.recipient_id]
        mine.append(
            Line(
                assignment=line.assignment,
                recipient=recipient,
                handle_warning=services.handle_recently_changed(recipient, now),
                posted=line.sent,
                outstanding=line.owed,
                # "I sent it": the receipt form with everything but the screenshot filled in.
                receipt_url=create_url
                + "?"
                + urlencode(
                    {
                        "recipient": recipient.pk,
                        "week": week,
                        "amount": f"{line.owed:.2f}",
                        "method": recipient.payment_method,
                    }
                ),
                pay_url=pay_link(
                    method=recipient.payment_method,
                    handle=recipient.payment_handle,
                    amount=line.owed,
                    currency=pod.currency,
                    note=note,
                ),
            )
        )
    services.saw_week(cycle=cycle, week=week, payer=request.user)
    next_week = cycle.first_open_week(today)
    context.update(
        mine=mine,
        my_pledge=cycle.pledges.active().in_week(week).filter(donor=request.user).total(),
        started=cycle.has_started(week, today),
        week_starts_on=cycle.week_starts_on(week),
        week_ends_on=cycle.week_ends_on(week),
        next_week=next_week if next_week != week else None,
    )
    if membership.is_organizer:
        # The figures are the whole week's; its recipients are shown a page at a time, so
        # that the page's size does not grow with the pod (the plan page has them all).
        context.update(
            _whole_plan(cycle, week, owed, now, sent=sent, page=request.GET.get("page", 1))
        )
    return render(request, "pledges/this_week.html", context)


PLAN_ROWS_PER_PAGE = 20


def _whole_plan(cycle, week, owed, now, *, names=None, sent=None, page=None):
    """The organizers' view of a week: every recipient enrolled in it, their lines (with
    what is still owed on each), shortfall and need asked of nobody (services.week_needs),
    in slot order (the order they are funded in when pledges fall short), then those
    planned for and not enrolled any more. `names`: the members' shown names
    (pods.views.roster), and `sent`: the week's sent_in_week (the one owed_lines was
    given), when the caller has them already.

    The week's figures are worked out from the lines alone (ids and amounts), and rows
    are made, with their people, for the recipients shown: all of them, or with `page`
    (a page number as asked for) one page of PLAN_ROWS_PER_PAGE, in `rows_page`."""
    if sent is None:
        sent = services.sent_in_week(cycle, week)
    enrolled = list(
        cycle.enrollments.in_week(week).in_slot_order().values_list("recipient_id", flat=True)
    )
    # Planned before an organizer's edit of the enrollments: still shown, so that the
    # lines are not lost from view.
    order = list(dict.fromkeys(enrolled + [line.assignment.recipient_id for line in owed]))
    needs = services.week_needs(cycle=cycle, recipient_ids=enrolled, owed=owed, sent=sent)
    figures = services.coverage(cycle, week)
    context = {
        "planned": sum((line.planned for line in owed), Decimal("0.00")),
        "needed": figures.needed,
        "outstanding": sum((line.owed for line in owed), Decimal("0.00")),
        # Weekly amount less received less still owed, over the week's recipients: what
        # the pod is short of this week, whether pledges fall short or money went astray.
        "shortfall": sum((need.short for need in needs.values()), Decimal("0.00")),
        "unasked": sum((need.unasked for need in needs.values()), Decimal("0.00")),
        "short_count": sum(1 for need in needs.values() if need.short),
    }
    if page is not None:
        context["rows_page"] = Paginator(order, PLAN_ROWS_PER_PAGE).get_page(page)
        order = list(context["rows_page"].object_list)
    if names is None:
        names = roster(cycle.pod).names
    # Over the whole cycle, as the board counts them, so that a mark is the same there.
    recipient_names = distinct_names(
        cycle.enrollments.values_list("recipient_id", "recipient__display_name")
    )
    recipients = Recipient.objects.in_bulk(order)
    payers = {
        line.assignment.payer_id for line in owed if line.assignment.recipient_id in recipients
    }
    # Every payer is or was a member, so this reads nobody (unless a membership was deleted).
    for user in get_user_model().objects.filter(pk__in=payers - names.keys()):
        names = {**names, user.pk: public_name(user)}
    rows = {}
    for pk in order:
        recipient = recipients[pk]
        need = needs.get(pk)
        rows[pk] = RecipientRow(
            recipient=recipient,
            name=recipient_names.get(pk) or str(recipient),
            handle_warning=services.handle_recently_changed(recipient, now),
            enrolled=need is not None,
            shortfall=need.short if need else Decimal("0.00"),
            unasked=need.unasked if need else Decimal("0.00"),
        )
    for line in owed:
        row = rows.get(line.assignment.recipient_id)
        if row is not None:
            row.lines.append(
                Line(
                    assignment=line.assignment,
                    recipient=row.recipient,
                    handle_warning=False,
                    posted=line.sent,
                    outstanding=line.owed,
                    payer_name=names.get(line.assignment.payer_id, ""),
                )
            )
    # Each row's words and its payers' list written here once, not by a tag per line
    # with its own lookups: a page shows a score of recipients and a hundred lines.
    money = money_formatter(cycle.pod.currency)
    for row in rows.values():
        count = len(row.lines)
        row.paid_by = ngettext(
            "Paid by %(count)s neighbor", "Paid by %(count)s neighbors", count
        ) % {"count": count}
        row.planned_text = _("%(planned)s planned") % {"planned": money(row.planned)}
        row.short_text = _("Short %(short)s") % {"short": money(row.shortfall)}
        row.payers = format_html_join(
            "",
            "<li>{}: {}</li>",
            ((isolate(line.payer_name), money(line.assignment.amount)) for line in row.lines),
        )
    context["rows"] = list(rows.values())
    return context


@login_required
@require_http_methods(["GET", "POST"])
def plan_review(request, slug, week):
    """Organizers review a week's plan and, until the week starts, adjust it, one
    recipient at a time: change an amount or a payer, add or remove a line. Payers are
    typed or picked from one list of the pod's members (a <datalist>), and only the lines
    of the recipient being edited are posted, so the page stays small at pod size."""
    pod = get_pod_for_organizer(request, slug)
    cycle = pod.current_cycle()
    if cycle is None or not 1 <= week <= cycle.weeks:
        raise Http404(_("No such week."))
    started = cycle.has_started(week)
    plan = services.week_plan(cycle=cycle, week=week)
    memberships = list(pod.memberships.select_related("user"))
    # Told apart as on the board (former members count, so that the marks match); only
    # the pod's members now can be picked.
    names = member_names(memberships)
    labels = {m.user_id: names[m.user_id] for m in memberships if m.active}
    context = {
        "pod": pod,
        "membership": request.membership,
        "section": "this_week",
        "cycle": cycle,
        "week": week,
        "started": started,
        "week_starts_on": cycle.week_starts_on(week),
        "previous_week": week - 1 if week > 1 else None,
        "next_week": week + 1 if week < cycle.weeks else None,
        "payer_choices": sorted(labels.values(), key=str.casefold),
    }
    sent = services.sent_in_week(cycle, week)
    owed = services.owed_lines(cycle=cycle, week=week, plan=plan, sent=sent)
    context.update(_whole_plan(cycle, week, owed, timezone.now(), names=names, sent=sent))
    posted = None
    if request.method == "POST":
        try:
            posted = int(request.POST.get("recipient", ""))
        except ValueError:
            posted = None
    editable = {row.recipient.pk for row in context["rows"] if row.enrolled}
    for row in context["rows"]:
        if row.recipient.pk not in editable:
            row.formset = None
            continue
        bound = request.method == "POST" and posted == row.recipient.pk
        row.formset = PlanFormSet(
            request.POST if bound else None,
            prefix=f"r{row.recipient.pk}",
            initial=[
                {
                    "payer": labels.get(line.assignment.payer_id, ""),
                    # Written as the amount field reads it back, in the reader's language.
                    "amount": localize_input(line.assignment.amount),
                }
                for line in row.lines
            ],
            form_kwargs={"labels": labels},
            recipient_id=row.recipient.pk,
            recipient_name=row.name,
            weekly_amount=cycle.weekly_amount,
            currency=pod.currency,
        )
        if bound:
            context["posted_row"] = row
    if request.method == "POST":
        row = context.get("posted_row")
        if row is None:
            context["error"] = _(
                "That recipient is not enrolled in week %(week)s any more: nothing was saved."
            ) % {"week": week}
        elif row.formset.is_valid():
            try:
                # A started week is frozen; only this explicit tick corrects it.
                services.set_week_plan(
                    cycle=cycle,
                    week=week,
                    lines=row.formset.lines(),
                    correcting_started=request.POST.get("correct_started") == "yes",
                    recipient_id=row.recipient.pk,
                )
            except ValidationError as error:
                row.error = " ".join(error.messages)
            else:
                messages.success(
                    request,
                    _("The plan for %(name)s in week %(week)s is saved.")
                    % {"name": row.name, "week": week},
                )
                return redirect("pods:plan", slug=pod.slug, week=week)
    return render(request, "pledges/plan.html", context)


@login_required
@require_safe
def dashboard(request, slug):
    """The pod at a glance: cycle and week, slots filled, and coverage of this week's need.
    Recipients appear by count only: their names and handles belong on other pages."""
    pod = get_pod_for_member(request, slug)
    cycle = pod.current_cycle()
    context = {"pod": pod, "membership": request.membership, "section": "dashboard"}
    if cycle is not None:
        today = pod.today()
        shown_week = cycle.shown_week(today)
        context.update(
            cycle=cycle,
            week=cycle.week_of(today),
            upcoming=today < cycle.starts_on,
            shown_week=shown_week,
            following=cycle.following(),
        )
        if shown_week is not None:
            # Slots filled, recipients and needed are all of the same week.
            context["coverage"] = services.coverage(cycle, shown_week)
            context["my_pledge"] = (
                cycle.pledges.active().in_week(shown_week).filter(donor=request.user).total()
            )
    return render(request, "pods/dashboard.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def leave(request, slug):
    """Confirm, then leave. History stays; this week's pledge stands, later ones end."""
    pod = get_pod_for_member(request, slug)
    membership = request.membership
    error = None
    if request.method == "POST":
        try:
            services.leave_pod(membership=membership)
        except ValidationError as e:
            error = " ".join(e.messages)
        else:
            messages.success(
                request,
                _("You left %(pod)s. Your past pledges and receipts stay in its history.")
                % {"pod": pod.name},
            )
            return redirect("home")
    only_organizer = (
        membership.is_organizer and Membership.objects.organizers().filter(pod=pod).count() <= 1
    )
    return render(
        request,
        "pods/leave.html",
        {
            "pod": pod,
            "membership": membership,
            "section": "members",
            "only_organizer": only_organizer,
            "error": error,
        },
    )


# Staged screenshots older than this are dropped when their owner shares another.
STAGED_KEPT = 5


@csrf_exempt
@login_required
@require_POST
def share_target(request):
    """Where a phone's share sheet sends a screenshot (the manifest's share_target). The
    browser posts it without a CSRF token, so this view changes nothing that counts: it
    only stages the cleaned picture for the signed-in member and opens "Post a receipt"
    with it attached and their open line of this week chosen. The receipt itself is
    posted by that normal, CSRF-checked form."""
    upload = request.FILES.get(SHARED_FILE_FIELD)
    if upload is None:
        return _share_failed(request, _("Nothing was shared: share a screenshot of the transfer."))
    try:
        clean = clean_screenshot(upload)
    except ValidationError as error:
        return _share_failed(request, " ".join(error.messages))
    try:
        # Its own savepoint: the file is saved within the row's save, and a failed one
        # must leave the request's transaction usable for the answer.
        with transaction.atomic():
            staged = StagedScreenshot.objects.create(
                owner=request.user, image=clean.as_file(), width=clean.width, height=clean.height
            )
    except STORAGE_ERRORS:
        logger.warning("Shared screenshot not stored", exc_info=True)
        return _share_failed(request, STORAGE_DOWN)
    for old in request.user.staged_screenshots.order_by("-created_at", "-pk")[STAGED_KEPT:]:
        old.discard()
    memberships = list(Membership.objects.active().filter(user=request.user).select_related("pod"))
    choices = []
    for membership in memberships:
        url, line = _open_line_url(membership.pod, request.user, staged)
        choices.append({"pod": membership.pod, "url": url, "line": line})
    open_ones = [choice for choice in choices if choice["line"] is not None]
    if len(open_ones) == 1 or len(choices) == 1:
        return redirect((open_ones or choices)[0]["url"])
    return render(request, "pledges/share.html", {"choices": choices, "staged": staged})


def _open_line_url(pod, user, staged):
    """ "Post a receipt" in `pod` with the staged screenshot, and with the member's first
    line of this week still owed (if any) filled in; and that line."""
    url = reverse("receipts:receipt_create", args=[pod.slug])
    query = {"staged": staged.pk}
    cycle = pod.current_cycle()
    week = cycle.shown_week(pod.today()) if cycle else None
    line = None
    if week is not None:
        owed = services.owed_lines(cycle=cycle, week=week)
        line = next((o for o in owed if o.assignment.payer_id == user.pk and o.owed), None)
    if line is not None:
        query.update(
            recipient=line.recipient.pk,
            week=week,
            amount=f"{line.owed:.2f}",
            method=line.recipient.payment_method,
        )
    return f"{url}?{urlencode(query)}", line


def _share_failed(request, message):
    return render(request, "pledges/share.html", {"error": message}, status=400)
