"""The cycle form for volunteers: no raw number or status to set. A new cycle is numbered
after the pod's last one; the number and the status are shown, not edited; enrollments
are not changed from the cycle's page."""

import datetime

import pytest
from django.urls import reverse

from pods.models import Cycle
from recipients.models import Enrollment

pytestmark = pytest.mark.django_db


def test_the_add_page_asks_no_number_and_numbers_the_cycle(client, pod, organizer, cycle):
    client.force_login(organizer)
    page = client.get(reverse("admin:pods_cycle_add")).text
    assert 'name="number"' not in page
    assert 'name="status"' not in page

    response = client.post(
        reverse("admin:pods_cycle_add"),
        {
            "pod": pod.pk,
            # Sent anyway, by hand: ignored.
            "number": 7,
            "starts_on": (cycle.ends_on + datetime.timedelta(days=1)).isoformat(),
            "weeks": 15,
            "weekly_amount": "175.00",
            "slots": 3,
        },
    )
    assert response.status_code == 302
    assert list(pod.cycles.order_by("number").values_list("number", flat=True)) == [1, 2]


def test_a_pods_first_cycle_is_number_one(client, pod, organizer):
    client.force_login(organizer)
    client.post(
        reverse("admin:pods_cycle_add"),
        {
            "pod": pod.pk,
            "starts_on": (pod.today() + datetime.timedelta(days=3)).isoformat(),
            "weeks": 15,
            "weekly_amount": "175.00",
            "slots": 3,
        },
    )
    assert Cycle.objects.get(pod=pod).number == 1


def test_the_change_page_shows_number_and_status_without_fields(
    client, organizer, cycle, enrollment
):
    client.force_login(organizer)
    page = client.get(reverse("admin:pods_cycle_change", args=[cycle.pk])).text
    assert 'name="number"' not in page
    assert 'name="enrollments-0-status"' not in page
    assert "Running: week 6 of 15" in page

    # A number and an enrollment's row posted by hand change nothing.
    response = client.post(
        reverse("admin:pods_cycle_change", args=[cycle.pk]),
        {
            "starts_on": cycle.starts_on.isoformat(),
            "weeks": 15,
            "weekly_amount": "175.00",
            "slots": 3,
            "number": 9,
            "enrollments-TOTAL_FORMS": 1,
            "enrollments-INITIAL_FORMS": 1,
            "enrollments-0-id": enrollment.pk,
            "enrollments-0-cycle": cycle.pk,
            "enrollments-0-recipient": enrollment.recipient_id,
            "enrollments-0-slot": 1,
            "enrollments-0-first_week": enrollment.first_week,
            "enrollments-0-last_week": enrollment.last_week,
            "enrollments-0-status": "left",
        },
    )
    assert response.status_code == 302, response.text[:3000]
    cycle.refresh_from_db()
    assert cycle.number == 1
    assert Enrollment.objects.get(pk=enrollment.pk).status == Enrollment.Status.ACTIVE


def test_a_donor_and_an_outsider_cannot_add_cycles(client, pod, donor, outsider):
    data = {
        "pod": pod.pk,
        "starts_on": (pod.today() + datetime.timedelta(days=3)).isoformat(),
        "weeks": 15,
        "weekly_amount": "175.00",
        "slots": 3,
    }
    for person in (donor, outsider):
        client.force_login(person)
        client.post(reverse("admin:pods_cycle_add"), data)
    assert not Cycle.objects.exists()
