import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from pledges import services
from pledges.models import Pledge
from pods.models import Cycle, Membership
from tests.pods.crowd import add_donors

pytestmark = pytest.mark.django_db

# The shared `cycle` fixture is in its week 6 of 15. Week 6 has started, so it is frozen
# (transfers for it may be on their way): a change starts from week 7, the first week
# not started yet.
THIS_WEEK, NEXT_WEEK = 6, 7


def url(pod):
    return reverse("pods:pledge", args=[pod.slug])


def post(client, pod, **data):
    return client.post(url(pod), {"action": "set", "starts": NEXT_WEEK, **data})


def pledge(cycle, donor, amount, first_week=1, last_week=15, status=Pledge.Status.ACTIVE):
    return Pledge.objects.create(
        cycle=cycle,
        donor=donor,
        amount=Decimal(amount),
        first_week=first_week,
        last_week=last_week,
        status=status,
    )


def timeline(cycle, donor):
    """The donor's records as (first, last, amount, status), oldest first."""
    return [
        (p.first_week, p.last_week, str(p.amount), p.status)
        for p in Pledge.objects.filter(cycle=cycle, donor=donor).order_by("created_at", "pk")
    ]


def pledged_in(cycle, donor, week):
    return list(
        Pledge.objects.active()
        .in_week(week)
        .filter(cycle=cycle, donor=donor)
        .values_list("amount", flat=True)
    )


# Who may see the page


def test_signed_out_visitor_is_sent_to_sign_in(client, pod, cycle):
    for response in (client.get(url(pod)), client.post(url(pod), {"amount": "10"})):
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))
    assert not Pledge.objects.exists()


def test_member_of_another_pod_gets_404_and_saves_nothing(client, outsider, pod, cycle):
    client.force_login(outsider)
    assert client.get(url(pod)).status_code == 404
    assert post(client, pod, amount="10").status_code == 404
    assert not Pledge.objects.exists()


def test_donor_sees_the_form_offering_next_week_only(client, donor, pod, cycle):
    client.force_login(donor)
    response = client.get(url(pod))
    assert response.status_code == 200
    assert "You have no pledge for this week." in response.text
    assert "this week (week 6," not in response.text
    assert "next week (week 7," in response.text
    starts = response.context["form"].fields["starts"].choices
    assert [week for week, _label in starts] == [NEXT_WEEK]
    assert 'inputmode="decimal"' in response.text


# Setting, changing, pausing, cancelling


def test_donor_pledges_from_next_week(client, donor, pod, cycle):
    client.force_login(donor)
    response = post(client, pod, amount="25.50")
    assert response.status_code == 302
    assert timeline(cycle, donor) == [(7, 15, "25.50", "active")]
    page = client.get(url(pod)).text
    assert "Thank you! Your new pledge counts from week 7." in page
    # Nothing is pledged for the week that has started; the pledge shows as coming.
    assert "You have no pledge for this week." in page
    assert "From week 7: $25.50 a week." in page


def test_organizer_pledges_too(client, organizer, pod, cycle):
    client.force_login(organizer)
    assert post(client, pod, amount="40", starts=NEXT_WEEK).status_code == 302
    assert timeline(cycle, organizer) == [(7, 15, "40.00", "active")]


def test_change_from_next_week_keeps_the_weeks_before(client, donor, pod, cycle):
    pledge(cycle, donor, "20.00")
    client.force_login(donor)
    post(client, pod, amount="30", starts=NEXT_WEEK)
    assert timeline(cycle, donor) == [(1, 6, "20.00", "active"), (7, 15, "30.00", "active")]
    assert pledged_in(cycle, donor, 6) == [Decimal("20.00")]
    assert pledged_in(cycle, donor, 7) == [Decimal("30.00")]


def test_a_change_cannot_start_in_the_week_that_has_started(client, donor, pod, cycle):
    pledge(cycle, donor, "20.00")
    client.force_login(donor)
    response = post(client, pod, amount="30", starts=THIS_WEEK)
    assert response.status_code == 200
    assert "starts" in response.context["form"].errors
    # The service refuses it too, whatever the form offered.
    with pytest.raises(ValidationError) as caught:
        services.set_pledge(cycle=cycle, donor=donor, amount=Decimal("30"), from_week=THIS_WEEK)
    assert "first week that has not started yet" in str(caught.value.message_dict["starts"])
    assert timeline(cycle, donor) == [(1, 15, "20.00", "active")]
    assert pledged_in(cycle, donor, THIS_WEEK) == [Decimal("20.00")]


