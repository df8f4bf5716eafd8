"""Workflows around the recipients: the waitlist, enrolling, leaving and handing a freed
slot to the next referral.

Every function that can change who holds a slot locks rows in one order: the cycle row
first (as `enroll` does), then the pod's referrals, then the enrollment. Two people leaving
at once, two organizers enrolling into the last slot, or a leave and an enroll together
then run one after the other, so that a cycle is never overfilled and each waiting
referral is offered a slot exactly once.

A slot is "owed" to a referral that was offered it and is not enrolled yet (status
offered, no recipient): such offers count against the free slots, so that nobody else can
take the slot the offer keeps.
"""

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from mutualaid.mail import render_email, send_on_commit
from pods.models import Cycle, Membership, Pod
from recipients import notices
from recipients.models import Enrollment, PaymentMethod, Recipient, Referral, ReferralMove

END_REASON_MAX = Enrollment._meta.get_field("end_reason").max_length


def enroll(
    *, recipient: Recipient, cycle: Cycle, first_week: int = 1, slot: int | None = None
) -> Enrollment:
    """Put `recipient` into a slot of `cycle` that is free from `first_week` to the end
    (`slot` if it is, else the lowest free one), from `first_week` to the end.

    If the next cycle is already planned, the enrollment carries over into it, as the
    ones running at the end of a cycle do when the next one is planned.

    Raises ValidationError when no slot is free from that week or the recipient is
    already in the cycle.
    """
    if recipient.pod_id != cycle.pod_id:
        raise ValidationError(_("The recipient and the cycle belong to different pods."))
    with transaction.atomic():
        # Lock the cycle row: two organizers enrolling into the last free slot at once
        # would otherwise both see it free. (The database's slot rule is the backstop.)
        cycle = Cycle.objects.select_for_update(of=("self",)).select_related("pod").get(pk=cycle.pk)
        if not 1 <= first_week <= cycle.weeks:
            raise ValidationError({"first_week": cycle.weeks_message()})
        if cycle.enrollments.filter(recipient=recipient).exists():
            raise ValidationError(
                _("%(name)s is already enrolled in this cycle.") % {"name": recipient.display_name}
            )
        free = free_slots(cycle, first_week)
        if not free:
            raise ValidationError(
                _("No slot of this cycle is free from week %(week)s.") % {"week": first_week}
            )
        # The slot someone just left, so that the board shows who took their place.
        enrollment = Enrollment(
            recipient=recipient,
            cycle=cycle,
            slot=slot if slot in free else free[0],
            first_week=first_week,
            last_week=cycle.weeks,
        )
        try:
            with transaction.atomic():
                enrollment.save()
        except IntegrityError as error:
            # Only reachable without the row lock (a database that has none).
            raise ValidationError(_("Another recipient holds this slot in these weeks.")) from error
        _carry_over(enrollment)
        return enrollment


def _carry_over(enrollment: Enrollment) -> None:
    """An enrollment running to the end of its cycle goes on in the next cycle if that
    one is planned and not started (and has room)."""
    following = enrollment.cycle.following()
    if following is None or following.has_started(1):
        return
    if enrollment.last_week < enrollment.cycle.weeks:
        return
    if following.enrollments.filter(recipient_id=enrollment.recipient_id).exists():
        return
    if free_slots(following, 1):
        enroll(recipient=enrollment.recipient, cycle=following, slot=enrollment.slot)


def free_slots(cycle: Cycle, week: int) -> list[int]:
    """The slot numbers of `cycle` that nobody holds in `week` or any week after it:
    where someone can be enrolled from `week` to the end. Exact only under the cycle's row
    lock; outside it, good for showing."""
    taken = set(cycle.enrollments.holding_from(week).values_list("slot", flat=True))
    return [slot for slot in range(1, cycle.slots + 1) if slot not in taken]


def open_slots(cycle: Cycle, week: int, *, for_referral: Referral | None = None) -> int:
    """How many more neighbors can be enrolled from `week`: the free slots less those an
    offer keeps for someone (except the offer of `for_referral` itself)."""
    owed = Referral.objects.filter(pod_id=cycle.pod_id).holding_a_slot()
    if for_referral is not None:
        owed = owed.exclude(pk=for_referral.pk)
    return max(len(free_slots(cycle, week)) - owed.count(), 0)


