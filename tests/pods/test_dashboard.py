import datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from pledges.models import Pledge
from pods.models import Cycle, Membership, Pod
from recipients.models import Enrollment, Recipient
from recipients.services import end_enrollment, enroll, free_slots
from tests.pods.crowd import add_donors

pytestmark = pytest.mark.django_db


def url(pod):
    return reverse("pods:dashboard", args=[pod.slug])


def pledge(cycle, donor, amount, first_week=1, last_week=15, status=Pledge.Status.ACTIVE):
    return Pledge.objects.create(
        cycle=cycle,
        donor=donor,
        amount=Decimal(amount),
        first_week=first_week,
        last_week=last_week,
        status=status,
    )


def enroll_new(pod, cycle, name):
    recipient = Recipient.objects.create(pod=pod, display_name=name, payment_handle=f"${name}")
    return enroll(recipient=recipient, cycle=cycle)


def test_signed_out_visitor_is_sent_to_sign_in(client, pod):
    response = client.get(url(pod))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_member_of_another_pod_gets_404(client, outsider, pod, cycle):
    client.force_login(outsider)
    assert client.get(url(pod)).status_code == 404


def test_unknown_pod_gets_404(client, donor):
    client.force_login(donor)
    assert client.get(reverse("pods:dashboard", args=["nowhere"])).status_code == 404


def test_former_member_gets_404(client, donor, pod, cycle):
    Membership.objects.filter(pod=pod, user=donor).update(active=False)
    client.force_login(donor)
    assert client.get(url(pod)).status_code == 404


def test_donor_sees_week_slots_and_hand_computed_shortfall(
    client, donor, organizer, pod, other_pod, cycle, make_user
):
    # Two of the three slots filled: 2 × 175.00 = 350.00 needed in week 6.
    enroll_new(pod, cycle, "Rosa")
    enroll_new(pod, cycle, "Tomás")
    # Counted in week 6: 100.00 + 150.00 = 250.00, from two neighbors.
    pledge(cycle, donor, "100.00")
    pledge(cycle, organizer, "150.00", first_week=6)
    # Not counted: ended before week 6, starts after it, paused, cancelled.
    someone = make_user("sam@example.org")
    Membership.objects.create(pod=pod, user=someone)
    pledge(cycle, someone, "40.00", last_week=5)
    pledge(cycle, someone, "60.00", first_week=7)
    pledge(cycle, someone, "70.00", first_week=6, last_week=6, status=Pledge.Status.PAUSED)
    pledge(cycle, someone, "80.00", first_week=6, status=Pledge.Status.CANCELLED)
    # Nor another pod's pledges.
    other_cycle = Cycle.objects.create(pod=other_pod, number=1, starts_on=cycle.starts_on)
    pledge(other_cycle, someone, "500.00")

    client.force_login(donor)
    response = client.get(url(pod))

    assert response.status_code == 200
    coverage = response.context["coverage"]
    assert (coverage.week, coverage.recipients, coverage.donors) == (6, 2, 2)
    assert coverage.needed == Decimal("350.00")
    assert coverage.pledged == Decimal("250.00")
    assert coverage.shortfall == Decimal("100.00")
    assert coverage.percent == 71  # 250 / 350 = 71.4%, rounded down
    text = response.text
    assert "Cycle 1" in text
    assert "week 6 of 15" in text
    assert "2 of 3 slots filled" in text
    assert "$250.00" in text
    assert "$350.00" in text
    assert "Short by $100.00 a week." in text
    assert "71% covered" in text
    assert 'max="350.00"' in text
    assert 'value="250.00"' in text
    assert "You pledge $100.00 a week." in text


def test_dashboard_never_names_recipients_or_their_handles(client, donor, pod, cycle):
    enroll_new(pod, cycle, "Rosa")
    client.force_login(donor)
    text = client.get(url(pod)).text
    assert "Rosa" not in text
    assert "$Rosa" not in text


def test_organizer_sees_surplus(client, organizer, donor, pod, cycle, enrollment):
    # One recipient: 175.00 needed; 100.00 + 100.00 = 200.00 pledged, 25.00 to spare.
    pledge(cycle, organizer, "100.00")
    pledge(cycle, donor, "100.00")
    client.force_login(organizer)
    response = client.get(url(pod))
    assert response.status_code == 200
    assert response.context["coverage"].surplus == Decimal("25.00")
    assert "$25.00 a week more than needed." in response.text
    assert "1 of 3 slots filled" in response.text


def test_exactly_covered_says_so(client, donor, pod, cycle, enrollment):
    pledge(cycle, donor, "175.00")
    client.force_login(donor)
    response = client.get(url(pod))
    assert "Exactly covered." in response.text
    assert "100% covered" in response.text


