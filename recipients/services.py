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

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from mutualaid.mail import render_email, send_on_commit
from pledges.services import replan
from pods.models import Cycle, Membership, Pod
from receipts.models import Receipt
from recipients.models import Enrollment, PaymentMethod, Recipient, Referral, ReferralMove

END_REASON_MAX = Enrollment._meta.get_field("end_reason").max_length


def enroll(
    *, recipient: Recipient, cycle: Cycle, first_week: int = 1, slot: int | None = None
) -> Enrollment:
    """Put `recipient` into a free slot of `cycle` (`slot` if it is free, else the lowest
    free one), from `first_week` to the end.

    Raises ValidationError when the cycle is full or the recipient is already in it.
    """
    if recipient.pod_id != cycle.pod_id:
        raise ValidationError(_("The recipient and the cycle belong to different pods."))
    with transaction.atomic():
        # Lock the cycle row: two organizers enrolling into the last free slot at once
        # would otherwise both see it free. (The unique slot constraint is the backstop.)
        cycle = Cycle.objects.select_for_update().get(pk=cycle.pk)
        if not 1 <= first_week <= cycle.weeks:
            raise ValidationError(
                {"first_week": _("This cycle has %(weeks)s weeks.") % {"weeks": cycle.weeks}}
            )
        if cycle.enrollments.filter(recipient=recipient).exists():
            raise ValidationError(
                _("%(name)s is already enrolled in this cycle.") % {"name": recipient.display_name}
            )
        taken = set(cycle.enrollments.active().values_list("slot", flat=True))
        free = [slot for slot in range(1, cycle.slots + 1) if slot not in taken]
        if not free:
            raise ValidationError(_("Every slot of this cycle is taken."))
        # The slot someone just left, so that the board shows who took their place.
        chosen = slot if slot in free else free[0]
        return Enrollment.objects.create(
            recipient=recipient,
            cycle=cycle,
            slot=chosen,
            first_week=first_week,
            last_week=cycle.weeks,
        )


def free_slots(cycle: Cycle) -> int:
    """Slots of `cycle` that nobody holds and no offer keeps. Exact only under the cycle's
    row lock; outside it, good for showing."""
    held = cycle.enrollments.active().count()
    owed = Referral.objects.filter(pod_id=cycle.pod_id).holding_a_slot().count()
    return max(cycle.slots - held - owed, 0)


def next_week(cycle: Cycle) -> int | None:
    """The first week a change made today can start: next week, or week 1 before the
    cycle starts. None when the cycle has no week left after this one."""
    today = cycle.pod.today()
    if today < cycle.starts_on:
        return 1
    week = cycle.week_of(today)
    if week is None or week >= cycle.weeks:
        return None
    return week + 1


# Referrals and the waitlist


def refer(
    *, pod: Pod, referred_by, display_name: str, contact: str = "", note: str = ""
) -> Referral:
    """A member refers a neighbor: a name, maybe one way to reach them and a short note.
    Nothing else is asked or kept."""
    referral = Referral(
        pod=pod,
        referred_by=referred_by,
        display_name=display_name.strip(),
        contact=contact.strip(),
        note=note.strip(),
    )
    referral.full_clean()
    referral.save()
    return referral


