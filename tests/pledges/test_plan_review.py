"""Organizers review and adjust an upcoming week's plan at /pods/<slug>/plan/<week>/."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from pledges import services
from pledges.models import Assignment, Pledge
from pods.models import Cycle, Membership
from recipients.models import Recipient
from recipients.services import enroll
from tests.pods.crowd import add_donors

pytestmark = pytest.mark.django_db

THIS_WEEK = 6  # the `cycle` fixture started five weeks ago
NEXT_WEEK = 7


def url(pod, week=NEXT_WEEK):
    return reverse("pods:plan", args=[pod.slug, week])


def stored(week=NEXT_WEEK):
    return set(
        Assignment.objects.filter(week=week).values_list("payer_id", "recipient_id", "amount")
    )


@pytest.fixture
def plan(cycle, donor, organizer, recipient, enrollment):
    """Dana pledges 100.00 and Olive 75.00: both pay Rosa."""
    for person, amount in ((donor, "100.00"), (organizer, "75.00")):
        Pledge.objects.create(cycle=cycle, donor=person, amount=Decimal(amount), last_week=15)
    services.week_plan(cycle=cycle, week=THIS_WEEK)
    services.week_plan(cycle=cycle, week=NEXT_WEEK)
    return {
        (donor.pk, recipient.pk, Decimal("100.00")),
        (organizer.pk, recipient.pk, Decimal("75.00")),
    }


@pytest.fixture
def organizer_client(client, organizer):
    client.force_login(organizer)
    return client


def post(client, pod, lines, *, initial=2, week=NEXT_WEEK, **extra):
    """Submit the formset: `lines` are (payer, recipient, amount[, remove]) rows, the
    first `initial` of them standing for the stored lines."""
    data = {
        "form-TOTAL_FORMS": str(len(lines)),
        "form-INITIAL_FORMS": str(initial),
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
        **extra,
    }
    for n, (payer, recipient, amount, *remove) in enumerate(lines):
        data[f"form-{n}-payer"] = str(payer)
        data[f"form-{n}-recipient"] = str(recipient)
        data[f"form-{n}-amount"] = str(amount)
        if remove:
            data[f"form-{n}-DELETE"] = "on"
    return client.post(url(pod, week), data)


def test_signed_out_visitor_is_sent_to_sign_in(client, pod, plan):
    response = client.get(url(pod))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_member_of_another_pod_gets_404(client, outsider, pod, plan):
    client.force_login(outsider)
    assert client.get(url(pod)).status_code == 404


def test_donor_gets_403(client, donor, pod, plan):
    client.force_login(donor)
    assert client.get(url(pod)).status_code == 403
    assert post(client, pod, [(donor.pk, 1, "5")], initial=0).status_code == 403
    assert stored() == plan


def test_organizer_sees_the_stored_plan_with_handles_and_shortfalls(organizer_client, pod, plan):
    response = organizer_client.get(url(pod))
    assert response.status_code == 200
    html = response.content.decode()
    assert "$rosa" in html
    assert 'value="100.00"' in html and 'value="75.00"' in html
    assert len(response.context["formset"].forms) == 4  # two lines, two empty rows


@pytest.mark.parametrize("week", [0, 16])
def test_week_outside_the_cycle_gets_404(organizer_client, pod, plan, week):
    assert organizer_client.get(url(pod, week)).status_code == 404


def test_without_a_cycle_there_is_no_plan_to_review(organizer_client, pod):
    assert organizer_client.get(url(pod)).status_code == 404


def test_organizer_changes_an_amount(organizer_client, pod, donor, organizer, recipient, plan):
    response = post(
        organizer_client,
        pod,
        [(donor.pk, recipient.pk, "90.00"), (organizer.pk, recipient.pk, "75.00")],
    )
    assert response.status_code == 302
    assert stored() == {
        (donor.pk, recipient.pk, Decimal("90.00")),
        (organizer.pk, recipient.pk, Decimal("75.00")),
    }
    # The week that has started is untouched.
    assert stored(THIS_WEEK) == plan


def test_organizer_changes_the_payer_and_the_recipient_of_a_line(
    organizer_client, pod, cycle, donor, organizer, recipient, make_user, plan
):
    omar = make_user("omar@example.org", display_name="Omar")
    Membership.objects.create(pod=pod, user=omar)
    tomas = Recipient.objects.create(pod=pod, display_name="Tomás")
    enroll(recipient=tomas, cycle=cycle)
    response = post(
        organizer_client,
        pod,
        [(omar.pk, recipient.pk, "100.00"), (organizer.pk, tomas.pk, "75.00")],
    )
    assert response.status_code == 302
    assert stored() == {
        (omar.pk, recipient.pk, Decimal("100.00")),
        (organizer.pk, tomas.pk, Decimal("75.00")),
    }


def test_organizer_removes_a_line(organizer_client, pod, donor, organizer, recipient, plan):
    response = post(
        organizer_client,
        pod,
        [
            (donor.pk, recipient.pk, "100.00", "remove"),
            (organizer.pk, recipient.pk, "75.00"),
            ("", "", ""),
        ],
    )
    assert response.status_code == 302
    assert stored() == {(organizer.pk, recipient.pk, Decimal("75.00"))}


def test_organizer_adds_a_line_in_an_empty_row(
    organizer_client, pod, cycle, donor, organizer, recipient, plan
):
    tomas = Recipient.objects.create(pod=pod, display_name="Tomás")
    enroll(recipient=tomas, cycle=cycle)
    response = post(
        organizer_client,
        pod,
        [
            (donor.pk, recipient.pk, "100.00"),
            (organizer.pk, recipient.pk, "75.00"),
            (donor.pk, tomas.pk, "12.50"),
            ("", "", ""),
        ],
    )
    assert response.status_code == 302
    assert stored() == plan | {(donor.pk, tomas.pk, Decimal("12.50"))}


@pytest.mark.parametrize(
    ("amount", "error"),
    [
        ("0", "more than zero"),
        ("-5", "more than zero"),
        ("abc", "Enter an amount of money"),
        ("1.005", "two decimal places"),
    ],
)
def test_invalid_amount_is_refused_next_to_the_line(
    organizer_client, pod, donor, organizer, recipient, plan, amount, error
):
    response = post(
        organizer_client,
        pod,
        [(donor.pk, recipient.pk, amount), (organizer.pk, recipient.pk, "75.00")],
    )
    assert response.status_code == 200
    assert error in str(response.context["formset"].forms[0].errors["amount"])
    assert stored() == plan


def test_payer_must_be_an_active_member(
    organizer_client, pod, donor, organizer, outsider, recipient, plan
):
    Membership.objects.filter(user=donor).update(active=False)
    for payer in (outsider, donor):
        response = post(
            organizer_client,
            pod,
            [(payer.pk, recipient.pk, "100.00"), (organizer.pk, recipient.pk, "75.00")],
        )
        assert response.status_code == 200
        assert "payer" in response.context["formset"].forms[0].errors
    assert stored() == plan


def test_recipient_must_be_enrolled_that_week(
    organizer_client, pod, cycle, other_pod, donor, organizer, recipient, plan
):
    later = Recipient.objects.create(pod=pod, display_name="Later")
    enroll(recipient=later, cycle=cycle, first_week=NEXT_WEEK + 1)
    elsewhere = Recipient.objects.create(pod=other_pod, display_name="Elsewhere")
    for whom in (later, elsewhere):
        response = post(
            organizer_client,
            pod,
            [(donor.pk, recipient.pk, "100.00"), (organizer.pk, whom.pk, "75.00")],
        )
        assert response.status_code == 200
        assert "recipient" in response.context["formset"].forms[1].errors
    assert stored() == plan


def test_a_recipient_cannot_be_planned_more_than_the_weekly_amount(
    organizer_client, pod, donor, organizer, recipient, plan
):
    response = post(
        organizer_client,
        pod,
        [(donor.pk, recipient.pk, "100.00"), (organizer.pk, recipient.pk, "75.01")],
    )
    assert response.status_code == 200
    assert "Rosa would get $175.01, more than the $175.00 a week." in str(
        response.context["formset"].non_form_errors()
    )
    assert stored() == plan


def test_the_same_payer_twice_for_one_recipient_is_refused(
    organizer_client, pod, donor, recipient, plan
):
    response = post(
        organizer_client,
        pod,
        [(donor.pk, recipient.pk, "100.00"), (donor.pk, recipient.pk, "75.00")],
    )
    assert response.status_code == 200
    assert "already has a line" in str(response.context["formset"].forms[1].errors)
    assert stored() == plan


def test_removing_every_line_is_refused(organizer_client, pod, donor, organizer, recipient, plan):
    response = post(
        organizer_client,
        pod,
        [
            (donor.pk, recipient.pk, "100.00", "remove"),
            (organizer.pk, recipient.pk, "75.00", "remove"),
        ],
    )
    assert response.status_code == 200
    assert "at least one transfer" in str(response.context["formset"].non_form_errors())
    assert stored() == plan


def test_a_week_that_has_started_is_not_changed_without_the_explicit_correction(
    organizer_client, pod, donor, organizer, recipient, plan
):
    response = organizer_client.get(url(pod, THIS_WEEK))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Week 6 has started" in html
    assert 'name="correct_started"' in html
    before = stored(THIS_WEEK)
    response = post(
        organizer_client,
        pod,
        [(donor.pk, recipient.pk, "1.00"), (organizer.pk, recipient.pk, "1.00")],
        week=THIS_WEEK,
    )
    assert response.status_code == 200
    assert "Tick the box to correct it anyway." in response.context["error"]
    assert stored(THIS_WEEK) == before


def test_an_organizer_corrects_a_started_week_by_hand(
    organizer_client, pod, donor, organizer, recipient, plan
):
    response = post(
        organizer_client,
        pod,
        [(donor.pk, recipient.pk, "90.00"), (organizer.pk, recipient.pk, "85.00")],
        week=THIS_WEEK,
        correct_started="yes",
    )
    assert response.status_code == 302
    assert stored(THIS_WEEK) == {
        (donor.pk, recipient.pk, Decimal("90.00")),
        (organizer.pk, recipient.pk, Decimal("85.00")),
    }
    assert stored(NEXT_WEEK) == plan


def test_before_the_cycle_starts_its_first_week_can_be_adjusted(
    organizer_client, pod, donor, organizer, recipient
):
    cycle = Cycle.objects.create(
        pod=pod,
        number=1,
        starts_on=pod.today() + datetime.timedelta(days=2),
    )
    enroll(recipient=recipient, cycle=cycle)
    Pledge.objects.create(cycle=cycle, donor=donor, amount=Decimal("175.00"), last_week=15)
    response = post(
        organizer_client, pod, [(organizer.pk, recipient.pk, "175.00")], initial=1, week=1
    )
    assert response.status_code == 302
    assert stored(1) == {(organizer.pk, recipient.pk, Decimal("175.00"))}


def test_query_count_is_the_same_for_10_and_200_donors(
    organizer_client, pod, cycle, plan, django_assert_num_queries
):
    add_donors(pod, cycle, 10)
    services.replan(cycle=cycle, from_week=NEXT_WEEK)
    # 12, of which 3 came with the calendar redesign: the week's live receipts (what is
    # still owed on each line) and the week's coverage (its pledges, its recipients).
    with django_assert_num_queries(12) as small:
        assert organizer_client.get(url(pod)).status_code == 200
    add_donors(pod, cycle, 190, start=10)
    services.replan(cycle=cycle, from_week=NEXT_WEEK)
    with django_assert_num_queries(12) as large:
        assert organizer_client.get(url(pod)).status_code == 200
    assert len(small.captured_queries) == len(large.captured_queries)


def test_a_mangled_form_is_refused_without_an_error_page(organizer_client, pod, plan):
    response = organizer_client.post(url(pod), {"form-0-amount": "5"})
    assert response.status_code == 200
    assert response.context["formset"].non_form_errors()
    assert stored() == plan
