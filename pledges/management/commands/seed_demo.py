"""Build a demo pod that tells DESIGN.md's story, for trying the app locally.

Neighbors began by sending one person $150 a week; the pod grew by referral and, in its
fourth 15-week cycle, supports 11 people with $175 a week each, funded by more than 100
neighbors. The fourth cycle is always in its sixth week, counted from the day the
command runs, so the demo looks under way whenever it is built.
"""

import datetime
import random
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from pledges import planning
from pledges.models import Assignment, Pledge
from pods.models import Alert, Cycle, Membership, Pod, Weekday
from receipts.models import Receipt
from recipients.models import Enrollment, PaymentMethod, Recipient, Referral
from recipients.services import enroll

SLUG = "northside"
DOMAIN = "northside.example"
# Printed by the command: anyone reading this file knows it, which is why the command
# refuses to run on a production database unless forced.
DEMO_PASSWORD = "demo-pod-2026"
ORGANIZER_EMAIL = f"organizer@{DOMAIN}"
DONOR_EMAIL = f"donor@{DOMAIN}"
ADMIN_EMAIL = f"admin@{DOMAIN}"
SEED = 2026
CURRENT_WEEK = 6


@dataclass(frozen=True)
class CycleStory:
    number: int
    slots: int
    weekly_amount: Decimal
    donors: int  # how many neighbors pledge by then (the first `donors` of the list)


CYCLES = (
    CycleStory(1, slots=1, weekly_amount=Decimal("150.00"), donors=8),
    CycleStory(2, slots=4, weekly_amount=Decimal("150.00"), donors=32),
    CycleStory(3, slots=8, weekly_amount=Decimal("175.00"), donors=75),
    CycleStory(4, slots=11, weekly_amount=Decimal("175.00"), donors=104),
)
WEEKS = 15

# Eight neighbors pledging this pattern give exactly $150 a week, and every eight more
# add $150: so cycle 1 is covered by its first eight, and every later cycle is covered
# with only a few dollars to spare, the way a real pod's coverage runs.
PLEDGE_PATTERN = tuple(Decimal(a) for a in ("25", "10", "20", "15", "50", "10", "10", "10"))


@dataclass(frozen=True)
class RecipientStory:
    name: str
    method: str
    handle: str
    joins_cycle: int
    first_week: int = 1
    contact: str = ""


RECIPIENTS = (
    RecipientStory("Marisol", PaymentMethod.CASH_APP, "$marisoldemo", 1),
    RecipientStory("Tomás", PaymentMethod.CASH_APP, "$tomasdemo", 2),
    RecipientStory("Keisha", PaymentMethod.VENMO, "@keisha-demo", 2, contact="312-555-0117"),
    RecipientStory("Dee", PaymentMethod.CASH_APP, "$deedemo", 2),
    RecipientStory("Amara", PaymentMethod.CASH_APP, "$amarademo", 3),
    RecipientStory("Joon", PaymentMethod.ZELLE, "joon@example.net", 3),
    RecipientStory("Big Mike", PaymentMethod.CASH_APP, "$bigmikedemo", 3),
    RecipientStory("Lupe", PaymentMethod.VENMO, "@lupe-demo", 3, contact="312-555-0123"),
    # Takes the slot Marisol freed when she found work.
    RecipientStory("Nadia", PaymentMethod.CASH_APP, "$nadiademo", 3, first_week=10),
    RecipientStory("Ray", PaymentMethod.PAYPAL, "raydemo", 4),
    RecipientStory("Soledad", PaymentMethod.CASH_APP, "$soledaddemo", 4),
    RecipientStory("Khalil", PaymentMethod.VENMO, "@khalil-demo", 4),
)
LEAVER = "Marisol"
LEAVER_LAST_WEEK = 9
WAITING_REFERRALS = (
    ("Bea", "312-555-0131"),
    ("Carlos", ""),
    ("Ms. Pat", "312-555-0148"),
    ("Yusuf", "via Walt"),
)
ALERT = (
    "Nobody from the pod will ever ask you to send money to a new handle by text. Check this board."
)
# fmt: off
FIRST_NAMES = (
    "Abby", "Ade", "Alma", "Ana", "Ben", "Bo", "Cam", "Cora", "Dani", "Eli", "Esme", "Femi",
    "Gabe", "Gus", "Hana", "Ivo", "Jada", "Jo", "Kai", "Kofi", "Lena", "Leo", "Lin", "Mae",
    "Mateo", "Mia", "Nico", "Noor", "Omar", "Pia", "Quinn", "Rafa", "Rhea", "Rui", "Sana",
    "Seth", "Tala", "Teo", "Uma", "Vic", "Wren", "Xio", "Yara", "Zeke",
)
# fmt: on


