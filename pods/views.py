from django.shortcuts import render

from pods.models import Cycle, Membership


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