def move_referral(*, referral: Referral, to_position: int, reason: str, by) -> ReferralMove:
    """Move a waiting referral to `to_position` (1 is next in line), keeping the reason.

    Everyone waiting is numbered anew in the order that results, so later arrivals (who
    have no number) still queue behind them."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why this neighbor is moved.")})
    with transaction.atomic():
        _lock_active_cycle(referral.pod_id)
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
        cycle = _lock_active_cycle(referral.pod_id)
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
            week = next_week(cycle)
            if week is not None:
                handed_to = _hand_off(cycle=cycle, slot=None, first_week=week)
                if handed_to is not None and handed_to.recipient_id is not None:
                    replan(cycle=cycle, from_week=week)
        return handed_to


def enrollable_referrals(cycle: Cycle, queue) -> list[Referral]:
    """Of the waitlist `queue` (offered first, then waiting in order), those an organizer
    may enroll now: the offered ones, and as many of the first waiting ones as there are
    free slots. Skipping someone takes a move, with a reason."""
    free = free_slots(cycle) if cycle is not None else 0
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
) -> Enrolled:
    """Enroll a referral whose turn it is: create the recipient (name from the referral,
    where to pay them, at most one way to reach them) and their private link, and put them
    into a free slot from `first_week`. Returns the link's secret, which is kept nowhere."""
    if referral.pod_id != cycle.pod_id:
        raise ValidationError(_("The referral and the cycle belong to different pods."))
    with transaction.atomic():
        cycle = Cycle.objects.select_for_update().select_related("pod").get(pk=cycle.pk)
        if cycle.status != Cycle.Status.ACTIVE:
            raise ValidationError(_("This cycle is not running."))
        referral = Referral.objects.select_for_update().get(pk=referral.pk)
        if referral.recipient_id is not None or referral.status not in (
            Referral.Status.WAITING,
            Referral.Status.OFFERED,
        ):
            raise ValidationError(
                _("%(name)s is no longer waiting.") % {"name": referral.display_name}
            )
        if referral.status == Referral.Status.WAITING:
            free = free_slots(cycle)
            if free == 0:
                raise ValidationError(_("No slot is free in this cycle."))
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
        )
        token = recipient.new_access_token()
        recipient.full_clean()
        recipient.save()
        enrollment = enroll(recipient=recipient, cycle=cycle, first_week=first_week)
        referral.recipient = recipient
        referral.status = Referral.Status.ENROLLED
        referral.save(update_fields=["recipient", "status"])
        replan(cycle=cycle, from_week=first_week)
    return Enrolled(recipient=recipient, enrollment=enrollment, token=token)


def complete_referral(
    *, referral: Referral, payment_method: str, payment_handle: str, contact: str = ""
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
        token = recipient.new_access_token()
        recipient.full_clean()
        # The first handle is not a change: nobody was paying this person before.
        recipient.save(
            update_fields=["payment_method", "payment_handle", "contact", "access_token_hash"]
        )
        referral.status = Referral.Status.ENROLLED
        referral.save(update_fields=["status"])
        enrollment = recipient.enrollments.order_by("-cycle__number").first()
    return Enrolled(recipient=recipient, enrollment=enrollment, token=token)


def confirm_arrival(*, recipient: Recipient, receipt_id: int) -> bool:
    """The recipient says the money of a receipt arrived. Recorded the first time only;
    False when no live receipt to this recipient has that id."""
    receipts = Receipt.objects.live().filter(pk=receipt_id, recipient=recipient)
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

    In one transaction: the enrollment ends (this week is still theirs to receive), its
    slot is freed and goes to the next waiting referral (offered, or enrolled at once from
    next week if the pod hands slots over automatically), the plan from next week on is
    rebuilt, and the organizers are emailed once it commits. Ending an enrollment that
    has already ended changes nothing (a second tap on the button)."""
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
        # Week 0 before the cycle starts; its last week once its weeks are over.
        today = cycle.pod.today()
        week = 0 if today < cycle.starts_on else (cycle.week_of(today) or cycle.weeks)
        # Their support runs to the end of this week; if it had not begun, it covers no
        # week at all (last_week = first_week - 1).
        enrollment.last_week = min(enrollment.last_week, max(week, enrollment.first_week - 1))
        enrollment.status = Enrollment.Status.LEFT
        enrollment.ended_at = timezone.now()
        enrollment.end_reason = reason
        enrollment.save(update_fields=["last_week", "status", "ended_at", "end_reason"])
        handed_to = None
        replanned = week < cycle.weeks and cycle.status != Cycle.Status.CLOSED
        if replanned:
            if cycle.status == Cycle.Status.ACTIVE:
                handed_to = _hand_off(cycle=cycle, slot=enrollment.slot, first_week=week + 1)
            replan(cycle=cycle, from_week=week + 1)
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


def _lock_active_cycle(pod_id) -> Cycle | None:
    return (
        Cycle.objects.select_for_update(of=("self",))
        .select_related("pod")
        .filter(pod_id=pod_id, status=Cycle.Status.ACTIVE)
        .first()
    )


def _hand_off(*, cycle: Cycle, slot: int | None, first_week: int) -> Referral | None:
    """Give a freed slot of `cycle` (locked by the caller) to the next waiting referral:
    offer it, or, if the pod hands slots over automatically, enroll them at once from
    `first_week`. Their payment handle is not known yet, so the referral stays "offered"
    until an organizer completes it (complete_referral)."""
    if free_slots(cycle) == 0:
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
        render_email("recipient_left", to=m.user.email, context=context) for m in organizers
    )
