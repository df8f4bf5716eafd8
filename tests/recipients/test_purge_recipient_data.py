"""`manage.py purge_recipient_data`: after the retention window, what the pod knew about a
former recipient is erased, the money history stays under an anonymous label, and a
second run changes nothing."""

import datetime
import io
from decimal import Decimal
from unittest import mock

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db.models import Sum
from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils import timezone

from pods.models import Cycle
from receipts.models import Receipt
from recipients.models import Enrollment, Recipient, Referral
from recipients.services import end_enrollment, enroll

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.RECIPIENT_RETENTION_DAYS = 30


def run(*args):
    out = io.StringIO()
    call_command("purge_recipient_data", *args, stdout=out)
    return out.getvalue()


def days_ago(days):
    return timezone.now() - datetime.timedelta(days=days)


def with_screenshot(receipt):
    receipt.screenshot.save(f"receipt-{receipt.pk}.png", ContentFile(b"\x89PNG fake"), save=True)
    return receipt


def snapshot():
    """Every row the command may touch, to compare a second run against."""
    return {
        "recipients": [model_to_dict(r) for r in Recipient.objects.order_by("pk")],
        "referrals": [model_to_dict(r) for r in Referral.objects.order_by("pk")],
        "enrollments": [model_to_dict(e) for e in Enrollment.objects.order_by("pk")],
        "receipts": list(Receipt.objects.order_by("pk").values()),
    }


@pytest.fixture
def cycle(pod):
    """Cycle 1 (3 slots) started ten weeks ago, now in week 11 of 15: long enough ago
    for someone's support in it to have ended more than a month ago."""
    return Cycle.objects.create(
        pod=pod,
        number=1,
        starts_on=pod.today() - datetime.timedelta(days=7 * 10),
        weeks=15,
        weekly_amount=Decimal("175.00"),
        slots=3,
    )


@pytest.fixture
def former(recipient, recipient_link, enrollment, make_referral, make_receipt):
    """Rosa: referred, paid twice (one receipt with a screenshot), left 40 days ago (in
    week 5, whose last day was 36 days ago) with a word for the organizers."""
    make_referral(
        "Rosa", contact="555-0100", note="Call after 6", recipient=recipient, status="enrolled"
    )
    with_screenshot(make_receipt(recipient, week=1, amount="100.00"))
    make_receipt(recipient, week=2, amount="75.00")
    left_at = days_ago(40)
    with mock.patch.object(timezone, "now", lambda: left_at):
        end_enrollment(enrollment=enrollment, reason="Found work", notify=False)
    enrollment.refresh_from_db()
    assert (enrollment.last_week, enrollment.ended_at) == (5, left_at)
    recipient.refresh_from_db()
    return recipient


def test_a_former_recipients_data_is_erased_and_the_money_history_stays(
    client, former, recipient_link
):
    screenshot = Receipt.objects.exclude(screenshot="").get().screenshot.name
    assert default_storage.exists(screenshot)
    totals_before = Receipt.objects.aggregate(total=Sum("amount"))
    dates_before = list(Receipt.objects.order_by("pk").values_list("amount", "sent_on", "week"))

    output = run()

    former.refresh_from_db()
    label = f"Former recipient {former.pk}"
    assert (former.display_name, former.payment_handle, former.contact) == (label, "", "")
    assert former.access_token_hash == ""
    assert former.erased_at is not None
    referral = Referral.objects.get(recipient=former)
    assert (referral.display_name, referral.contact, referral.note) == (label, "", "")
    assert referral.erased_at is not None
    assert Enrollment.objects.get(recipient=former).end_reason == ""
    # The screenshot is gone from storage and from the receipt; amounts and dates stay.
    assert not default_storage.exists(screenshot)
    assert not Receipt.objects.exclude(screenshot="").exists()
    assert Receipt.objects.aggregate(total=Sum("amount")) == totals_before
    assert list(Receipt.objects.order_by("pk").values_list("amount", "sent_on", "week")) == (
        dates_before
    )
    assert Receipt.objects.filter(recipient=former).count() == 2
    # The private link is dead, and the output holds counts only.
    assert client.get(reverse("recipients:link", args=[recipient_link])).status_code == 404
    assert output.startswith(
        "Erased 1 former recipient(s), 0 withdrawn referral(s), 1 receipt screenshot(s)"
    )
    for personal in ("Rosa", "$rosa", "555-0100", "Found work"):
        assert personal not in output


def test_a_second_run_changes_nothing(former, make_referral):
    make_referral("Gone", contact="x", status="withdrawn", withdrawn_at=days_ago(40))
    run()
    before = snapshot()

    output = run()

    assert snapshot() == before
    assert output.startswith("Erased 0 former recipient(s), 0 withdrawn referral(s), 0")