def plan_week(pledges, recipients, amount, previous=()):
    """Match pledges to recipients for one week with the app's planner (see
    pledges/planning.py): [(donor, recipient, amount)], keeping `previous` week's pairs."""
    plan = planning.plan_week(
        pledges=pledges, needs=[(r, amount) for r in recipients], previous=previous
    )
    return [tuple(transfer) for transfer in plan.transfers]


class DemoPod:
    """Builds the demo pod, cycle by cycle, in the order the story happened."""

    def __init__(self, *, with_site_admin):
        self.with_site_admin = with_site_admin
        self.rng = random.Random(SEED)
        self.now = timezone.now()

    def build(self):
        self.pod = Pod.objects.create(
            name="Northside Mutual Aid Pod",
            slug=SLUG,
            currency="USD",
            time_zone="America/Chicago",
            payday=Weekday.FRIDAY,
            default_weeks=WEEKS,
            default_weekly_amount=Decimal("175.00"),
            default_slots=11,
        )
        self.tz = zoneinfo.ZoneInfo(self.pod.time_zone)
        self.today = self.pod.today()
        self._cycles()
        self._people()
        self._recipients()
        self._pledges()
        self._plan_and_receipts()
        self._referrals()
        Alert.objects.create(pod=self.pod, message=ALERT, created_by=self.organizers[0])
        return self.pod

    def at(self, date, hour=19, minute=0):
        return datetime.datetime.combine(date, datetime.time(hour, minute), tzinfo=self.tz)

    def _cycles(self):
        # Cycles start on Mondays, back to back, so that today falls in week 6 of cycle 4.
        monday = self.today - datetime.timedelta(days=self.today.weekday())
        first_start = monday - datetime.timedelta(weeks=CURRENT_WEEK - 1 + WEEKS * 3)
        self.cycles = {}
        for story in CYCLES:
            cycle = Cycle.objects.create(
                pod=self.pod,
                number=story.number,
                starts_on=first_start + datetime.timedelta(weeks=WEEKS * (story.number - 1)),
                weeks=WEEKS,
                weekly_amount=story.weekly_amount,
                slots=story.slots,
            )
            Cycle.objects.filter(pk=cycle.pk).update(
                created_at=self.at(cycle.starts_on - datetime.timedelta(days=7))
            )
            self.cycles[story.number] = cycle

    def _joined(self, cycle_number):
        return self.at(self.cycles[cycle_number].starts_on - datetime.timedelta(days=3))

    def _people(self):
        User = get_user_model()
        donor_count = CYCLES[-1].donors
        people = [
            (ORGANIZER_EMAIL, "Ines", Membership.Role.ORGANIZER, 1),
            (f"walt@{DOMAIN}", "Walt", Membership.Role.ORGANIZER, 2),
            (DONOR_EMAIL, "Sam", Membership.Role.DONOR, 1),
        ]
        for index in range(1, donor_count):
            name = f"{FIRST_NAMES[index % len(FIRST_NAMES)]} {'BCDFGHJKLMN'[index % 11]}."
            joins = next(story.number for story in CYCLES if index < story.donors)
            people.append((f"neighbor{index:03}@{DOMAIN}", name, Membership.Role.DONOR, joins))

        # Users may outlive a deleted demo pod: reuse them rather than fail on the email.
        existing = User.objects.in_bulk([email for email, *_ in people], field_name="email")
        # One hash for every demo password: hashing is slow on purpose, and these
        # accounts are throwaway.
        demo_hash = make_password(DEMO_PASSWORD)
        new_users = []
        for email, name, _role, joins in people:
            if email not in existing:
                user = User(email=email, display_name=name, date_joined=self._joined(joins))
                if email in (ORGANIZER_EMAIL, DONOR_EMAIL):
                    user.password = demo_hash
                else:
                    user.set_unusable_password()
                new_users.append(user)
        if self.with_site_admin and not User.objects.filter(email=ADMIN_EMAIL).exists():
            admin = User(
                email=ADMIN_EMAIL,
                display_name="Site admin",
                is_staff=True,
                is_superuser=True,
                password=demo_hash,
            )
            new_users.append(admin)
        User.objects.bulk_create(new_users)
        # Sign-in by password or emailed code needs a verified address (verification
        # is mandatory), which invited people get by following their link.
        verified = set(
            EmailAddress.objects.filter(email__in=[u.email for u in new_users]).values_list(
                "email", flat=True
            )
        )
        users = User.objects.in_bulk(
            [email for email, *_ in people] + [ADMIN_EMAIL], field_name="email"
        )
        EmailAddress.objects.bulk_create(
            EmailAddress(user=users[u.email], email=u.email, verified=True, primary=True)
            for u in new_users
            if u.email not in verified
        )

        by_role = {role: [] for role in Membership.Role}
        for email, _name, role, _joins in people:
            by_role[role].append(users[email])
        self.organizers = by_role[Membership.Role.ORGANIZER]
        self.donors = by_role[Membership.Role.DONOR]
        Membership.objects.bulk_create(
            Membership(pod=self.pod, user=users[email], role=role) for email, _n, role, _j in people
        )
        for story in CYCLES:
            emails = [email for email, _n, _r, joins in people if joins == story.number]
            Membership.objects.filter(pod=self.pod, user__email__in=emails).update(
                joined_at=self._joined(story.number)
            )

    def _recipients(self):
        """Enroll everyone as it happened; one recipient leaves for work in cycle 3 and
        the next referral takes the slot."""
        self.recipients = {}
        for story in RECIPIENTS:
            recipient = Recipient.objects.create(
                pod=self.pod,
                display_name=story.name,
                payment_method=story.method,
                payment_handle=story.handle,
                contact=story.contact,
            )
            joined = self.at(
                self.cycles[story.joins_cycle].week_starts_on(story.first_week)
                - datetime.timedelta(days=3)
            )
            Recipient.objects.filter(pk=recipient.pk).update(created_at=joined)
            self.recipients[story.name] = recipient
            if story.name != RECIPIENTS[0].name:
                # Everyone after the first came by referral.
                # Referred by a neighbor who was in the pod the cycle before.
                neighbors = self.donors[: CYCLES[story.joins_cycle - 2].donors]
                Referral.objects.create(
                    pod=self.pod,
                    referred_by=neighbors[len(self.recipients) * 5 % len(neighbors)],
                    display_name=story.name,
                    status=Referral.Status.ENROLLED,
                    recipient=recipient,
                    created_at=joined - datetime.timedelta(days=10),
                )

        for number, cycle in self.cycles.items():
            for story in RECIPIENTS:
                recipient = self.recipients[story.name]
                first_week = story.first_week if story.joins_cycle == number else 1
                if story.joins_cycle > number or (story.name == LEAVER and number > 3):
                    continue
                if story.first_week > 1 and story.joins_cycle == number:
                    self._leave(cycle)
                enrollment = enroll(recipient=recipient, cycle=cycle, first_week=first_week)
                Enrollment.objects.filter(pk=enrollment.pk).update(
                    created_at=self.at(
                        cycle.week_starts_on(first_week) - datetime.timedelta(days=3)
                    )
                )
            if cycle.status(self.today) == Cycle.Status.CLOSED:
                cycle.enrollments.active().update(
                    status=Enrollment.Status.COMPLETED, ended_at=self.at(cycle.ends_on, 20)
                )
        self.enrollments = list(
            Enrollment.objects.filter(cycle__pod=self.pod)
            .select_related("recipient")
            .order_by("cycle__number", "slot", "first_week")
        )

    def _leave(self, cycle):
        cycle.enrollments.filter(recipient=self.recipients[LEAVER]).update(
            status=Enrollment.Status.LEFT,
            last_week=LEAVER_LAST_WEEK,
            ended_at=self.at(cycle.week_ends_on(LEAVER_LAST_WEEK), 10),
            end_reason="found work",
        )

    def _pledges(self):
        self.pledges = {}
        for story in CYCLES:
            cycle = self.cycles[story.number]
            self.pledges[story.number] = [
                (donor, PLEDGE_PATTERN[index % len(PLEDGE_PATTERN)])
                for index, donor in enumerate(self.donors[: story.donors])
            ]
            Pledge.objects.bulk_create(
                Pledge(cycle=cycle, donor=donor, amount=amount, first_week=1, last_week=WEEKS)
                for donor, amount in self.pledges[story.number]
            )
            cycle.pledges.update(created_at=self.at(cycle.starts_on - datetime.timedelta(days=2)))

    def _plan_and_receipts(self):
        assignments, receipts = [], []
        # Rolled over, neighbors keep paying the recipient they paid the week before.
        lines = []
        for number, cycle in self.cycles.items():
            last_week = cycle.due_week(self.today)
            for week in range(1, last_week + 1):
                recipients = [
                    e.recipient
                    for e in self.enrollments
                    if e.cycle_id == cycle.pk and e.first_week <= week <= e.last_week
                ]
                lines = plan_week(self.pledges[number], recipients, cycle.weekly_amount, lines)
                assignments += [
                    Assignment(cycle=cycle, week=week, payer=p, recipient=r, amount=a)
                    for p, r, a in lines
                ]
                if week < CURRENT_WEEK or cycle.status(self.today) == Cycle.Status.CLOSED:
                    receipts += [self._receipt(cycle, week, *line) for line in lines]
                else:
                    receipts += self._receipts_so_far(cycle, week, lines)
        self._correct_a_receipt(receipts)
        Assignment.objects.bulk_create(assignments, batch_size=500)
        Receipt.objects.bulk_create(receipts, batch_size=500)

    def _receipt(self, cycle, week, payer, recipient, amount, posted_at=None):
        if posted_at is None:
            payday = cycle.week_starts_on(week) + datetime.timedelta(
                days=(self.pod.payday - cycle.starts_on.weekday()) % 7
            )
            # Most pay on payday, some a day early or late, never outside the week.
            sent_on = min(
                max(
                    payday + datetime.timedelta(days=self.rng.choice((-1, 0, 0, 0, 1))),
                    cycle.week_starts_on(week),
                ),
                cycle.week_ends_on(week),
            )
            posted_at = self.at(sent_on, self.rng.randint(7, 21), self.rng.randint(0, 59))
        confirmed_at = None
        if self.rng.random() < 0.6:
            hours = datetime.timedelta(hours=self.rng.randint(1, 36))
            confirmed_at = min(posted_at + hours, self.now)
        return Receipt(
            pod=self.pod,
            cycle=cycle,
            week=week,
            recipient=recipient,
            payer=payer,
            amount=amount,
            method=recipient.payment_method,
            sent_on=posted_at.astimezone(self.tz).date(),
            posted_by=payer,
            posted_at=posted_at,
            confirmed_at=confirmed_at,
        )

    def _receipts_so_far(self, cycle, week, lines):
        """This week: some neighbors have already sent theirs. The demo donor has not,
        so that signing in as them shows a transfer still to make."""
        start_of_today = self.at(self.today, 0)
        receipts = []
        for payer, recipient, amount in lines:
            if payer.email == DONOR_EMAIL or self.rng.random() > 0.4:
                continue
            posted_at = self.now - datetime.timedelta(minutes=self.rng.randint(5, 600))
            posted_at = max(posted_at, start_of_today)
            receipts.append(self._receipt(cycle, week, payer, recipient, amount, posted_at))
        return receipts

    def _correct_a_receipt(self, receipts):
        """Receipts are append-only: show a typo voided with its reason and posted anew."""
        cycle = self.cycles[4]
        wrong = next(
            r
            for r in receipts
            if r.cycle_id == cycle.pk
            and r.week == 4
            and r.amount == Decimal("25.00")
            and r.payer.email != DONOR_EMAIL
        )
        right = Receipt(
            **{
                field.attname: getattr(wrong, field.attname)
                for field in Receipt._meta.concrete_fields
                if not field.primary_key
            }
        )
        wrong.amount = Decimal("15.00")
        wrong.confirmed_at = None
        wrong.voided_at = wrong.posted_at + datetime.timedelta(minutes=20)
        wrong.voided_by = wrong.payer
        wrong.void_reason = "Typed $15 by mistake; I sent $25 and posted it again."
        right.posted_at = wrong.posted_at + datetime.timedelta(minutes=25)
        if right.confirmed_at:
            right.confirmed_at = max(right.confirmed_at, right.posted_at)
        receipts.append(right)

    def _referrals(self):
        cycle = self.cycles[4]
        for index, (name, contact) in enumerate(WAITING_REFERRALS):
            Referral.objects.create(
                pod=self.pod,
                referred_by=self.donors[(index + 1) * 13],
                display_name=name,
                contact=contact,
                created_at=self.at(cycle.week_starts_on(index + 2), 12),
            )


