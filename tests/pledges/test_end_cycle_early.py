"""pledges.services.end_cycle_early and early_end_preview: an early end is a real end of
the cycle, so who ran into the dropped weeks carries over into the next cycle, as at the
end of any cycle; it costs a fixed number of queries; a voided receipt keeps no week."""

import datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.core import mail

from pledges import services
from pledges.models import Pledge
from pods.models import Membership
from receipts import retention
from receipts.models import Receipt
from recipients.models import Enrollment, Recipient
from recipients.services import enroll

pytestmark = pytest.mark.django_db


def pledge(cycle, donor, amount="50.00", **fields):
    fields = {"first_week": 1, "last_week": cycle.weeks, **fields}
    return Pledge.objects.create(cycle=cycle, donor=donor, amount=Decimal(amount), **fields)


def receipt(cycle, recipient, payer, week):
    return Receipt.objects.create(
        pod=cycle.pod,
        cycle=cycle,
        week=week,
        recipient=recipient,
        payer=payer,
        amount=Decimal("175.00"),
        method="cashapp",
        sent_on=cycle.week_starts_on(week),
        posted_by=payer,
    )


def test_recipients_and_pledges_both_carry_over_after_an_early_end(
    django_capture_on_commit_callbacks, cycle, enrollment, recipient, donor
):
    pledge(cycle, donor)
    ended = services.end_cycle_early(cycle=cycle)
    cycle.refresh_from_db()
    assert (ended.last_week, cycle.weeks) == (6, 6)
    # Still running to the (new) end, as at the end of any cycle.
    enrollment.refresh_from_db()
    assert (enrollment.last_week, enrollment.status) == (6, Enrollment.Status.ACTIVE)

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        new = services.start_next_cycle(cycle=cycle)

    assert list(new.enrollments.values_list("recipient", "first_week", "last_week")) == [
        (recipient.pk, 1, new.weeks)
    ]
    assert list(new.pledges.values_list("donor", "amount", "first_week", "last_week")) == [
        (donor.pk, Decimal("50.00"), 1, new.weeks)
    ]
    # The donor is told their pledge carries on, and it does: the recipient is there.
    assert [m.to for m in mail.outbox] == [[donor.email]]
    assert services.coverage(new, 1).recipients == 1


def test_a_recipient_enrolled_for_a_dropped_week_carries_over(cycle, enrollment, pod):
    later = enroll(
        recipient=Recipient.objects.create(pod=pod, display_name="Sam"), cycle=cycle, first_week=9
    )
    services.end_cycle_early(cycle=cycle)
    later.refresh_from_db()
    # They held no week of the shortened cycle...
    assert (later.first_week, later.last_week, later.holds_weeks) == (9, 8, False)
    new = services.start_next_cycle(cycle=cycle)
    # ...and go on into the next one, in slot order.
    assert list(new.enrollments.values_list("recipient__display_name", "slot")) == [
        ("Rosa", 1),
        ("Sam", 2),
    ]


def test_who_left_or_stopped_pledging_does_not_carry_over(cycle, enrollment, pod, donor, make_user):
    kai = enroll(recipient=Recipient.objects.create(pod=pod, display_name="Kai"), cycle=cycle)
    Enrollment.objects.filter(pk=kai.pk).update(last_week=4, status=Enrollment.Status.LEFT)
    lee = make_user("lee@example.org", display_name="Lee")
    Membership.objects.create(pod=pod, user=lee)
    pledge(cycle, lee, last_week=3)
    pledge(cycle, donor, status=Pledge.Status.PAUSED)
    services.end_cycle_early(cycle=cycle)
    new = services.start_next_cycle(cycle=cycle)
    assert list(new.enrollments.values_list("recipient__display_name", flat=True)) == ["Rosa"]
    assert not new.pledges.exists()


def test_carried_over_recipients_are_not_due_for_erasure(cycle, enrollment, recipient):
    services.end_cycle_early(cycle=cycle)
    cycle.refresh_from_db()
    services.start_next_cycle(cycle=cycle)
    # Past the retention window after the shortened cycle, the recipient is in cycle 2.
    now = datetime.datetime.combine(
        cycle.ends_on + datetime.timedelta(days=settings.RECIPIENT_RETENTION_DAYS + 2),
        datetime.time(12),
        tzinfo=datetime.UTC,
    )
    assert not retention.is_due(recipient, now)
    assert recipient.pk not in retention.recipients_due(now)


