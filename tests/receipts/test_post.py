"""Posting a receipt at /pods/<slug>/receipts/new/."""

import datetime
import threading
import time
import uuid
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.urls import reverse

from pods.models import Cycle, Membership
from receipts import services
from receipts.images import clean_screenshot
from receipts.models import Receipt
from recipients.models import Enrollment, Recipient
from recipients.services import enroll
from tests.receipts.pictures import jpeg_with_gps, stored_files

pytestmark = pytest.mark.django_db


def url(pod, **query):
    base = reverse("receipts:receipt_create", args=[pod.slug])
    if query:
        base += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return base


def form_data(to, **fields):
    return {
        "recipient": to.pk,
        "week": 6,
        "amount": "175.00",
        "method": "cashapp",
        "sent_on": to.pod.today().isoformat(),
        "reference": "rent help",
        "submission_key": str(uuid.uuid4()),
        **fields,
    }


@pytest.fixture
def today(pod):
    return pod.today()


def test_signed_out_visitor_is_sent_to_sign_in(client, pod, cycle):
    response = client.get(url(pod))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_signed_out_post_saves_nothing(client, pod, cycle, enrollment, recipient):
    response = client.post(url(pod), form_data(recipient))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert not Receipt.objects.exists()


def test_outsider_gets_404(client, outsider, pod, cycle, enrollment, recipient):
    client.force_login(outsider)
    assert client.get(url(pod)).status_code == 404
    assert client.post(url(pod), form_data(recipient)).status_code == 404
    assert not Receipt.objects.exists()


def test_donor_sees_a_short_phone_friendly_form(client, donor, pod, cycle, enrollment):
    client.force_login(donor)
    response = client.get(url(pod))
    assert response.status_code == 200
    text = response.text
    assert 'accept="image/*"' in text
    assert 'enctype="multipart/form-data"' in text
    assert 'inputmode="decimal"' in text
    assert 'type="date"' in text
    assert 'name="submission_key"' in text
    # A donor posts what they paid themselves: no choice of payer.
    assert 'name="payer"' not in text
    form = response.context["form"]
    assert form.initial["week"] == 6
    assert form.initial["sent_on"] == pod.today()
    assert isinstance(form.initial["submission_key"], uuid.UUID)


def test_recipient_choices_are_those_enrolled_in_the_active_cycle(
    client, donor, pod, other_pod, cycle, enrollment
):
    Recipient.objects.create(pod=pod, display_name="Waiting Walt")
    Recipient.objects.create(pod=other_pod, display_name="Elsewhere Ed")
    client.force_login(donor)
    response = client.get(url(pod))
    names = [label for value, label in response.context["form"].fields["recipient"].choices]
    assert names == ["Choose…", "Rosa"]
    # The handle belongs on "this week", to the assigned payer, not on this form.
    assert "$rosa" not in response.text


def test_prefilled_from_the_this_week_link(client, donor, pod, cycle, enrollment, recipient):
    recipient.payment_method = "venmo"
    recipient.save()
    client.force_login(donor)
    response = client.get(url(pod, recipient=recipient.pk, week=5, amount="87.50"))
    initial = response.context["form"].initial
    assert initial["recipient"] == recipient.pk
    assert initial["week"] == 5
    assert initial["amount"] == Decimal("87.50")
    assert initial["method"] == "venmo"
    assert 'value="87.50"' in response.text


@pytest.mark.parametrize(
    "query",
    [
        {"recipient": "abc", "week": "x", "amount": "abc"},
        {"recipient": "999999", "week": "99", "amount": "-5"},
        {"recipient": "", "week": "0", "amount": "NaN"},
        {"amount": "Infinity"},
        {"amount": "1e9"},
        {"amount": "0.001"},
        {"week": "8"},  # further ahead than next week
    ],
)
def test_bad_prefill_values_are_ignored(client, donor, pod, cycle, enrollment, query):
    client.force_login(donor)
    response = client.get(url(pod, **query))
    assert response.status_code == 200
    initial = response.context["form"].initial
    assert "recipient" not in initial
    assert "amount" not in initial
    assert initial["week"] == 6


def test_prefill_ignores_a_recipient_of_another_pod(client, donor, pod, other_pod, cycle):
    stranger = Recipient.objects.create(pod=other_pod, display_name="Elsewhere Ed")
    client.force_login(donor)
    response = client.get(url(pod, recipient=stranger.pk))
    assert "recipient" not in response.context["form"].initial
    assert "Elsewhere Ed" not in response.text


