"""/r/<secret>/leave/: "I no longer need support", a confirmation, and the whole hand-off
behind it: the slot goes to the next referral, the plan from next week on is rebuilt,
the organizers are emailed, and the enrollments say who left and who took the slot."""

import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from pledges.models import Pledge
from pledges.services import week_plan
from pods.models import Membership
from recipients.models import Enrollment, Referral

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


def url(token):
    return reverse("recipients:leave", args=[token])


@pytest.fixture
def funded(full_cycle, donor, organizer, make_user, pod):
    """Three donors, 175.00 a week each, for the three recipients of the full cycle."""
    carl = make_user("carl@example.org", display_name="Carl")
    Membership.objects.create(pod=pod, user=carl)
    for payer in (donor, organizer, carl):
        Pledge.objects.create(cycle=full_cycle, donor=payer, amount=Decimal("175.00"), last_week=15)
    return full_cycle


@pytest.fixture
def leave(client, django_capture_on_commit_callbacks):
    """Post the leaving form as the recipient's browser would, running what waits for
    the commit (the organizers' email)."""

    def post(token, data=None):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url(token), data or {})

    return post


def paid_in(cycle, week):
    return sorted(line.recipient.display_name for line in week_plan(cycle=cycle, week=week))


def test_the_recipient_is_asked_to_confirm_and_nothing_changes_yet(
    client, recipient_link, enrollment
):
    response = client.get(url(recipient_link))
    assert response.status_code == 200
    assert "Yes, I no longer need support" in response.text
    assert "You do not have to say why." in response.text
    assert list(response.context["form"].fields) == ["reason"]
    assert not response.context["form"].fields["reason"].required
    assert response.headers["Referrer-Policy"] == "same-origin"
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.ACTIVE


def test_leaving_from_the_page_works_with_csrf_checks_on(recipient_link, enrollment):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(url(recipient_link))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = browser.post(
        url(recipient_link), {"csrfmiddlewaretoken": token}, HTTP_ORIGIN="http://testserver"
    )
    assert response.status_code == 302
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.LEFT


def test_leaving_without_the_csrf_token_changes_nothing(recipient_link, enrollment):
    browser = Client(enforce_csrf_checks=True)
    response = browser.post(url(recipient_link), {}, HTTP_ORIGIN="https://elsewhere.example")
    assert response.status_code == 403
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.ACTIVE


def test_leaving_needs_no_reason(client, recipient_link, enrollment):
    response = client.post(url(recipient_link), {})
    assert response.status_code == 302
    assert response.url == reverse("recipients:link", args=[recipient_link])
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.last_week, enrollment.end_reason) == ("left", 6, "")
    assert enrollment.ended_at is not None
    assert "Your last week of support is week 6" in client.get(response.url).text


def test_a_word_for_the_organizers_is_kept(
    leave, recipient_link, enrollment, organizer, mailoutbox
):
    leave(recipient_link, {"reason": "  Found a job at the bakery! "})
    enrollment.refresh_from_db()
    assert enrollment.end_reason == "Found a job at the bakery!"
    assert "Found a job at the bakery!" in mailoutbox[0].body


def test_a_too_long_word_is_refused_with_a_message(client, recipient_link, enrollment):
    response = client.post(url(recipient_link), {"reason": "x" * 201})
    assert response.status_code == 400
    assert "200 characters" in response.text
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.ACTIVE


def test_a_wrong_secret_gets_404_and_nobody_leaves(client, recipient_link, enrollment):
    assert client.get(url("wrong")).status_code == 404
    assert client.post(url("wrong")).status_code == 404
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.ACTIVE


@pytest.mark.parametrize("who", ["outsider", "donor", "organizer"])
def test_signing_in_changes_nothing_the_secret_decides(
    client, recipient_link, enrollment, who, request
):
    client.force_login(request.getfixturevalue(who))
    assert client.post(url("wrong")).status_code == 404
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.ACTIVE


def test_someone_not_enrolled_has_nothing_to_leave(client, recipient_link):
    response = client.get(url(recipient_link))
    assert "There is nothing to leave" in response.text
    assert client.post(url(recipient_link)).status_code == 400


