"""A pod lived through weeks and cycles on a moving clock, with every action people take,
checking after each step that the money is right.

Hypothesis drives a `RuleBasedStateMachine`: donors set, change, pause and cancel pledges;
members refer neighbors; organizers enroll them (from any week the form offers), end
enrollments, start the next cycle and end one early; recipients leave from their link;
payers post receipts (any amount up to what "this week" asks, for any week the form
offers, or to another neighbor than the planned one) and void them; organizers correct a
started week by hand; days pass. After every step the invariants are read through the
functions the pages use (the calendar on the models, `owed_lines`, `coverage`, the admin's
figures, the board's totals and its CSV), and the pages themselves are fetched.

Runs on SQLite and on PostgreSQL (CI runs the suite on both). HYPOTHESIS_EXAMPLES sets how
many pods are lived (default 20).
"""

import csv
import datetime
import io
import os
import uuid
from decimal import Decimal
from unittest import mock

import pytest
from django.contrib.admin import site
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from pledges import services as pledges
from pledges.admin import CycleAdmin
from pledges.models import Assignment, Pledge
from pods.models import Cycle, Membership, Pod
from pods.templatetags.money import format_money
from receipts import services as receipts
from receipts.models import Receipt
from receipts.views import _postable_weeks
from recipients import services as recipients
from recipients.models import Enrollment, Referral

WEEKS = 3
SLOTS = 3
WEEKLY = Decimal("60.00")
START = datetime.datetime(2026, 3, 2, 12, 0, tzinfo=datetime.UTC)  # a Monday
CENT = Decimal("0.01")


