import datetime
import hashlib
import secrets
import uuid
import zoneinfo
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

from mutualaid.dates import NoLaterThan, in_range, range_constraint
from mutualaid.money import MONEY
from mutualaid.text import TypedCharField, TypedTextField

# How far ahead an organizer may set these, in the admin as in the app (whose forms may
# ask for less). Past them is a typo, not a plan.
ALERT_MAX_DAYS = 365
INVITATION_MAX_DAYS = 365
CYCLE_MAX_DAYS_AHEAD = 2 * 365


def hash_token(token):
    """Secrets (invitation links, recipients' private links) are stored only hashed."""
    return hashlib.sha256(token.encode()).hexdigest()


def validate_time_zone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("“%(value)s” is not a time zone."), params={"value": value})


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class PodQuerySet(models.QuerySet):
    def for_member(self, user):
        return self.filter(memberships__user=user, memberships__active=True)

    def organized_by(self, user):
        return self.filter(
            memberships__user=user,
            memberships__active=True,
            memberships__role=Membership.Role.ORGANIZER,
        )


class Pod(models.Model):
    name = TypedCharField(_("name"), max_length=100)
    slug = models.SlugField(_("short name in links"), max_length=60, unique=True)
    currency = models.CharField(
        _("currency"), max_length=3, default="USD", help_text=_("ISO 4217 code, such as USD.")
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="America/New_York", validators=[validate_time_zone]
    )
    payday = models.PositiveSmallIntegerField(
        _("payday"),
        choices=Weekday,
        default=Weekday.FRIDAY,
        help_text=_("The weekday transfers are due."),
    )
    default_weeks = models.PositiveSmallIntegerField(_("weeks in a new cycle"), default=15)
    default_weekly_amount = models.DecimalField(
        _("weekly amount in a new cycle"), default=Decimal("175.00"), **MONEY
    )
    default_slots = models.PositiveSmallIntegerField(_("slots in a new cycle"), default=11)
    auto_handoff = models.BooleanField(
        _("hand a freed slot to the next referral automatically"),
        default=False,
        help_text=_("Otherwise an organizer confirms each hand-off."),
    )
    organizer_contact = models.CharField(
        _("how recipients reach the organizers"),
        max_length=200,
        blank=True,
        help_text=_(
            "One line shown on every recipient's private page: a phone number, an email "
            "or a message handle."
        ),
    )
    language = models.CharField(
        _("language"),
        max_length=8,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        help_text=_("Emails to people who have no account yet (invitations) are written in it."),
    )
    created_at = models.DateTimeField(pgettext_lazy("pod", "created"), auto_now_add=True)
    # Bumped by the database itself, in the transaction of every write the receipts board
    # shows (a receipt posted, voided or confirmed; an enrollment, a cycle, a recipient's
    # or a member's name changed; the pod's own settings): triggers in the migrations, so
    # that the admin, the services and a shell session all bump it. The board's cached
    # fragments are keyed on it (receipts.views), so a cached board is never stale. A
    # save() of a Pod read earlier cannot set it back: every update of the row bumps it.
    board_version = models.PositiveBigIntegerField(_("board version"), default=0, editable=False)

    objects = PodQuerySet.as_manager()

    class Meta:
        verbose_name = _("pod")
        verbose_name_plural = _("pods")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(default_weekly_amount__gt=0),
                name="pods_pod_default_weekly_amount_positive",
            ),
            models.CheckConstraint(
                condition=Q(default_weeks__gt=0), name="pods_pod_default_weeks_positive"
            ),
            models.CheckConstraint(
                condition=Q(default_slots__gt=0), name="pods_pod_default_slots_positive"
            ),
            models.CheckConstraint(
                condition=Q(payday__gte=0, payday__lte=6), name="pods_pod_payday_weekday"
            ),
        ]

    def __str__(self):
        return self.name

    def today(self):
        """Today's date where the pod lives: weeks turn over at the pod's midnight."""
        return timezone.localdate(timezone=zoneinfo.ZoneInfo(self.time_zone))

    # The pod's calendar. "Current" is worked out from the dates alone, so a planned cycle
    # becomes the current one on its first day without anything having to be written.

    def cycle_on(self, date):
        """The cycle that covers `date` (at most one does: a database rule), or None."""
        return next((c for c in self.cycles.all() if c.covers(date)), None)

    def current_cycle(self, today=None):
        """The cycle the pod's pages are about: the one covering today; between two
        cycles, the next one (the one people pledge for); after the last one ended, that
        one (its weeks are over). None only for a pod without cycles.

        A pod has a few cycles a year: they are read whole (or taken from a prefetch, as
        the home page does for all of a person's pods at once)."""
        today = today or self.today()
        cycles = sorted(self.cycles.all(), key=lambda c: c.starts_on)
        started = [c for c in cycles if c.starts_on <= today]
        if started and started[-1].covers(today):
            return started[-1]
        upcoming = [c for c in cycles if c.starts_on > today]
        return upcoming[0] if upcoming else (started[-1] if started else None)

    def next_cycle(self, today=None):
        """The cycle planned after the current one, if any."""
        current = self.current_cycle(today)
        if current is None:
            return None
        return current.following()


class MembershipQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)

    def organizers(self):
        return self.filter(active=True, role=Membership.Role.ORGANIZER)


class Membership(models.Model):
    class Role(models.TextChoices):
        ORGANIZER = "organizer", _("organizer")
        DONOR = "donor", _("donor")

    class Notices(models.TextChoices):
        """How an organizer hears of a new referral or a new member of the pod."""

        EACH = "each", _("an email for each")
        DAILY = "daily", _("one daily digest")
        NONE = "none", _("no email")

    pod = models.ForeignKey(
        Pod, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("pod")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("person"),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role, default=Role.DONOR)
    active = models.BooleanField(
        pgettext_lazy("membership", "active"),
        default=True,
        help_text=_("A member who left keeps their history."),
    )
    joined_at = models.DateTimeField(_("joined"), auto_now_add=True)
    notices = models.CharField(
        _("news by email"),
        max_length=10,
        choices=Notices,
        default=Notices.EACH,
        help_text=_("For organizers: how they hear of new referrals and new members."),
    )
    invitation = models.ForeignKey(
        "Invitation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("joined through"),
        help_text=_("The invitation this person last joined through, if any."),
    )

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["pod", "role", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["pod", "user"], name="pods_membership_unique_person"),
        ]

    def __str__(self):
        return f"{self.user} · {self.pod} ({self.get_role_display()})"

    @property
    def is_organizer(self):
        return self.active and self.role == self.Role.ORGANIZER


class InvitationQuerySet(models.QuerySet):
    def usable(self, now=None):
        now = now or timezone.now()
        return self.filter(revoked_at=None, expires_at__gt=now, uses__lt=models.F("max_uses"))

    def sent_to(self, emails):
        """Invitations emailed to any of `emails` (lower case, as they are stored)."""
        return self.filter(email__in=emails)


