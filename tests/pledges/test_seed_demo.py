import datetime
from collections import Counter
from decimal import Decimal
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Sum
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from pledges.management.commands.seed_demo import (
    ADMIN_EMAIL,
    DEMO_PASSWORD,
    DONOR_EMAIL,
    ORGANIZER_EMAIL,
    plan_week,
)
from pledges.models import Assignment
from pods.models import Alert, Cycle, Membership, Pod
from receipts.models import Receipt
from recipients.models import Enrollment, Referral

pytestmark = pytest.mark.django_db


def seed(*args):
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def closed_cycles(pod):
    """The demo's closed cycles: the three whose dates are past."""
    today = pod.today()
    closed = [c for c in pod.cycles.order_by("number") if c.status(today) == Cycle.Status.CLOSED]
    assert [c.number for c in closed] == [1, 2, 3]
    return closed


def row_counts():
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


@pytest.fixture(scope="class")
def seeded(django_db_setup, django_db_blocker):
    """Many tests read the story's numbers: build the demo once for them (about a
    second each time), and empty the database after the last one."""
    fast_hasher = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with django_db_blocker.unblock():
        with override_settings(DEBUG=True, PASSWORD_HASHERS=fast_hasher):
            seed()
        yield
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def demo(seeded):
    return Pod.objects.get(slug="northside")


@pytest.fixture
def current(demo):
    return demo.current_cycle()


def test_refuses_to_run_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        seed()
    assert not Pod.objects.exists()


def test_force_runs_without_debug_but_makes_no_site_admin(settings, django_user_model):
    settings.DEBUG = False
    output = seed("--force")
    assert Pod.objects.filter(slug="northside").exists()
    assert not django_user_model.objects.filter(is_superuser=True).exists()
    assert ADMIN_EMAIL not in output


def test_running_twice_changes_nothing(settings):
    settings.DEBUG = True
    seed()
    before = row_counts()
    output = seed()
    assert row_counts() == before
    assert "already there" in output
    assert Alert.objects.count() == 1


def test_prints_the_demo_sign_ins(settings):
    settings.DEBUG = True
    output = seed()
    assert f"Organizer: {ORGANIZER_EMAIL} (password: {DEMO_PASSWORD})" in output
    assert f"Donor: {DONOR_EMAIL} (password: {DEMO_PASSWORD})" in output
    assert ADMIN_EMAIL in output


def test_reuses_demo_people_left_from_a_deleted_demo_pod(settings, make_user):
    settings.DEBUG = True
    donor = make_user(DONOR_EMAIL, display_name="Sam")
    seed()
    assert Membership.objects.get(user=donor).pod.slug == "northside"


def test_plan_gives_each_recipient_the_full_amount_splitting_only_when_needed():
    lines = plan_week(
        [("a", Decimal("50")), ("b", Decimal("30")), ("c", Decimal("20"))],
        ["x", "y"],
        Decimal("50"),
    )
    assert lines == [
        ("a", "x", Decimal("50")),
        ("b", "y", Decimal("30")),
        ("c", "y", Decimal("20")),
    ]
    split = plan_week([("a", Decimal("30"))], ["x", "y"], Decimal("15"))
    assert split == [("a", "x", Decimal("15")), ("a", "y", Decimal("15"))]


def test_plan_leaves_pledges_unused_once_everyone_is_covered():
    lines = plan_week([("a", Decimal("30")), ("b", Decimal("20"))], ["x"], Decimal("25"))
    assert lines == [("a", "x", Decimal("25"))]


