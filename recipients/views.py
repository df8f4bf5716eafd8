"""Pod pages about recipients: referring a neighbor (any member), the waitlist and
enrolling (organizers), and an organizer's page per recipient (private link, ending)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from mutualaid.forms import Submission, add_service_errors
from mutualaid.text import format_isolated
from pods.access import get_pod_for_member, get_pod_for_organizer
from recipients import services
from recipients.forms import EndForm, EnrollForm, LinkForm, MoveForm, PaymentForm, ReferralForm
from recipients.models import Enrollment, Recipient, Referral, ReferralMove


def _page(request, pod, section, **context):
    return {"pod": pod, "membership": request.membership, "section": section, **context}


@login_required
@require_http_methods(["GET", "POST"])
def refer(request, slug):
    """Refer a neighbor, and see what became of the people you referred."""
    pod = get_pod_for_member(request, slug)
    if request.method == "POST":
        submission = Submission(
            request.POST, mine=Referral.objects.filter(pod=pod, referred_by=request.user)
        )
        if submission.earlier is not None:
            return _referred_already(request, pod, submission.earlier)
        form = ReferralForm(submission.data)
        if submission.accepts(form):
            referral, created = submission.save(
                lambda key: services.refer(
                    pod=pod,
                    referred_by=request.user,
                    **{**form.cleaned_data, "submission_key": key},
                )
            )
            if not created:
                return _referred_already(request, pod, referral)
            messages.success(
                request,
                format_isolated(
                    _("Thank you. %(name)s is on the waitlist; an organizer will be in touch."),
                    {"name": referral.display_name},
                ),
            )
            return redirect("recipients:refer", slug=pod.slug)
    else:
        form = ReferralForm()
    queue = list(Referral.objects.filter(pod=pod).waiting().values_list("pk", flat=True))
    places = {pk: place for place, pk in enumerate(queue, start=1)}
    mine = [
        {"referral": referral, "place": places.get(referral.pk)}
        for referral in Referral.objects.filter(pod=pod, referred_by=request.user).order_by(
            "-created_at", "-pk"
        )
    ]
    return render(
        request, "recipients/refer.html", _page(request, pod, "refer", form=form, mine=mine)
    )


def _referred_already(request, pod, referral):
    # The same form sent twice: the neighbor keeps the one place in the queue.
    messages.info(
        request,
        format_isolated(
            _("You already referred %(name)s: see below what became of them."),
            {"name": referral.display_name},
        ),
    )
    return redirect("recipients:refer", slug=pod.slug)


@login_required
@require_safe
def waitlist(request, slug):
    """Everyone waiting, in order of arrival unless an organizer moved someone (the moves
    and their reasons are listed), who is offered a slot, and who is in the cycle now."""
    pod = get_pod_for_organizer(request, slug)
    cycle = pod.current_cycle()
    offered = list(
        Referral.objects.filter(pod=pod).offered().select_related("referred_by", "recipient")
    )
    waiting = list(Referral.objects.filter(pod=pod).waiting().select_related("referred_by"))
    weeks = services.enroll_weeks(cycle) if cycle is not None else []
    free = services.open_slots(cycle, weeks[0]) if weeks else 0
    # Not `weeks`: those leave out the slots offers keep, and an offered referral may be
    # enrolled into the slot kept for them.
    can_enroll = cycle is not None and bool(cycle.open_weeks())
    enrollable = (
        {r.pk for r in services.enrollable_referrals(cycle, offered + waiting)}
        if can_enroll
        else set()
    )
    # Who holds a slot in the week the pod is in: someone who has left is still paid to
    # their last week.
    week = cycle.shown_week() if cycle is not None else None
    enrollments = (
        list(cycle.enrollments.in_week(week).select_related("recipient").in_slot_order())
        if week is not None
        else []
    )
    moves = list(
        ReferralMove.objects.filter(referral__pod=pod)
        .select_related("referral", "moved_by")
        .order_by("-created_at", "-pk")[:20]
    )
    return render(
        request,
        "recipients/waitlist.html",
        _page(
            request,
            pod,
            "waitlist",
            cycle=cycle,
            free=free,
            offered=offered,
            waiting=[(place, r) for place, r in enumerate(waiting, start=1)],
            enrollable=enrollable,
            enrollments=enrollments,
            moves=moves,
        ),
    )


def _referral(pod, pk):
    return get_object_or_404(
        Referral.objects.select_related("referred_by", "recipient"), pod=pod, pk=pk
    )


def _referral_page(request, pod, referral, move_form=None, status=200):
    place = None
    if referral.status == Referral.Status.WAITING:
        queue = list(Referral.objects.filter(pod=pod).waiting().values_list("pk", flat=True))
        place = queue.index(referral.pk) + 1
    return render(
        request,
        "recipients/referral.html",
        _page(
            request,
            pod,
            "waitlist",
            referral=referral,
            place=place,
            move_form=move_form or MoveForm(initial={"to_position": place}),
            moves=referral.moves.select_related("moved_by").order_by("-created_at", "-pk"),
        ),
        status=status,
    )


@login_required
@require_safe
def referral_detail(request, slug, pk):
    pod = get_pod_for_organizer(request, slug)
    return _referral_page(request, pod, _referral(pod, pk))


@login_required
@require_POST
def referral_move(request, slug, pk):
    pod = get_pod_for_organizer(request, slug)
    referral = _referral(pod, pk)
    form = MoveForm(request.POST)
    if form.is_valid():
        try:
            move = services.move_referral(referral=referral, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                format_isolated(
                    _("%(name)s moved from place %(from)s to place %(to)s. The reason is kept."),
                    {
                        "name": referral.display_name,
                        "from": move.from_position,
                        "to": move.to_position,
                    },
                ),
            )
            return redirect("recipients:waitlist", slug=pod.slug)
    return _referral_page(request, pod, referral, move_form=form, status=400)


@login_required
@require_POST
def referral_withdraw(request, slug, pk):
    pod = get_pod_for_organizer(request, slug)
    referral = _referral(pod, pk)
    try:
        handed_to = services.withdraw_referral(referral=referral)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("recipients:referral", slug=pod.slug, pk=referral.pk)
    messages.success(
        request,
        format_isolated(_("%(name)s is off the waitlist."), {"name": referral.display_name}),
    )
    if handed_to is not None:
        messages.info(
            request,
            format_isolated(
                _("The slot kept for them is now offered to %(name)s."),
                {"name": handed_to.display_name},
            ),
        )
    return redirect("recipients:waitlist", slug=pod.slug)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def referral_enroll(request, slug, pk):
    """Enroll a referral whose turn it is (or complete one the pod enrolled on its own):
    where to pay them, maybe how to reach them, from which week. Then their private link
    is shown, this once."""
    pod = get_pod_for_organizer(request, slug)
    referral = _referral(pod, pk)
    cycle = pod.current_cycle()
    data = request.POST if request.method == "POST" else None
    completing = referral.status == Referral.Status.OFFERED and referral.recipient_id is not None
    context = _page(request, pod, "waitlist", referral=referral, cycle=cycle, completing=completing)
    if completing:
        recipient = referral.recipient
        form = PaymentForm(
            data,
            initial={"payment_method": recipient.payment_method, "contact": recipient.contact},
        )
        context["enrollment"] = recipient.enrollments.active().select_related("cycle").first()
    else:
        weeks = services.enroll_weeks(cycle, for_referral=referral) if cycle is not None else []
        if cycle is None or not weeks:
            context["blocked"] = (
                _blocked_reason(cycle, referral)
                if cycle is not None and cycle.open_weeks()
                else _("No cycle is running with weeks left to enroll into.")
            )
            return render(request, "recipients/enroll.html", context)
        queue = [
            *Referral.objects.filter(pod=pod).offered(),
            *Referral.objects.filter(pod=pod).waiting(),
        ]
        if referral.pk not in {r.pk for r in services.enrollable_referrals(cycle, queue)}:
            context["blocked"] = _blocked_reason(cycle, referral)
            return render(request, "recipients/enroll.html", context)
        form = EnrollForm(
            data,
            cycle=cycle,
            weeks=weeks,
            initial={"contact": referral.contact, "first_week": weeks[0]},
        )
    context["form"] = form
    if form.is_bound and form.is_valid():
        try:
            if completing:
                done = services.complete_referral(referral=referral, **form.cleaned_data)
            else:
                done = services.enroll_referral(referral=referral, cycle=cycle, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _link_created(
                request, pod, done.recipient, done.token, enrollment=done.enrollment
            )
    return render(request, "recipients/enroll.html", context, status=400 if form.is_bound else 200)


def _blocked_reason(cycle, referral):
    if referral.status not in (Referral.Status.WAITING, Referral.Status.OFFERED):
        return _("%(name)s is not waiting any more (%(status)s).") % {
            "name": referral.display_name,
            "status": referral.get_status_display(),
        }
    weeks = cycle.open_weeks()
    if not weeks or services.open_slots(cycle, cycle.weeks, for_referral=referral) == 0:
        return _(
            "Every slot of this cycle is taken or offered. When one frees up, the next "
            "neighbor waiting is offered it."
        )
    return _(
        "It is not %(name)s's turn yet. To enroll them first, move them up the waitlist "
        "with a reason."
    ) % {"name": referral.display_name}


def _link_created(request, pod, recipient, token, enrollment=None):
    # Rendered here, never after a redirect: the secret must not be kept anywhere, not even
    # in the session, and this is the only time it appears.
    link = request.build_absolute_uri(reverse("recipients:link", args=[token]))
    return render(
        request,
        "recipients/link_created.html",
        _page(request, pod, "waitlist", recipient=recipient, link=link, enrollment=enrollment),
    )


def _recipient(pod, pk):
    return get_object_or_404(Recipient, pod=pod, pk=pk)


@login_required
@require_safe
def recipient_detail(request, slug, pk):
    """An organizer's page for one recipient: where they are paid, their enrollments, their
    private link (replace or revoke it) and ending their enrollment."""
    pod = get_pod_for_organizer(request, slug)
    recipient = _recipient(pod, pk)
    enrollments = list(recipient.enrollments.select_related("cycle").order_by("-cycle__number"))
    current = next((e for e in enrollments if e.status == Enrollment.Status.ACTIVE), None)
    referral = Referral.objects.filter(recipient=recipient).select_related("referred_by").first()
    return render(
        request,
        "recipients/recipient.html",
        _page(
            request,
            pod,
            "waitlist",
            recipient=recipient,
            enrollments=enrollments,
            current=current,
            referral=referral,
            link_form=LinkForm(initial={"language": recipient.language}),
        ),
    )


@never_cache
@login_required
@require_POST
def link_replace(request, slug, pk):
    """A new private link; the old one stops working at once."""
    pod = get_pod_for_organizer(request, slug)
    recipient = _recipient(pod, pk)
    if recipient.is_erased:
        messages.error(request, _("This former recipient's data is erased."))
        return redirect("recipients:recipient", slug=pod.slug, pk=recipient.pk)
    form = LinkForm(request.POST)
    # A language that is not offered leaves the page's as it was.
    if form.is_valid() and "language" in request.POST:
        recipient.language = form.cleaned_data["language"]
    token = recipient.new_access_token()
    recipient.save(update_fields=["access_token_hash", "language"])
    return _link_created(request, pod, recipient, token)


@login_required
@require_POST
def link_revoke(request, slug, pk):
    pod = get_pod_for_organizer(request, slug)
    recipient = _recipient(pod, pk)
    Recipient.objects.filter(pk=recipient.pk).update(access_token_hash="")
    messages.success(
        request,
        format_isolated(
            _("%(name)s's private link no longer works. You can make a new one here."),
            {"name": recipient.display_name},
        ),
    )
    return redirect("recipients:recipient", slug=pod.slug, pk=recipient.pk)


@login_required
@require_http_methods(["GET", "POST"])
def enrollment_end(request, slug, pk):
    """An organizer ends a recipient's enrollment after this week (same as when the
    recipient leaves from their link): the slot goes to the next referral."""
    pod = get_pod_for_organizer(request, slug)
    recipient = _recipient(pod, pk)
    enrollment = services.current_enrollment(recipient)
    form = EndForm(request.POST if request.method == "POST" else None)
    if enrollment is not None and form.is_bound and form.is_valid():
        ending = services.end_enrollment(
            enrollment=enrollment, reason=form.cleaned_data["reason"], by=request.user
        )
        messages.success(request, _ending_message(ending))
        return redirect("recipients:recipient", slug=pod.slug, pk=recipient.pk)
    return render(
        request,
        "recipients/end.html",
        _page(request, pod, "waitlist", recipient=recipient, enrollment=enrollment, form=form),
        status=400 if form.is_bound else 200,
    )


def _ending_message(ending):
    enrollment = ending.enrollment
    if enrollment.last_week >= enrollment.first_week:
        text = format_isolated(
            _("%(name)s's support ends after week %(week)s."),
            {"name": enrollment.recipient.display_name, "week": enrollment.last_week},
        )
    else:
        text = format_isolated(
            _("%(name)s's enrollment is ended before it began."),
            {"name": enrollment.recipient.display_name},
        )
    handed_to = ending.handed_to
    if handed_to is None:
        return text
    if handed_to.recipient_id is not None:
        then = _("%(name)s takes the slot from next week: give them a payment handle.")
    else:
        then = _("The slot is offered to %(name)s, next on the waitlist.")
    return format_html("{} {}", text, format_isolated(then, {"name": handed_to.display_name}))
