from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from mutualaid.forms import add_service_errors
from pledges import services
from pledges.forms import PlanFormSet, PledgeForm
from pledges.models import Pledge
from pods.access import get_pod_for_member, get_pod_for_organizer
from pods.views import public_name
from receipts.models import Receipt


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
    history = list(
        cycle.pledges.filter(donor=request.user).order_by("first_week", "created_at", "pk")
    )
    # From the first week a change could touch: is something active or paused there?
    first = weeks[0] if weeks else None
    ahead = [
        p
        for p in history
        if first is not None and p.status != Pledge.Status.CANCELLED and p.last_week >= first
    ]
    now = next((p for p in ahead if p.first_week <= first), None)
    context.update(
        current_week=current_week,
        upcoming=today < cycle.starts_on,
        history=history,
        has_cancelled=any(p.status == Pledge.Status.CANCELLED for p in history),
        now=now,
        later=[p for p in ahead if p is not now],
    )
    if not weeks:
        return render(request, "pledges/pledge.html", context)

    has_active = any(p.status == Pledge.Status.ACTIVE for p in ahead)
    has_paused = any(p.status == Pledge.Status.PAUSED for p in ahead)
    # A change in the middle of a week that is already pledged most likely means the
    # next one (this week's transfers may be on their way); otherwise start right away.
    initial_week = weeks[-1] if now and now.status == Pledge.Status.ACTIVE else weeks[0]
    basis = now or (ahead[0] if ahead else None)
    form = PledgeForm(
        request.POST if request.method == "POST" else None,
        initial={"amount": basis.amount if basis else None, "starts": initial_week},
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


def _done_message(action, week):
    if action == PledgeForm.PAUSE:
        return _("Your pledge is paused from week %(week)s.") % {"week": week}
    if action == PledgeForm.CANCEL:
        return _("Your pledge is cancelled from week %(week)s on.") % {"week": week}
    return _("Thank you! Your new pledge counts from week %(week)s.") % {"week": week}


@dataclass
class Line:
    """A transfer of the plan as a page shows it."""

    assignment: object
    handle_warning: bool
    receipt_url: str = ""
    posted: Decimal = Decimal("0.00")
    payer_name: str = ""

    @property
    def outstanding(self):
        return max(self.assignment.amount - self.posted, Decimal("0.00"))


@dataclass
class RecipientRow:
    """A recipient's part of the week's plan, for organizers."""

    recipient: object
    lines: list = field(default_factory=list)
    handle_warning: bool = False
    enrolled: bool = True
    shortfall: Decimal = Decimal("0.00")

    @property
    def planned(self):
        return sum((line.assignment.amount for line in self.lines), Decimal("0.00"))


@login_required
@require_safe
def this_week(request, slug):
    """Whom to pay this week, how much, how and where, with a link to post the receipt.

    A recipient's handle is on this page only for the members assigned to pay them and
    for organizers, who also see the whole week's plan and its shortfalls."""
    pod = get_pod_for_member(request, slug)
    membership = request.membership
    cycle = pod.current_cycle()
    context = {"pod": pod, "membership": membership, "section": "this_week", "cycle": cycle}
    if cycle is None:
        return render(request, "pledges/this_week.html", context)
    today = pod.today()
    upcoming = today < cycle.starts_on
    # Before the cycle starts, its first week is the one to get ready for.
    week = 1 if upcoming else cycle.week_of(today)
    context.update(week=week, upcoming=upcoming)
    if week is None:
        return render(request, "pledges/this_week.html", context)

    plan = services.week_plan(cycle=cycle, week=week)
    now = timezone.now()
    posted = dict(
        Receipt.objects.live()
        .filter(cycle=cycle, week=week, payer=request.user)
        .order_by()
        .values_list("recipient_id")
        .annotate(total=Sum("amount"))
    )
    create_url = reverse("receipts:receipt_create", args=[pod.slug])
    mine = [
        Line(
            assignment=line,
            handle_warning=services.handle_recently_changed(line.recipient, now),
            receipt_url=create_url
            + "?"
            + urlencode(
                {"recipient": line.recipient_id, "week": week, "amount": f"{line.amount:.2f}"}
            ),
            posted=posted.get(line.recipient_id, Decimal("0.00")),
        )
        for line in plan
        if line.payer_id == request.user.pk
    ]
    context.update(
        mine=mine,
        my_pledge=cycle.pledges.active().in_week(week).filter(donor=request.user).total(),
        started=services.week_has_started(cycle, week),
        week_starts_on=cycle.week_starts_on(week),
        week_ends_on=cycle.week_ends_on(week),
        next_week=week + 1 if week < cycle.weeks else None,
    )
    if membership.is_organizer:
        context.update(_whole_plan(cycle, week, plan, now))
    return render(request, "pledges/this_week.html", context)


def _whole_plan(cycle, week, plan, now):
    """The organizers' view of a week: every recipient enrolled in it, their lines and
    shortfall, in slot order (the order they are funded in when pledges fall short)."""
    rows = {}
    for enrollment in services.enrolled_in_week(cycle, week).select_related("recipient"):
        rows[enrollment.recipient_id] = RecipientRow(recipient=enrollment.recipient)
    for line in plan:
        if line.recipient_id not in rows:
            # Planned before they left: still shown, so the lines are not lost from view.
            rows[line.recipient_id] = RecipientRow(recipient=line.recipient, enrolled=False)
        rows[line.recipient_id].lines.append(
            Line(assignment=line, handle_warning=False, payer_name=public_name(line.payer))
        )
    needed = Decimal("0.00")
    for row in rows.values():
        row.handle_warning = services.handle_recently_changed(row.recipient, now)
        if row.enrolled:
            row.shortfall = max(cycle.weekly_amount - row.planned, Decimal("0.00"))
            needed += cycle.weekly_amount
    planned = sum((line.amount for line in plan), Decimal("0.00"))
    return {
        "rows": list(rows.values()),
        "planned": planned,
        "needed": needed,
        "shortfall": max(needed - planned, Decimal("0.00")),
        "short_count": sum(1 for row in rows.values() if row.enrolled and row.shortfall),
    }


@login_required
@require_http_methods(["GET", "POST"])
def plan_review(request, slug, week):
    """Organizers review a week's plan and, until the week starts, adjust it: change an
    amount, a payer or a recipient, add or remove a line."""
    pod = get_pod_for_organizer(request, slug)
    cycle = pod.current_cycle()
    if cycle is None or not 1 <= week <= cycle.weeks:
        raise Http404(_("No such week."))
    started = services.week_has_started(cycle, week)
    plan = services.week_plan(cycle=cycle, week=week)
    enrollments = list(services.enrolled_in_week(cycle, week).select_related("recipient"))
    payers = sorted(
        ((m.user_id, public_name(m.user)) for m in pod.memberships.active().select_related("user")),
        key=lambda choice: choice[1].casefold(),
    )
    recipients = [(e.recipient_id, e.recipient.display_name) for e in enrollments]
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
    }
    context.update(_whole_plan(cycle, week, plan, timezone.now()))
    if started:
        if request.method == "POST":
            messages.error(
                request,
                _("Week %(week)s has started: its plan can no longer be changed.") % {"week": week},
            )
            return redirect("pods:plan", slug=pod.slug, week=week)
        return render(request, "pledges/plan.html", context)

    formset = PlanFormSet(
        request.POST if request.method == "POST" else None,
        initial=[
            {"payer": line.payer_id, "recipient": line.recipient_id, "amount": line.amount}
            for line in plan
        ],
        form_kwargs={"payers": payers, "recipients": recipients},
        weekly_amount=cycle.weekly_amount,
        currency=pod.currency,
    )
    if formset.is_bound and formset.is_valid():
        try:
            services.set_week_plan(cycle=cycle, week=week, lines=formset.lines())
        except ValidationError as error:
            context["error"] = " ".join(error.messages)
        else:
            messages.success(request, _("The plan for week %(week)s is saved.") % {"week": week})
            return redirect("pods:plan", slug=pod.slug, week=week)
    context["formset"] = formset
    return render(request, "pledges/plan.html", context)