def test_the_next_cycle_has_the_pods_default_weeks_after_an_early_end(cycle, pod):
    pod.default_weeks = 12
    pod.save(update_fields=["default_weeks"])
    services.end_cycle_early(cycle=cycle)
    cycle.refresh_from_db()
    assert cycle.weeks_for_next() == 12
    assert services.start_next_cycle(cycle=cycle).weeks == 12


def test_without_an_early_end_the_next_cycle_has_as_many_weeks(cycle, pod):
    pod.default_weeks = 12
    pod.save(update_fields=["default_weeks"])
    assert services.start_next_cycle(cycle=cycle).weeks == 15


def test_a_voided_receipt_posted_ahead_keeps_no_week(cycle, enrollment, recipient, donor):
    assert cycle.due_week() == 6
    receipt(cycle, recipient, donor, week=9).void(by=donor, reason="wrong week")
    assert services.early_end_preview(cycle).last_week == 6
    receipt(cycle, recipient, donor, week=8)
    assert services.early_end_preview(cycle).last_week == 8


def test_the_preview_counts_the_pledges_that_carry_over(cycle, enrollment, donor, make_user, pod):
    pledge(cycle, donor)
    paused = make_user("pat@example.org")
    Membership.objects.create(pod=pod, user=paused)
    pledge(cycle, paused, status=Pledge.Status.PAUSED)
    gone = make_user("gil@example.org")
    Membership.objects.create(pod=pod, user=gone, active=False)
    pledge(cycle, gone)
    assert services.early_end_preview(cycle).pledges == 1


@pytest.mark.parametrize("donors", [2, 20])
def test_ending_early_costs_the_same_queries_whatever_the_pod_size(
    donors, django_assert_num_queries, cycle, enrollment, pod, make_user
):
    for index in range(donors):
        user = make_user(f"d{index}@example.org")
        Membership.objects.create(pod=pod, user=user)
        if index % 2:
            pledge(cycle, user, amount="5.00")
        else:
            # A donor who changed their pledge from a week the early end drops.
            pledge(cycle, user, amount="5.00", last_week=7)
            pledge(cycle, user, amount="6.00", first_week=8)
    services.week_plan(cycle=cycle, week=7)
    # 12, and 1 marking the records that carry over.
    with django_assert_num_queries(13):
        services.end_cycle_early(cycle=cycle)
    assert not cycle.pledges.filter(last_week__gt=6).exclude(status="cancelled").exists()
    assert cycle.pledges.filter(first_week=8, status="cancelled").count() == donors // 2
    assert not cycle.assignments.filter(week=7).exists()


@pytest.mark.parametrize(
    ("change", "carried"),
    [
        # What the donor did from the first week the early end drops (week 7; the cycle is
        # in week 6, and a change can only start at the first open week).
        (lambda cycle, donor: services.cancel_pledge(cycle=cycle, donor=donor, from_week=7), []),
        (lambda cycle, donor: services.pause_pledge(cycle=cycle, donor=donor, from_week=7), []),
        (
            lambda cycle, donor: services.set_pledge(
                cycle=cycle, donor=donor, amount=Decimal("100.00"), from_week=7
            ),
            [Decimal("100.00")],
        ),
        (lambda cycle, donor: None, [Decimal("50.00")]),
    ],
    ids=["cancelled", "paused", "raised", "unchanged"],
)
def test_what_carries_over_is_what_the_donor_meant_at_the_planned_end(
    cycle, enrollment, donor, change, carried
):
    pledge(cycle, donor)
    change(cycle, donor)
    preview = services.early_end_preview(cycle)
    services.end_cycle_early(cycle=cycle)
    cycle.refresh_from_db()
    new = services.start_next_cycle(cycle=cycle)
    assert list(new.pledges.values_list("amount", flat=True)) == carried
    assert preview.pledges == len(carried)


def test_a_first_pledge_made_from_a_dropped_week_carries_over(cycle, enrollment, donor):
    services.set_pledge(cycle=cycle, donor=donor, amount=Decimal("30.00"), from_week=7)
    services.end_cycle_early(cycle=cycle)
    cycle.refresh_from_db()
    new = services.start_next_cycle(cycle=cycle)
    assert list(new.pledges.values_list("donor", "amount")) == [(donor.pk, Decimal("30.00"))]
