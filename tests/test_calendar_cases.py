"""The three ways the money went wrong, as an organizer and a donor met them (issue 8), each
through the pages and the admin: starting the next cycle in week 6, enrolling into a slot
freed this week, and "this week" after a receipt was already posted.

The `cycle` fixture is in week 6 of 15 today, with 3 slots at $175."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse
from django.utils.formats import date_format

from pledges import services as pledges
from pledges.models import Assignment, Pledge
from pods.models import Cycle, Membership
from receipts.models import Receipt
from recipients import services as recipients
from recipients.models import Enrollment, Recipient, Referral

pytestmark = pytest.mark.django_db


def text(response):
    return " ".join(response.content.decode().split())


@pytest.fixture
def rosa_donor(make_user, pod):
    user = make_user("rosa@example.org", display_name="Rosa")
    Membership.objects.create(pod=pod, user=user, role=Membership.Role.DONOR)
    return user


@pytest.fixture
def full_cycle(cycle, organizer, rosa_donor, donor):
    """Three neighbors enrolled (Tomás, Bea, Khalil in slots 1-3) and pledges covering them
    from week 1: Rosa $20, Dana $155, the organizer $350."""
    for name in ("Tomás", "Bea", "Khalil"):
        person = Recipient.objects.create(
            pod=cycle.pod, display_name=name, payment_method="zelle", payment_handle=f"{name}@x"
        )
        recipients.enroll(recipient=person, cycle=cycle)
    for who, amount in ((rosa_donor, "20.00"), (donor, "155.00"), (organizer, "350.00")):
        Pledge.objects.create(
            cycle=cycle, donor=who, amount=Decimal(amount), first_week=1, last_week=15
        )
    return cycle


def plan_of(cycle, week):
    return sorted(
        Assignment.objects.filter(cycle=cycle, week=week).values_list(
            "payer_id", "recipient_id", "amount"
        )
    )


# 1. Starting the next cycle in week 6 keeps weeks 7 to 15 of the running one.


def test_starting_the_next_cycle_in_week_6_keeps_the_running_cycle(
    client, organizer, rosa_donor, full_cycle, mailoutbox, django_capture_on_commit_callbacks
):
    cycle = full_cycle
    client.force_login(organizer)
    changelist = reverse("admin:pods_cycle_changelist")
    ask = client.post(changelist, {"action": "start_next", ACTION_CHECKBOX_NAME: [cycle.pk]})
    day_after = cycle.ends_on + datetime.timedelta(days=1)
    ends, starts = date_format(cycle.ends_on), date_format(day_after)
    assert f"Cycle 1 keeps running to week 15, until {ends}; cycle 2 starts {starts}" in text(ask)
    assert "closed" not in text(ask)

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            changelist,
            {
                "action": "start_next",
                ACTION_CHECKBOX_NAME: [cycle.pk],
                "post": "yes",
                "starts_on": day_after.isoformat(),
                "weeks": 15,
                "weekly_amount": "175.00",
                "slots": 3,
            },
            follow=True,
        )
    assert "Cycle 2 is planned to start on" in text(done)
    cycle.refresh_from_db()
    assert (cycle.weeks, cycle.ended_early_at, cycle.status()) == (15, None, "active")
    new = Cycle.objects.get(pod=cycle.pod, number=2)
    assert new.status() == "planned"
    assert cycle.pod.current_cycle() == cycle

    # Every page still lives in week 6 of cycle 1.
    client.force_login(rosa_donor)
    this_week = client.get(reverse("pods:this_week", args=[cycle.pod.slug]))
    assert "Cycle 1, week 6 of 15" in text(this_week)
    form = client.get(reverse("receipts:receipt_create", args=[cycle.pod.slug]))
    assert [week for week, _label in form.context["form"].fields["week"].choices if week] == list(
        range(1, 8)
    )
    dashboard = client.get(reverse("pods:dashboard", args=[cycle.pod.slug]))
    assert "Cycle 1 · week 6 of 15" in text(dashboard)
    # The donors are told when their pledge carries on, not that it already has.
    (notice,) = [m for m in mailoutbox if m.to == [rosa_donor.email]]
    assert date_format(new.starts_on) in notice.body


# 2. A slot freed this week is offered from next week, and week 6 stays as it was.


def test_enrolling_into_a_slot_freed_this_week_never_double_books_it(client, organizer, full_cycle):
    cycle = full_cycle
    pledges.week_plan(cycle=cycle, week=6)
    week_6 = plan_of(cycle, 6)
    khalil = Recipient.objects.get(display_name="Khalil")
    client.force_login(organizer)
    client.post(
        reverse("recipients:enrollment_end", args=[cycle.pod.slug, khalil.pk]),
        {"reason": "found work"},
    )
    assert Enrollment.objects.get(recipient=khalil).last_week == 6

    sam = recipients.refer(pod=cycle.pod, referred_by=organizer, display_name="Sam")
    url = reverse("recipients:referral_enroll", args=[cycle.pod.slug, sam.pk])
    page = client.get(url)
    weeks = [week for week, _label in page.context["form"].fields["first_week"].choices]
    assert weeks == list(range(7, 16))

    data = {"payment_method": "zelle", "payment_handle": "sam@example.org", "contact": ""}
    refused = client.post(url, {**data, "first_week": 6})
    assert refused.status_code == 400
    assert not Recipient.objects.filter(display_name="Sam").exists()

    assert client.post(url, {**data, "first_week": 7}).status_code == 200
    sam.refresh_from_db()
    assert sam.status == Referral.Status.ENROLLED
    held = {e.recipient.display_name: e.slot for e in cycle.enrollments.in_week(6)}
    assert held == {"Tomás": 1, "Bea": 2, "Khalil": 3}
    assert {e.recipient.display_name for e in cycle.enrollments.in_week(7)} == {
        "Tomás",
        "Bea",
        "Sam",
    }

    dashboard = text(client.get(reverse("pods:dashboard", args=[cycle.pod.slug])))
    assert "3 of 3 slots filled" in dashboard
    assert "$525.00" in dashboard  # 3 × $175, the same week as the slots
    # The plan of week 6, which has started, is exactly what it was.
    assert plan_of(cycle, 6) == week_6


# 3. "This week" is net of the receipts already posted for it.


def test_this_week_asks_only_for_what_was_not_sent_yet(client, organizer, rosa_donor, full_cycle):
    cycle = full_cycle
    client.force_login(rosa_donor)
    url = reverse("pods:this_week", args=[cycle.pod.slug])
    (line,) = client.get(url).context["mine"]
    assert line.outstanding == Decimal("20.00")
    to = line.recipient

    client.post(
        reverse("receipts:receipt_create", args=[cycle.pod.slug]),
        {
            "recipient": to.pk,
            "week": 6,
            "amount": "20.00",
            "method": "zelle",
            "sent_on": cycle.pod.today().isoformat(),
            "submission_key": str(uuid.uuid4()),
        },
    )
    assert Receipt.objects.filter(payer=rosa_donor, week=6).live().total() == Decimal("20.00")
    (line,) = client.get(url).context["mine"]
    assert (line.posted, line.outstanding) == (Decimal("20.00"), Decimal("0.00"))

    # A re-plan (someone leaves) never asks her for week 6 again, to anyone.
    khalil = Recipient.objects.get(display_name="Khalil")
    client.force_login(organizer)
    client.post(
        reverse("recipients:enrollment_end", args=[cycle.pod.slug, khalil.pk]),
        {"reason": ""},
    )
    client.force_login(rosa_donor)
    assert all(line.outstanding == 0 for line in client.get(url).context["mine"])
    assert all(
        line.owed == 0
        for line in pledges.owed_lines(cycle=cycle, week=6)
        if line.payer == rosa_donor
    )
