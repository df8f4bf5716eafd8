from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from pledges import services
from pledges.forms import PledgeForm
from pledges.models import Pledge
from pods.access import get_pod_for_member


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
            _add_errors(form, e)
        else:
            if changed is None:
                messages.info(request, _("Your pledge already says that; nothing changed."))
            else:
                messages.success(request, _done_message(action, week))
            return redirect("pods:pledge", slug=pod.slug)
    context["form"] = form
    return render(request, "pledges/pledge.html", context)


def _add_errors(form, error):
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _done_message(action, week):
    if action == PledgeForm.PAUSE:
        return _("Your pledge is paused from week %(week)s.") % {"week": week}
    if action == PledgeForm.CANCEL:
        return _("Your pledge is cancelled from week %(week)s on.") % {"week": week}
    return _("Thank you! Your new pledge counts from week %(week)s.") % {"week": week}
