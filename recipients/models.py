import datetime
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from mutualaid.dates import NoLaterThan, range_constraint
from mutualaid.text import TypedCharField
from pods.models import Cycle, Pod, hash_token


class PaymentMethod(models.TextChoices):
    CASH_APP = "cashapp", _("Cash App")
    VENMO = "venmo", _("Venmo")
    ZELLE = "zelle", _("Zelle")
    PAYPAL = "paypal", _("PayPal")
    CASH = "cash", _("cash")
    OTHER = "other", _("other")


class RecipientQuerySet(models.QuerySet):
    def for_pod(self, pod):
        return self.filter(pod=pod)


class Recipient(models.Model):
    """A neighbor the pod supports. Deliberately minimal: a name, where to pay, and at
    most one way to reach them. No account, no story, no proof of need."""

    pod = models.ForeignKey(
        Pod, on_delete=models.CASCADE, related_name="recipients", verbose_name=_("pod")
    )
    display_name = TypedCharField(
        _("display name"), max_length=80, help_text=_("A nickname is fine.")
    )
    payment_method = models.CharField(
        _("payment method"), max_length=20, choices=PaymentMethod, default=PaymentMethod.CASH_APP
    )
    payment_handle = TypedCharField(
        _("payment handle"),
        max_length=120,
        blank=True,
        help_text=_("Shown only to organizers and to members assigned to pay this person."),
    )
    contact = TypedCharField(
        _("how to reach them"),
        max_length=200,
        blank=True,
        help_text=_("Optional: one phone number, email or other way. Nothing more."),
    )
    language = models.CharField(
        _("language of their page"),
        max_length=8,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_("Empty: their browser's language. They can change it on their page."),
    )
    access_token_hash = models.CharField(
        _("private link hash"), max_length=64, blank=True, editable=False
    )
    handle_changed_at = models.DateTimeField(
        _("payment handle changed"), null=True, blank=True, editable=False
    )
    erased_at = models.DateTimeField(_("data erased"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(pgettext_lazy("recipient", "created"), auto_now_add=True)

    objects = RecipientQuerySet.as_manager()

    class Meta:
        verbose_name = _("recipient")
        verbose_name_plural = _("recipients")
        ordering = ["pod", "display_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["access_token_hash"],
                condition=~Q(access_token_hash=""),
                name="recipients_recipient_unique_token",
            ),
            models.CheckConstraint(
                condition=~Q(display_name=""), name="recipients_recipient_name_not_empty"
            ),
        ]

    def __str__(self):
        return self.display_name

    def clean(self):
        # The admin's check of the handle's syntax, as the app's forms do it. Imported
        # here: recipients.payment reads this module's PaymentMethod.
        from recipients.payment import handle_problem

        problem = handle_problem(self.payment_method, self.payment_handle)
        if problem:
            raise ValidationError({"payment_handle": problem})

    def new_access_token(self):
        """Give the recipient a fresh private link; return its secret (stored only hashed).
        The old link stops working."""
        token = secrets.token_urlsafe(24)
        self.access_token_hash = hash_token(token)
        return token

    @property
    def has_private_link(self):
        return bool(self.access_token_hash)

    @property
    def is_erased(self):
        return self.erased_at is not None


class EnrollmentQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=Enrollment.Status.ACTIVE)

    def in_week(self, week):
        """Who holds a slot in `week`: an enrollment holds its slot from its first week
        to its last, whatever its status (someone who left is paid up to their last)."""
        return self.filter(first_week__lte=week, last_week__gte=week)

    def in_slot_order(self):
        """The order recipients are funded in when pledges fall short."""
        return self.order_by("slot", "first_week", "pk")

    def holding_from(self, week):
        """Enrollments that hold their slot in `week` or any week after it."""
        return self.filter(last_week__gte=week).filter(last_week__gte=models.F("first_week"))


