"""A donor's week in one minute: the pay link of each method, "I sent it", the share
target (staged, then confirmed by the normal form), what I gave, and the notices."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from pledges import services
from pledges.models import Pledge
from pods.models import Invitation, Membership
from receipts.models import Receipt, StagedScreenshot
from recipients.models import PaymentMethod
from recipients.payment import handle_problem, pay_link

pytestmark = pytest.mark.django_db

WEEK = 6  # the `cycle` fixture started five weeks ago


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def png_upload(name="shot.png"):
    buffer = io.BytesIO()
    Image.new("RGB", (30, 60), (200, 10, 10)).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@pytest.fixture
def payer_of_rosa(cycle, donor, recipient, enrollment):
    Pledge.objects.create(cycle=cycle, donor=donor, amount=Decimal("175.00"), last_week=15)
    plan = services.week_plan(cycle=cycle, week=WEEK)
    assert [(line.payer_id, line.recipient_id) for line in plan] == [(donor.pk, recipient.pk)]
    return donor


# The links, method by method.


@pytest.mark.parametrize(
    ("method", "handle", "amount", "link"),
    [
        (PaymentMethod.CASH_APP, "$rosa", "175.00", "https://cash.app/$rosa/175"),
        (PaymentMethod.CASH_APP, "Rosa22", "87.50", "https://cash.app/$Rosa22/87.50"),
        (
            PaymentMethod.VENMO,
            "@tomas-pays",
            "175.00",
            "https://venmo.com/?txn=pay&recipients=tomas-pays&amount=175"
            "&note=Maple%20Street%20Pod%2C%20week%206",
        ),
        (PaymentMethod.PAYPAL, "RayM", "20.05", "https://paypal.me/RayM/20.05"),
    ],
)
def test_each_method_links_with_amount_and_note_encoded(method, handle, amount, link):
    assert (
        pay_link(
            method=method,
            handle=handle,
            amount=Decimal(amount),
            currency="USD",
            note="Maple Street Pod, week 6",
        )
        == link
    )


@pytest.mark.parametrize(
    ("method", "handle"),
    [
        (PaymentMethod.CASH_APP, "$tomas-demo"),
        (PaymentMethod.CASH_APP, "$123"),
        (PaymentMethod.CASH_APP, "$abc/../evil"),
        (PaymentMethod.CASH_APP, "$" + "a" * 21),
        (PaymentMethod.VENMO, "@ab"),
        (PaymentMethod.VENMO, "@bob&amount=9999"),
        (PaymentMethod.PAYPAL, "paypal.me/ray-demo"),
        (PaymentMethod.PAYPAL, "ray demo"),
    ],
)
def test_a_handle_that_fails_validation_gets_no_link_and_a_reason(method, handle):
    assert handle_problem(method, handle)
    link = pay_link(method=method, handle=handle, amount=Decimal("5"), currency="USD", note="n")
    assert link == ""


def test_methods_without_a_link_form_get_none():
    for method, handle in [(PaymentMethod.ZELLE, "joon@example.net"), (PaymentMethod.CASH, "")]:
        assert handle_problem(method, handle) == ""
        assert (
            pay_link(method=method, handle=handle, amount=Decimal("5"), currency="USD", note="n")
            == ""
        )


def test_zelle_takes_an_email_or_a_phone_number():
    assert handle_problem(PaymentMethod.ZELLE, "(312) 555-0117") == ""
    assert handle_problem(PaymentMethod.ZELLE, "not a handle")


def test_an_app_that_cannot_carry_the_pods_currency_gets_no_link():
    assert (
        pay_link(
            method=PaymentMethod.VENMO,
            handle="@tomas-pays",
            amount=Decimal("5"),
            currency="EUR",
            note="",
        )
        == ""
    )
    assert (
        pay_link(
            method=PaymentMethod.PAYPAL, handle="RayM", amount=Decimal("5"), currency="EUR", note=""
        )
        == "https://paypal.me/RayM/5EUR"
    )


# On "This week".


def test_the_assigned_payer_sees_the_pay_link_and_i_sent_it(client, pod, cycle, payer_of_rosa):
    client.force_login(payer_of_rosa)
    html = client.get(reverse("pods:this_week", args=[pod.slug])).text
    assert 'href="https://cash.app/$rosa/175"' in html
    assert "I sent it" in html
    sent = (
        reverse("receipts:receipt_create", args=[pod.slug])
        + f"?recipient={cycle.enrollments.get().recipient_id}"
        f"&amp;week={WEEK}&amp;amount=175.00&amp;method=cashapp"
    )
    assert sent in html


def test_other_members_never_see_the_link(client, pod, cycle, payer_of_rosa, make_user, outsider):
    other = make_user("omar@example.org", display_name="Omar")
    Membership.objects.create(pod=pod, user=other)
    client.force_login(other)
    assert "cash.app" not in client.get(reverse("pods:this_week", args=[pod.slug])).text
    client.force_login(outsider)
    assert client.get(reverse("pods:this_week", args=[pod.slug])).status_code == 404


def test_organizers_see_the_handle_but_pay_only_their_own_lines(
    client, pod, cycle, organizer, payer_of_rosa
):
    client.force_login(organizer)
    html = client.get(reverse("pods:this_week", args=[pod.slug])).text
    assert "$rosa" in html
    assert "I sent it" not in html


def test_a_stored_handle_that_does_not_fit_gets_copy_instead_of_a_link(
    client, pod, cycle, recipient, payer_of_rosa
):
    recipient.payment_handle = "$rosa-old"
    recipient.save()
    client.force_login(payer_of_rosa)
    html = client.get(reverse("pods:this_week", args=[pod.slug])).text
    assert "cash.app" not in html
    assert "data-copy=" in html
    assert "js/copy.js" in html


def test_i_sent_it_prefills_recipient_week_amount_and_method(
    client, pod, cycle, recipient, payer_of_rosa
):
    client.force_login(payer_of_rosa)
    response = client.get(
        reverse("receipts:receipt_create", args=[pod.slug]),
        {"recipient": recipient.pk, "week": WEEK, "amount": "175.00", "method": "venmo"},
    )
    initial = response.context["form"].initial
    assert (initial["recipient"], initial["week"], initial["amount"], initial["method"]) == (
        recipient.pk,
        WEEK,
        Decimal("175.00"),
        "venmo",
    )


def test_after_posting_the_line_shows_as_sent(client, pod, cycle, recipient, payer_of_rosa):
    client.force_login(payer_of_rosa)
    form = client.get(
        reverse("receipts:receipt_create", args=[pod.slug]),
        {"recipient": recipient.pk, "week": WEEK, "amount": "175.00", "method": "cashapp"},
    ).context["form"]
    data = {name: form.initial.get(name, "") for name in form.fields}
    data["sent_on"] = form.initial["sent_on"].isoformat()
    response = client.post(reverse("receipts:receipt_create", args=[pod.slug]), data)
    assert response.status_code == 302
    html = client.get(reverse("pods:this_week", args=[pod.slug])).text
    assert "Done: receipts posted for $175.00" in html
    assert "cash.app" not in html


# The manifest and the share target.


def test_the_manifest_names_the_app_its_icons_and_share_target(client):
    manifest = client.get(reverse("manifest")).json()
    assert manifest["name"] == "Mutual-aid pod"
    assert manifest["dir"] == "ltr"
    assert {icon["sizes"] for icon in manifest["icons"]} == {"192x192", "512x512"}
    assert manifest["share_target"]["action"] == reverse("share_target")
    assert manifest["share_target"]["method"] == "POST"
    assert manifest["share_target"]["params"]["files"][0]["name"] == "screenshot"


def test_the_manifest_follows_a_right_to_left_language(client):
    manifest = client.get(reverse("manifest"), headers={"accept-language": "ar"}).json()
    assert (manifest["lang"], manifest["dir"]) == ("ar", "rtl")


def test_sharing_signed_out_stages_nothing(client):
    response = client.post(reverse("share_target"), {"screenshot": png_upload()})
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert not StagedScreenshot.objects.exists()


def test_sharing_stages_the_picture_and_opens_the_form_on_the_open_line(
    pod, cycle, recipient, payer_of_rosa
):
    client = Client(enforce_csrf_checks=True)
    client.force_login(payer_of_rosa)
    response = client.post(reverse("share_target"), {"screenshot": png_upload()})
    staged = StagedScreenshot.objects.get(owner=payer_of_rosa)
    assert response.status_code == 302
    assert response.url == (
        reverse("receipts:receipt_create", args=[pod.slug])
        + f"?staged={staged.pk}&recipient={recipient.pk}&week={WEEK}&amount=175.00&method=cashapp"
    )
    assert not Receipt.objects.exists()  # sharing alone posts nothing

    page = client.get(response.url)
    assert page.context["staged"] == staged
    csrf = page.context["csrf_token"]
    form = page.context["form"]
    data = {name: form.initial.get(name, "") for name in form.fields}
    data.update(sent_on=form.initial["sent_on"].isoformat(), staged=staged.pk)
    url = reverse("receipts:receipt_create", args=[pod.slug])
    # Without the CSRF token: refused, nothing posted.
    assert client.post(url, data).status_code == 403
    assert not Receipt.objects.exists()
    response = client.post(url, {**data, "csrfmiddlewaretoken": str(csrf)})
    assert response.status_code == 302
    receipt = Receipt.objects.get()
    assert (receipt.recipient, receipt.amount, receipt.week) == (recipient, Decimal("175.00"), 6)
    assert receipt.screenshot.name.endswith(".png")
    assert not StagedScreenshot.objects.exists()


def test_a_staged_screenshot_is_its_owners_alone(client, pod, cycle, organizer, payer_of_rosa):
    client.force_login(payer_of_rosa)
    client.post(reverse("share_target"), {"screenshot": png_upload()})
    staged = StagedScreenshot.objects.get()
    url = reverse("receipts:staged_screenshot", args=[pod.slug, staged.pk])
    assert client.get(url).status_code == 200
    client.force_login(organizer)
    assert client.get(url).status_code == 404
    # Nor can another member attach it to a receipt of theirs.
    page = client.get(reverse("receipts:receipt_create", args=[pod.slug]), {"staged": staged.pk})
    assert page.context["staged"] is None


def test_sharing_something_that_is_not_an_image_is_refused(client, payer_of_rosa):
    client.force_login(payer_of_rosa)
    bad = SimpleUploadedFile("x.png", b"not a picture", content_type="image/png")
    response = client.post(reverse("share_target"), {"screenshot": bad})
    assert response.status_code == 400
    assert not StagedScreenshot.objects.exists()


# What I gave.


def test_the_pledge_page_totals_live_receipts_this_cycle_and_since_joining(
    client, pod, cycle, recipient, payer_of_rosa
):
    for week, amount, void in [(5, "100.00", False), (6, "50.00", False), (6, "25.00", True)]:
        receipt = Receipt.objects.create(
            pod=pod,
            cycle=cycle,
            week=week,
            recipient=recipient,
            payer=payer_of_rosa,
            amount=Decimal(amount),
            method="cashapp",
            sent_on=pod.today(),
            posted_by=payer_of_rosa,
        )
        if void:
            receipt.void(by=payer_of_rosa, reason="typo")
    client.force_login(payer_of_rosa)
    response = client.get(reverse("pods:pledge", args=[pod.slug]))
    assert response.context["sent_this_cycle"] == Decimal("150.00")
    assert response.context["sent_ever"] == Decimal("150.00")
    assert "What you gave" in response.text


def test_the_pledge_page_shows_my_line_of_next_weeks_plan_once_it_exists(
    client, pod, cycle, recipient, payer_of_rosa
):
    client.force_login(payer_of_rosa)
    assert client.get(reverse("pods:pledge", args=[pod.slug])).context["next_plan_week"] is None
    services.week_plan(cycle=cycle, week=WEEK + 1)
    response = client.get(reverse("pods:pledge", args=[pod.slug]))
    assert response.context["next_plan_week"] == WEEK + 1
    assert "Your transfers in week 7" in response.text
    assert "$175.00 to" in response.text


# Told when it matters.


def test_the_payer_is_emailed_when_someone_else_voids_their_receipt(
    pod, cycle, recipient, organizer, payer_of_rosa, django_capture_on_commit_callbacks
):
    receipt = Receipt.objects.create(
        pod=pod,
        cycle=cycle,
        week=WEEK,
        recipient=recipient,
        payer=payer_of_rosa,
        amount=Decimal("175.00"),
        method="cashapp",
        sent_on=pod.today(),
        posted_by=payer_of_rosa,
    )
    with django_capture_on_commit_callbacks(execute=True):
        receipt.void(by=organizer, reason="Posted twice")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [payer_of_rosa.email]
    assert "Posted twice" in mail.outbox[0].body
    assert "voided" in mail.outbox[0].subject


def test_the_void_notice_and_the_line_notice_are_in_the_payers_language(
    client, pod, cycle, recipient, organizer, payer_of_rosa, django_capture_on_commit_callbacks
):
    payer_of_rosa.language = "es"
    payer_of_rosa.save(update_fields=["language"])
    receipt = Receipt.objects.create(
        pod=pod,
        cycle=cycle,
        week=WEEK,
        recipient=recipient,
        payer=payer_of_rosa,
        amount=Decimal("175.00"),
        method="cashapp",
        sent_on=pod.today(),
        posted_by=payer_of_rosa,
    )
    client.force_login(payer_of_rosa)
    client.get(reverse("pods:this_week", args=[pod.slug]))
    with django_capture_on_commit_callbacks(execute=True):
        receipt.void(by=organizer, reason="Posted twice")
        services.set_week_plan(
            cycle=cycle,
            week=WEEK,
            lines=[(payer_of_rosa.pk, recipient.pk, Decimal("100.00"))],
            correcting_started=True,
        )
    assert [m.subject for m in mail.outbox] == [
        f"{pod.name}: se anuló tu comprobante de la semana {WEEK}",
        f"{pod.name}: cambiaron tus transferencias de la semana {WEEK}",
    ]


def test_voiding_ones_own_receipt_sends_nothing(
    pod, cycle, recipient, payer_of_rosa, django_capture_on_commit_callbacks
):
    receipt = Receipt.objects.create(
        pod=pod,
        cycle=cycle,
        week=WEEK,
        recipient=recipient,
        payer=payer_of_rosa,
        amount=Decimal("175.00"),
        method="cashapp",
        sent_on=pod.today(),
        posted_by=payer_of_rosa,
    )
    with django_capture_on_commit_callbacks(execute=True):
        receipt.void(by=payer_of_rosa, reason="Wrong amount")
    assert mail.outbox == []


def test_a_payer_who_saw_this_week_is_told_when_their_line_changes(
    client, pod, cycle, recipient, payer_of_rosa, django_capture_on_commit_callbacks
):
    client.force_login(payer_of_rosa)
    client.get(reverse("pods:this_week", args=[pod.slug]))
    with django_capture_on_commit_callbacks(execute=True):
        services.set_week_plan(
            cycle=cycle,
            week=WEEK,
            lines=[(payer_of_rosa.pk, recipient.pk, Decimal("100.00"))],
            correcting_started=True,
        )
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [payer_of_rosa.email]
    assert "$100.00 to Rosa" in mail.outbox[0].body


def test_no_notice_for_a_payer_who_had_not_seen_it_or_whose_line_stayed(
    pod, cycle, recipient, payer_of_rosa, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.set_week_plan(
            cycle=cycle,
            week=WEEK,
            lines=[(payer_of_rosa.pk, recipient.pk, Decimal("100.00"))],
            correcting_started=True,
        )
    assert mail.outbox == []
    services.saw_week(cycle=cycle, week=WEEK, payer=payer_of_rosa)
    with django_capture_on_commit_callbacks(execute=True):
        services.set_week_plan(
            cycle=cycle,
            week=WEEK,
            lines=[(payer_of_rosa.pk, recipient.pk, Decimal("100.00"))],
            correcting_started=True,
        )
    assert mail.outbox == []


# Onboarding.


def test_joining_by_invitation_lands_on_the_pledge_page_with_coverage(
    client, pod, cycle, organizer, make_user, enrollment
):
    invitation = Invitation(
        pod=pod, created_by=organizer, expires_at=timezone.now() + timedelta(days=7)
    )
    token = invitation.new_token()
    invitation.save()
    newcomer = make_user("nia@example.org", display_name="Nia")
    client.force_login(newcomer)
    response = client.post(reverse("users:join", args=[token]))
    assert response.status_code == 302
    assert response.url == reverse("pods:pledge", args=[pod.slug])
    page = client.get(response.url)
    assert page.context["coverage"].needed == Decimal("175.00")
    assert "The pod's coverage" in page.text


def test_the_demo_pods_handles_fit_their_methods():
    from pledges.management.commands.seed_demo import RECIPIENTS

    assert [story.name for story in RECIPIENTS if handle_problem(story.method, story.handle)] == []


# Names told apart.


def test_same_names_get_a_mark_in_the_board_filter_list_and_export(
    client, pod, cycle, recipient, enrollment, make_user
):
    from pods.views import distinct_names

    assert distinct_names([(7, "Abby B."), (3, "abby b."), (5, "Ade")]) == {
        3: "abby b. (1)",
        7: "Abby B. (2)",
        5: "Ade",
    }
    abbies = []
    for email in ("abby1@example.org", "abby2@example.org"):
        user = make_user(email, display_name="Abby B.")
        Membership.objects.create(pod=pod, user=user)
        abbies.append(user)
        Receipt.objects.create(
            pod=pod,
            cycle=cycle,
            week=WEEK,
            recipient=recipient,
            payer=user,
            amount=Decimal("10.00"),
            method="cashapp",
            sent_on=pod.today(),
            posted_by=user,
        )
    client.force_login(abbies[0])
    response = client.get(reverse("receipts:board", args=[pod.slug]))
    payers = dict(response.context["form"].fields["payer"].choices)
    assert payers[abbies[0].pk] == "Abby B. (1)"
    assert payers[abbies[1].pk] == "Abby B. (2)"
    assert "Abby B. (2)" in response.text
    export = client.get(reverse("receipts:export", args=[pod.slug])).content.decode()
    assert "Abby B. (1)" in export and "Abby B. (2)" in export


def test_same_recipient_names_are_told_apart_in_the_receipt_form(
    client, pod, cycle, recipient, enrollment, donor
):
    from recipients.models import Recipient
    from recipients.services import enroll

    other = Recipient.objects.create(pod=pod, display_name="Rosa", payment_method="cash")
    enroll(recipient=other, cycle=cycle)
    client.force_login(donor)
    form = client.get(reverse("receipts:receipt_create", args=[pod.slug])).context["form"]
    choices = dict(form.fields["recipient"].choices)
    assert choices[recipient.pk] == "Rosa (1)"
    assert choices[other.pk] == "Rosa (2)"
