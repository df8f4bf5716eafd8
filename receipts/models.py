import datetime
import logging

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from mutualaid.dates import range_constraint
from mutualaid.money import MONEY
from mutualaid.text import TypedCharField, clean_typed_text
from pods.models import Cycle, Pod
from receipts.images import CleanImage
from recipients.models import PaymentMethod, Recipient

logger = logging.getLogger(__name__)

# What storage raises when it cannot keep, give back or delete a file just now: the disk
# (OSError: full, read-only, gone) or an S3-compatible store that is down, refuses or
# times out (botocore's errors). A storage failure is never a 500: the person is told,
# and nothing is saved that points at a file not kept.
STORAGE_ERRORS = (OSError, BotoCoreError, ClientError)
STORAGE_DOWN = _(
    "The screenshot could not be stored just now, so nothing was saved. Try again in a "
    "few minutes, or post the receipt without it."
)


LIVE = Q(voided_at=None)


class ReceiptQuerySet(models.QuerySet):
    def for_pod(self, pod):
        return self.filter(pod=pod)

    def live(self):
        return self.filter(LIVE)

    def voided(self):
        return self.exclude(LIVE)

    def by_cycle(self):
        """One row per cycle, the newest first: its id and number, how many live receipts
        (`count`), their `total` (None for none) and how many of them are not confirmed
        yet (`unconfirmed`), and how many were `voided`. One query, whatever the count."""
        return (
            self.values("cycle_id", "cycle__number")
            .annotate(
                count=Count("pk", filter=LIVE),
                total=Sum("amount", filter=LIVE),
                unconfirmed=Count("pk", filter=LIVE & Q(confirmed_at=None)),
                voided=Count("pk", filter=~LIVE),
            )
            .order_by("-cycle__number")
        )

    def total(self):
        return self.aggregate(total=Sum("amount"))["total"] or 0


class Receipt(models.Model):
    """One transfer, posted for the whole pod to see. Append-only: a mistake is voided
    with a reason (kept and shown) and posted anew, never edited or deleted."""

    pod = models.ForeignKey(
        Pod, on_delete=models.PROTECT, related_name="receipts", verbose_name=_("pod")
    )
    cycle = models.ForeignKey(
        Cycle, on_delete=models.PROTECT, related_name="receipts", verbose_name=_("cycle")
    )
    week = models.PositiveSmallIntegerField(_("week"), validators=[MinValueValidator(1)])
    recipient = models.ForeignKey(
        Recipient, on_delete=models.PROTECT, related_name="receipts", verbose_name=_("recipient")
    )
    payer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="receipts_paid",
        verbose_name=_("payer"),
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    method = models.CharField(_("method"), max_length=20, choices=PaymentMethod)
    sent_on = models.DateField(_("sent on"))
    reference = TypedCharField(
        _("reference"), max_length=120, blank=True, help_text=_("Optional: the app's note or ID.")
    )
    screenshot = models.ImageField(
        _("screenshot"), upload_to="receipts/%Y/%m/", blank=True, max_length=200
    )
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="receipts_posted",
        verbose_name=_("posted by"),
    )
    posted_at = models.DateTimeField(pgettext_lazy("date posted", "posted"), default=timezone.now)
    confirmed_at = models.DateTimeField(
        _("recipient confirmed arrival"), null=True, blank=True, editable=False
    )
    voided_at = models.DateTimeField(
        pgettext_lazy("date voided", "voided"), null=True, blank=True, editable=False
    )
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="receipts_voided",
        verbose_name=_("voided by"),
        editable=False,
    )
    void_reason = TypedCharField(_("why it was voided"), max_length=300, blank=True)
    # Generated when the form is shown and sent back with it: the same form submitted
    # twice (a double tap, a retry on a bad connection) finds the first receipt instead
    # of posting a second one. Empty for receipts made another way (admin, demo data).
    submission_key = models.UUIDField(_("submission key"), null=True, blank=True, editable=False)

    objects = ReceiptQuerySet.as_manager()

    class Meta:
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        ordering = ["-posted_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="receipts_receipt_amount_positive"
            ),
            models.CheckConstraint(condition=Q(week__gte=1), name="receipts_receipt_week_positive"),
            range_constraint("sent_on", name="receipts_receipt_sent_on_in_range"),
            range_constraint(
                "posted_at", name="receipts_receipt_posted_at_in_range", datetimes=True
            ),
            models.CheckConstraint(
                condition=Q(voided_at=None) | (~Q(void_reason="") & Q(voided_by__isnull=False)),
                name="receipts_receipt_void_has_reason",
                violation_error_message=_("A voided receipt needs a reason."),
            ),
            models.UniqueConstraint(
                fields=["submission_key"],
                name="receipts_receipt_unique_submission_key",
                violation_error_message=_("This receipt has already been posted."),
            ),
        ]
        # One for each filter of the board, in the list's order (newest first), so that a
        # page of the list is read from the index, not sorted from the whole cycle.
        indexes = [
            models.Index(fields=["cycle", "-posted_at", "-id"], name="receipts_cycle_posted_idx"),
            models.Index(
                fields=["cycle", "week", "-posted_at", "-id"], name="receipts_cycle_week_posted_idx"
            ),
            models.Index(
                fields=["cycle", "recipient", "-posted_at", "-id"],
                name="receipts_cycle_recipient_idx",
            ),
            models.Index(
                fields=["cycle", "payer", "-posted_at", "-id"], name="receipts_cycle_payer_idx"
            ),
        ]

    def __str__(self):
        return _("%(amount)s to %(recipient)s, week %(week)s") % {
            "amount": self.amount,
            "recipient": self.recipient,
            "week": self.week,
        }

    @property
    def is_void(self):
        return self.voided_at is not None

    def clean(self):
        if self.cycle_id and self.pod_id and self.cycle.pod_id != self.pod_id:
            raise ValidationError(_("The cycle belongs to another pod."))
        if self.recipient_id and self.pod_id and self.recipient.pod_id != self.pod_id:
            raise ValidationError(_("The recipient belongs to another pod."))
        if self.cycle_id and self.week and self.week > self.cycle.weeks:
            raise ValidationError({"week": self.cycle.weeks_message()})

    def void(self, *, by, reason):
        """Void the receipt, keeping it and the reason. Returns False if it was already
        void: a second void must not overwrite who voided it and why."""
        # As it is kept (TypedTextField): a reason of nothing but bidi controls is none.
        reason = clean_typed_text(reason)
        if not reason:
            raise ValidationError({"void_reason": _("Say why the receipt is voided.")})
        now = timezone.now()
        updated = Receipt.objects.filter(pk=self.pk, voided_at=None).update(
            voided_at=now, voided_by=by, void_reason=reason
        )
        if updated:
            self.voided_at, self.voided_by, self.void_reason = now, by, reason
            if by.pk != self.payer_id:
                self._tell_payer_of_void()
        return bool(updated)

    def _tell_payer_of_void(self):
        # The payer may think their transfer counts; now it does not, and they should
        # know why (and post it anew if it was only a mistake in the details).
        from django.urls import reverse

        from mutualaid.mail import send_templated

        payer = self.payer
        pod = self.pod
        url = settings.SITE_URL.rstrip("/") + reverse(
            "receipts:receipt_detail", args=[pod.slug, self.pk]
        )
        send_templated(
            "receipt_voided",
            to=payer.email,
            context={
                "name": payer.display_name or payer.email.split("@")[0],
                "voided_by": self.voided_by.display_name or self.voided_by.email.split("@")[0],
                "pod": pod,
                "receipt": self,
                "recipient": self.recipient.display_name,
                "reason": self.void_reason,
                "receipt_url": url,
            },
            language=payer.language,
        )


