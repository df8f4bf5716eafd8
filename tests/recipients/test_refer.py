"""/pods/<slug>/refer/: any member refers a neighbor with a name, maybe one way to reach
them and a note, nothing else; and sees what became of the people they referred."""

import uuid

import pytest
from django.forms.models import model_to_dict
from django.urls import reverse

from recipients.models import Referral
from tests.pods.crowd import add_donors

pytestmark = pytest.mark.django_db


def url(pod):
    return reverse("recipients:refer", args=[pod.slug])


def test_signed_out_visitor_is_sent_to_sign_in(client, pod):
    for response in (client.get(url(pod)), client.post(url(pod), {"display_name": "Sam"})):
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))
    assert not Referral.objects.exists()


def test_member_of_another_pod_gets_404(client, outsider, pod):
    client.force_login(outsider)
    assert client.get(url(pod)).status_code == 404
    assert client.post(url(pod), {"display_name": "Sam"}).status_code == 404
    assert not Referral.objects.exists()


@pytest.mark.parametrize("who", ["donor", "organizer"])
def test_any_member_refers_a_neighbor(client, pod, who, request):
    user = request.getfixturevalue(who)
    client.force_login(user)
    assert client.get(url(pod)).status_code == 200

    response = client.post(
        url(pod),
        {
            "display_name": "  Sam ",
            "contact": "555-0100",
            "note": "Evenings are best.",
            "submission_key": str(uuid.uuid4()),
        },
    )

    assert response.status_code == 302
    referral = Referral.objects.get()
    assert (referral.pod, referral.referred_by, referral.display_name) == (pod, user, "Sam")
    assert (referral.contact, referral.note, referral.status) == (
        "555-0100",
        "Evenings are best.",
        Referral.Status.WAITING,
    )
    assert "<bdi>Sam</bdi> is on the waitlist" in client.get(response.url).text


def test_a_name_alone_is_enough(client, donor, pod):
    client.force_login(donor)
    client.post(url(pod), {"display_name": "Sam", "submission_key": str(uuid.uuid4())})
    referral = Referral.objects.get()
    assert (referral.contact, referral.note) == ("", "")


def test_extra_fields_are_ignored_and_nothing_else_is_stored(client, donor, organizer, pod):
    client.force_login(donor)
    client.post(
        url(pod),
        {
            "display_name": "Sam",
            "income": "900",
            "story": "Lost their job",
            "status": "enrolled",
            "queue_position": "1",
            "referred_by": organizer.pk,
            "pod": "999",
            "created_at": "2001-01-01 00:00",
            "submission_key": str(uuid.uuid4()),
        },
    )

    referral = Referral.objects.get()
    stored = model_to_dict(referral, exclude=["id", "created_at"])
    assert stored == {
        "pod": pod.pk,
        "referred_by": donor.pk,
        "display_name": "Sam",
        "contact": "",
        "note": "",
        "status": "waiting",
        "recipient": None,
    }
    assert referral.queue_position is None
    assert referral.created_at.year > 2001


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"display_name": ""}, "display_name", "Give a name for your neighbor"),
        ({"display_name": "   "}, "display_name", "Give a name for your neighbor"),
        ({"display_name": "x" * 81}, "display_name", "Keep the name to 80 characters"),
        ({"display_name": "Sam", "contact": "x" * 201}, "contact", "200 characters"),
        ({"display_name": "Sam", "note": "x" * 501}, "note", "500 characters"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(client, donor, pod, data, field, message):
    client.force_login(donor)
    response = client.post(url(pod), data)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert message in response.text
    assert not Referral.objects.exists()


def test_member_sees_the_status_of_their_own_referrals_only(
    client, donor, organizer, pod, make_referral
):
    make_referral("Ahead", by=organizer)
    make_referral("Sam")
    make_referral("Tia", status=Referral.Status.OFFERED)
    make_referral("Uma", status=Referral.Status.WITHDRAWN)
    make_referral("Someone else's", by=organizer, status=Referral.Status.ENROLLED)
    client.force_login(donor)

    response = client.get(url(pod))

    rows = {row["referral"].display_name: row["place"] for row in response.context["mine"]}
    assert rows == {"Sam": 2, "Tia": None, "Uma": None}
    assert "number 2 in line" in response.text
    assert "offered a slot" in response.text
    assert "withdrawn" in response.text
    assert "Ahead" not in response.text
    assert "Someone else" not in response.text


def test_query_count_does_not_grow_with_the_waitlist(
    client, donor, organizer, pod, make_referral, count_queries
):
    client.force_login(donor)
    add_donors(pod, None, 3)
    make_referral("Sam")
    _, small = count_queries(lambda: client.get(url(pod)))
    for n in range(60):
        make_referral(f"Neighbor {n}", by=organizer if n % 2 else donor)
    response, large = count_queries(lambda: client.get(url(pod)))
    assert len(response.context["mine"]) == 31
    assert small == large