class Invitation(models.Model):
    class Status(models.TextChoices):
        """Not stored: worked out from the fields and the time (see `status()`)."""

        ACTIVE = "active", pgettext_lazy("invitation status", "active")
        EXPIRED = "expired", _("expired")
        USED_UP = "used_up", _("used up")
        REVOKED = "revoked", _("revoked")

    pod = models.ForeignKey(
        Pod, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("pod")
    )
    role = models.CharField(
        _("role"), max_length=20, choices=Membership.Role, default=Membership.Role.DONOR
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invitations_created",
        verbose_name=_("created by"),
    )
    expires_at = models.DateTimeField(_("expires"), validators=[NoLaterThan(INVITATION_MAX_DAYS)])
    max_uses = models.PositiveIntegerField(_("number of uses"), default=1)
    uses = models.PositiveIntegerField(_("times used"), default=0, editable=False)
    revoked_at = models.DateTimeField(
        pgettext_lazy("date revoked", "revoked"), null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(pgettext_lazy("invitation", "created"), auto_now_add=True)
    # Sent back by the app's form: the same form twice finds the first invitation (see
    # pods/invitations.py). Empty for invitations made in the admin.
    submission_key = models.UUIDField(_("submission key"), null=True, blank=True, editable=False)
    # An invitation sent by email to one person (from the invitations page or an imported
    # list): who it was sent to, and the weekly amount the pod's list had for them, which
    # their pledge form offers when they join. Only a suggestion: they set the pledge.
    email = models.EmailField(_("sent to"), blank=True)
    suggested_amount = models.DecimalField(
        _("suggested weekly pledge"), null=True, blank=True, **MONEY
    )

    objects = InvitationQuerySet.as_manager()

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_uses__gt=0), name="pods_invitation_max_uses_positive"
            ),
            models.CheckConstraint(
                condition=Q(uses__lte=models.F("max_uses")),
                name="pods_invitation_uses_within_max",
            ),
            range_constraint(
                "expires_at", name="pods_invitation_expires_at_in_range", datetimes=True
            ),
            models.UniqueConstraint(
                fields=["submission_key"],
                name="pods_invitation_unique_submission_key",
                violation_error_message=_("This invitation has already been created."),
            ),
            models.CheckConstraint(
                condition=Q(suggested_amount=None) | Q(suggested_amount__gt=0),
                name="pods_invitation_suggested_amount_positive",
            ),
        ]

    def __str__(self):
        return _("%(role)s invitation to %(pod)s") % {
            "role": self.get_role_display(),
            "pod": self.pod,
        }

    def new_token(self):
        """Give the invitation a fresh secret; return it (it is never stored in clear)."""
        token = secrets.token_urlsafe(24)
        self.token_hash = hash_token(token)
        return token

    def status(self, now=None):
        now = now or timezone.now()
        if self.revoked_at is not None:
            return self.Status.REVOKED
        if self.uses >= self.max_uses:
            return self.Status.USED_UP
        if self.expires_at <= now:
            return self.Status.EXPIRED
        return self.Status.ACTIVE

    def revoke(self):
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            Invitation.objects.filter(pk=self.pk, revoked_at=None).update(
                revoked_at=self.revoked_at
            )

    def grants_nothing_to(self, membership):
        """True when `membership` (or None) already has all this invitation would give."""
        return (
            membership is not None
            and membership.active
            and (membership.role == Membership.Role.ORGANIZER or membership.role == self.role)
        )

    def accept(self, user):
        """Make `user` a member of the pod with the invitation's role, using one of its
        uses, and return the membership. A person who left comes back; an active member
        uses nothing unless the invitation raises them from donor to organizer.

        Raises ValidationError (code "unusable") when the invitation is expired, used up
        or revoked by the time it is used."""
        with transaction.atomic():
            # Lock the invitation: two people following a one-use link at the same moment
            # must not both get in. The second waits here, then sees it used up.
            invitation = Invitation.objects.select_for_update().get(pk=self.pk)
            # And the person: following two links to this pod at once (two tabs) must
            # not make them a member twice. The second waits, then finds the membership.
            get_user_model().objects.select_for_update().only("pk").get(pk=user.pk)
            if invitation.status() != self.Status.ACTIVE:
                raise ValidationError(_("This invitation can no longer be used."), code="unusable")
            membership = Membership.objects.filter(pod_id=self.pod_id, user=user).first()
            if self.grants_nothing_to(membership):
                return membership
            # Conditional on the same rules as `usable()`, so that even without row locks
            # (SQLite) a use past the limit matches nothing instead of being counted.
            claimed = (
                Invitation.objects.usable().filter(pk=self.pk).update(uses=models.F("uses") + 1)
            )
            if not claimed:
                raise ValidationError(_("This invitation can no longer be used."), code="unusable")
            joined = membership is None or not membership.active
            if membership is None:
                membership = Membership.objects.create(
                    pod_id=self.pod_id, user=user, role=self.role, invitation=self
                )
            else:
                membership.active = True
                membership.role = self.role
                membership.invitation = self
                membership.save(update_fields=["active", "role", "invitation"])
            if joined:
                # Organizers hear of a new member, with this transaction (imported here:
                # pods.notices builds on this module).
                from pods.notices import tell_organizers_of_member

                tell_organizers_of_member(membership)
        self.uses = invitation.uses + 1
        return membership


