from collections import Counter

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from pods.access import get_pod_for_member
from pods.models import Membership


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
        # One query for every pod's cycles: current_cycle() picks from them.
        .prefetch_related("pod__cycles")
        .order_by("pod__name")
    )
    rows = []
    for membership in memberships:
        today = membership.pod.today()
        cycle = membership.pod.current_cycle(today)
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


def public_name(user):
    """What other members see: the display name, else the part of the email before the @
    (a donor never sees another member's full address)."""
    return user.display_name or user.email.split("@")[0]


def distinct_names(people):
    """{key: shown name} for (key, name) pairs, where names that two or more share get a
    distinguishing mark: "Abby B. (1)", "Abby B. (2)", numbered in the order of their
    keys (ids), so that each keeps their mark from page to page, list to export."""
    people = sorted(people, key=lambda pair: pair[0])
    counts = Counter(name.casefold() for _key, name in people)
    seen = Counter()
    shown = {}
    for key, name in people:
        folded = name.casefold()
        if counts[folded] > 1:
            seen[folded] += 1
            shown[key] = _("%(name)s (%(number)s)") % {"name": name, "number": seen[folded]}
        else:
            shown[key] = name
    return shown


def member_names(memberships):
    """Shown names by user id, told apart, for a pod's memberships (with their users):
    pass them all, former members too, so that the marks are the same everywhere."""
    return distinct_names([(m.user_id, public_name(m.user)) for m in memberships])


@login_required
@require_safe
def members(request, slug):
    pod = get_pod_for_member(request, slug)
    show_emails = request.membership.is_organizer
    # Former members too, only for the marks that tell same names apart, so that each
    # member has the mark here that the board and the plan give them.
    memberships = list(
        pod.memberships.select_related("user").only(
            "user_id", "role", "active", "user__display_name", "user__email"
        )
    )
    names = member_names(memberships)
    rows = sorted(
        (
            {
                "name": names[m.user_id],
                "email": m.user.email if show_emails else "",
                "is_you": m.user_id == request.user.pk,
                "is_organizer": m.role == Membership.Role.ORGANIZER,
            }
            for m in memberships
            if m.active
        ),
        key=lambda row: row["name"].casefold(),
    )
    # A page of members at a time: the page's size does not grow with the pod.
    donors = Paginator([row for row in rows if not row["is_organizer"]], MEMBERS_PER_PAGE)
    page = donors.get_page(request.GET.get("page"))
    return render(
        request,
        "pods/members.html",
        {
            "pod": pod,
            "membership": request.membership,
            "section": "members",
            "organizers": [row for row in rows if row["is_organizer"]],
            "donors": page.object_list,
            "page": page,
            "show_emails": show_emails,
        },
    )


MEMBERS_PER_PAGE = 100