def test_donor_posts_a_receipt_and_lands_on_the_board(
    client, donor, pod, cycle, enrollment, recipient, today
):
    client.force_login(donor)
    data = form_data(recipient, sent_on=today.isoformat(), method="zelle")
    response = client.post(url(pod), data, follow=True)
    assert response.redirect_chain == [(reverse("receipts:board", args=[pod.slug]), 302)]
    receipt = Receipt.objects.get()
    assert receipt.pod == pod
    assert receipt.cycle == cycle
    assert receipt.recipient == recipient
    assert receipt.week == 6
    assert receipt.amount == Decimal("175.00")
    assert receipt.method == "zelle"
    assert receipt.sent_on == today
    assert receipt.reference == "rent help"
    assert receipt.payer == donor
    assert receipt.posted_by == donor
    assert not receipt.screenshot
    assert str(receipt.submission_key) == data["submission_key"]
    assert (
        "Posted: <bdi>$175.00</bdi> to <bdi>Rosa</bdi> for week <bdi>6</bdi>. Thank you!"
    ) in response.text


def test_donor_cannot_post_in_someone_elses_name(
    client, donor, organizer, pod, cycle, enrollment, recipient
):
    client.force_login(donor)
    client.post(url(pod), form_data(recipient, payer=organizer.pk))
    receipt = Receipt.objects.get()
    assert receipt.payer == donor


def test_organizer_posts_for_another_payer(
    client, organizer, donor, pod, cycle, enrollment, recipient
):
    client.force_login(organizer)
    response = client.get(url(pod))
    assert 'name="payer"' in response.text
    assert response.context["form"].initial["payer"] == organizer.pk
    response = client.post(url(pod), form_data(recipient, payer=donor.pk))
    assert response.status_code == 302
    receipt = Receipt.objects.get()
    assert receipt.payer == donor
    assert receipt.posted_by == organizer


def test_organizer_cannot_name_a_payer_outside_the_pod(
    client, organizer, outsider, pod, cycle, enrollment, recipient
):
    client.force_login(organizer)
    response = client.post(url(pod), form_data(recipient, payer=outsider.pk))
    assert response.status_code == 200
    assert "payer" in response.context["form"].errors
    assert not Receipt.objects.exists()


def test_former_member_is_not_a_payer_choice(
    client, organizer, donor, pod, cycle, enrollment, recipient
):
    Membership.objects.filter(pod=pod, user=donor).update(active=False)
    client.force_login(organizer)
    response = client.post(url(pod), form_data(recipient, payer=donor.pk))
    assert "payer" in response.context["form"].errors
    assert not Receipt.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"amount": "0"}, "amount", "The amount must be more than zero."),
        ({"amount": "-5"}, "amount", "The amount must be more than zero."),
        ({"amount": "abc"}, "amount", "Enter an amount of money"),
        ({"amount": "12.345"}, "amount", "Use at most two decimal places"),
        ({"amount": "10000.01"}, "amount", "Please check the amount."),
        ({"amount": ""}, "amount", "This field is required."),
        ({"recipient": ""}, "recipient", "This field is required."),
        ({"recipient": "999999"}, "recipient", "Choose a recipient enrolled in this cycle."),
        ({"week": "8"}, "week", "Choose a week of this cycle up to next week."),
        ({"week": "0"}, "week", "Choose a week of this cycle up to next week."),
        ({"week": "x"}, "week", "Choose a week of this cycle up to next week."),
        ({"method": "bitcoin"}, "method", "Select a valid choice."),
        ({"sent_on": "yesterday"}, "sent_on", "Enter the date you sent it."),
        ({"sent_on": "2001-01-01"}, "sent_on", "This cycle started on"),
        ({"reference": "x" * 121}, "reference", "at most 120 characters"),
    ],
)
def test_invalid_input_shows_an_error_and_saves_nothing(
    client, donor, pod, cycle, enrollment, recipient, fields, field, message
):
    client.force_login(donor)
    response = client.post(url(pod), form_data(recipient, **fields))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors
    assert message in " ".join(errors[field])
    assert message in response.text
    assert not Receipt.objects.exists()


def test_a_date_in_the_future_is_refused(client, donor, pod, cycle, enrollment, recipient, today):
    client.force_login(donor)
    tomorrow = today + datetime.timedelta(days=1)
    response = client.post(url(pod), form_data(recipient, sent_on=tomorrow.isoformat()))
    assert "The date is in the future" in response.text
    assert not Receipt.objects.exists()


def test_a_recipient_of_another_pod_is_refused(
    client, donor, pod, other_pod, cycle, enrollment, recipient
):
    stranger = Recipient.objects.create(pod=other_pod, display_name="Elsewhere Ed")
    other_cycle = Cycle.objects.create(pod=other_pod, number=1, starts_on=cycle.starts_on)
    enroll(recipient=stranger, cycle=other_cycle)
    client.force_login(donor)
    response = client.post(url(pod), form_data(stranger))
    assert "recipient" in response.context["form"].errors
    assert not Receipt.objects.exists()