def test_second_change_cancels_the_record_that_never_began_without_deleting_it(
    client, donor, pod, cycle
):
    pledge(cycle, donor, "20.00")
    client.force_login(donor)
    post(client, pod, amount="30", starts=NEXT_WEEK)
    post(client, pod, amount="40", starts=NEXT_WEEK)
    assert timeline(cycle, donor) == [
        (1, 6, "20.00", "active"),
        (7, 15, "30.00", "cancelled"),
        (7, 15, "40.00", "active"),
    ]
    assert pledged_in(cycle, donor, 7) == [Decimal("40.00")]


def test_double_submit_leaves_one_active_record_per_week(client, donor, pod, cycle):
    client.force_login(donor)
    post(client, pod, amount="25")
    response = post(client, pod, amount="25")
    assert response.status_code == 302
    assert timeline(cycle, donor) == [(7, 15, "25.00", "active")]
    assert "nothing changed" in client.get(url(pod)).text


def test_pause_from_next_week_keeps_this_week_and_the_amount(client, donor, pod, cycle):
    pledge(cycle, donor, "20.00")
    client.force_login(donor)
    assert post(client, pod, action="pause", starts=NEXT_WEEK).status_code == 302
    assert timeline(cycle, donor) == [(1, 6, "20.00", "active"), (7, 15, "20.00", "paused")]
    assert pledged_in(cycle, donor, 7) == []
    page = client.get(url(pod)).text
    assert "$20.00 a week, weeks 1 to 6." in page  # this week still runs
    assert "From week 7: paused." in page
    # A change starts from week 7, where the pledge is paused: resume or cancel it.
    assert "Resume my pledge" in page
    assert "Pause my pledge" not in page


def test_resume_after_a_pause(client, donor, pod, cycle):
    pledge(cycle, donor, "20.00", last_week=5)
    pledge(cycle, donor, "20.00", first_week=6, status=Pledge.Status.PAUSED)
    client.force_login(donor)
    page = client.get(url(pod)).text
    assert "Paused since week 6." in page
    assert "Resume my pledge" in page
    assert 'value="20.00"' in page  # the paused amount is offered again
    post(client, pod, amount="20.00", starts=NEXT_WEEK)
    assert timeline(cycle, donor) == [
        (1, 5, "20.00", "active"),
        (6, 6, "20.00", "paused"),
        (7, 15, "20.00", "active"),
    ]


def test_cancel_from_next_week_ends_the_pledge_after_this_week(client, donor, pod, cycle):
    pledge(cycle, donor, "20.00")
    client.force_login(donor)
    assert post(client, pod, action="cancel", starts=NEXT_WEEK).status_code == 302
    assert timeline(cycle, donor) == [(1, 6, "20.00", "active")]
    assert pledged_in(cycle, donor, 7) == []


def test_cancel_keeps_the_past_and_the_week_that_has_started(client, donor, pod, cycle):
    pledge(cycle, donor, "20.00", last_week=3)
    pledge(cycle, donor, "35.00", first_week=4)
    client.force_login(donor)
    post(client, pod, action="cancel", starts=NEXT_WEEK)
    assert timeline(cycle, donor) == [(1, 3, "20.00", "active"), (4, 6, "35.00", "active")]
    assert pledged_in(cycle, donor, THIS_WEEK) == [Decimal("35.00")]


def test_history_lists_every_record(client, donor, pod, cycle):
    pledge(cycle, donor, "20.00", last_week=5)
    pledge(cycle, donor, "30.00", first_week=6)
    client.force_login(donor)
    response = client.get(url(pod))
    assert [p.amount for p in response.context["history"]] == [
        Decimal("20.00"),
        Decimal("30.00"),
    ]
    assert "1–5" in response.text
    assert "6–15" in response.text


# Invalid input: a form error next to the field, nothing saved


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "more than zero"),
        ("-5", "more than zero"),
        ("12.345", "at most two decimal places"),
        ("twelve", "Enter an amount of money"),
        ("NaN", "Enter an amount of money"),
        ("Infinity", "Enter an amount of money"),
        ("1e400", "Enter an amount of money"),
        ("10000.01", "more than 10,000.00 a week"),
        ("99999999999", "more than 10,000.00 a week"),
        ("", "Enter the amount you want to give each week."),
    ],
)
def test_invalid_amount_gets_a_form_error_and_saves_nothing(
    client, donor, pod, cycle, amount, message
):
    pledge(cycle, donor, "20.00")
    before = timeline(cycle, donor)
    client.force_login(donor)
    response = post(client, pod, amount=amount)
    assert response.status_code == 200
    errors = response.context["form"].errors["amount"]
    assert any(message in error for error in errors), errors
    assert 'aria-invalid="true"' in response.text
    assert timeline(cycle, donor) == before


def test_a_week_in_the_past_is_refused(client, donor, pod, cycle):
    pledge(cycle, donor, "20.00")
    client.force_login(donor)
    for week in ("5", "6", "8", "0", "soon"):
        response = post(client, pod, amount="30", starts=week)
        assert response.status_code == 200
        assert "starts" in response.context["form"].errors
    assert timeline(cycle, donor) == [(1, 15, "20.00", "active")]


