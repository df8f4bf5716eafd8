"""Moving a referral in the queue: organizers only, only with a reason, and the move is
kept. /pods/<slug>/waitlist/<pk>/ shows it; .../move/ does it."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from recipients.models import Referral, ReferralMove
from recipients.services import move_referral

pytestmark = pytest.mark.django_db


def detail_url(referral):
    return reverse("recipients:referral", args=[referral.pod.slug, referral.pk])


def move_url(referral):
    return reverse("recipients:referral_move", args=[referral.pod.slug, referral.pk])


@pytest.fixture
def queue(make_referral):
    return [make_referral(name) for name in ["Ana", "Ben", "Cal", "Dee"]]


def order(pod):
    return [r.display_name for r in Referral.objects.filter(pod=pod).waiting()]


def test_signed_out_visitor_is_sent_to_sign_in(client, queue):
    for response in (
        client.get(detail_url(queue[2])),
        client.post(move_url(queue[2]), {"to_position": 1, "reason": "x"}),
    ):
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))
    assert not ReferralMove.objects.exists()


def test_member_of_another_pod_gets_404(client, outsider, queue):
    client.force_login(outsider)
    assert client.get(detail_url(queue[2])).status_code == 404
    response = client.post(move_url(queue[2]), {"to_position": 1, "reason": "x"})
    assert response.status_code == 404
    assert not ReferralMove.objects.exists()


def test_donor_gets_403(client, donor, queue):
    client.force_login(donor)
    assert client.get(detail_url(queue[2])).status_code == 403
    response = client.post(move_url(queue[2]), {"to_position": 1, "reason": "x"})
    assert response.status_code == 403
    assert not ReferralMove.objects.exists()


def test_a_referral_of_another_pod_is_404_to_an_organizer(client, organizer, other_pod):
    stranger = Referral.objects.create(pod=other_pod, display_name="Otis")
    client.force_login(organizer)
    assert client.get(detail_url(stranger)).status_code == 404
    moved_elsewhere = reverse("recipients:referral_move", args=["maple", stranger.pk])
    assert client.post(moved_elsewhere, {"to_position": 1, "reason": "x"}).status_code == 404


def test_organizer_sees_the_place_and_the_move_form(client, organizer, queue):
    client.force_login(organizer)
    response = client.get(detail_url(queue[2]))
    assert response.status_code == 200
    assert response.context["place"] == 3
    assert "number 3 in line" in response.text
    assert "Move in the queue" in response.text


def test_organizer_moves_a_referral_up_with_a_reason_that_is_kept(client, organizer, pod, queue):
    client.force_login(organizer)

    response = client.post(
        move_url(queue[2]), {"to_position": "1", "reason": " Eviction on Friday "}
    )

    assert response.status_code == 302
    assert order(pod) == ["Cal", "Ana", "Ben", "Dee"]
    move = ReferralMove.objects.get()
    assert (move.referral, move.moved_by, move.from_position, move.to_position) == (
        queue[2],
        organizer,
        3,
        1,
    )
    assert move.reason == "Eviction on Friday"
    assert "Eviction on Friday" in client.get(detail_url(queue[2])).text


def test_a_move_down_shifts_the_others_up(organizer, pod, queue):
    move_referral(referral=queue[0], to_position=3, reason="Asked to wait a month", by=organizer)
    assert order(pod) == ["Ben", "Cal", "Ana", "Dee"]


def test_later_arrivals_queue_behind_everyone_moved_before(organizer, pod, queue, make_referral):
    move_referral(referral=queue[3], to_position=1, reason="Urgent", by=organizer)
    make_referral("Eve")
    make_referral("Fay")
    assert order(pod) == ["Dee", "Ana", "Ben", "Cal", "Eve", "Fay"]
    move_referral(
        referral=Referral.objects.get(display_name="Fay"),
        to_position=2,
        reason="Urgent",
        by=organizer,
    )
    assert order(pod) == ["Dee", "Fay", "Ana", "Ben", "Cal", "Eve"]
    assert ReferralMove.objects.count() == 2


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"to_position": "1", "reason": ""}, "reason", "Say why this neighbor is moved."),
        ({"to_position": "1", "reason": "   "}, "reason", "Say why this neighbor is moved."),
        ({"to_position": "", "reason": "x"}, "to_position", "Give the new place"),
        ({"to_position": "first", "reason": "x"}, "to_position", "as a number"),
        ({"to_position": "0", "reason": "x"}, "to_position", "1 is the first place."),
        ({"to_position": "5", "reason": "x"}, "to_position", "Choose a place from 1 to 4."),
        ({"to_position": "3", "reason": "x"}, "to_position", "It is already in that place."),
    ],
)
def test_bad_moves_are_refused_and_change_nothing(
    client, organizer, pod, queue, data, field, message
):
    client.force_login(organizer)
    response = client.post(move_url(queue[2]), data)
    assert response.status_code == 400
    assert message in " ".join(response.context["move_form"].errors[field])
    assert order(pod) == ["Ana", "Ben", "Cal", "Dee"]
    assert not Referral.objects.exclude(queue_position=None).exists()
    assert not ReferralMove.objects.exists()


@pytest.mark.parametrize("status", ["offered", "enrolled", "withdrawn"])
def test_only_a_waiting_referral_can_be_moved(organizer, make_referral, queue, status):
    other = make_referral("Zed", status=status)
    with pytest.raises(ValidationError, match="Only a referral that is waiting"):
        move_referral(referral=other, to_position=1, reason="x", by=organizer)
    assert not ReferralMove.objects.exists()


def test_the_database_refuses_a_move_without_a_reason(queue):
    with (
        pytest.raises(IntegrityError, match="recipients_referralmove_reason_not_empty"),
        transaction.atomic(),
    ):
        ReferralMove.objects.create(referral=queue[0], from_position=2, to_position=1, reason="")


def test_the_database_refuses_a_move_to_the_same_place(queue):
    with (
        pytest.raises(IntegrityError, match="recipients_referralmove_positions_differ"),
        transaction.atomic(),
    ):
        ReferralMove.objects.create(referral=queue[0], from_position=2, to_position=2, reason="x")