def test_a_week_after_the_recipient_left_is_refused(
    client, donor, pod, cycle, enrollment, recipient
):
    Enrollment.objects.filter(pk=enrollment.pk).update(status=Enrollment.Status.LEFT, last_week=4)
    client.force_login(donor)
    response = client.post(url(pod), form_data(recipient, week=6))
    assert "Rosa is enrolled for weeks 1 to 4 of this cycle." in response.text
    assert not Receipt.objects.exists()
    # Their earlier weeks can still be posted.
    assert client.post(url(pod), form_data(recipient, week=4)).status_code == 302
    assert Receipt.objects.get().week == 4


def test_next_week_may_be_paid_ahead(client, donor, pod, cycle, enrollment, recipient):
    client.force_login(donor)
    assert client.post(url(pod), form_data(recipient, week=7)).status_code == 302
    assert Receipt.objects.get().week == 7


def test_amount_in_the_readers_language(client, donor, pod, cycle, enrollment, recipient):
    client.force_login(donor)
    response = client.post(
        url(pod), form_data(recipient, amount="87,50"), headers={"accept-language": "es"}
    )
    assert response.status_code == 302
    assert Receipt.objects.get().amount == Decimal("87.50")


def test_double_submit_makes_one_receipt(client, donor, pod, cycle, enrollment, recipient):
    client.force_login(donor)
    data = form_data(recipient)
    first = client.post(url(pod), data)
    assert first.status_code == 302
    receipt = Receipt.objects.get()
    second = client.post(url(pod), data, follow=True)
    assert Receipt.objects.count() == 1
    detail = reverse("receipts:receipt_detail", args=[pod.slug, receipt.pk])
    assert second.redirect_chain == [(detail, 302)]
    assert "You already posted this receipt; here it is." in second.text


def test_someone_elses_submission_key_saves_nothing_and_shows_nothing(
    client, donor, organizer, pod, cycle, enrollment, recipient
):
    client.force_login(organizer)
    data = form_data(recipient, reference="organizer's own")
    assert client.post(url(pod), {**data, "payer": organizer.pk}).status_code == 302
    client.force_login(donor)
    response = client.post(url(pod), {**data, "reference": "mine"})
    assert response.status_code == 200
    assert "This form is out of date" in response.text
    assert "organizer&#x27;s own" not in response.text
    assert Receipt.objects.count() == 1
    # A fresh key is in the form, so posting again works.
    fresh = response.context["form"]["submission_key"].value()
    assert fresh != data["submission_key"]
    assert client.post(url(pod), {**data, "submission_key": fresh}).status_code == 302
    assert Receipt.objects.count() == 2


@pytest.mark.parametrize("key", ["", "not-a-uuid"])
def test_missing_submission_key_saves_nothing(
    client, donor, pod, cycle, enrollment, recipient, key
):
    client.force_login(donor)
    response = client.post(url(pod), form_data(recipient, submission_key=key))
    assert response.status_code == 200
    assert "This form is out of date" in response.text
    assert not Receipt.objects.exists()


def test_without_a_running_cycle_says_so(client, donor, pod, recipient):
    client.force_login(donor)
    response = client.get(url(pod))
    assert response.status_code == 200
    assert "No cycle is running" in response.text
    response = client.post(url(pod), form_data(recipient))
    assert response.status_code == 200
    assert not Receipt.objects.exists()


def test_with_nobody_enrolled_says_so(client, donor, pod, cycle):
    client.force_login(donor)
    response = client.get(url(pod))
    assert "Nobody is enrolled in this cycle yet" in response.text


def test_nav_links_to_posting_and_the_board(client, donor, pod, cycle, enrollment):
    client.force_login(donor)
    text = client.get(url(pod)).text
    assert f'href="{reverse("receipts:board", args=[pod.slug])}"' in text
    assert f'href="{url(pod)}" aria-current="page"' in text


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent transactions")
@pytest.mark.django_db(transaction=True)
def test_two_submits_at_once_make_one_receipt_and_leave_no_stray_file(
    donor, pod, cycle, enrollment, recipient, media_root
):
    key = uuid.uuid4()
    fields = {
        "pod": pod,
        "cycle": cycle,
        "week": 6,
        "recipient": recipient,
        "payer": donor,
        "posted_by": donor,
        "amount": Decimal("175.00"),
        "method": "cashapp",
        "sent_on": pod.today(),
        "submission_key": key,
    }
    outcome = []

    def second_submit():
        try:
            outcome.append(
                services.post_receipt(
                    **fields,
                    screenshot=clean_screenshot(SimpleUploadedFile("a.jpg", jpeg_with_gps())),
                )
            )
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            outcome.append(error)
        finally:
            connection.close()

    # The first submit's row is written but not committed when the second arrives: the
    # second cannot see it, so only the database's unique key can stop a duplicate.
    with transaction.atomic():
        first = Receipt.objects.create(**fields)
        thread = threading.Thread(target=second_submit)
        thread.start()
        time.sleep(1)
    thread.join(timeout=30)

    ((receipt, created),) = outcome
    assert (receipt.pk, created) == (first.pk, False)
    assert Receipt.objects.count() == 1
    assert stored_files(media_root) == []