def test_leaving_hands_the_slot_to_the_next_referral_who_is_offered_it(
    client, leave, recipient, recipient_link, funded, make_referral, mailoutbox, organizer, pod
):
    cycle = funded
    assert paid_in(cycle, 7) == ["Ana", "Ben", "Rosa"]
    sam, tia = make_referral("Sam"), make_referral("Tia")

    leave(recipient_link)

    # The enrollment ends after this week (week 6): Rosa is still paid this week.
    rosa = Enrollment.objects.get(recipient=recipient)
    assert (rosa.status, rosa.slot, rosa.last_week) == ("left", 1, 6)
    assert cycle.enrollments.active().count() == 2
    # The next one waiting is offered the slot, and only them.
    sam.refresh_from_db()
    tia.refresh_from_db()
    assert (sam.status, tia.status) == (Referral.Status.OFFERED, Referral.Status.WAITING)
    assert sam.recipient is None
    # The plan from next week on no longer has Rosa; this week's still does.
    assert "Rosa" not in paid_in(cycle, 7)
    assert "Rosa" in paid_in(cycle, 6)
    # The organizers are told, with a way to enroll Sam.
    assert [m.to for m in mailoutbox] == [[organizer.email]]
    message = mailoutbox[0]
    assert message.subject == "Rosa left Maple Street Pod; Sam is next for the slot"
    assert "no longer need support" in message.body
    assert "Their last week is week 6 of cycle 1." in message.body
    assert reverse("recipients:referral_enroll", args=[pod.slug, sam.pk]) in message.body
    # And Sam may now be enrolled from the waitlist (the offer keeps the slot for them).
    client.force_login(organizer)
    waitlist = client.get(reverse("recipients:waitlist", args=[pod.slug]))
    assert waitlist.context["enrollable"] == {sam.pk}


def test_in_an_automatic_pod_the_next_referral_takes_the_slot_at_once(
    leave, recipient, recipient_link, funded, make_referral, mailoutbox, pod
):
    pod.auto_handoff = True
    pod.save()
    cycle = funded
    assert paid_in(cycle, 7) == ["Ana", "Ben", "Rosa"]
    sam = make_referral("Sam", contact="555-0100")

    leave(recipient_link)

    sam.refresh_from_db()
    assert sam.status == Referral.Status.OFFERED
    newcomer = sam.recipient
    assert (newcomer.display_name, newcomer.contact, newcomer.payment_handle) == (
        "Sam",
        "555-0100",
        "",
    )
    # The board reads it from the enrollments: Rosa left slot 1 after week 6, and Sam
    # holds slot 1 from week 7.
    slot_one = list(
        cycle.enrollments.filter(slot=1)
        .order_by("first_week")
        .values_list("recipient__display_name", "status", "first_week", "last_week")
    )
    assert slot_one == [("Rosa", "left", 1, 6), ("Sam", "active", 7, 15)]
    assert cycle.enrollments.active().count() == 3
    assert paid_in(cycle, 7) == ["Ana", "Ben", "Sam"]
    assert paid_in(cycle, 6) == ["Ana", "Ben", "Rosa"]
    body = mailoutbox[0].body
    assert "The slot went to Sam" in body
    assert "add their payment details" in body


def test_leaving_with_nobody_waiting_leaves_the_slot_free(
    leave, recipient_link, funded, mailoutbox
):
    leave(recipient_link)
    assert funded.enrollments.active().count() == 2
    assert "Nobody is waiting" in mailoutbox[0].body


def test_a_second_tap_changes_nothing_and_sends_nothing(
    leave, recipient_link, funded, make_referral, mailoutbox
):
    sam, tia = make_referral("Sam"), make_referral("Tia")
    leave(recipient_link)
    leave(recipient_link)
    assert Referral.objects.filter(status=Referral.Status.OFFERED).get() == sam
    tia.refresh_from_db()
    assert tia.status == Referral.Status.WAITING
    assert len(mailoutbox) == 1


def test_leaving_offers_erasing_now_as_a_choice_of_its_own(client, recipient_link, enrollment):
    page = client.get(url(recipient_link))
    erase = reverse("recipients:erase", args=[recipient_link])
    assert f'href="{erase}"' in page.text
    # Following it asks again, and changes nothing yet.
    confirm = client.get(erase)
    assert "Yes, take me off and erase it now" in confirm.text
    enrollment.refresh_from_db()
    assert enrollment.status == "active"
    assert enrollment.recipient.erased_at is None


def test_erasing_a_wrong_secret_gets_404_and_nothing_is_erased(client, recipient, enrollment):
    assert client.post(reverse("recipients:erase", args=["wrong"])).status_code == 404
    recipient.refresh_from_db()
    assert recipient.erased_at is None
