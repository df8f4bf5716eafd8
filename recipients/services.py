from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from pods.models import Cycle
from recipients.models import Enrollment, Recipient


def enroll(*, recipient: Recipient, cycle: Cycle, first_week: int = 1) -> Enrollment:
    """Put `recipient` into the lowest free slot of `cycle`, from `first_week` to the end.

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
        return Enrollment.objects.create(
            recipient=recipient,
            cycle=cycle,
            slot=free[0],
            first_week=first_week,
            last_week=cycle.weeks,
        )