class StagedScreenshotQuerySet(models.QuerySet):
    # A screenshot is shared just before its receipt is posted; one left waiting a day
    # was given up (the share sheet opened by mistake, the form closed), and holds a
    # picture of someone's transfer that nobody will post.
    KEPT_FOR = datetime.timedelta(days=1)

    def stale(self, now=None):
        return self.filter(created_at__lt=(now or timezone.now()) - self.KEPT_FOR)

    def purge_stale(self, now=None) -> int:
        """Delete the staged screenshots left waiting more than a day, their files from
        storage and their rows; returns how many. Each file is deleted before its row:
        should the run stop between the two, the next run deletes the file again (a
        no-op) and the row. The other order could leave a file that nothing points to,
        never to be deleted. Safe to run twice at once: a row already gone is skipped."""
        done = 0
        for staged in self.stale(now).only("pk", "image").order_by("pk"):
            staged.image.storage.delete(staged.image.name)
            deleted, _rows = StagedScreenshot.objects.filter(pk=staged.pk).delete()
            done += bool(deleted)
        return done


class StagedScreenshot(models.Model):
    """A screenshot shared to the app from a phone's share sheet, already cleaned of its
    metadata, waiting for its owner to post the receipt it belongs to. Sharing only
    stages it: the receipt is posted by the usual form (with its CSRF token)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="staged_screenshots",
        verbose_name=_("owner"),
    )
    image = models.ImageField(
        _("screenshot"),
        upload_to="staged/%Y/%m/",
        max_length=200,
    )
    # Stored as given, not by the field's width_field: that would open the file every
    # time a row is loaded (and fail on one gone from storage).
    width = models.PositiveIntegerField(_("width"), default=0, editable=False)
    height = models.PositiveIntegerField(_("height"), default=0, editable=False)
    created_at = models.DateTimeField(
        pgettext_lazy("shared screenshot", "created"), auto_now_add=True
    )

    objects = StagedScreenshotQuerySet.as_manager()

    class Meta:
        verbose_name = _("shared screenshot")
        verbose_name_plural = _("shared screenshots")

    def __str__(self):
        return _("Screenshot shared by %(owner)s") % {"owner": self.owner}

    def as_clean_image(self):
        """The staged file as the receipt form's cleaned screenshot. FileNotFoundError
        when it is gone from storage; a ValidationError when storage cannot give it back
        just now."""
        try:
            with self.image.open("rb") as file:
                content = file.read()
        except FileNotFoundError:
            raise
        except STORAGE_ERRORS as error:
            logger.warning("Staged screenshot %s unreadable: %s", self.pk, error)
            raise ValidationError(STORAGE_DOWN, code="storage") from error
        return CleanImage(
            content=content,
            extension=self.image.name.rsplit(".", 1)[-1].lower(),
            width=self.width,
            height=self.height,
        )

    def discard(self) -> bool:
        """Delete the file, then the row. When storage cannot delete the file just now,
        the row stays, so that the daily clean-up deletes both later; False then."""
        try:
            self.image.delete(save=False)
        except STORAGE_ERRORS as error:
            logger.warning("Staged screenshot %s not deleted: %s", self.pk, error)
            return False
        self.delete()
        return True