class Cycle(models.Model):
    """A run of numbered weeks: week n covers the seven days from
    `starts_on + 7 * (n - 1)`. Cycles of a pod never overlap (a database rule, see the
    migration): at most one covers any day. Whether a cycle is planned, running or over
    is worked out from its dates and the pod's today, never stored."""

    class Status(models.TextChoices):
        """Not stored: worked out from the dates (see `status()`)."""

        PLANNED = "planned", _("planned")
        ACTIVE = "active", _("running")
        CLOSED = "closed", _("over")

    pod = models.ForeignKey(
        Pod, on_delete=models.CASCADE, related_name="cycles", verbose_name=_("pod")
    )
    number = models.PositiveIntegerField(_("number"))
    starts_on = models.DateField(_("starts on"), validators=[NoLaterThan(CYCLE_MAX_DAYS_AHEAD)])
    weeks = models.PositiveSmallIntegerField(
        _("weeks"), default=15, validators=[MinValueValidator(1), MaxValueValidator(104)]
    )
    weekly_amount = models.DecimalField(
        _("weekly amount per recipient"), default=Decimal("175.00"), **MONEY
    )
    slots = models.PositiveSmallIntegerField(
        _("slots"),
        default=11,
        validators=[MinValueValidator(1)],
        help_text=_("How many neighbors the pod supports at once in this cycle."),
    )
    ended_early_at = models.DateTimeField(
        _("ended early"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("When an organizer ended the cycle before its planned last week."),
    )
    created_at = models.DateTimeField(pgettext_lazy("cycle", "created"), auto_now_add=True)

    class Meta:
        verbose_name = _("cycle")
        verbose_name_plural = _("cycles")
        ordering = ["pod", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["pod", "number"], name="pods_cycle_unique_number"),
            models.CheckConstraint(
                condition=Q(weekly_amount__gt=0), name="pods_cycle_weekly_amount_positive"
            ),
            models.CheckConstraint(condition=Q(weeks__gt=0), name="pods_cycle_weeks_positive"),
            models.CheckConstraint(condition=Q(slots__gt=0), name="pods_cycle_slots_positive"),
            models.CheckConstraint(condition=Q(number__gt=0), name="pods_cycle_number_positive"),
            range_constraint("starts_on", name="pods_cycle_starts_on_in_range"),
        ]

    def __str__(self):
        return _("%(pod)s, cycle %(number)s") % {"pod": self.pod, "number": self.number}

    def weeks_message(self):
        """What a form says of a week number past this cycle's last."""
        return ngettext(
            "This cycle has %(weeks)s week.", "This cycle has %(weeks)s weeks.", self.weeks
        ) % {"weeks": self.weeks}

    def slots_message(self):
        """What a form says of a slot number past this cycle's last."""
        return ngettext(
            "This cycle has %(slots)s slot.", "This cycle has %(slots)s slots.", self.slots
        ) % {"slots": self.slots}

    def clean(self):
        if self.pod_id is None or self.starts_on is None or not self.weeks:
            return
        # Refused by the field already; its last week may be past any date there is.
        if not in_range(self.starts_on):
            return
        # The database refuses an overlap too (pods_cycle_no_overlap); this says it kindly.
        ends_on = self.ends_on
        others = Cycle.objects.filter(pod_id=self.pod_id, starts_on__lte=ends_on).exclude(
            pk=self.pk
        )
        for other in others:
            if other.ends_on >= self.starts_on:
                raise ValidationError(
                    _(
                        "Cycle %(number)s runs from %(start)s to %(end)s: cycles of a pod "
                        "cannot overlap."
                    )
                    % {"number": other.number, "start": other.starts_on, "end": other.ends_on}
                )

    # The calendar: every page, form, command and the admin asks these.

    @property
    def ends_on(self):
        return self.starts_on + datetime.timedelta(days=7 * self.weeks - 1)

    @property
    def weeks_range(self):
        return range(1, self.weeks + 1)

    def week_starts_on(self, week):
        return self.starts_on + datetime.timedelta(days=7 * (week - 1))

    def week_ends_on(self, week):
        return self.week_starts_on(week) + datetime.timedelta(days=6)

    def covers(self, date):
        return self.starts_on <= date <= self.ends_on

    def week_of(self, date):
        """The week number that holds `date`, or None outside the cycle."""
        if not self.covers(date):
            return None
        return (date - self.starts_on).days // 7 + 1

    def current_week(self, today=None):
        return self.week_of(today or self.pod.today())

    def status(self, today=None):
        today = today or self.pod.today()
        if today < self.starts_on:
            return self.Status.PLANNED
        if today > self.ends_on:
            return self.Status.CLOSED
        return self.Status.ACTIVE

    def has_started(self, week, today=None):
        """A week that has started is frozen: transfers for it may be on their way, so
        its plan changes only by an organizer's explicit edit."""
        return (today or self.pod.today()) >= self.week_starts_on(week)

    def first_open_week(self, today=None):
        """The first week a change made today can start from: the first week not yet
        started (week 1 before the cycle starts). None once the last week has started."""
        today = today or self.pod.today()
        if today < self.starts_on:
            return 1
        week = (today - self.starts_on).days // 7 + 2
        return week if week <= self.weeks else None

    def open_weeks(self, today=None):
        """The weeks a change made today may start in: those not started yet."""
        first = self.first_open_week(today)
        return list(range(first, self.weeks + 1)) if first is not None else []

    def shown_week(self, today=None):
        """The week a page is about: the current one; week 1 before the cycle starts;
        None once its weeks are over."""
        today = today or self.pod.today()
        if today < self.starts_on:
            return 1
        return self.week_of(today)

    def due_week(self, today=None):
        """The last week whose transfers could have been made by `today`: 0 before the
        cycle starts, the cycle's last week once it is over."""
        today = today or self.pod.today()
        if today < self.starts_on:
            return 0
        return self.week_of(today) or self.weeks

    def payday(self, week):
        """The date in `week` that falls on the pod's payday."""
        start = self.week_starts_on(week)
        return start + datetime.timedelta(days=(self.pod.payday - start.weekday()) % 7)

    def reminder_week(self, today):
        """The week whose transfers are overdue on `today`: the current week once its
        payday has passed. When payday is the last day of a week, no day of that week
        comes after it, so that week's reminders go out the next day instead."""
        index = (today - self.starts_on).days // 7 + 1
        for week in (index, index - 1):
            if not 1 <= week <= self.weeks:
                continue
            payday = self.payday(week)
            last_day = max(self.week_ends_on(week), payday + datetime.timedelta(days=1))
            if payday < today <= last_day:
                return week
        return None

    def following(self):
        """Cycle n+1 of the same pod, if it is planned."""
        return Cycle.objects.filter(pod_id=self.pod_id, number=self.number + 1).first()

    def preceding(self):
        return Cycle.objects.filter(pod_id=self.pod_id, number=self.number - 1).first()

    def weeks_for_next(self):
        """How many weeks the cycle after this one has unless changed: as many as this
        one, or the pod's default once this one was ended early (its shortened count
        was a one-off, not the pod's rhythm)."""
        return self.pod.default_weeks if self.ended_early_at is not None else self.weeks

    def needed_per_week(self, enrolled):
        return self.weekly_amount * enrolled


