"""/pods/<slug>/waitlist/: organizers see who waits, in order of arrival, who is offered
a slot, who may be enrolled now, and every change to the order with its reason."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from recipients.models import Referral, ReferralMove
from recipients.services import move_referral

pytestmark = pytest.mark.django_db


def url(pod):
    return reverse("recipients:waitlist", args=[pod.slug])


def test_signed_out_visitor_is_sent_to_sign_in(client, pod):
    response = client.get(url(pod))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_member_of_another_pod_gets_404(client, outsider, pod):
    client.force_login(outsider)
    assert client.get(url(pod)).status_code == 404


def test_donor_gets_403(client, donor, pod):
    client.force_login(donor)
    assert client.get(url(pod)).status_code == 403


def test_waitlist_is_in_order_of_arrival(client, organizer, pod, cycle, make_referral):
    now = timezone.now()
    # Created out of order on purpose: arrival time decides, not the row id.
    make_referral("Second", at=now - datetime.timedelta(days=2))
    make_referral("Third", at=now - datetime.timedelta(days=1))
    make_referral("First", at=now - datetime.timedelta(days=3), contact="555-0100")
    make_referral("Gone", status=Referral.Status.WITHDRAWN)
    client.force_login(organizer)

    response = client.get(url(pod))

    assert response.status_code == 200
    assert [(place, r.display_name) for place, r in response.context["waiting"]] == [
        (1, "First"),
        (2, "Second"),
        (3, "Third"),
    ]
    assert "555-0100" in response.text
    assert "Gone" not in response.text


def test_only_as_many_as_free_slots_can_be_enrolled_in_order(
    client, organizer, pod, cycle, enrollment, make_referral
):
    first, second, third = (make_referral(n) for n in ["First", "Second", "Third"])
    client.force_login(organizer)

    response = client.get(url(pod))

    # 3 slots, Rosa holds one: the first two waiting may be enrolled.
    assert response.context["free"] == 2
    assert response.context["enrollable"] == {first.pk, second.pk}
    enroll_third = reverse("recipients:referral_enroll", args=[pod.slug, third.pk])
    assert enroll_third not in response.text


def test_an_offer_keeps_its_slot(client, organizer, pod, full_cycle, make_referral):
    offered = make_referral("Offered", status=Referral.Status.OFFERED)
    make_referral("Waiting")
    # Slot 3's recipient left after this week (week 6): the slot is free from week 7.
    full_cycle.enrollments.filter(slot=3).update(status="left", last_week=6)
    client.force_login(organizer)

    response = client.get(url(pod))

    assert response.context["free"] == 0
    assert response.context["enrollable"] == {offered.pk}
    assert [r.display_name for r in response.context["offered"]] == ["Offered"]
    assert "A slot is kept for them" in response.text


def test_moves_and_their_reasons_are_shown(client, organizer, pod, cycle, make_referral):
    make_referral("First")
    moved = make_referral("Second")
    move_referral(referral=moved, to_position=1, reason="Eviction notice this week", by=organizer)
    client.force_login(organizer)

    response = client.get(url(pod))

    assert [r.display_name for _, r in response.context["waiting"]] == ["Second", "First"]
    assert "moved <bdi>Second</bdi> from place 2 to place 1" in response.text
    assert "Eviction notice this week" in response.text


def test_without_a_running_cycle_nobody_can_be_enrolled(client, organizer, pod, make_referral):
    make_referral("Sam")
    client.force_login(organizer)
    response = client.get(url(pod))
    assert response.context["enrollable"] == set()
    assert "No cycle is running" in response.text


def test_query_count_is_the_same_for_a_short_and_a_long_waitlist(
    client, organizer, donor, pod, full_cycle, make_referral, count_queries
):
    client.force_login(organizer)
    make_referral("Offered", status=Referral.Status.OFFERED)
    first = make_referral("Sam")
    move_referral(referral=make_referral("Tia"), to_position=1, reason="Urgent", by=organizer)
    _, small = count_queries(lambda: client.get(url(pod)))
    for n in range(80):
        referral = make_referral(f"Neighbor {n}")
        if n % 10 == 0:
            ReferralMove.objects.create(
                referral=referral, moved_by=organizer, from_position=9, to_position=3, reason="x"
            )
    make_referral("Offered too", status=Referral.Status.OFFERED)
    response, large = count_queries(lambda: client.get(url(pod)))
    assert len(response.context["waiting"]) == 82
    assert response.context["waiting"][1][1] == first
    assert small == large
