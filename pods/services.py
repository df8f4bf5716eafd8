import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pledges.models import Pledge
from pods.models import Cycle
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
            weeks=weeks or cycle.weeks,
            weekly_amount=weekly_amount or cycle.weekly_amount,
            slots=slots or cycle.slots,
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
        new.full_clean(exclude=["status"], validate_constraints=False)
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
        Pledge.objects.bulk_create(
            Pledge(
                cycle=new,
                donor_id=pledge.donor_id,
                amount=pledge.amount,
                first_week=1,
                last_week=new.weeks,
            )
            for pledge in cycle.pledges.active().filter(last_week__gte=cycle.weeks)
        )
    return new
