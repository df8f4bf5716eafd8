"""The organizers' cycle page at /pods/<slug>/cycle/: the cycle in plain words, and
planning, changing and ending cycles through the services the admin uses too."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from pledges.models import Pledge
from pods.models import Cycle

pytestmark = pytest.mark.django_db


def url(pod, name="pods:cycle", *args):
    return reverse(name, args=[pod.slug, *args])


@pytest.fixture
def organizer_client(client, organizer):
    client.force_login(organizer)
    return client


def test_signed_out_visitor_is_sent_to_sign_in(client, pod, cycle):
    response = client.get(url(pod))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_outsider_gets_404_and_donor_gets_403(client, outsider, donor, pod, cycle):
    client.force_login(outsider)
    assert client.get(url(pod)).status_code == 404
    assert client.post(url(pod, "pods:cycle_plan"), {}).status_code == 404
    client.force_login(donor)
    assert client.get(url(pod)).status_code == 403
    assert client.post(url(pod, "pods:cycle_plan"), {}).status_code == 403
    assert client.post(url(pod, "pods:cycle_end_early"), {"number": "1"}).status_code == 403
    assert Cycle.objects.count() == 1
    cycle.refresh_from_db()
    assert cycle.weeks == 15


def test_the_current_cycle_in_plain_words(organizer_client, pod, cycle, enrollment, donor):
    Pledge.objects.create(cycle=cycle, donor=donor, amount=Decimal("100.00"), last_week=15)
    html = organizer_client.get(url(pod)).content.decode()
    assert "Cycle 1 (running)" in html
    assert "Week 6 of 15." in html
    assert "1 of 3 slots filled" in html
    assert "Short by $75.00 a week." in html
    assert "2 slots are free." in html
    assert "End cycle 1 early" in html
    assert "Plan cycle 2" in html


def test_organizer_plans_the_next_cycle(
    organizer_client, pod, cycle, enrollment, donor, django_capture_on_commit_callbacks
):
    Pledge.objects.create(cycle=cycle, donor=donor, amount=Decimal("100.00"), last_week=15)
    starts = cycle.ends_on + datetime.timedelta(days=8)
    with django_capture_on_commit_callbacks(execute=True):
        response = organizer_client.post(
            url(pod, "pods:cycle_plan"),
            {
                "next-starts_on": starts.isoformat(),
                "next-weeks": "12",
                "next-weekly_amount": "150",
                "next-slots": "4",
            },
        )
    assert response.status_code == 302
    new = Cycle.objects.get(pod=pod, number=2)
    assert (new.starts_on, new.weeks, new.weekly_amount, new.slots) == (
        starts,
        12,
        Decimal("150.00"),
        4,
    )
    # What start_next_cycle carries over, it carries from this page as well.
    assert new.enrollments.count() == 1
    assert new.pledges.get().amount == Decimal("100.00")
    assert [m.to for m in mail.outbox] == [[donor.email]]
    cycle.refresh_from_db()
    assert cycle.weeks == 15
    html = organizer_client.get(url(pod)).content.decode()
    assert "Cycle 2 is planned" in html
    assert "Change cycle 2" in html


def test_a_next_cycle_overlapping_the_current_one_is_refused_next_to_the_field(
    organizer_client, pod, cycle
):
    response = organizer_client.post(
        url(pod, "pods:cycle_plan"),
        {
            "next-starts_on": cycle.ends_on.isoformat(),
            "next-weeks": "15",
            "next-weekly_amount": "175",
            "next-slots": "3",
        },
    )
    assert response.status_code == 200
    assert "the next one can start on" in str(response.context["next_form"].errors["starts_on"])
    assert not Cycle.objects.filter(number=2).exists()


def test_planning_twice_makes_one_cycle(organizer_client, pod, cycle):
    data = {
        "next-starts_on": (cycle.ends_on + datetime.timedelta(days=1)).isoformat(),
        "next-weeks": "15",
        "next-weekly_amount": "175",
        "next-slots": "3",
    }
    assert organizer_client.post(url(pod, "pods:cycle_plan"), data).status_code == 302
    assert organizer_client.post(url(pod, "pods:cycle_plan"), data).status_code == 302
    assert Cycle.objects.filter(pod=pod).count() == 2


def test_organizer_changes_the_planned_cycle(organizer_client, pod, cycle):
    following = Cycle.objects.create(
        pod=pod, number=2, starts_on=cycle.ends_on + datetime.timedelta(days=1), slots=3
    )
    later = following.starts_on + datetime.timedelta(days=7)
    response = organizer_client.post(
        url(pod, "pods:cycle_change"),
        {
            "number": "2",
            "change-starts_on": later.isoformat(),
            "change-weekly_amount": "180",
            "change-slots": "5",
        },
    )
    assert response.status_code == 302
    following.refresh_from_db()
    assert (following.starts_on, following.weekly_amount, following.slots) == (
        later,
        Decimal("180.00"),
        5,
    )


def test_a_planned_cycle_cannot_move_into_the_running_one(organizer_client, pod, cycle):
    following = Cycle.objects.create(
        pod=pod, number=2, starts_on=cycle.ends_on + datetime.timedelta(days=1)
    )
    response = organizer_client.post(
        url(pod, "pods:cycle_change"),
        {
            "number": "2",
            "change-starts_on": cycle.ends_on.isoformat(),
            "change-weekly_amount": "175",
            "change-slots": "3",
        },
    )
    assert response.status_code == 200
    assert "can start on" in str(response.context["change_form"].errors["starts_on"])
    following.refresh_from_db()
    assert following.starts_on == cycle.ends_on + datetime.timedelta(days=1)


def test_a_running_cycle_cannot_be_changed_here(organizer_client, pod, cycle):
    response = organizer_client.post(
        url(pod, "pods:cycle_change"),
        {
            "number": "1",
            "change-starts_on": "2030-01-01",
            "change-weekly_amount": "1",
            "change-slots": "1",
        },
    )
    assert response.status_code == 302
    cycle.refresh_from_db()
    assert cycle.weekly_amount == Decimal("175.00")


def test_ending_early_says_what_it_ends_then_ends_it(
    organizer_client, pod, cycle, enrollment, donor
):
    Pledge.objects.create(cycle=cycle, donor=donor, amount=Decimal("100.00"), last_week=15)
    response = organizer_client.get(url(pod, "pods:cycle_end_early"))
    html = response.content.decode()
    assert "Cycle 1 will end after week 6" in html
    assert "9 weeks that have not started are dropped" in html
    assert (
        "1 recipient is supported through week 6 and carries over into the next cycle, "
        "as at the end of any cycle." in html
    )
    assert (
        "1 donor's pledge runs through week 6 and carries over into the next cycle, "
        "as at the end of any cycle." in html
    )
    cycle.refresh_from_db()
    assert cycle.weeks == 15
    response = organizer_client.post(url(pod, "pods:cycle_end_early"), {"number": "1"})
    assert response.status_code == 302
    cycle.refresh_from_db()
    assert cycle.weeks == 6
    assert cycle.ended_early_at is not None


def test_a_cycle_not_started_cannot_end_early(organizer_client, pod):
    Cycle.objects.create(pod=pod, number=1, starts_on=pod.today() + datetime.timedelta(days=3))
    response = organizer_client.post(url(pod, "pods:cycle_end_early"), {"number": "1"})
    assert response.status_code == 302
    assert Cycle.objects.get().ended_early_at is None


def test_a_new_pod_plans_its_first_cycle(organizer_client, pod):
    html = organizer_client.get(url(pod)).content.decode()
    assert "Plan the first cycle" in html
    starts = pod.today() + datetime.timedelta(days=3)
    response = organizer_client.post(
        url(pod, "pods:cycle_plan"),
        {
            "first-starts_on": starts.isoformat(),
            "first-weeks": "15",
            "first-weekly_amount": "175",
            "first-slots": "11",
        },
    )
    assert response.status_code == 302
    cycle = Cycle.objects.get(pod=pod)
    assert (cycle.number, cycle.starts_on, cycle.slots) == (1, starts, 11)


def test_invalid_input_saves_nothing(organizer_client, pod, cycle):
    response = organizer_client.post(
        url(pod, "pods:cycle_plan"),
        {"next-starts_on": "soon", "next-weeks": "0", "next-weekly_amount": "-1", "next-slots": ""},
    )
    assert response.status_code == 200
    assert set(response.context["next_form"].errors) == {
        "starts_on",
        "weeks",
        "weekly_amount",
        "slots",
    }
    assert Cycle.objects.count() == 1


def test_the_page_costs_the_same_queries_whatever_the_pod_size(
    organizer_client, pod, cycle, django_assert_max_num_queries
):
    from tests.pods.crowd import add_donors

    add_donors(pod, cycle, 100)
    with django_assert_max_num_queries(14):
        assert organizer_client.get(url(pod)).status_code == 200


def test_after_an_early_end_the_next_cycle_is_offered_the_pods_default_weeks(
    organizer_client, pod, cycle, enrollment
):
    pod.default_weeks = 12
    pod.save(update_fields=["default_weeks"])
    organizer_client.post(url(pod, "pods:cycle_end_early"), {"number": "1"})
    cycle.refresh_from_db()
    assert cycle.weeks == 6
    response = organizer_client.get(url(pod))
    assert response.context["next_form"].initial["weeks"] == 12