def enroll_weeks(cycle: Cycle, *, for_referral: Referral | None = None) -> list[int]:
    """The weeks an enrollment made today may start in: weeks not started yet from which
    a slot is really free to the end of the cycle, after the slots offers keep."""
    weeks = cycle.open_weeks()
    if not weeks:
        return []
    held = list(cycle.enrollments.holding_from(weeks[0]).values_list("slot", "last_week"))
    owed = Referral.objects.filter(pod_id=cycle.pod_id).holding_a_slot()
    if for_referral is not None:
        owed = owed.exclude(pk=for_referral.pk)
    owed = owed.count()
    return [
        week
        for week in weeks
        if cycle.slots - len({slot for slot, last in held if last >= week}) - owed > 0
    ]


def current_enrollment(recipient: Recipient, *, among=None) -> Enrollment | None:
    """The enrollment that leaving or ending would end: in the running cycle, else in a
    planned one. None when the person is not enrolled in a cycle that is not over.
    `among`: all of the recipient's enrollments, with their cycles and pod, when a page
    has fetched them anyway (the same choice, without a query of its own)."""
    if among is None:
        among = recipient.enrollments.active().select_related("cycle__pod")
    enrollments = sorted(
        (e for e in among if e.status == Enrollment.Status.ACTIVE), key=lambda e: e.cycle.number
    )
    return next((e for e in enrollments if e.cycle.status() != Cycle.Status.CLOSED), None)


def _replan(cycle: Cycle, from_week: int) -> None:
    # The one named upward call (recipients -> pledges, STYLE 6): when who is enrolled
    # changes, the weekly plan of the weeks not started yet is rebuilt, and the plan is
    # pledges' work. Imported here, not at the top, so that the layers below pledges load
    # without it.
    from pledges.services import replan  # the one named upward call (see above)

    replan(cycle=cycle, from_week=from_week)


# Referrals and the waitlist


def refer(
    *,
    pod: Pod,
    referred_by,
    display_name: str,
    contact: str = "",
    note: str = "",
    submission_key: uuid.UUID | None = None,
) -> Referral:
    """A member refers a neighbor: a name, maybe one way to reach them and a short note.
    Nothing else is asked or kept. `submission_key` is the refer form's (a second referral
    under it is refused by the database)."""
    referral = Referral(
        pod=pod,
        referred_by=referred_by,
        display_name=display_name.strip(),
        contact=contact.strip(),
        note=note.strip(),
        submission_key=submission_key,
    )
    # The unique key is left to the database: checking it here would race.
    referral.full_clean(exclude=["submission_key"])
    referral.save()
    notices.tell_organizers_of_referral(referral)
    return referral