def test_a_recipient_leaving_this_week_is_still_needed_this_week(
    client, organizer, pod, cycle, enrollment
):
    """Leaving ends support after the current week: this week they are still paid and
    still hold their slot, so slots filled, recipients and need are all of week 6 and
    agree with the weekly plan. Their slot is free from week 7."""
    tomas = enroll_new(pod, cycle, "Tomás")
    end_enrollment(enrollment=tomas, notify=False)
    tomas.refresh_from_db()
    assert (tomas.status, tomas.last_week) == (Enrollment.Status.LEFT, 6)
    # Left after week 4: not needed in week 6. Left before beginning: never needed.
    earlier = enroll_new(pod, cycle, "Ana")
    Enrollment.objects.filter(pk=earlier.pk).update(status=Enrollment.Status.LEFT, last_week=4)
    recipient = Recipient.objects.create(pod=pod, display_name="Ben", payment_handle="$ben")
    never = enroll(recipient=recipient, cycle=cycle, first_week=7)
    Enrollment.objects.filter(pk=never.pk).update(status=Enrollment.Status.LEFT, last_week=6)

    client.force_login(organizer)
    response = client.get(url(pod))

    coverage = response.context["coverage"]
    assert (coverage.week, coverage.recipients) == (6, 2)
    assert coverage.needed == Decimal("350.00")
    assert "Week 6: 2 of 3 slots filled" in response.text
    assert "2 recipients × $175.00 a week" in response.text
    assert tomas.slot in free_slots(cycle, 7)
    assert tomas.slot not in free_slots(cycle, 6)
    # The same need as the organizers' weekly plan for this week.
    plan = client.get(reverse("pods:this_week", args=[pod.slug]))
    assert plan.context["needed"] == coverage.needed


def test_a_recipient_who_left_last_week_is_no_longer_needed(client, donor, pod, cycle, enrollment):
    Enrollment.objects.filter(pk=enrollment.pk).update(status=Enrollment.Status.LEFT, last_week=5)
    client.force_login(donor)
    coverage = client.get(url(pod)).context["coverage"]
    assert (coverage.recipients, coverage.needed) == (0, Decimal("0.00"))


def test_no_recipient_means_nothing_needed_yet(client, donor, pod, cycle):
    client.force_login(donor)
    response = client.get(url(pod))
    assert response.context["coverage"].needed == Decimal("0.00")
    assert "nothing is needed yet" in response.text
    assert "<meter" not in response.text


def test_before_the_cycle_starts_shows_its_date_and_first_week(client, donor, pod):
    starts = pod.today() + datetime.timedelta(days=10)
    cycle = Cycle.objects.create(pod=pod, number=1, starts_on=starts, slots=11)
    pledge(cycle, donor, "30.00")
    client.force_login(donor)
    response = client.get(url(pod))
    assert "starts " in response.text
    assert "week 1 of" not in response.text
    assert response.context["coverage"].week == 1
    assert response.context["coverage"].pledged == Decimal("30.00")
    assert "0 of 11 slots filled" in response.text


def test_without_a_running_cycle_says_so(client, donor, pod):
    client.force_login(donor)
    response = client.get(url(pod))
    assert response.status_code == 200
    assert "No cycle is running." in response.text


def test_money_follows_the_readers_language(client, donor, pod, cycle, enrollment):
    pledge(cycle, donor, "1925.00")
    client.force_login(donor)
    response = client.get(url(pod), headers={"accept-language": "es"})
    # Spanish (CLDR) groups with a point, writes decimals with a comma, the currency after.
    assert "1.925,00\xa0US$" in response.text


def test_seed_demo_pod_coverage_matches_hand_computed_values(client):
    call_command("seed_demo", "--force", stdout=StringIO())
    pod = Pod.objects.get(slug="northside")
    sam = pod.memberships.get(user__email="donor@northside.example").user
    client.force_login(sam)
    response = client.get(url(pod))
    coverage = response.context["coverage"]
    # Cycle 4, week 6: 11 recipients × 175.00 = 1,925.00 needed. 104 donors pledge a
    # pattern of eight amounts that sums to 150.00: 104 / 8 = 13 × 150.00 = 1,950.00.
    assert coverage.recipients == 11
    assert coverage.needed == Decimal("11") * Decimal("175.00") == Decimal("1925.00")
    assert coverage.donors == 104
    assert coverage.pledged == Decimal("1950.00")
    assert coverage.surplus == Decimal("25.00")
    text = response.text
    assert "week 6 of 15" in text
    assert "11 of 11 slots filled" in text
    assert "$1,925.00" in text
    assert "$1,950.00" in text
    assert "$25.00 a week more than needed." in text


def test_query_count_is_the_same_for_5_and_500_donors(
    client, donor, pod, cycle, enrollment, django_assert_num_queries
):
    # Session, user, membership and pod, current cycle, the next cycle if planned,
    # pledged, recipients of the week, your pledge, alerts.
    client.force_login(donor)
    add_donors(pod, cycle, 5)
    with django_assert_num_queries(9) as small:
        assert client.get(url(pod)).status_code == 200
    add_donors(pod, cycle, 495, start=5)
    with django_assert_num_queries(9) as large:
        response = client.get(url(pod))
    assert response.context["coverage"].donors == 500
    assert len(small.captured_queries) == len(large.captured_queries)
