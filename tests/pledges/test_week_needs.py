"""services.week_needs: per enrolled recipient, what the week's lines no longer ask of
anyone. Plan: Dana pays Rosa $175, Yara pays Sam $175; then the money goes astray."""

from decimal import Decimal

import pytest

from pledges import services
from pledges.models import Pledge
from pods.models import Membership
from receipts.models import Receipt
from recipients.models import Recipient
from recipients.services import enroll

pytestmark = pytest.mark.django_db

WEEK = 6  # the `cycle` fixture started five weeks ago: week 6 has started


@pytest.fixture
def sam(pod, cycle):
    person = Recipient.objects.create(
        pod=pod, display_name="Sam", payment_method="cashapp", payment_handle="$sam"
    )
    enroll(recipient=person, cycle=cycle)
    return person


@pytest.fixture
def yara(make_user, pod):
    user = make_user("yara@example.org", display_name="Yara")
    Membership.objects.create(pod=pod, user=user)
    return user


@pytest.fixture
def pledged(cycle, donor, yara, recipient, enrollment, sam):
    for person in (donor, yara):
        Pledge.objects.create(cycle=cycle, donor=person, amount=Decimal("175.00"), last_week=15)
    return cycle


def receipt(cycle, payer, recipient, amount="175.00"):
    return Receipt.objects.create(
        pod=cycle.pod,
        cycle=cycle,
        week=WEEK,
        recipient=recipient,
        payer=payer,
        amount=Decimal(amount),
        method="cashapp",
        sent_on=cycle.week_starts_on(WEEK),
        posted_by=payer,
    )


def needs(cycle):
    sent = services.sent_in_week(cycle, WEEK)
    owed = services.owed_lines(cycle=cycle, week=WEEK, sent=sent)
    ids = list(cycle.enrollments.in_week(WEEK).values_list("recipient_id", flat=True))
    return services.week_needs(cycle=cycle, recipient_ids=ids, owed=owed, sent=sent)


def pairs(cycle):
    return {
        (line.payer.display_name, line.recipient.display_name): line.amount
        for line in services.week_plan(cycle=cycle, week=WEEK)
    }


def test_nothing_is_unasked_while_the_plan_is_followed(pledged, recipient, sam, donor):
    assert pairs(pledged) == {("Dana", "Rosa"): Decimal("175"), ("Yara", "Sam"): Decimal("175")}
    receipt(pledged, donor, recipient)
    figures = needs(pledged)
    assert figures[recipient.pk].received == Decimal("175.00")
    assert figures[sam.pk].owed == Decimal("175.00")
    assert all(need.short == 0 and need.unasked == 0 for need in figures.values())


def test_paying_a_neighbor_other_than_the_planned_one_leaves_the_planned_one_unasked(
    pledged, recipient, sam, donor, yara
):
    services.week_plan(cycle=pledged, week=WEEK)
    receipt(pledged, donor, sam)
    owed = services.owed_lines(cycle=pledged, week=WEEK)
    # Nobody is asked again: not Dana (she sent her pledge), not Yara (Sam has his).
    assert [line.owed for line in owed] == [Decimal("0.00"), Decimal("0.00")]
    figures = needs(pledged)
    rosa = figures[recipient.pk]
    assert (rosa.planned, rosa.received, rosa.owed) == (Decimal("175.00"), 0, 0)
    assert rosa.short == Decimal("175.00")
    assert rosa.unasked == Decimal("175.00")
    assert figures[sam.pk].short == figures[sam.pk].unasked == 0


def test_a_receipt_voided_and_posted_anew_to_someone_else_leaves_the_first_unasked(
    pledged, recipient, sam, donor, yara
):
    # Dana paid Rosa before anyone opened the week: the plan is built around it.
    wrong = receipt(pledged, donor, recipient)
    assert pairs(pledged) == {("Dana", "Rosa"): Decimal("175"), ("Yara", "Sam"): Decimal("175")}
    wrong.void(by=donor, reason="Meant for Sam")
    receipt(pledged, donor, sam)
    figures = needs(pledged)
    assert figures[recipient.pk].unasked == Decimal("175.00")
    assert figures[sam.pk].unasked == 0


def test_a_started_week_corrected_after_a_payment_leaves_the_need_visible(
    pledged, recipient, sam, donor, yara
):
    services.week_plan(cycle=pledged, week=WEEK)
    receipt(pledged, yara, sam)
    # The organizer swaps the payers of the started week after Yara has paid Sam.
    services.set_week_plan(
        cycle=pledged,
        week=WEEK,
        lines=[(yara.pk, recipient.pk, Decimal("175.00"))],
        correcting_started=True,
        recipient_id=recipient.pk,
    )
    services.set_week_plan(
        cycle=pledged,
        week=WEEK,
        lines=[(donor.pk, sam.pk, Decimal("175.00"))],
        correcting_started=True,
        recipient_id=sam.pk,
    )
    owed = services.owed_lines(cycle=pledged, week=WEEK)
    assert sum(line.owed for line in owed) == 0
    assert needs(pledged)[recipient.pk].unasked == Decimal("175.00")


def test_a_pod_short_of_pledges_is_short_but_has_nothing_unasked(
    cycle, donor, recipient, enrollment, sam
):
    Pledge.objects.create(cycle=cycle, donor=donor, amount=Decimal("200.00"), last_week=15)
    figures = needs(cycle)
    # Rosa (slot 1) is planned in full; Sam gets the 25.00 left.
    assert figures[recipient.pk].short == 0
    assert figures[sam.pk].planned == Decimal("25.00")
    assert figures[sam.pk].short == Decimal("150.00")
    assert figures[sam.pk].unasked == 0


def test_when_the_planned_payer_of_a_short_pod_pays_someone_else(
    cycle, donor, recipient, enrollment, sam
):
    Pledge.objects.create(cycle=cycle, donor=donor, amount=Decimal("100.00"), last_week=15)
    services.week_plan(cycle=cycle, week=WEEK)
    receipt(cycle, donor, sam, "100.00")
    figures = needs(cycle)
    assert figures[recipient.pk].short == Decimal("175.00")
    assert figures[recipient.pk].unasked == Decimal("100.00")
    assert figures[sam.pk].short == Decimal("75.00")
    assert figures[sam.pk].unasked == 0


def test_a_recipient_paid_more_than_the_weekly_amount_needs_nothing(
    pledged, recipient, sam, donor, yara
):
    services.week_plan(cycle=pledged, week=WEEK)
    receipt(pledged, donor, recipient)
    receipt(pledged, yara, recipient)
    rosa = needs(pledged)[recipient.pk]
    assert rosa.received == Decimal("350.00")
    assert rosa.short == rosa.unasked == rosa.owed == 0
    assert needs(pledged)[sam.pk].unasked == Decimal("175.00")


def test_it_reads_nothing_from_the_database(pledged, recipient, django_assert_num_queries):
    sent = services.sent_in_week(pledged, WEEK)
    owed = services.owed_lines(cycle=pledged, week=WEEK, sent=sent)
    with django_assert_num_queries(0):
        services.week_needs(cycle=pledged, recipient_ids=[recipient.pk], owed=owed, sent=sent)