class AlertQuerySet(models.QuerySet):
    def showing(self, now=None):
        now = now or timezone.now()
        return self.filter(Q(expires_at=None) | Q(expires_at__gt=now), taken_down_at=None).order_by(
            "-created_at"
        )


class Alert(models.Model):
    """A warning organizers post to every page of the pod (a scam going around, say)."""

    pod = models.ForeignKey(
        Pod, on_delete=models.CASCADE, related_name="alerts", verbose_name=_("pod")
    )
    message = TypedTextField(_("message"), max_length=1000)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="alerts_posted",
        verbose_name=_("posted by"),
    )
    created_at = models.DateTimeField(pgettext_lazy("date posted", "posted"), auto_now_add=True)
    expires_at = models.DateTimeField(
        _("shows until"), null=True, blank=True, validators=[NoLaterThan(ALERT_MAX_DAYS)]
    )
    # A day of slack: "now" on the organizer's device may be a little ahead of the server.
    taken_down_at = models.DateTimeField(
        _("taken down"), null=True, blank=True, validators=[NoLaterThan(1)]
    )
    # Sent back by the app's form: the same warning posted twice is saved once (see
    # pods/alerts.py). Empty for alerts posted in the admin.
    submission_key = models.UUIDField(_("submission key"), null=True, blank=True, editable=False)

    objects = AlertQuerySet.as_manager()

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(message=""), name="pods_alert_message_not_empty"),
            range_constraint("expires_at", name="pods_alert_expires_at_in_range", datetimes=True),
            range_constraint(
                "taken_down_at", name="pods_alert_taken_down_at_in_range", datetimes=True
            ),
            models.UniqueConstraint(
                fields=["submission_key"],
                name="pods_alert_unique_submission_key",
                violation_error_message=_("This warning has already been posted."),
            ),
        ]

    def __str__(self):
        return self.message[:60]

    def is_showing(self, now=None):
        now = now or timezone.now()
        return self.taken_down_at is None and (self.expires_at is None or self.expires_at > now)

    def take_down(self):
        """Stop showing the alert. Returns False if it was already taken down: a second
        press must not move the time it came down."""
        now = timezone.now()
        updated = Alert.objects.filter(pk=self.pk, taken_down_at=None).update(taken_down_at=now)
        if updated:
            self.taken_down_at = now
        return bool(updated)


