"""The organizers' cycle page: the current cycle in plain words (week n of 15, its dates,
slots and coverage), the next one if planned, and the actions taken every few months:
plan the next cycle, change one that has not started, end the current one early. Each
action is a workflow of pledges/services.py, the same the admin's cycle actions call."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from mutualaid.forms import add_service_errors
from pledges import services
from pledges.forms import NextCycleForm, PlannedCycleForm
from pods.access import get_pod_for_organizer


def _cycles(pod):
    """The current cycle, the one planned after it, and which of them may still change
    (the first that has not started)."""
    current = pod.current_cycle()
    following = current.following() if current is not None else None
    changeable = next(
        (c for c in (current, following) if c is not None and not c.has_started(1)), None
    )
    return current, following, changeable


def _page(request, pod, *, next_form=None, change_form=None, first_form=None, status=200):
    current, following, changeable = _cycles(pod)
    today = pod.today()
    context = {
        "pod": pod,
        "membership": request.membership,
        "section": "cycle",
        "cycle": current,
        "following": following,
        "changeable": changeable,
    }
    if current is None:
        context["first_form"] = first_form or NextCycleForm(
            prefix="first",
            initial={
                "starts_on": today,
                "weeks": pod.default_weeks,
                "weekly_amount": pod.default_weekly_amount,
                "slots": pod.default_slots,
            },
        )
        return render(request, "pledges/cycle.html", context, status=status)
    shown = current.shown_week(today)
    context.update(
        state=current.status(today),
        week=current.week_of(today),
        coverage=services.coverage(current, shown or current.weeks),
        preview=services.early_end_preview(current),
    )
    if following is None:
        earliest = max(current.ends_on + datetime.timedelta(days=1), today)
        context["next_form"] = next_form or NextCycleForm(
            prefix="next",
            initial={
                "starts_on": earliest,
                "weeks": current.weeks_for_next(),
                "weekly_amount": current.weekly_amount,
                "slots": current.slots,
            },
        )
    if changeable is not None:
        context["change_form"] = change_form or PlannedCycleForm(
            prefix="change",
            initial={
                "starts_on": changeable.starts_on,
                "weekly_amount": changeable.weekly_amount,
                "slots": changeable.slots,
            },
        )
    return render(request, "pledges/cycle.html", context, status=status)


@login_required
@require_safe
def cycle_page(request, slug):
    pod = get_pod_for_organizer(request, slug)
    return _page(request, pod)


@login_required
@require_POST
def cycle_plan(request, slug):
    """Plan the pod's first cycle, or the one after the current cycle."""
    pod = get_pod_for_organizer(request, slug)
    current, following, _changeable = _cycles(pod)
    if current is None:
        form = NextCycleForm(request.POST, prefix="first")
        if form.is_valid():
            try:
                new = services.plan_first_cycle(pod=pod, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _planned_message(new))
                return redirect("pods:cycle", slug=pod.slug)
        return _page(request, pod, first_form=form)
    form = NextCycleForm(request.POST, prefix="next")
    if following is not None:
        messages.info(
            request, _("Cycle %(number)s is already planned.") % {"number": following.number}
        )
        return redirect("pods:cycle", slug=pod.slug)
    if form.is_valid():
        try:
            new = services.start_next_cycle(cycle=current, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _planned_message(new))
            return redirect("pods:cycle", slug=pod.slug)
    return _page(request, pod, next_form=form)


def _posted_number(request):
    try:
        return int(request.POST.get("number", ""))
    except ValueError:
        return None


def _planned_message(cycle):
    return _("Cycle %(number)s is planned to start on %(date)s.") % {
        "number": cycle.number,
        "date": date_format(cycle.starts_on),
    }


@login_required
@require_POST
def cycle_change(request, slug):
    """Change the start, amount or slots of a cycle that has not started. The page names
    the cycle it showed, so a stale page never changes another one."""
    pod = get_pod_for_organizer(request, slug)
    _current, _following, changeable = _cycles(pod)
    number = _posted_number(request)
    if changeable is None or changeable.number != number:
        messages.error(request, _("That cycle has started: its start and amounts stay."))
        return redirect("pods:cycle", slug=pod.slug)
    form = PlannedCycleForm(request.POST, prefix="change")
    if form.is_valid():
        try:
            services.change_planned_cycle(cycle=changeable, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Cycle %(number)s is changed.") % {"number": number})
            return redirect("pods:cycle", slug=pod.slug)
    return _page(request, pod, change_form=form)


@login_required
@require_http_methods(["GET", "POST"])
def cycle_end_early(request, slug):
    """What ending the current cycle early ends, spelled out; then, on a yes (naming the
    cycle the page showed), end it."""
    pod = get_pod_for_organizer(request, slug)
    current = pod.current_cycle()
    stale = (
        request.method == "POST"
        and current is not None
        and _posted_number(request) != current.number
    )
    if current is None or stale:
        messages.error(request, _("Only the current cycle can end early."))
        return redirect("pods:cycle", slug=pod.slug)
    preview = services.early_end_preview(current)
    if preview is None:
        messages.error(
            request,
            _("Cycle %(number)s cannot end early: it has not started, or its last week has begun.")
            % {"number": current.number},
        )
        return redirect("pods:cycle", slug=pod.slug)
    error = None
    if request.method == "POST":
        try:
            ended = services.end_cycle_early(cycle=current)
        except ValidationError as e:
            error = " ".join(e.messages)
        else:
            current.refresh_from_db()
            messages.success(
                request,
                _("Cycle %(number)s now ends after week %(week)s, on %(date)s.")
                % {
                    "number": current.number,
                    "week": ended.last_week,
                    "date": date_format(current.week_ends_on(ended.last_week)),
                },
            )
            return redirect("pods:cycle", slug=pod.slug)
    return render(
        request,
        "pledges/cycle_end_early.html",
        {
            "pod": pod,
            "membership": request.membership,
            "section": "cycle",
            "cycle": current,
            "preview": preview,
            "ends_on": current.week_ends_on(preview.last_week),
            "error": error,
        },
    )