def test_dry_run_counts_and_changes_nothing(former):
    before = snapshot()
    output = run("--dry-run")
    assert output.startswith("Would erase 1 former recipient(s), 0 withdrawn referral(s), 1")
    assert snapshot() == before


def test_recipients_within_the_window_or_still_enrolled_are_kept(
    former, make_recipient, make_receipt, cycle, pod
):
    recent = make_recipient("Recent", contact="555-0111")
    left_recently = enroll(recipient=recent, cycle=cycle)
    end_enrollment(enrollment=left_recently, notify=False)
    Enrollment.objects.filter(pk=left_recently.pk).update(ended_at=days_ago(29))
    staying = make_recipient("Staying", contact="555-0122")
    with_screenshot(make_receipt(staying))
    enroll(recipient=staying, cycle=cycle)
    never_enrolled = make_recipient("Waiting to start")

    run()

    for kept, name in (
        (recent, "Recent"),
        (staying, "Staying"),
        (never_enrolled, "Waiting to start"),
    ):
        kept.refresh_from_db()
        assert (kept.display_name, kept.erased_at) == (name, None)
    assert Receipt.objects.filter(recipient=staying).exclude(screenshot="").exists()


def test_someone_enrolled_again_after_leaving_is_kept(former, cycle, pod):
    # Cycle 1 is over (its last day was yesterday) and cycle 2 starts today.
    Cycle.objects.filter(pk=cycle.pk).update(
        starts_on=pod.today() - datetime.timedelta(days=7 * cycle.weeks)
    )
    again = Cycle.objects.create(pod=pod, number=2, starts_on=pod.today(), slots=3)
    assert run("--dry-run").startswith("Would erase 1 former recipient(s)")
    enroll(recipient=former, cycle=again)

    run()

    former.refresh_from_db()
    assert (former.display_name, former.erased_at) == ("Rosa", None)


def test_a_support_that_ran_to_the_end_of_a_cycle_long_over_is_over(pod, make_recipient):
    """Nobody ends an enrollment that simply ran its course: once its cycle is over, it
    counts as ended on the cycle's last day."""
    old = Cycle.objects.create(
        pod=pod, number=1, starts_on=pod.today() - datetime.timedelta(days=7 * 15 + 31)
    )
    recent = Cycle.objects.create(
        pod=pod, number=2, starts_on=old.ends_on + datetime.timedelta(days=1), weeks=4
    )
    assert (old.status(), recent.status()) == (Cycle.Status.CLOSED, Cycle.Status.CLOSED)
    long_done = make_recipient("Long done", contact="555-0166")
    enroll(recipient=long_done, cycle=old)
    just_done = make_recipient("Just done", contact="555-0177")
    enroll(recipient=just_done, cycle=recent)

    output = run()

    long_done.refresh_from_db()
    assert (long_done.display_name, long_done.contact) == (f"Former recipient {long_done.pk}", "")
    assert long_done.enrollments.get().status == Enrollment.Status.ACTIVE
    just_done.refresh_from_db()
    assert (just_done.display_name, just_done.erased_at) == ("Just done", None)
    assert output.startswith("Erased 1 former recipient(s)")


def test_the_window_comes_from_the_settings(former, settings):
    settings.RECIPIENT_RETENTION_DAYS = 60
    run()
    former.refresh_from_db()
    assert former.erased_at is None
    settings.RECIPIENT_RETENTION_DAYS = 7
    run()
    former.refresh_from_db()
    assert former.erased_at is not None


def test_withdrawn_referrals_past_the_window_are_erased(make_referral):
    old = make_referral(
        "Old", contact="555-0133", note="n", status="withdrawn", withdrawn_at=days_ago(31)
    )
    # Withdrawn in the admin (no date): the day they were referred counts.
    undated = make_referral("Undated", contact="x", status="withdrawn", at=days_ago(45))
    recent = make_referral(
        "Recent", contact="555-0144", status="withdrawn", withdrawn_at=days_ago(3)
    )
    waiting = make_referral("Waiting long", contact="555-0155", at=days_ago(400))

    output = run()

    old.refresh_from_db()
    assert (old.display_name, old.contact, old.note) == (f"Former referral {old.pk}", "", "")
    assert old.erased_at is not None
    undated.refresh_from_db()
    assert undated.display_name == f"Former referral {undated.pk}"
    for kept in (recent, waiting):
        contact = kept.contact
        kept.refresh_from_db()
        assert (kept.contact, kept.erased_at) == (contact, None)
    assert "2 withdrawn referral(s)" in output


def test_a_screenshot_posted_after_the_erasure_is_deleted_on_the_next_run(former, make_receipt):
    run()
    late = with_screenshot(make_receipt(former, week=3))
    name = late.screenshot.name

    output = run()

    late.refresh_from_db()
    assert late.screenshot.name == ""
    assert not default_storage.exists(name)
    assert "0 former recipient(s), 0 withdrawn referral(s), 1 receipt screenshot(s)" in output