class Command(BaseCommand):
    help = (
        "Build the demo pod (Northside, cycle 4 of 15 weeks under way, 11 recipients, "
        "104 donors). Running it again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DEBUG off. The demo accounts have a published password.",
        )

    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                _(
                    "DEBUG is off, so this may be a production database. The demo adds "
                    "accounts with a published password; run with --force if you mean it."
                )
            )
        with transaction.atomic():
            pod = Pod.objects.filter(slug=SLUG).first()
            if pod is not None:
                self.stdout.write(
                    _("The demo pod “%(slug)s” is already there; nothing changed.") % {"slug": SLUG}
                )
            else:
                # A site admin with a published password could reach every pod: only on
                # a developer's machine, never on a forced run elsewhere.
                pod = DemoPod(with_site_admin=settings.DEBUG).build()
                self._summary(pod)
        self._sign_ins()

    def _summary(self, pod):
        cycle = pod.current_cycle()
        week = cycle.current_week()
        enrolled = cycle.enrollments.in_week(week).count()
        donors = pod.memberships.active().filter(role=Membership.Role.DONOR).count()
        receipts = Receipt.objects.for_pod(pod).count()
        # One sentence per count, each with its own plural forms (Arabic has six).
        sentences = [
            _("Built %(pod)s: cycle %(number)s, week %(week)s of %(weeks)s.")
            % {"pod": pod.name, "number": cycle.number, "week": week, "weeks": cycle.weeks},
            ngettext(
                "%(enrolled)s recipient at %(amount)s a week.",
                "%(enrolled)s recipients at %(amount)s a week.",
                enrolled,
            )
            % {"enrolled": enrolled, "amount": cycle.weekly_amount},
            ngettext(
                "%(donors)s donor pledging %(pledged)s a week for %(needed)s needed.",
                "%(donors)s donors pledging %(pledged)s a week for %(needed)s needed.",
                donors,
            )
            % {
                "donors": donors,
                "pledged": format(cycle.pledges.active().in_week(week).total(), ".2f"),
                "needed": format(cycle.needed_per_week(enrolled), ".2f"),
            },
            ngettext("%(receipts)s receipt posted.", "%(receipts)s receipts posted.", receipts)
            % {"receipts": receipts},
        ]
        self.stdout.write(self.style.SUCCESS(" ".join(sentences)))

    def _sign_ins(self):
        User = get_user_model()
        lines = [
            (_("Organizer"), ORGANIZER_EMAIL),
            (_("Donor"), DONOR_EMAIL),
            (_("Site admin"), ADMIN_EMAIL),
        ]
        existing = set(
            User.objects.filter(email__in=[email for _label, email in lines]).values_list(
                "email", flat=True
            )
        )
        for label, email in lines:
            if email in existing:
                self.stdout.write(
                    _("%(label)s: %(email)s (password: %(password)s)")
                    % {"label": label, "email": email, "password": DEMO_PASSWORD}
                )