class Enrollment(models.Model):
    """A recipient in one slot of a cycle, from a first week to a last week.

    Slots are numbered 1..cycle.slots and an enrollment holds its slot alone from its
    first week to its last, so the database itself keeps a week from having more
    recipients than slots: on PostgreSQL an exclusion constraint over the week range, on
    SQLite a trigger (see the migrations), and triggers keep the slot number within the
    cycle's slots.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("enrollment status", "active")
        LEFT = "left", _("left")
        COMPLETED = "completed", _("completed")

    recipient = models.ForeignKey(
        Recipient, on_delete=models.CASCADE, related_name="enrollments", verbose_name=_("recipient")
    )
    cycle = models.ForeignKey(
        Cycle, on_delete=models.CASCADE, related_name="enrollments", verbose_name=_("cycle")
    )
    slot = models.PositiveSmallIntegerField(_("slot"), validators=[MinValueValidator(1)])
    first_week = models.PositiveSmallIntegerField(
        _("first week"), default=1, validators=[MinValueValidator(1)]
    )
    last_week = models.PositiveSmallIntegerField(_("last week"), validators=[MinValueValidator(1)])
    status = models.CharField(
        pgettext_lazy("enrollment", "status"), max_length=10, choices=Status, default=Status.ACTIVE
    )
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True, validators=[NoLaterThan(1)])
    end_reason = TypedCharField(
        _("why it ended"),
        max_length=200,
        blank=True,
        help_text=_("Optional. Nobody has to give a reason for leaving."),
    )
    created_at = models.DateTimeField(pgettext_lazy("enrollment", "created"), auto_now_add=True)

    objects = EnrollmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("enrollment")
        verbose_name_plural = _("enrollments")
        ordering = ["cycle", "slot", "first_week"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "cycle"],
                name="recipients_enrollment_once_per_cycle",
                violation_error_message=_("This recipient is already enrolled in this cycle."),
            ),
            models.CheckConstraint(
                condition=Q(slot__gte=1), name="recipients_enrollment_slot_positive"
            ),
            # An ended enrollment may end before its first week (last_week =
            # first_week - 1): someone who left before their support began covers no week.
            models.CheckConstraint(
                condition=Q(first_week__gte=1)
                & (
                    Q(last_week__gte=models.F("first_week"))
                    | (~Q(status="active") & Q(last_week=models.F("first_week") - 1))
                ),
                name="recipients_enrollment_weeks_ordered",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["active", "left", "completed"]),
                name="recipients_enrollment_status_valid",
            ),
            range_constraint(
                "ended_at", name="recipients_enrollment_ended_at_in_range", datetimes=True
            ),
        ]

    def __str__(self):
        return _("%(recipient)s in slot %(slot)s of %(cycle)s") % {
            "recipient": self.recipient,
            "slot": self.slot,
            "cycle": self.cycle,
        }

    @property
    def holds_weeks(self):
        """False for an enrollment ended before its first week (it covers no week)."""
        return self.last_week >= self.first_week

    @property
    def supported_until(self):
        """The last day of its last week (the day before its first week when it covers
        none): after it, the person is no longer supported by this enrollment."""
        if not self.holds_weeks:
            return self.cycle.week_starts_on(self.first_week) - datetime.timedelta(days=1)
        return self.cycle.week_ends_on(self.last_week)

    def clean(self):
        if self.cycle_id and self.recipient_id and self.recipient.pod_id != self.cycle.pod_id:
            raise ValidationError(_("The recipient and the cycle belong to different pods."))
        if self.cycle_id:
            if self.slot and self.slot > self.cycle.slots:
                raise ValidationError({"slot": self.cycle.slots_message()})
            if self.last_week and self.last_week > self.cycle.weeks:
                raise ValidationError({"last_week": self.cycle.weeks_message()})
            # The database refuses this too (recipients_enrollment_slot_weeks_exclusive);
            # this says it next to the field.
            if self.slot and self.first_week and self.last_week and self.holds_weeks:
                clash = (
                    Enrollment.objects.filter(cycle_id=self.cycle_id, slot=self.slot)
                    .filter(first_week__lte=self.last_week, last_week__gte=self.first_week)
                    .filter(last_week__gte=models.F("first_week"))
                    .exclude(pk=self.pk)
                    .select_related("recipient")
                    .first()
                )
                if clash is not None:
                    raise ValidationError(
                        {
                            "slot": _(
                                "%(name)s holds slot %(slot)s in weeks %(first)s to %(last)s."
                            )
                            % {
                                "name": clash.recipient.display_name,
                                "slot": self.slot,
                                "first": clash.first_week,
                                "last": clash.last_week,
                            }
                        }
                    )


class ReferralQuerySet(models.QuerySet):
    def in_queue_order(self):
        """First come, first served, unless an organizer moved someone (with a reason).

        queue_position stays empty until the first move; a move numbers everyone waiting
        at that moment, so anyone referred later (still empty) queues behind them, by
        arrival."""
        return self.order_by(models.F("queue_position").asc(nulls_last=True), "created_at", "pk")

    def waiting(self):
        return self.filter(status=Referral.Status.WAITING).in_queue_order()

    def offered(self):
        return self.filter(status=Referral.Status.OFFERED).order_by("created_at", "pk")

    def holding_a_slot(self):
        """Offered a slot that no enrollment holds yet: the offer keeps it for them."""
        return self.filter(status=Referral.Status.OFFERED, recipient=None)


class Referral(models.Model):
    """A neighbor referred to the pod, waiting their turn. First come, first served."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("waiting")
        OFFERED = "offered", _("offered a slot")
        ENROLLED = "enrolled", _("enrolled")
        WITHDRAWN = "withdrawn", _("withdrawn")

    pod = models.ForeignKey(
        Pod, on_delete=models.CASCADE, related_name="referrals", verbose_name=_("pod")
    )
    referred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="referrals",
        verbose_name=_("referred by"),
    )
    display_name = TypedCharField(
        _("display name"), max_length=80, help_text=_("A nickname is fine.")
    )
    contact = TypedCharField(_("how to reach them"), max_length=200, blank=True)
    note = TypedCharField(_("note for the organizers"), max_length=500, blank=True)
    status = models.CharField(
        pgettext_lazy("referral", "status"), max_length=10, choices=Status, default=Status.WAITING
    )
    recipient = models.OneToOneField(
        Recipient,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="referral",
        verbose_name=_("recipient"),
    )
    created_at = models.DateTimeField(_("referred"), default=timezone.now)
    queue_position = models.PositiveIntegerField(
        _("place in the queue"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Empty: in order of arrival. Set when an organizer moves someone."),
    )
    withdrawn_at = models.DateTimeField(
        pgettext_lazy("date withdrawn", "withdrawn"), null=True, blank=True, editable=False
    )
    erased_at = models.DateTimeField(_("data erased"), null=True, blank=True, editable=False)
    # Sent back by the refer form: the same form twice finds the first referral instead
    # of queueing the neighbor a second time. Empty for referrals made in the admin.
    submission_key = models.UUIDField(_("submission key"), null=True, blank=True, editable=False)

    objects = ReferralQuerySet.as_manager()

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["pod", "created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(display_name=""), name="recipients_referral_name_not_empty"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["waiting", "offered", "enrolled", "withdrawn"]),
                name="recipients_referral_status_valid",
            ),
            models.UniqueConstraint(
                fields=["submission_key"],
                name="recipients_referral_unique_submission_key",
                violation_error_message=_("This neighbor has already been referred."),
            ),
        ]

    def __str__(self):
        return self.display_name


class ReferralMove(models.Model):
    """An organizer moved a referral in the queue. The queue is first come, first served,
    so every exception to it is kept with its reason, for the other organizers to see."""

    referral = models.ForeignKey(
        Referral, on_delete=models.CASCADE, related_name="moves", verbose_name=_("referral")
    )
    moved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="referral_moves",
        verbose_name=_("moved by"),
    )
    from_position = models.PositiveIntegerField(_("from place"))
    to_position = models.PositiveIntegerField(_("to place"))
    reason = TypedCharField(_("reason"), max_length=300)
    created_at = models.DateTimeField(_("moved"), auto_now_add=True)

    class Meta:
        verbose_name = _("move in the queue")
        verbose_name_plural = _("moves in the queue")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(reason=""), name="recipients_referralmove_reason_not_empty"
            ),
            models.CheckConstraint(
                condition=Q(from_position__gte=1, to_position__gte=1)
                & ~Q(from_position=models.F("to_position")),
                name="recipients_referralmove_positions_differ",
            ),
        ]

    def __str__(self):
        return _("%(referral)s: place %(from)s to %(to)s") % {
            "referral": self.referral,
            "from": self.from_position,
            "to": self.to_position,
        }
