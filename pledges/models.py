from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Count, Q, Sum
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from mutualaid.money import MONEY
from pods.models import Cycle
from recipients.models import Recipient


class PledgeQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=Pledge.Status.ACTIVE)

    def in_week(self, week):
        return self.filter(first_week__lte=week, last_week__gte=week)

    def total(self):
        return self.aggregate(total=Sum("amount"))["total"] or 0

    def summary(self):
        """The weekly total and how many donors give it, in one query."""
        row = self.aggregate(total=Sum("amount"), donors=Count("donor", distinct=True))
        # Quantized: SQLite hands sums back without their trailing zeros.
        total = (row["total"] or Decimal("0")).quantize(Decimal("0.01"))
        return {"total": total, "donors": row["donors"]}


class Pledge(models.Model):
    """A member's weekly amount for a cycle, from a first week to a last week.

    The past is never rewritten: a change ends this pledge and starts a new one.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("pledge status", "active")
        PAUSED = "paused", _("paused")
        CANCELLED = "cancelled", _("cancelled")

    cycle = models.ForeignKey(
        Cycle, on_delete=models.CASCADE, related_name="pledges", verbose_name=_("cycle")
    )
    donor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="pledges",
        verbose_name=_("donor"),
    )
    amount = models.DecimalField(_("weekly amount"), **MONEY)
    first_week = models.PositiveSmallIntegerField(
        _("first week"), default=1, validators=[MinValueValidator(1)]
    )
    last_week = models.PositiveSmallIntegerField(_("last week"), validators=[MinValueValidator(1)])
    status = models.CharField(
        pgettext_lazy("pledge", "status"), max_length=10, choices=Status, default=Status.ACTIVE
    )
    created_at = models.DateTimeField(pgettext_lazy("pledge", "created"), auto_now_add=True)
    # Set when the cycle ends early (pledges.services.end_cycle_early), on the record each
    # donor meant to go on with at the cycle's planned end: an active one carries over,
    # at its amount, even when it was to begin in a dropped week. A pledge cut short or
    # paused from then on carries nothing, as at the end of any cycle.
    carries_over = models.BooleanField(_("carries over"), default=False, editable=False)

    objects = PledgeQuerySet.as_manager()

    class Meta:
        verbose_name = _("pledge")
        verbose_name_plural = _("pledges")
        ordering = ["cycle", "donor", "first_week"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="pledges_pledge_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(first_week__gte=1, last_week__gte=models.F("first_week")),
                name="pledges_pledge_weeks_ordered",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["active", "paused", "cancelled"]),
                name="pledges_pledge_status_valid",
            ),
        ]

    def __str__(self):
        return _("%(donor)s: %(amount)s a week") % {"donor": self.donor, "amount": self.amount}

    def clean(self):
        if self.cycle_id and self.last_week and self.last_week > self.cycle.weeks:
            raise ValidationError({"last_week": self.cycle.weeks_message()})


class Assignment(models.Model):
    """One line of the weekly plan: in this week, this payer sends this amount to this
    recipient."""

    cycle = models.ForeignKey(
        Cycle, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("cycle")
    )
    week = models.PositiveSmallIntegerField(_("week"), validators=[MinValueValidator(1)])
    payer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="assignments",
        verbose_name=_("payer"),
    )
    recipient = models.ForeignKey(
        Recipient, on_delete=models.PROTECT, related_name="assignments", verbose_name=_("recipient")
    )
    amount = models.DecimalField(_("amount"), **MONEY)

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("weekly plan")
        ordering = ["cycle", "week", "recipient", "payer"]
        constraints = [
            models.UniqueConstraint(
                fields=["cycle", "week", "payer", "recipient"],
                name="pledges_assignment_unique_transfer",
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="pledges_assignment_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(week__gte=1), name="pledges_assignment_week_positive"
            ),
        ]

    def __str__(self):
        return _("Week %(week)s: %(payer)s → %(recipient)s, %(amount)s") % {
            "week": self.week,
            "payer": self.payer,
            "recipient": self.recipient,
            "amount": self.amount,
        }


class PlanView(models.Model):
    """A payer opened "This week" for this week of the cycle: from then on, a change to
    their lines of it is mailed to them (they may have acted on what they saw)."""

    cycle = models.ForeignKey(
        Cycle, on_delete=models.CASCADE, related_name="plan_views", verbose_name=_("cycle")
    )
    week = models.PositiveSmallIntegerField(_("week"), validators=[MinValueValidator(1)])
    payer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="plan_views",
        verbose_name=_("payer"),
    )
    seen_at = models.DateTimeField(_("first seen"), auto_now_add=True)

    class Meta:
        verbose_name = _("plan seen by a payer")
        verbose_name_plural = _("plans seen by payers")
        constraints = [
            models.UniqueConstraint(
                fields=["cycle", "week", "payer"], name="pledges_planview_once_per_week"
            ),
        ]

    def __str__(self):
        return _("Week %(week)s seen by %(payer)s") % {"week": self.week, "payer": self.payer}