class PodLife(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.now = START
        self._clock = mock.patch.object(timezone, "now", lambda: self.now)
        self._clock.start()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        try:
            self.start_the_pod()
        except BaseException:
            self.teardown()
            raise

    def start_the_pod(self):
        self.pod = Pod.objects.create(name="Life Pod", slug="life", time_zone="UTC")
        User = Membership._meta.get_field("user").related_model
        self.organizer = User.objects.create_user(email="org@example.org", display_name="Org")
        Membership.objects.create(pod=self.pod, user=self.organizer, role=Membership.Role.ORGANIZER)
        self.donors = []
        for name in ("Ana", "Ben", "Cy"):
            user = User.objects.create_user(email=f"{name.lower()}@example.org", display_name=name)
            Membership.objects.create(pod=self.pod, user=user, role=Membership.Role.DONOR)
            self.donors.append(user)
        self.payers = [self.organizer, *self.donors]
        Cycle.objects.create(
            pod=self.pod,
            number=1,
            # Tomorrow: the pod gets ready the day before its first cycle starts.
            starts_on=self.today + datetime.timedelta(days=1),
            weeks=WEEKS,
            weekly_amount=WEEKLY,
            slots=SLOTS,
        )
        self.referrals = 0
        # A pod already under way: two neighbors supported, three payers, one referral
        # waiting, so that every rule has something to act on from the first step.
        cycle = self.current()
        for _ in range(3):
            self.refer()
        for referral in list(Referral.objects.filter(pod=self.pod).waiting())[:2]:
            recipients.enroll_referral(
                referral=referral,
                cycle=cycle,
                payment_method="zelle",
                payment_handle=f"n{referral.pk}@example.org",
                first_week=1,
            )
        for payer, amount in zip(self.payers, ("50.00", "40.00", "30.00"), strict=False):
            pledges.set_pledge(cycle=cycle, donor=payer, amount=Decimal(amount), from_week=1)
        # What each cycle was planned to be, and the plans of the weeks seen started.
        self.terms = {}
        self.frozen = {}
        self.client = Client()
        self.client.force_login(self.organizer)
        self.remember_terms()

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)
        self._clock.stop()

    def fingerprint(self):
        return (
            list(Cycle.objects.order_by("pk").values_list()),
            list(Pledge.objects.order_by("pk").values_list()),
            list(Enrollment.objects.order_by("pk").values_list()),
            list(Assignment.objects.order_by("pk").values_list()),
            list(Receipt.objects.order_by("pk").values_list()),
            list(Referral.objects.order_by("pk").values_list()),
        )

    def attempt(self, action, **kwargs):
        """Do what a person asked; a refusal must say why and change nothing."""
        before = self.fingerprint()
        try:
            with transaction.atomic():
                return action(**kwargs)
        except ValidationError as error:
            assert error.messages and all(error.messages)
            assert self.fingerprint() == before
            return None

    # The clock and the calendar.

    @property
    def today(self):
        return self.pod.today()

    def current(self):
        return self.pod.current_cycle()

    def latest(self):
        return self.pod.cycles.order_by("-number").first()

    def remember_terms(self):
        for cycle in self.pod.cycles.all():
            self.terms.setdefault(cycle.pk, (cycle.starts_on, cycle.weeks))

    @rule(days=st.integers(min_value=2, max_value=9))
    def let_days_pass(self, days):
        self.now += datetime.timedelta(days=days)

    # Donors.

    def _pledge_cycle(self):
        """The cycle and week the pledge page offers a change for, if any."""
        cycle = self.current()
        weeks = pledges.effective_weeks(cycle)
        return (cycle, weeks[0]) if weeks else (None, None)

    @rule(
        donor=st.integers(0, 3),
        amount=st.decimals(min_value=1, max_value=90, places=2, allow_nan=False),
    )
    def set_pledge(self, donor, amount):
        cycle, week = self._pledge_cycle()
        if cycle is not None:
            self.attempt(
                pledges.set_pledge,
                cycle=cycle,
                donor=self.payers[donor],
                amount=amount,
                from_week=week,
            )

    @rule(donor=st.integers(0, 3))
    def pause_pledge(self, donor):
        cycle, week = self._pledge_cycle()
        if cycle is not None and cycle.pledges.filter(donor=self.payers[donor]).exists():
            self.attempt(
                pledges.pause_pledge, cycle=cycle, donor=self.payers[donor], from_week=week
            )

    @rule(donor=st.integers(0, 3))
    def cancel_pledge(self, donor):
        cycle, week = self._pledge_cycle()
        if cycle is not None and cycle.pledges.filter(donor=self.payers[donor]).exists():
            self.attempt(
                pledges.cancel_pledge, cycle=cycle, donor=self.payers[donor], from_week=week
            )

    # The waitlist and the slots.

    @rule()
    def refer(self):
        self.referrals += 1
        recipients.refer(
            pod=self.pod, referred_by=self.donors[0], display_name=f"Neighbor {self.referrals}"
        )

    @rule(data=st.data())
    def enroll(self, data):
        cycle = self.current()
        queue = [
            *Referral.objects.filter(pod=self.pod).offered(),
            *Referral.objects.filter(pod=self.pod).waiting(),
        ]
        choices = [
            r for r in recipients.enrollable_referrals(cycle, queue) if r.recipient_id is None
        ]
        if not choices:
            return
        referral = data.draw(st.sampled_from(choices))
        weeks = recipients.enroll_weeks(cycle, for_referral=referral)
        if not weeks:
            return
        recipients.enroll_referral(
            referral=referral,
            cycle=cycle,
            payment_method="zelle",
            payment_handle=f"n{referral.pk}@example.org",
            first_week=data.draw(st.sampled_from(weeks)),
        )

    def _enrolled(self):
        return [
            e
            for e in Enrollment.objects.filter(cycle__pod=self.pod, status="active")
            .select_related("recipient")
            .order_by("pk")
            if recipients.current_enrollment(e.recipient) == e
        ]

    @precondition(lambda self: self._enrolled())
    @rule(data=st.data())
    def leave_from_the_link(self, data):
        enrollment = data.draw(st.sampled_from(self._enrolled()))
        recipients.end_enrollment(enrollment=enrollment)

    @precondition(lambda self: self._enrolled())
    @rule(data=st.data())
    def organizer_ends_an_enrollment(self, data):
        enrollment = data.draw(st.sampled_from(self._enrolled()))
        recipients.end_enrollment(enrollment=enrollment, reason="found work", by=self.organizer)

    # Receipts.

    @rule(data=st.data())
    def post_a_receipt(self, data):
        cycle = self.current()
        weeks = _postable_weeks(cycle, self.today)
        if not weeks:
            return
        week = data.draw(st.sampled_from(weeks))
        lines = [line for line in pledges.owed_lines(cycle=cycle, week=week) if line.owed > 0]
        if not lines:
            return
        line = data.draw(st.sampled_from(lines))
        cents = data.draw(st.integers(1, int(line.owed * 100)))
        receipts.post_receipt(
            pod=self.pod,
            cycle=cycle,
            posted_by=line.payer,
            payer=line.payer,
            recipient=line.recipient,
            week=week,
            amount=Decimal(cents) / 100,
            method="zelle",
            sent_on=self.today,
            submission_key=uuid.uuid4(),
        )

    @rule(data=st.data())
    def pay_someone_else(self, data):
        """A payer sends what a line asks to another neighbor of the week than the planned
        one, and posts that receipt (the form lets them: the money did go there)."""
        cycle = self.current()
        weeks = _postable_weeks(cycle, self.today)
        if not weeks:
            return
        week = data.draw(st.sampled_from(weeks))
        lines = [line for line in pledges.owed_lines(cycle=cycle, week=week) if line.owed > 0]
        if not lines:
            return
        line = data.draw(st.sampled_from(lines))
        others = list(
            cycle.enrollments.in_week(week)
            .exclude(recipient_id=line.recipient.pk)
            .select_related("recipient")
            .order_by("slot")
        )
        if not others:
            return
        other = data.draw(st.sampled_from(others)).recipient
        receipts.post_receipt(
            pod=self.pod,
            cycle=cycle,
            posted_by=line.payer,
            payer=line.payer,
            recipient=other,
            week=week,
            amount=line.owed,
            method="zelle",
            sent_on=self.today,
            submission_key=uuid.uuid4(),
        )

    @rule(data=st.data())
    def organizer_corrects_a_started_week(self, data):
        """An organizer gives one recipient's lines of a started week to another payer,
        with the explicit correction, after some of it may have been paid."""
        cycle = self.current()
        started = [w for w in cycle.weeks_range if cycle.has_started(w, self.today)]
        if not started:
            return
        week = data.draw(st.sampled_from(started))
        plan = pledges.week_plan(cycle=cycle, week=week)
        enrolled = set(cycle.enrollments.in_week(week).values_list("recipient_id", flat=True))
        planned = sorted({line.recipient_id for line in plan} & enrolled)
        members = set(
            Membership.objects.active().filter(pod=self.pod).values_list("user_id", flat=True)
        )
        if not planned:
            return
        recipient_id = data.draw(st.sampled_from(planned))
        total = sum(line.amount for line in plan if line.recipient_id == recipient_id)
        payer = data.draw(st.sampled_from([p for p in self.payers if p.pk in members]))
        self.attempt(
            pledges.set_week_plan,
            cycle=cycle,
            week=week,
            lines=[(payer.pk, recipient_id, total)],
            correcting_started=True,
            recipient_id=recipient_id,
        )
        # Corrected by hand, as a started week may be: frozen again from here on.
        self.frozen[(cycle.pk, week)] = sorted(
            (a.payer_id, a.recipient_id, a.amount)
            for a in pledges.week_plan(cycle=cycle, week=week)
        )

    @precondition(lambda self: Receipt.objects.live().exists())
    @rule(data=st.data())
    def void_a_receipt(self, data):
        receipt = data.draw(st.sampled_from(list(Receipt.objects.live().order_by("pk"))))
        receipt.void(by=self.organizer, reason="typed the wrong amount")

    # Cycles.

    @rule()
    def start_the_next_cycle(self):
        latest = self.latest()
        self.attempt(pledges.start_next_cycle, cycle=latest)
        self.remember_terms()

    @rule()
    def end_a_cycle_early(self):
        cycle = self.pod.cycle_on(self.today)
        if cycle is None or pledges.early_end_preview(cycle) is None:
            return
        ended = pledges.end_cycle_early(cycle=cycle)
        starts_on, weeks = self.terms[cycle.pk]
        assert ended.last_week < weeks
        self.terms[cycle.pk] = (starts_on, ended.last_week)

    # What must hold at every moment.

    @invariant()
    def cycles_follow_each_other(self):
        cycles = list(self.pod.cycles.order_by("starts_on"))
        for before, after in zip(cycles, cycles[1:], strict=False):
            assert before.ends_on < after.starts_on, "two cycles cover one day"
            assert before.number < after.number
        for day in {self.today, *(c.starts_on for c in cycles), *(c.ends_on for c in cycles)}:
            assert sum(c.covers(day) for c in cycles) <= 1
        for cycle in cycles:
            # Nothing shortens or moves a cycle but "end early".
            assert (cycle.starts_on, cycle.weeks) == self.terms[cycle.pk]

    @invariant()
    def slots_hold_one_person_a_week(self):
        for cycle in self.pod.cycles.all():
            for week in cycle.weeks_range:
                slots = list(cycle.enrollments.in_week(week).values_list("slot", flat=True))
                assert len(slots) == len(set(slots)), f"a slot holds two people in week {week}"
                assert len(slots) <= cycle.slots
                assert all(1 <= slot <= cycle.slots for slot in slots)
            coverage = pledges.coverage(cycle, cycle.weeks)
            # Free from the last week on is free in the last week.
            assert len(recipients.free_slots(cycle, cycle.weeks)) == coverage.free

    @invariant()
    def started_weeks_are_frozen(self):
        for cycle in self.pod.cycles.all():
            for week in cycle.weeks_range:
                if not cycle.has_started(week, self.today):
                    continue
                plan = sorted(
                    (a.payer_id, a.recipient_id, a.amount)
                    for a in pledges.week_plan(cycle=cycle, week=week)
                )
                seen = self.frozen.setdefault((cycle.pk, week), plan)
                assert plan == seen, f"the plan of started week {week} changed"

    @invariant()
    def nobody_is_asked_to_pay_twice(self):
        for cycle in self.pod.cycles.all():
            for week in range(1, cycle.due_week(self.today) + 1):
                plan = pledges.week_plan(cycle=cycle, week=week)
                sent = pledges.sent_in_week(cycle, week)
                planned, given, asked = {}, {}, {}
                received, wanted = {}, {}
                for line in pledges.owed_lines(cycle=cycle, week=week, plan=plan, sent=sent):
                    pair = sent.get((line.payer.pk, line.recipient.pk), Decimal(0))
                    assert line.sent == pair
                    assert Decimal(0) <= line.owed <= max(line.planned - pair, Decimal(0))
                    planned[line.payer.pk] = planned.get(line.payer.pk, 0) + line.planned
                    asked[line.payer.pk] = asked.get(line.payer.pk, 0) + line.owed
                    wanted[line.recipient.pk] = wanted.get(line.recipient.pk, 0) + line.owed
                for (payer, recipient), amount in sent.items():
                    given[payer] = given.get(payer, 0) + amount
                    received[recipient] = received.get(recipient, 0) + amount
                for payer, owed in asked.items():
                    assert owed <= max(planned[payer] - given.get(payer, 0), 0)
                for recipient, owed in wanted.items():
                    assert owed <= max(cycle.weekly_amount - received.get(recipient, 0), 0)

    @invariant()
    def no_need_is_hidden(self):
        """For every recipient enrolled in the shown week, what they received, what their
        lines still ask and what the week shows as asked of nobody add up to their need:
        the weekly amount, or what the plan funds when the pod is short (more only when
        more was sent); and what is short of the weekly amount is all shown as short."""
        cycle = self.current()
        week = cycle.shown_week(self.today)
        if week is None:
            return
        sent = pledges.sent_in_week(cycle, week)
        owed = pledges.owed_lines(cycle=cycle, week=week, sent=sent)
        enrolled = list(cycle.enrollments.in_week(week).values_list("recipient_id", flat=True))
        needs = pledges.week_needs(cycle=cycle, recipient_ids=enrolled, owed=owed, sent=sent)
        assert set(needs) == set(enrolled)
        weekly = cycle.weekly_amount
        for recipient_id in enrolled:
            # Read afresh from the rows, not from the figures under test.
            received = Decimal(
                Receipt.objects.live()
                .filter(cycle=cycle, week=week, recipient_id=recipient_id)
                .total()
            ).quantize(CENT)
            planned = sum(
                cycle.assignments.filter(week=week, recipient_id=recipient_id).values_list(
                    "amount", flat=True
                ),
                Decimal(0),
            )
            asked = sum(
                (line.owed for line in owed if line.assignment.recipient_id == recipient_id),
                Decimal(0),
            )
            need = needs[recipient_id]
            assert (need.received, need.owed, need.planned) == (received, asked, planned)
            assert planned <= weekly
            funded = max(planned, received + asked)
            assert received + asked + need.unasked == funded, "a planned need went unasked"
            assert received + asked + need.short == max(weekly, received), "a need is hidden"
            assert Decimal(0) <= need.unasked <= need.short

    def sign_in(self):
        # Days pass faster than a session lasts.
        self.client.force_login(self.organizer)

    @invariant()
    def the_pages_agree(self):
        self.sign_in()
        cycle = self.current()
        week = cycle.shown_week(self.today)
        dashboard = self.client.get(reverse("pods:dashboard", args=[self.pod.slug]))
        assert dashboard.status_code == 200
        if week is not None:
            coverage = pledges.coverage(cycle, week)
            assert dashboard.context["coverage"] == coverage
            admin = CycleAdmin(Cycle, site).figures(Cycle.objects.get(pk=cycle.pk))
            assert admin == coverage
            assert coverage.recipients <= coverage.slots
            filled = f"{coverage.recipients} of {coverage.slots} slots filled"
            assert filled in " ".join(dashboard.text.split())
        this_week = self.client.get(reverse("pods:this_week", args=[self.pod.slug]))
        assert this_week.status_code == 200
        for line in this_week.context.get("mine") or []:
            assert line.outstanding >= 0
        if week is not None:
            # The organizers' figures are those of week_needs, every unmet need counted.
            sent = pledges.sent_in_week(cycle, week)
            owed = pledges.owed_lines(cycle=cycle, week=week, sent=sent)
            enrolled = cycle.enrollments.in_week(week).values_list("recipient_id", flat=True)
            needs = pledges.week_needs(cycle=cycle, recipient_ids=enrolled, owed=owed, sent=sent)
            rows = {row.recipient.pk: row for row in this_week.context["rows"] if row.enrolled}
            assert set(rows) == set(needs)
            for recipient_id, need in needs.items():
                assert (rows[recipient_id].shortfall, rows[recipient_id].unasked) == (
                    need.short,
                    need.unasked,
                )
            assert this_week.context["shortfall"] == sum(n.short for n in needs.values())
            assert this_week.context["short_count"] == sum(1 for n in needs.values() if n.short)
            html = " ".join(this_week.text.split())
            assert html.count("not asked of anyone yet") == sum(
                1 for n in needs.values() if n.unasked
            )

    @invariant()
    def receipts_add_up_everywhere(self):
        self.sign_in()
        cycle = self.current()
        query = f"?cycle={cycle.number}"
        board = self.client.get(reverse("receipts:board", args=[self.pod.slug]) + query)
        assert board.status_code == 200
        live = Decimal(Receipt.objects.filter(cycle=cycle).live().total()).quantize(CENT)
        # The board is rendered fragments, cached under a version the database bumps on
        # every change: what it says, served from the cache or not, not its context.
        page = board.content.decode()
        assert f"Cycle {cycle.number}: {format_money(live, self.pod.currency)}" in page
        enrollments = list(cycle.enrollments.select_related("recipient").order_by("slot", "pk"))
        rows = receipts.board_grid(cycle=cycle, enrollments=enrollments, today=self.pod.today())
        grid = sum((row.total for row in rows.rows), Decimal(0))
        for row in rows.rows[:20]:  # the first page of the grid's recipients
            assert format_money(row.total, self.pod.currency) in page
        enrolled = cycle.enrollments.values("recipient")
        to_enrolled = Receipt.objects.filter(cycle=cycle, recipient__in=enrolled).live().total()
        assert grid == Decimal(to_enrolled).quantize(CENT)
        export = self.client.get(reverse("receipts:export", args=[self.pod.slug]) + query)
        rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))[1:]
        in_csv = sum((Decimal(row[5]) for row in rows if not row[10]), Decimal(0))
        assert in_csv == live


@pytest.mark.django_db
def test_a_pod_lives_through_cycles_and_the_money_stays_right():
    PodLife.TestCase.settings = settings(
        max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "20")),
        stateful_step_count=50,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        database=None,
    )
    PodLife.TestCase().runTest()