def test_pausing_without_a_pledge_is_refused(client, donor, pod, cycle):
    client.force_login(donor)
    response = post(client, pod, action="pause")
    assert response.status_code == 200
    assert "action" in response.context["form"].errors
    assert not Pledge.objects.exists()


def test_cancelling_after_the_pledge_ended_is_refused(client, donor, pod, cycle):
    pledge(cycle, donor, "20.00", last_week=3)
    pledge(cycle, donor, "20.00", first_week=4, status=Pledge.Status.PAUSED)
    client.force_login(donor)
    # Paused from week 4: cancelling from next week is allowed and ends the pause.
    post(client, pod, action="cancel", starts=NEXT_WEEK)
    assert timeline(cycle, donor) == [(1, 3, "20.00", "active"), (4, 6, "20.00", "paused")]
    response = post(client, pod, action="cancel", starts=NEXT_WEEK)
    assert response.status_code == 200
    assert "action" in response.context["form"].errors


# Cycles that have not started, are over, or do not exist


def test_before_the_cycle_starts_a_pledge_starts_in_week_1(client, donor, pod):
    cycle = Cycle.objects.create(
        pod=pod, number=1, starts_on=pod.today() + datetime.timedelta(days=3)
    )
    client.force_login(donor)
    assert "the start of the cycle (week 1," in client.get(url(pod)).text
    post(client, pod, amount="15", starts=1)
    assert timeline(cycle, donor) == [(1, 15, "15.00", "active")]


def test_after_the_cycle_weeks_nothing_can_change(client, donor, pod):
    Cycle.objects.create(pod=pod, number=1, starts_on=pod.today() - datetime.timedelta(weeks=20))
    client.force_login(donor)
    response = post(client, pod, amount="15", starts=16)
    assert response.status_code == 200
    assert "weeks are over" in response.text
    assert not Pledge.objects.exists()


def test_in_the_last_week_nothing_can_change_but_this_weeks_pledge_shows(client, donor, pod):
    # Week 15 of 15 has started: no week is left that a change could start in.
    cycle = Cycle.objects.create(
        pod=pod, number=1, starts_on=pod.today() - datetime.timedelta(weeks=14)
    )
    pledge(cycle, donor, "20.00")
    client.force_login(donor)
    response = client.get(url(pod))
    assert "form" not in response.context
    assert "$20.00 a week, weeks 1 to 15." in response.text
    assert post(client, pod, amount="30", starts=15).status_code == 200
    assert timeline(cycle, donor) == [(1, 15, "20.00", "active")]


def test_without_a_running_cycle_there_is_nothing_to_pledge(client, donor, pod):
    client.force_login(donor)
    response = post(client, pod, amount="15")
    assert response.status_code == 200
    assert "No cycle is running" in response.text
    assert not Pledge.objects.exists()


def test_a_member_who_left_cannot_pledge(client, donor, pod, cycle):
    Membership.objects.filter(user=donor).update(active=False)
    client.force_login(donor)
    assert post(client, pod, amount="15").status_code == 404
    assert not Pledge.objects.exists()


def test_query_count_is_the_same_for_5_and_500_donors(
    client, donor, pod, cycle, django_assert_num_queries
):
    pledge(cycle, donor, "20.00", last_week=5)
    pledge(cycle, donor, "30.00", first_week=6)
    client.force_login(donor)
    add_donors(pod, cycle, 5)
    # 11: the session, the user, the membership and pod, the current cycle, the following
    # cycle (if planned), the donor's pledges, the pod's alerts; what the donor sent,
    # next week's plan, and the week's coverage (pledges and enrollments).
    with django_assert_num_queries(11) as small:
        assert client.get(url(pod)).status_code == 200
    add_donors(pod, cycle, 495, start=5)
    with django_assert_num_queries(11) as large:
        assert client.get(url(pod)).status_code == 200
    assert len(small.captured_queries) == len(large.captured_queries)


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
@pytest.mark.django_db(transaction=True)
def test_two_submits_at_once_leave_one_active_record_per_week(donor, pod, cycle):
    barrier = threading.Barrier(2)
    errors = []

    def submit(amount):
        try:
            barrier.wait(timeout=10)
            services.set_pledge(cycle=cycle, donor=donor, amount=amount, from_week=NEXT_WEEK)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(Decimal(a),)) for a in ("30", "40")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    # The second waited for the first's lock, then replaced its record (which had not
    # begun) instead of adding a second active one for the same weeks.
    for week in range(NEXT_WEEK, 16):
        assert len(pledged_in(cycle, donor, week)) == 1
    statuses = sorted(Pledge.objects.filter(donor=donor).values_list("status", flat=True))
    assert statuses == ["active", "cancelled"]