class TestDemoStory:
    """What the demo shows: the numbers of DESIGN.md's story."""

    def test_fourth_cycle_is_under_way_after_three_closed_ones(self, demo, current):
        cycles = list(demo.cycles.order_by("number"))
        # The status comes from the dates: the first three are over, the fourth covers today.
        today = demo.today()
        assert [c.status(today) for c in cycles] == ["closed", "closed", "closed", "active"]
        assert all(c.ends_on < today for c in cycles[:3])
        assert cycles[3].covers(today)
        assert current == cycles[3] == demo.cycle_on(today)
        assert demo.next_cycle() is None
        assert (current.number, current.weeks, current.slots) == (4, 15, 11)
        assert current.weekly_amount == Decimal("175.00")
        assert current.current_week() == 6
        assert [c.slots for c in cycles] == [1, 4, 8, 11]
        assert cycles[0].weekly_amount == Decimal("150.00")
        # Back to back: each cycle starts the day after the previous one ends.
        for before, after in zip(cycles, cycles[1:], strict=False):
            assert after.starts_on == before.ends_on + datetime.timedelta(days=1)

    def test_eleven_recipients_enrolled_in_the_current_cycle(self, current):
        enrollments = current.enrollments.active()
        assert enrollments.count() == 11
        assert sorted(enrollments.values_list("slot", flat=True)) == list(range(1, 12))
        # Nobody is still "active" in a cycle whose dates are past.
        for cycle in closed_cycles(current.pod):
            assert not cycle.enrollments.active().exists()

    def test_recipients_keep_only_a_name_and_where_to_pay(self, demo):
        for recipient in demo.recipients.all():
            assert recipient.display_name
            assert recipient.payment_handle
            assert recipient.erased_at is None

    def test_first_recipient_left_for_work_and_the_next_referral_took_the_slot(self, demo):
        cycle = demo.cycles.get(number=3)
        left = cycle.enrollments.get(status=Enrollment.Status.LEFT)
        assert left.end_reason == "found work"
        assert left.recipient.display_name == "Marisol"
        replacement = cycle.enrollments.get(slot=left.slot, first_week=left.last_week + 1)
        assert replacement.recipient.referral.status == Referral.Status.ENROLLED
        assert not demo.current_cycle().enrollments.filter(recipient=left.recipient).exists()

    def test_over_100_donors_pledge_at_least_what_is_needed(self, demo, current):
        donors = demo.memberships.active().filter(role=Membership.Role.DONOR)
        assert donors.count() > 100
        assert demo.memberships.organizers().count() == 2
        pledges = current.pledges.active().in_week(current.current_week())
        assert pledges.count() == donors.count()
        assert pledges.total() >= current.needed_per_week(11) == Decimal("1925.00")

    def test_every_closed_cycle_was_covered(self, demo):
        for cycle in closed_cycles(demo):
            assert cycle.pledges.active().total() >= cycle.needed_per_week(cycle.slots)

    def test_each_past_week_is_paid_in_full_and_this_week_partly(self, current):
        needed = current.needed_per_week(11)
        live = current.receipts.live()
        for week in range(1, current.current_week()):
            assert live.filter(week=week).total() == needed
            paid = live.filter(week=week).values("recipient").annotate(total=Sum("amount"))
            assert {row["total"] for row in paid} == {current.weekly_amount}
        this_week = live.filter(week=current.current_week()).total()
        assert 0 < this_week < needed
        assert not current.receipts.filter(week__gt=current.current_week()).exists()

    def test_closed_cycles_are_paid_in_full_every_week(self, demo):
        for cycle in closed_cycles(demo):
            for week in cycle.weeks_range:
                total = cycle.receipts.live().filter(week=week).total()
                assert total == cycle.weekly_amount * cycle.slots

    def test_no_receipt_is_dated_in_the_future_or_outside_its_week(self, demo):
        now = timezone.now()
        for receipt in Receipt.objects.for_pod(demo).select_related("cycle"):
            assert receipt.posted_at <= now
            assert receipt.cycle.week_of(receipt.sent_on) == receipt.week
            assert receipt.confirmed_at is None or receipt.posted_at <= receipt.confirmed_at <= now

    def test_a_voided_receipt_keeps_its_reason_and_was_posted_again(self, demo):
        voided = Receipt.objects.for_pod(demo).voided().get()
        assert voided.void_reason
        assert voided.voided_by == voided.payer
        reposted = Receipt.objects.live().get(
            cycle=voided.cycle, week=voided.week, payer=voided.payer, recipient=voided.recipient
        )
        assert reposted.posted_at > voided.voided_at
        assert reposted.amount != voided.amount

    def test_some_receipts_are_confirmed_by_the_recipient(self, demo):
        receipts = Receipt.objects.for_pod(demo)
        confirmed = receipts.exclude(confirmed_at=None).count()
        assert 0 < confirmed < receipts.count()

    def test_weekly_plan_matches_receipts_and_most_donors_pay_one_recipient(self, current):
        week = current.current_week() - 1
        plan = Assignment.objects.filter(cycle=current, week=week)
        assert plan.aggregate(total=Sum("amount"))["total"] == current.needed_per_week(11)
        assert set(plan.values_list("payer", "recipient", "amount")) == set(
            current.receipts.live().filter(week=week).values_list("payer", "recipient", "amount")
        )
        recipients_per_payer = Counter(plan.values_list("payer", flat=True))
        assert sum(1 for n in recipients_per_payer.values() if n == 1) > 0.9 * len(
            recipients_per_payer
        )
        assert Assignment.objects.filter(cycle=current, week=current.current_week()).exists()
        assert not Assignment.objects.filter(
            cycle=current, week__gt=current.current_week()
        ).exists()

    def test_demo_donor_still_has_a_transfer_to_make_this_week(self, current, django_user_model):
        donor = django_user_model.objects.get(email=DONOR_EMAIL)
        week = current.current_week()
        assert Assignment.objects.filter(cycle=current, week=week, payer=donor).exists()
        assert not current.receipts.filter(week=week, payer=donor).exists()

    def test_referrals_wait_in_the_order_they_came(self, demo):
        waiting = list(demo.referrals.waiting())
        assert 3 <= len(waiting) <= 4
        assert [r.created_at for r in waiting] == sorted(r.created_at for r in waiting)
        for referral in waiting:
            assert demo.memberships.active().filter(user=referral.referred_by).exists()

    def test_alert_shows_on_the_pod(self, demo):
        assert "new handle" in demo.alerts.showing().get().message

    @pytest.mark.parametrize("email", [ORGANIZER_EMAIL, DONOR_EMAIL, ADMIN_EMAIL])
    def test_demo_accounts_sign_in_with_the_demo_password(self, client, demo, email):
        response = client.post(
            reverse("account_login"), {"login": email, "password": DEMO_PASSWORD}
        )
        assert response.status_code == 302
        assert response.url == reverse("home")

    def test_other_demo_people_have_no_password(self, demo, django_user_model):
        others = django_user_model.objects.exclude(
            email__in=[ORGANIZER_EMAIL, DONOR_EMAIL, ADMIN_EMAIL]
        )
        assert others.count() > 100
        assert not any(user.has_usable_password() for user in others)

    def test_demo_organizer_enters_the_admin_without_staff_flag(
        self, client, demo, django_user_model
    ):
        organizer = django_user_model.objects.get(email=ORGANIZER_EMAIL)
        assert not organizer.is_staff
        client.force_login(organizer)
        assert client.get(reverse("admin:index")).status_code == 200

    def test_demo_donor_does_not_enter_the_admin(self, client, demo, django_user_model):
        client.force_login(django_user_model.objects.get(email=DONOR_EMAIL))
        assert client.get(reverse("admin:index")).status_code == 302
