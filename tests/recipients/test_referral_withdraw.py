"""/pods/<slug>/waitlist/<pk>/withdraw/: an organizer takes a referral off the waitlist;
a slot kept for it goes to the next one waiting."""

import pytest
from django.urls import reverse

from recipients.models import Referral

pytestmark = pytest.mark.django_db


def url(referral):
    return reverse("recipients:referral_withdraw", args=[referral.pod.slug, referral.pk])


def test_signed_out_visitor_is_sent_to_sign_in(client, make_referral):
    referral = make_referral("Sam")
    response = client.post(url(referral))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    referral.refresh_from_db()
    assert referral.status == Referral.Status.WAITING


def test_member_of_another_pod_gets_404(client, outsider, make_referral):
    referral = make_referral("Sam")
    client.force_login(outsider)
    assert client.post(url(referral)).status_code == 404
    referral.refresh_from_db()
    assert referral.status == Referral.Status.WAITING


def test_donor_gets_403(client, donor, make_referral):
    referral = make_referral("Sam")
    client.force_login(donor)
    assert client.post(url(referral)).status_code == 403
    referral.refresh_from_db()
    assert referral.status == Referral.Status.WAITING


def test_get_is_not_allowed(client, organizer, make_referral):
    referral = make_referral("Sam")
    client.force_login(organizer)
    assert client.get(url(referral)).status_code == 405


def test_organizer_withdraws_a_waiting_referral(client, organizer, pod, cycle, make_referral):
    referral = make_referral("Sam")
    client.force_login(organizer)

    response = client.post(url(referral))

    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == Referral.Status.WITHDRAWN
    assert referral.withdrawn_at is not None
    assert "<bdi>Sam</bdi> is off the waitlist." in client.get(response.url).text


def test_a_slot_kept_for_a_withdrawn_offer_goes_to_the_next_one_waiting(
    client, organizer, pod, full_cycle, make_referral
):
    # Slot 3's recipient left after this week (week 6): the slot is free from week 7.
    full_cycle.enrollments.filter(slot=3).update(status="left", last_week=6)
    offered = make_referral("Offered", status=Referral.Status.OFFERED)
    following = make_referral("Next")
    client.force_login(organizer)

    client.post(url(offered))

    offered.refresh_from_db()
    following.refresh_from_db()
    assert offered.status == Referral.Status.WITHDRAWN
    assert following.status == Referral.Status.OFFERED


def test_a_withdrawn_offer_hands_the_slot_over_at_once_in_an_automatic_pod(
    client, organizer, pod, full_cycle, make_referral
):
    pod.auto_handoff = True
    pod.save()
    # Slot 3's recipient left after this week (week 6): the slot is free from week 7.
    full_cycle.enrollments.filter(slot=3).update(status="left", last_week=6)
    offered = make_referral("Offered", status=Referral.Status.OFFERED)
    following = make_referral("Next")
    client.force_login(organizer)

    client.post(url(offered))

    following.refresh_from_db()
    assert following.status == Referral.Status.OFFERED
    enrollment = following.recipient.enrollments.get()
    assert (enrollment.slot, enrollment.first_week, enrollment.status) == (3, 7, "active")


@pytest.mark.parametrize("status", ["enrolled", "withdrawn"])
def test_a_referral_that_is_not_waiting_cannot_be_withdrawn(
    client, organizer, make_referral, status
):
    referral = make_referral("Sam", status=status)
    client.force_login(organizer)
    response = client.post(url(referral), follow=True)
    assert "Only a waiting or offered referral can be withdrawn." in response.text
    referral.refresh_from_db()
    assert referral.status == status
    assert referral.withdrawn_at is None


def test_an_offer_that_holds_a_slot_must_be_ended_not_withdrawn(
    client, organizer, make_referral, recipient, enrollment
):
    referral = make_referral("Rosa", status=Referral.Status.OFFERED, recipient=recipient)
    client.force_login(organizer)
    response = client.post(url(referral), follow=True)
    assert "end their enrollment instead" in response.text
    referral.refresh_from_db()
    assert referral.status == Referral.Status.OFFERED
