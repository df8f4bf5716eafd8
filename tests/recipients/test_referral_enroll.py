"""/pods/<slug>/waitlist/<pk>/enroll/: an organizer enrolls the referral whose turn it is
(where to pay them, maybe how to reach them, from which week) and gets their private link,
shown this once."""

import re

import pytest
from django.urls import reverse

from pods.models import hash_token
from recipients.models import Enrollment, Recipient, Referral
from recipients.services import end_enrollment

pytestmark = pytest.mark.django_db

GOOD = {"payment_method": "venmo", "payment_handle": "@sam-v", "contact": "", "first_week": "7"}


def url(referral):
    return reverse("recipients:referral_enroll", args=[referral.pod.slug, referral.pk])


def secret_in(response):
    match = re.search(r"/r/([A-Za-z0-9_-]+)/", response.context["link"])
    return match.group(1)


@pytest.fixture
def sam(make_referral, cycle, enrollment):
    """Next in line, with two of the cycle's three slots free (Rosa holds slot 1)."""
    return make_referral("Sam", contact="555-0100", note="Mornings")


def test_signed_out_visitor_is_sent_to_sign_in(client, sam):
    for response in (client.get(url(sam)), client.post(url(sam), GOOD)):
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))
    assert Recipient.objects.count() == 1


def test_member_of_another_pod_gets_404(client, outsider, sam):
    client.force_login(outsider)
    assert client.get(url(sam)).status_code == 404
    assert client.post(url(sam), GOOD).status_code == 404
    assert Recipient.objects.count() == 1


def test_donor_gets_403(client, donor, sam):
    client.force_login(donor)
    assert client.get(url(sam)).status_code == 403
    assert client.post(url(sam), GOOD).status_code == 403
    assert Recipient.objects.count() == 1


def test_form_asks_where_to_pay_and_from_which_week_only(client, organizer, sam):
    client.force_login(organizer)
    response = client.get(url(sam))
    form = response.context["form"]
    # And the language their private page opens in: a preference, not data about them.
    assert list(form.fields) == [
        "payment_method",
        "payment_handle",
        "contact",
        "language",
        "first_week",
    ]
    # This week (6) has started, so its plan is frozen: the first week offered, and the
    # default, is next week; every later one can be chosen.
    assert form["first_week"].value() == 7
    assert [week for week, _ in form.fields["first_week"].choices] == list(range(7, 16))
    assert form["contact"].value() == "555-0100"
    assert response.headers["Cache-Control"].startswith("max-age=0")


def test_organizer_enrolls_the_referral_and_sees_the_private_link_once(
    client, organizer, pod, cycle, sam
):
    client.force_login(organizer)

    response = client.post(url(sam), {**GOOD, "contact": " 555-0199 "})

    assert response.status_code == 200
    recipient = Recipient.objects.get(display_name="Sam")
    assert (recipient.pod, recipient.payment_method, recipient.payment_handle) == (
        pod,
        "venmo",
        "@sam-v",
    )
    assert recipient.contact == "555-0199"
    enrollment = recipient.enrollments.get()
    assert (enrollment.cycle, enrollment.slot, enrollment.first_week, enrollment.last_week) == (
        cycle,
        2,
        7,
        15,
    )
    sam.refresh_from_db()
    assert (sam.status, sam.recipient) == (Referral.Status.ENROLLED, recipient)
    # The secret is on the page and nowhere else: only its hash is stored.
    token = secret_in(response)
    assert token in response.text
    assert "the only time this link is shown" in response.text
    assert recipient.access_token_hash == hash_token(token)
    assert token not in str(Recipient.objects.filter(pk=recipient.pk).values().get())
    assert client.get(reverse("recipients:link", args=[token])).status_code == 200


def test_this_week_has_started_so_enrolling_starts_from_a_later_one(client, organizer, sam):
    client.force_login(organizer)
    response = client.post(url(sam), {**GOOD, "first_week": "6"})
    assert response.status_code == 400
    assert "Choose one of the weeks still to come." in response.context["form"].errors["first_week"]
    assert not Enrollment.objects.filter(recipient__display_name="Sam").exists()
    client.post(url(sam), {**GOOD, "first_week": "9"})
    assert Enrollment.objects.get(recipient__display_name="Sam").first_week == 9


def test_cash_needs_no_handle(client, organizer, sam):
    client.force_login(organizer)
    response = client.post(url(sam), {**GOOD, "payment_method": "cash", "payment_handle": ""})
    assert response.status_code == 200
    assert Recipient.objects.get(display_name="Sam").payment_handle == ""