def move_referral(*, referral: Referral, to_position: int, reason: str, by) -> ReferralMove:
    """Move a waiting referral to `to_position` (1 is next in line), keeping the reason.

    Everyone waiting is numbered anew in the order that results, so later arrivals (who
    have no number) still queue behind them."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why this neighbor is moved.")})
    with transaction.atomic():
        _lock_current_cycle(referral.pod_id)
        queue = list(Referral.objects.filter(pod_id=referral.pod_id).waiting().select_for_update())
        ids = [r.pk for r in queue]
        if referral.pk not in ids:
            raise ValidationError(_("Only a referral that is waiting can be moved."))
        from_position = ids.index(referral.pk) + 1
        if not 1 <= to_position <= len(queue):
            raise ValidationError(
                {"to_position": _("Choose a place from 1 to %(count)s.") % {"count": len(queue)}}
            )
        if to_position == from_position:
            raise ValidationError({"to_position": _("It is already in that place.")})
        moving = queue.pop(from_position - 1)
        queue.insert(to_position - 1, moving)
        for position, item in enumerate(queue, start=1):
            item.queue_position = position
        Referral.objects.bulk_update(queue, ["queue_position"])
        return ReferralMove.objects.create(
            referral=moving,
            moved_by=by,
            from_position=from_position,
            to_position=to_position,
            reason=reason,
        )


def withdraw_referral(*, referral: Referral) -> Referral | None:
    """Take a referral off the waitlist (the neighbor found other help, say). If it had
    been offered a slot, the slot goes to the next one waiting; returns who got it."""
    with transaction.atomic():
        cycle = _lock_current_cycle(referral.pod_id)
        referral = Referral.objects.select_for_update().get(pk=referral.pk)
        if referral.status not in (Referral.Status.WAITING, Referral.Status.OFFERED):
            raise ValidationError(_("Only a waiting or offered referral can be withdrawn."))
        if referral.recipient_id is not None:
            raise ValidationError(
                _("%(name)s already holds a slot: end their enrollment instead.")
                % {"name": referral.display_name}
            )
        owed_a_slot = referral.status == Referral.Status.OFFERED
        referral.status = Referral.Status.WITHDRAWN
        referral.withdrawn_at = timezone.now()
        referral.save(update_fields=["status", "withdrawn_at"])
        handed_to = None
        if owed_a_slot and cycle is not None:
            weeks = enroll_weeks(cycle)
            if weeks:
                handed_to = _hand_off(cycle=cycle, slot=None, first_week=weeks[0])
                if handed_to is not None and handed_to.recipient_id is not None:
                    _replan(cycle, weeks[0])
        return handed_to


def enrollable_referrals(cycle: Cycle, queue) -> list[Referral]:
    """Of the waitlist `queue` (offered first, then waiting in order), those an organizer
    may enroll now: the offered ones, and as many of the first waiting ones as there are
    free slots. Skipping someone takes a move, with a reason."""
    # The most slots are free from the last week on: the form then offers only the weeks
    # from which one really is.
    free = len(free_slots(cycle, cycle.weeks)) if cycle and cycle.open_weeks() else 0
    free -= Referral.objects.filter(pod_id=cycle.pod_id).holding_a_slot().count() if cycle else 0
    result = []
    for referral in queue:
        if referral.status == Referral.Status.OFFERED and referral.recipient_id is None:
            result.append(referral)
        elif referral.status == Referral.Status.WAITING and free > 0:
            result.append(referral)
            free -= 1
    return result


@dataclass(frozen=True)
class Enrolled:
    recipient: Recipient
    enrollment: Enrollment
    token: str


def enroll_referral(
    *,
    referral: Referral,
    cycle: Cycle,
    payment_method: str,
    payment_handle: str,
    contact: str = "",
    first_week: int,
    language: str = "",
) -> Enrolled:
    """Enroll a referral whose turn it is: create the recipient (name from the referral,
    where to pay them, at most one way to reach them) and their private link, and put them
    into a free slot from `first_week`. Returns the link's secret, which is kept nowhere."""
    if referral.pod_id != cycle.pod_id:
        raise ValidationError(_("The referral and the cycle belong to different pods."))
    with transaction.atomic():
        cycle = Cycle.objects.select_for_update(of=("self",)).select_related("pod").get(pk=cycle.pk)
        referral = Referral.objects.select_for_update().get(pk=referral.pk)
        if referral.recipient_id is not None or referral.status not in (
            Referral.Status.WAITING,
            Referral.Status.OFFERED,
        ):
            raise ValidationError(
                _("%(name)s is no longer waiting.") % {"name": referral.display_name}
            )
        if first_week not in enroll_weeks(cycle, for_referral=referral):
            raise ValidationError(
                {
                    "first_week": _(
                        "No slot is free from week %(week)s: choose one of the weeks offered."
                    )
                    % {"week": first_week}
                }
            )
        if referral.status == Referral.Status.WAITING:
            free = open_slots(cycle, first_week)
            ahead = list(
                Referral.objects.filter(pod_id=cycle.pod_id).waiting().values_list("pk", flat=True)
            )
            if referral.pk not in ahead[:free]:
                raise ValidationError(
                    _(
                        "It is not %(name)s's turn yet. To enroll them first, move them up "
                        "the waitlist with a reason."
                    )
                    % {"name": referral.display_name}
                )
        recipient = Recipient(
            pod_id=cycle.pod_id,
            display_name=referral.display_name,
            payment_method=payment_method,
            payment_handle=payment_handle.strip(),
            contact=contact.strip(),
            language=language,
        )
        token = recipient.new_access_token()
        recipient.full_clean()
        recipient.save()
        enrollment = enroll(recipient=recipient, cycle=cycle, first_week=first_week)
        referral.recipient = recipient
        referral.status = Referral.Status.ENROLLED
        referral.save(update_fields=["recipient", "status"])
        _replan(cycle, first_week)
    return Enrolled(recipient=recipient, enrollment=enrollment, token=token)


@dataclass
class Newcomer:
    display_name: str
    payment_method: str
    payment_handle: str
    contact: str = ""