class Notification(models.Model):
    """One email the daily jobs (or a task) sent, logged so that no run sends it twice.
    `key` says what it was about: the cycle and week of a payer's reminder, the day of an
    organizers' list or digest, the alert emailed. The row is written before the mail goes
    out: after a crash, a message is missed rather than sent again."""

    class Kind(models.TextChoices):
        PAYMENT_REMINDER = "payment_reminder", _("reminder to pay")
        MISSING_TRANSFERS = "missing_transfers", _("missing transfers, to organizers")
        ALERT = "alert", _("alert, by email")
        ORGANIZER_DIGEST = "organizer_digest", _("daily digest, to organizers")

    pod = models.ForeignKey(
        Pod, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("pod")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("person"),
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind)
    key = models.CharField(_("about"), max_length=100)
    created_at = models.DateTimeField(_("sent"), auto_now_add=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "key"], name="pods_notification_sent_once"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.user} · {self.key}"


class StagedImport(models.Model):
    """A spreadsheet an organizer uploaded, kept between its preview and their confirm.

    Only the cells are kept, never what the preview made of them: the confirm reads
    them again against the pod as it is then (someone may have joined in between), and
    takes the row lock, so that a confirm sent twice (two tabs, a double tap) imports
    once. The cells are emptied once it is imported."""

    class Kind(models.TextChoices):
        DONORS = "donors", _("donors")
        RECIPIENTS = "recipients", _("recipients")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    pod = models.ForeignKey(
        Pod, on_delete=models.CASCADE, related_name="staged_imports", verbose_name=_("pod")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="staged_imports",
        verbose_name=_("uploaded by"),
    )
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    # The uploader's language when they uploaded it: amounts are read by its rules
    # ("25,50" is 25.50 in Spanish), at the preview and at the confirm alike.
    language = models.CharField(_("language"), max_length=8, blank=True)
    rows = models.JSONField(_("rows"), default=list)
    # What the import did, row by row (no secrets): the result page shows it.
    outcome = models.JSONField(_("outcome"), default=list)
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    imported_at = models.DateTimeField(_("imported"), null=True, blank=True)

    class Meta:
        verbose_name = _("uploaded spreadsheet")
        verbose_name_plural = _("uploaded spreadsheets")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.pod} · {self.created_at:%Y-%m-%d}"
