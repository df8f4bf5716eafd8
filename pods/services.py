import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pledges.models import Pledge
from pledges.services import end_pledges_for_leaving, notify_rolled_over
from pods.models import Cycle, Membership
from recipients.models import Enrollment


def start_next_cycle(
    *,
    cycle: Cycle,
    starts_on: datetime.date | None = None,
    weeks: int | None = None,
    weekly_amount: Decimal | None = None,
    slots: int | None = None,
) -> Cycle:
    """Close `cycle` and start cycle n+1 with the same amount, weeks and slots unless
    changed. Recipients still enrolled and pledges still running at the end of `cycle`
    roll over for the whole new cycle."""
    with transaction.atomic():
        # Lock the cycle so that two organizers pressing the button at once cannot both
        # roll it over (the second sees it closed and stops).
        cycle = Cycle.objects.select_for_update().select_related("pod").get(pk=cycle.pk)
        if cycle.status != Cycle.Status.ACTIVE:
            raise ValidationError(_("Only the active cycle can be followed by a new one."))
        new = Cycle(
            pod=cycle.pod,
            number=cycle.number + 1,
            starts_on=starts_on or cycle.ends_on + datetime.timedelta(days=1),
            # `is None`, not `or`: a 0 given by mistake must be refused, not replaced.
            weeks=cycle.weeks if weeks is None else weeks,
            weekly_amount=cycle.weekly_amount if weekly_amount is None else weekly_amount,
            slots=cycle.slots if slots is None else slots,
            status=Cycle.Status.ACTIVE,
        )
        if new.starts_on <= cycle.starts_on:
            raise ValidationError(
                {
                    "starts_on": _("The new cycle must start after cycle %(number)s started.")
                    % {"number": cycle.number}
                }
            )
        staying = list(
            cycle.enrollments.active()
            .filter(last_week__gte=cycle.weeks)
            .select_related("recipient")
            .order_by("slot")
        )
        if len(staying) > new.slots:
            raise ValidationError(
                {
                    "slots": _(
                        "%(count)s recipients are enrolled; the new cycle needs at least "
                        "that many slots."
                    )
                    % {"count": len(staying)}
                }
            )
        Cycle.objects.filter(pk=cycle.pk).update(status=Cycle.Status.CLOSED)
        # The constraints too: a planned cycle may already hold number n+1.
        new.full_clean(exclude=["status"])
        new.save()
        now = timezone.now()
        cycle.enrollments.active().update(status=Enrollment.Status.COMPLETED, ended_at=now)
        Enrollment.objects.bulk_create(
            Enrollment(
                recipient=enrollment.recipient,
                cycle=new,
                slot=position,
                first_week=1,
                last_week=new.weeks,
            )
            for position, enrollment in enumerate(staying, start=1)
        )
        rolling = list(
            cycle.pledges.active()
            .filter(last_week__gte=cycle.weeks)
            # Someone who left the pod in its last week stops pledging with it.
            .filter(donor__memberships__pod=cycle.pod, donor__memberships__active=True)
            .select_related("donor")
        )
        Pledge.objects.bulk_create(
            Pledge(
                cycle=new,
                donor_id=pledge.donor_id,
                amount=pledge.amount,
                first_week=1,
                last_week=new.weeks,
            )
            for pledge in rolling
        )
        notify_rolled_over(cycle=new, pledges=rolling)
    return new


def leave_pod(*, membership: Membership) -> None:
    """The member leaves the pod: their membership goes inactive, this week's pledge stands
    and later ones end; past pledges and receipts stay. The last organizer cannot leave."""
    with transaction.atomic():
        # Lock the pod's organizers (in a fixed order) before anything else: two last
        # organizers leaving at once would otherwise each see the other one staying.
        organizers = list(
            Membership.objects.organizers()
            .filter(pod_id=membership.pod_id)
            .select_for_update()
            .order_by("pk")
        )
        membership = (
            Membership.objects.select_for_update(of=("self",))
            .select_related("pod", "user")
            .get(pk=membership.pk)
        )
        if not membership.active:
            return
        if membership.is_organizer and len(organizers) <= 1:
            raise ValidationError(
                _(
                    "You are this pod's only organizer, so you cannot leave it yet. "
                    "Invite another organizer first."
                )
            )
        cycle = membership.pod.cycles.active().first()
        if cycle is not None:
            end_pledges_for_leaving(cycle=cycle, donor=membership.user)
        membership.active = False
        membership.save(update_fields=["active"])
