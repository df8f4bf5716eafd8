from dataclasses import dataclass
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from pledges.services import enrolled_in_week
from pods.access import get_pod_for_member
from pods.models import Cycle, Membership
from pods.services import leave_pod
from recipients.models import Enrollment


@require_safe
def home(request):
    """Signed in: the pods you belong to, each with its current cycle and week.
    Signed out: what this is and how to sign in."""
    if not request.user.is_authenticated:
        return render(request, "pods/welcome.html")
    memberships = (
        Membership.objects.active()
        .filter(user=request.user)
        .select_related("pod")
        .order_by("pod__name")
    )
    pods = [m.pod for m in memberships]
    cycles = {
        c.pod_id: c for c in Cycle.objects.active().filter(pod__in=pods).select_related("pod")
    }
    rows = []
    for membership in memberships:
        cycle = cycles.get(membership.pod_id)
        today = membership.pod.today()
        rows.append(
            {
                "pod": membership.pod,
                "role": membership.get_role_display(),
                "cycle": cycle,
                "week": cycle.week_of(today) if cycle else None,
                "upcoming": bool(cycle) and cycle.starts_on > today,
            }
        )
    return render(request, "pods/home.html", {"rows": rows})


@dataclass(frozen=True)
class Coverage:
    """How far the pledges for one week go toward what the enrolled recipients need."""

    week: int
    recipients: int
    needed: Decimal
    pledged: Decimal
    donors: int

    @property
    def shortfall(self):
        return max(self.needed - self.pledged, Decimal("0.00"))

    @property
    def surplus(self):
        return max(self.pledged - self.needed, Decimal("0.00"))

    @property
    def percent(self):
        # Rounded down: a pod 99.6% covered is still short and must not read "100%".
        return int(self.pledged * 100 // self.needed) if self.needed else None

    @property
    def meter_low(self):
        return self.needed / 2


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
        week = cycle.week_of(today)
        upcoming = today < cycle.starts_on
        # Before the cycle starts, its first week is the one people are pledging for.
        shown_week = 1 if upcoming else week
        context.update(cycle=cycle, week=week, upcoming=upcoming, shown_week=shown_week)
        if shown_week is not None:
            # Slots filled counts who holds one now; the need counts everyone supported in
            # the week, as the weekly plan does: someone leaving this week is still paid.
            in_week = Q(pk__in=enrolled_in_week(cycle, shown_week).values("pk"))
            enrolled = cycle.enrollments.aggregate(
                filled=Count("pk", filter=Q(status=Enrollment.Status.ACTIVE)),
                in_week=Count("pk", filter=in_week),
            )
            pledged = cycle.pledges.active().in_week(shown_week).summary()
            context["filled"] = enrolled["filled"]
            context["coverage"] = Coverage(
                week=shown_week,
                recipients=enrolled["in_week"],
                needed=cycle.needed_per_week(enrolled["in_week"]),
                pledged=pledged["total"],
                donors=pledged["donors"],
            )
            context["my_pledge"] = (
                cycle.pledges.active().in_week(shown_week).filter(donor=request.user).total()
            )
        else:
            context["filled"] = cycle.enrollments.active().count()
    return render(request, "pods/dashboard.html", context)


def public_name(user):
    """What other members see: the display name, else the part of the email before the @
    (a donor never sees another member's full address)."""
    return user.display_name or user.email.split("@")[0]


@login_required
@require_safe
def members(request, slug):
    pod = get_pod_for_member(request, slug)
    show_emails = request.membership.is_organizer
    rows = sorted(
        (
            {
                "name": public_name(m.user),
                "email": m.user.email if show_emails else "",
                "is_you": m.user_id == request.user.pk,
                "is_organizer": m.role == Membership.Role.ORGANIZER,
            }
            for m in pod.memberships.active().select_related("user")
        ),
        key=lambda row: row["name"].casefold(),
    )
    return render(
        request,
        "pods/members.html",
        {
            "pod": pod,
            "membership": request.membership,
            "section": "members",
            "organizers": [row for row in rows if row["is_organizer"]],
            "donors": [row for row in rows if not row["is_organizer"]],
            "show_emails": show_emails,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def leave(request, slug):
    """Confirm, then leave. History stays; this week's pledge stands, later ones end."""
    pod = get_pod_for_member(request, slug)
    membership = request.membership
    error = None
    if request.method == "POST":
        try:
            leave_pod(membership=membership)
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