def enroll_newcomers(*, cycle: Cycle, newcomers: list[Newcomer], first_week: int) -> list:
    """Recipients the pod already supports, brought in from its old list (a spreadsheet):
    create each one with a private link and enroll them into a free slot of `cycle` from
    `first_week`, in order, while slots are free: the slots offers keep for referrals
    are not taken. Returns, for each newcomer in turn, an `Enrolled` (with the link's
    secret, kept nowhere) or None when no slot was left for them. The weekly plan of the
    weeks not started is rebuilt once, at the end."""
    results = []
    with transaction.atomic():
        # The cycle row first, as every function here locks: see the module's docstring.
        cycle = Cycle.objects.select_for_update(of=("self",)).select_related("pod").get(pk=cycle.pk)
        room = open_slots(cycle, first_week)
        for newcomer in newcomers:
            if room <= 0:
                results.append(None)
                continue
            recipient = Recipient(
                pod_id=cycle.pod_id,
                display_name=newcomer.display_name,
                payment_method=newcomer.payment_method,
                payment_handle=newcomer.payment_handle,
                contact=newcomer.contact,
            )
            token = recipient.new_access_token()
            recipient.full_clean()
            recipient.save()
            enrollment = enroll(recipient=recipient, cycle=cycle, first_week=first_week)
            room -= 1
            results.append(Enrolled(recipient=recipient, enrollment=enrollment, token=token))
        if any(results):
            _replan(cycle, first_week)
    return results


def complete_referral(
    *,
    referral: Referral,
    payment_method: str,
    payment_handle: str,
    contact: str = "",
    language: str = "",
) -> Enrolled:
    """Finish a hand-off the pod made on its own (automatic hand-off): the recipient holds
    the slot already but nobody knew where to pay them. Sets that, makes their private
    link and marks the referral enrolled."""
    with transaction.atomic():
        referral = Referral.objects.select_for_update().get(pk=referral.pk)
        if referral.status != Referral.Status.OFFERED or referral.recipient_id is None:
            raise ValidationError(
                _("%(name)s has nothing left to complete.") % {"name": referral.display_name}
            )
        recipient = Recipient.objects.select_for_update().get(pk=referral.recipient_id)
        recipient.payment_method = payment_method
        recipient.payment_handle = payment_handle.strip()
        recipient.contact = contact.strip()
        recipient.language = language
        token = recipient.new_access_token()
        recipient.full_clean()
        # The first handle is not a change: nobody was paying this person before.
        recipient.save(
            update_fields=[
                "payment_method",
                "payment_handle",
                "contact",
                "language",
                "access_token_hash",
            ]
        )
        referral.status = Referral.Status.ENROLLED
        referral.save(update_fields=["status"])
        enrollment = recipient.enrollments.order_by("-cycle__number").first()
    return Enrolled(recipient=recipient, enrollment=enrollment, token=token)


def confirm_arrival(*, recipient: Recipient, receipt_id: int) -> bool:
    """The recipient says the money of a receipt arrived. Recorded the first time only;
    False when no live receipt to this recipient has that id."""
    # Through the reverse relation: recipients sits below receipts and never imports it.
    receipts = recipient.receipts.live().filter(pk=receipt_id)
    receipts.filter(confirmed_at=None).update(confirmed_at=timezone.now())
    return receipts.exists()


# Leaving and the hand-off


@dataclass(frozen=True)
class Ending:
    """What `end_enrollment` did: the ended enrollment, whether it was still running, and
    the referral the freed slot went to (offered, or enrolled at once), if any."""

    enrollment: Enrollment
    ended: bool
    handed_to: Referral | None = None


