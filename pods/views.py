from collections import Counter
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
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


@dataclass(frozen=True)
class Roster:
    """Who is in a pod, as pages show them: every member's shown name (member_names,
    former members too) and the active members as (user id, is organizer), by name."""

    names: dict[int, str]
    active: list[tuple[int, bool]]


def roster(pod):
    """The pod's Roster, from the shared cache when it holds it. It is kept under the
    pod's board version, which every change of a membership and of a member's name or
    address bumps in the same transaction (Pod.board_version): never stale, and a page of
    a pod of hundreds does not read them all on every request."""
    key = f"roster:{pod.pk}:{pod.board_version}"
    found = cache.get(key)
    if found is None:
        memberships = list(
            pod.memberships.select_related("user").only(
                "user_id", "role", "active", "user__display_name", "user__email"
            )
        )
        names = member_names(memberships)
        active = sorted(
            (m for m in memberships if m.active), key=lambda m: names[m.user_id].casefold()
        )
        found = Roster(
            names=names,
            active=[(m.user_id, m.role == Membership.Role.ORGANIZER) for m in active],
        )
        cache.set(key, found, ROSTER_SECONDS)
    return found


# A write that changes the roster changes its key (see roster): this only bounds what the
# cache keeps.
ROSTER_SECONDS = 60 * 60


@login_required
@require_safe
def members(request, slug):
    pod = get_pod_for_member(request, slug)
    show_emails = request.membership.is_organizer
    # Each member has the mark here that the board and the plan give them (Roster), and
    # a page of donors at a time is shown: the page's size does not grow with the pod.
    found = roster(pod)
    organizers = [pk for pk, is_organizer in found.active if is_organizer]
    page = Paginator(
        [pk for pk, is_organizer in found.active if not is_organizer], MEMBERS_PER_PAGE
    ).get_page(request.GET.get("page"))
    shown = organizers + list(page.object_list)
    emails = (
        dict(pod.memberships.filter(user_id__in=shown).values_list("user_id", "user__email"))
        if show_emails
        else {}
    )

    def row(pk):
        return {
            "name": found.names[pk],
            "email": emails.get(pk, ""),
            "is_you": pk == request.user.pk,
        }

    return render(
        request,
        "pods/members.html",
        {
            "pod": pod,
            "membership": request.membership,
            "section": "members",
            "organizers": [row(pk) for pk in organizers],
            "donors": [row(pk) for pk in page.object_list],
            "page": page,
            "show_emails": show_emails,
        },
    )


MEMBERS_PER_PAGE = 100