def test_extra_fields_cannot_change_the_name_or_add_data(client, organizer, sam):
    client.force_login(organizer)
    client.post(
        url(sam),
        {**GOOD, "display_name": "Mallory", "slot": "3", "income": "900", "pod": "2"},
    )
    recipient = Recipient.objects.get(referral=sam)
    assert recipient.display_name == "Sam"
    assert recipient.enrollments.get().slot == 2


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"payment_handle": ""}, "payment_handle", "Give the handle neighbors send the money to."),
        ({"payment_method": "gold"}, "payment_method", "Select a valid choice."),
        ({"first_week": "5"}, "first_week", "Choose one of the weeks still to come."),
        ({"first_week": "16"}, "first_week", "Choose one of the weeks still to come."),
        ({"payment_handle": "x" * 121}, "payment_handle", "120 characters"),
        ({"contact": "x" * 201}, "contact", "200 characters"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_saved(client, organizer, sam, data, field, message):
    client.force_login(organizer)
    response = client.post(url(sam), {**GOOD, **data})
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert Recipient.objects.count() == 1
    sam.refresh_from_db()
    assert sam.status == Referral.Status.WAITING


def test_it_must_be_the_referrals_turn(client, organizer, pod, full_cycle, make_referral):
    # Nobody was waiting when the slot freed, so it is simply free.
    end_enrollment(enrollment=full_cycle.enrollments.get(slot=3), notify=False)
    ahead, behind = make_referral("Ahead"), make_referral("Behind")
    client.force_login(organizer)

    response = client.get(url(behind))
    assert "It is not Behind's turn yet" in response.context["blocked"]
    assert "form" not in response.context
    response = client.post(url(behind), GOOD)
    assert "It is not Behind&#x27;s turn yet" in response.text
    behind.refresh_from_db()
    assert behind.status == Referral.Status.WAITING
    assert client.post(url(ahead), GOOD).status_code == 200


def test_a_full_cycle_takes_nobody(client, organizer, full_cycle, make_referral):
    sam = make_referral("Sam")
    client.force_login(organizer)
    response = client.post(url(sam), GOOD)
    assert "Every slot of this cycle is taken or offered" in response.text
    assert full_cycle.enrollments.count() == 3
    assert not Recipient.objects.filter(display_name="Sam").exists()


def test_without_a_running_cycle_nobody_is_enrolled(client, organizer, make_referral):
    sam = make_referral("Sam")
    client.force_login(organizer)
    response = client.post(url(sam), GOOD)
    assert "No cycle is running" in response.text
    assert not Recipient.objects.exists()


def test_a_second_submit_enrolls_nobody_twice(client, organizer, sam):
    client.force_login(organizer)
    client.post(url(sam), GOOD)
    response = client.post(url(sam), GOOD)
    assert "Sam is not waiting any more" in response.text
    assert Recipient.objects.filter(display_name="Sam").count() == 1


def test_organizer_completes_a_slot_the_pod_handed_over_on_its_own(
    client, organizer, pod, full_cycle, make_referral
):
    pod.auto_handoff = True
    pod.save()
    sam = make_referral("Sam", contact="555-0100")
    end_enrollment(enrollment=full_cycle.enrollments.get(slot=2), notify=False)
    sam.refresh_from_db()
    assert sam.status == Referral.Status.OFFERED
    client.force_login(organizer)

    response = client.get(url(sam))
    assert list(response.context["form"].fields) == [
        "payment_method",
        "payment_handle",
        "contact",
        "language",
    ]
    assert "took a freed slot and is supported from week 7" in response.text
    response = client.post(url(sam), {"payment_method": "cashapp", "payment_handle": "$sam"})

    assert response.status_code == 200
    sam.refresh_from_db()
    assert sam.status == Referral.Status.ENROLLED
    recipient = sam.recipient
    assert (recipient.payment_method, recipient.payment_handle, recipient.contact) == (
        "cashapp",
        "$sam",
        "",
    )
    # A first handle is not a change payers need warning about.
    assert recipient.handle_changed_at is None
    assert recipient.access_token_hash == hash_token(secret_in(response))
    assert recipient.enrollments.get().slot == 2


def test_a_slot_freed_this_week_is_offered_from_next_week_only(
    client, organizer, full_cycle, make_referral
):
    """Ana is ended in week 6 and is still paid that week: enrolling Sam into her slot
    from week 6 would put two people in slot 2 that week."""
    sam = make_referral("Sam")
    end_enrollment(enrollment=full_cycle.enrollments.get(slot=2), notify=False)
    sam.refresh_from_db()
    assert sam.status == Referral.Status.OFFERED
    client.force_login(organizer)

    form = client.get(url(sam)).context["form"]
    assert [week for week, _ in form.fields["first_week"].choices] == list(range(7, 16))
    client.post(url(sam), GOOD)

    slot_two = list(
        full_cycle.enrollments.filter(slot=2)
        .order_by("first_week")
        .values_list("recipient__display_name", "first_week", "last_week")
    )
    assert slot_two == [("Ana", 1, 6), ("Sam", 7, 15)]
    assert full_cycle.enrollments.in_week(6).count() == full_cycle.slots