def end_enrollment(
    *, enrollment: Enrollment, reason: str = "", by=None, notify: bool = True
) -> Ending:
    """End an enrollment after the current week: the recipient leaves (from their private
    link, `by` None) or an organizer ends it (`by` that organizer).

    In one transaction: the enrollment ends (this week is still theirs to receive; a
    support that had not begun covers no week), so does its carried-over part in a next
    cycle that is planned, the slot is free from next week and goes to the next waiting
    referral (offered, or enrolled at once if the pod hands slots over automatically), the
    plan of the weeks not started yet is rebuilt, and the organizers are emailed once it
    commits. Ending an enrollment that has already ended changes nothing (a second tap)."""
    reason = reason.strip()[:END_REASON_MAX]
    with transaction.atomic():
        cycle = (
            Cycle.objects.select_for_update(of=("self",))
            .select_related("pod")
            .get(pk=enrollment.cycle_id)
        )
        enrollment = (
            Enrollment.objects.select_for_update(of=("self",))
            .select_related("recipient")
            .get(pk=enrollment.pk)
        )
        if enrollment.status != Enrollment.Status.ACTIVE:
            return Ending(enrollment=enrollment, ended=False)
        now = timezone.now()
        # 0 before the cycle starts; its last week once its weeks are over.
        week = cycle.due_week()
        _close(enrollment, last_week=max(week, enrollment.first_week - 1), now=now, reason=reason)
        # Its part in the next cycle, carried over when that one was planned, goes too.
        following = cycle.following()
        while following is not None and not following.has_started(1):
            later = following.enrollments.active().filter(recipient_id=enrollment.recipient_id)
            for carried in later.select_for_update(of=("self",)):
                _close(carried, last_week=carried.first_week - 1, now=now, reason=reason)
            _replan(following, 1)
            following = following.following()
        handed_to = None
        # The slot is free from the week after this one: in this cycle if it has weeks
        # left, else from the start of the next one.
        if week < cycle.weeks:
            freed_in, freed_from = cycle, week + 1
        else:
            freed_in, freed_from = cycle.following(), 1
            if freed_in is not None and freed_in.has_started(1):
                freed_in = None
        replanned = freed_in is not None
        if freed_in is not None:
            handed_to = _hand_off(cycle=freed_in, slot=enrollment.slot, first_week=freed_from)
            _replan(freed_in, freed_from)
        if notify:
            _notify_organizers(
                cycle=cycle,
                enrollment=enrollment,
                by=by,
                reason=reason,
                handed_to=handed_to,
                replanned=replanned,
            )
    return Ending(enrollment=enrollment, ended=True, handed_to=handed_to)


def _close(enrollment, *, last_week, now, reason):
    enrollment.last_week = min(enrollment.last_week, last_week)
    enrollment.status = Enrollment.Status.LEFT
    enrollment.ended_at = now
    enrollment.end_reason = reason
    enrollment.save(update_fields=["last_week", "status", "ended_at", "end_reason"])


def _lock_current_cycle(pod_id) -> Cycle | None:
    """Lock the pod's current cycle (the calendar's, see Pod.current_cycle)."""
    current = Pod.objects.get(pk=pod_id).current_cycle()
    if current is None:
        return None
    return Cycle.objects.select_for_update(of=("self",)).select_related("pod").get(pk=current.pk)


def _hand_off(*, cycle: Cycle, slot: int | None, first_week: int) -> Referral | None:
    """Give a freed slot of `cycle` (locked by the caller) to the next waiting referral:
    offer it, or, if the pod hands slots over automatically, enroll them at once from
    `first_week`. Their payment handle is not known yet, so the referral stays "offered"
    until an organizer completes it (complete_referral)."""
    if open_slots(cycle, first_week) == 0:
        # The slot is owed already: an earlier offer is still waiting for it.
        return None
    referral = Referral.objects.filter(pod_id=cycle.pod_id).waiting().select_for_update().first()
    if referral is None:
        return None
    if cycle.pod.auto_handoff:
        recipient = Recipient.objects.create(
            pod_id=cycle.pod_id,
            display_name=referral.display_name,
            contact=referral.contact,
            payment_method=PaymentMethod.OTHER,
        )
        enroll(recipient=recipient, cycle=cycle, first_week=first_week, slot=slot)
        referral.recipient = recipient
    referral.status = Referral.Status.OFFERED
    referral.save(update_fields=["recipient", "status"])
    return referral


def _notify_organizers(*, cycle, enrollment, by, reason, handed_to, replanned) -> None:
    pod = cycle.pod
    organizers = (
        Membership.objects.organizers().filter(pod=pod).select_related("user").order_by("pk")
    )
    base = settings.SITE_URL.rstrip("/")
    context = {
        "pod": pod,
        "cycle": cycle,
        "name": enrollment.recipient.display_name,
        "last_week": enrollment.last_week,
        "started": enrollment.last_week >= enrollment.first_week,
        "by": (by.display_name or by.email.split("@")[0]) if by is not None else None,
        "reason": reason,
        "handed_to": handed_to,
        "auto": handed_to is not None and handed_to.recipient_id is not None,
        "replanned": replanned,
        "waitlist_url": base + reverse("recipients:waitlist", args=[pod.slug]),
        "enroll_url": (
            base + reverse("recipients:referral_enroll", args=[pod.slug, handed_to.pk])
            if handed_to is not None
            else ""
        ),
    }
    send_on_commit(
        render_email("recipient_left", to=m.user.email, context=context, language=m.user.language)
        for m in organizers
    )
