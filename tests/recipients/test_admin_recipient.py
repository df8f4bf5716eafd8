"""Recipients in the admin: a changed payment handle is flagged; nothing crosses pods."""

import pytest
from django.urls import reverse

from receipts.retention import erase_now
from recipients.models import Recipient, Referral

pytestmark = pytest.mark.django_db


@pytest.fixture
def organizer_client(client, organizer):
    client.force_login(organizer)
    return client


def change(client, recipient, **fields):
    data = {
        "display_name": recipient.display_name,
        "payment_method": recipient.payment_method,
        "payment_handle": recipient.payment_handle,
        "contact": recipient.contact,
    }
    data.update(fields)
    return client.post(reverse("admin:recipients_recipient_change", args=[recipient.pk]), data)


def test_organizer_sees_the_payment_handle(organizer_client, recipient):
    response = organizer_client.get(reverse("admin:recipients_recipient_changelist"))
    assert "$rosa" in response.text


def test_changing_the_handle_is_recorded(organizer_client, recipient):
    response = change(organizer_client, recipient, payment_handle="$rosanew")
    assert response.status_code == 302
    recipient.refresh_from_db()
    assert recipient.payment_handle == "$rosanew"
    assert recipient.handle_changed_at is not None


def test_a_handle_that_does_not_fit_its_method_is_refused_with_why(organizer_client, recipient):
    response = change(organizer_client, recipient, payment_handle="$rosa-new")
    assert response.status_code == 200
    assert "no dashes, dots or spaces" in response.text
    recipient.refresh_from_db()
    assert recipient.payment_handle == "$rosa"


def test_changing_anything_else_does_not_flag_the_handle(organizer_client, recipient):
    change(organizer_client, recipient, display_name="Rosa M.")
    recipient.refresh_from_db()
    assert recipient.display_name == "Rosa M."
    assert recipient.handle_changed_at is None


def test_new_recipient_is_not_flagged(organizer_client, pod):
    organizer_client.post(
        reverse("admin:recipients_recipient_add"),
        {
            "pod": pod.pk,
            "display_name": "Kai",
            "payment_method": "venmo",
            "payment_handle": "@kaiv1",
        },
    )
    kai = Recipient.objects.get(display_name="Kai")
    assert kai.pod == pod
    assert kai.handle_changed_at is None


def test_outsider_cannot_change_the_handle(client, outsider, recipient):
    client.force_login(outsider)
    response = change(client, recipient, payment_handle="$scammer")
    assert response.status_code == 302
    recipient.refresh_from_db()
    assert recipient.payment_handle == "$rosa"
    assert recipient.handle_changed_at is None


def test_referral_is_credited_to_the_organizer_and_keeps_its_place(
    organizer_client, organizer, pod
):
    organizer_client.post(
        reverse("admin:recipients_referral_add"),
        {"pod": pod.pk, "display_name": "Lee", "status": "waiting", "created_at": "2000-01-01"},
    )
    referral = Referral.objects.get()
    assert referral.referred_by == organizer
    assert referral.created_at.year > 2000


def test_an_erased_recipient_is_shown_read_only_and_nothing_is_written_back(
    organizer_client, admin_user, client, recipient
):
    erase_now(recipient)
    recipient.refresh_from_db()
    label = recipient.display_name
    url = reverse("admin:recipients_recipient_change", args=[recipient.pk])
    page = organizer_client.get(url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.text
    assert (
        change(organizer_client, recipient, display_name="Rosa", contact="555").status_code == 403
    )
    # Not even the site's admin writes her name back.
    client.force_login(admin_user)
    assert change(client, recipient, display_name="Rosa", contact="555").status_code == 403
    recipient.refresh_from_db()
    assert (recipient.display_name, recipient.contact) == (label, "")
