"""A donor's week in one minute, on a phone-sized page: pay from "This week" (the pay
link's target is checked, not followed), tap "I sent it", attach the screenshot and see
the board; then the same through the share target, as the share sheet would post it.

Taps and page loads are counted from opening the installed app (the manifest's
start_url) to the posted receipt on the board: 5 loads ("Your pods", the pod, "This
week", the filled-in receipt form, the board) and 6 taps in the app (the pod, "This
week", Pay, "I sent it", the screenshot field, "Post the receipt"), plus choosing the
picture in the phone's picker, and nothing typed. Through the share sheet: 2 loads (the
form the share opens, the board) and 1 tap in the app ("Post the receipt"), after
"Share" and the app's icon in the share sheet."""

import datetime
import io
from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from PIL import Image
from playwright.sync_api import expect

from pledges.models import Pledge
from pods.models import Cycle, Membership
from receipts.models import Receipt, StagedScreenshot
from recipients.models import Recipient
from recipients.services import enroll
from tests.e2e.test_story import PASSWORD, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def week_two(pod, make_user, settings, tmp_path):
    """Week 2: Dana owes Ada (Cash App) 60.00 and Bo (Venmo) 40.00."""
    settings.MEDIA_ROOT = tmp_path / "media"
    dana = make_user("dana@example.org", display_name="Dana", password=PASSWORD)
    EmailAddress.objects.create(user=dana, email=dana.email, verified=True, primary=True)
    Membership.objects.create(pod=pod, user=dana)
    cycle = Cycle.objects.create(
        pod=pod,
        number=1,
        starts_on=pod.today() - datetime.timedelta(days=7),
        weeks=15,
        weekly_amount=Decimal("50.00"),
        slots=2,
    )
    Pledge.objects.create(cycle=cycle, donor=dana, amount=Decimal("100.00"), last_week=15)
    ada = Recipient.objects.create(
        pod=pod, display_name="Ada", payment_method="cashapp", payment_handle="$ada"
    )
    bo = Recipient.objects.create(
        pod=pod, display_name="Bo", payment_method="venmo", payment_handle="@bo-pays"
    )
    enroll(recipient=ada, cycle=cycle)
    enroll(recipient=bo, cycle=cycle)
    return {"pod": pod, "cycle": cycle, "ada": ada, "bo": bo, "dana": dana}


def screenshot_file(path):
    Image.new("RGB", (40, 80), (20, 120, 60)).save(path, "PNG")
    return path


def count_loads(page):
    """The page loads from now on. The page already open is waited for first: its URL
    changes before its load event fires, and that event must not count as a new load."""
    page.wait_for_load_state("load")
    loads = []
    page.on("load", lambda: loads.append(page.url))
    return loads


def test_pay_from_this_week_then_i_sent_it(live_server, week_two, watch, tmp_path):
    pod = week_two["pod"]
    base = live_server.url
    donor = watch.new_page("donor")
    donor.set_viewport_size(PHONE)
    taps = []

    def tap(locator, what):
        taps.append(what)
        locator.click()

    with watch.screenshots_on_failure(tmp_path):
        # Signed in once, on an earlier day; the app then opens where the manifest says.
        sign_in(donor, f"{base}/pods/{pod.slug}/this-week/", "dana@example.org")
        start_url = donor.request.get(f"{base}/manifest.webmanifest").json()["start_url"]
        loads = count_loads(donor)
        donor.goto(f"{base}{start_url}")  # load 1: opening the app
        tap(donor.get_by_role("link", name=pod.name), "the pod")  # load 2
        tap(
            donor.get_by_role("navigation", name="Pod pages").get_by_role("link", name="This week"),
            "This week",
        )  # load 3
        expect(donor).to_have_url(f"{base}/pods/{pod.slug}/this-week/")
        ada_card = donor.locator(".transfers > li").filter(has_text="Ada")
        pay = ada_card.get_by_role("link", name="Pay $50.00 with Cash App")
        expect(pay).to_have_attribute("href", "https://cash.app/$ada/50")
        bo_card = donor.locator(".transfers > li").filter(has_text="Bo")
        expect(bo_card.get_by_role("link", name="Pay $50.00 with Venmo")).to_have_attribute(
            "href",
            "https://venmo.com/?txn=pay&recipients=bo-pays&amount=50"
            "&note=Maple%20Street%20Pod%2C%20week%202",
        )
        # Pay would open Cash App, amount and note filled in: its target is checked
        # above, not followed.
        taps.append("Pay")
        tap(ada_card.get_by_role("link", name="I sent it"), "I sent it")  # load 4
        expect(donor.get_by_label("Sent to")).to_have_value(str(week_two["ada"].pk))
        expect(donor.get_by_label("For week")).to_have_value("2")
        expect(donor.get_by_label("Amount")).to_have_value("50.00")
        expect(donor.get_by_label("Sent with")).to_have_value("cashapp")
        # The field opens the phone's picker, where the picture is chosen.
        taps.append("the screenshot field")
        donor.get_by_label("Screenshot").set_input_files(screenshot_file(tmp_path / "a.png"))
        tap(donor.get_by_role("button", name="Post the receipt"), "Post")  # load 5
        expect(donor).to_have_url(f"{base}/pods/{pod.slug}/receipts/")
        expect(donor.locator("table.receipt-list tbody tr")).to_contain_text("Ada")
        assert len(loads) == 5, loads
        assert len(taps) == 6, taps
        receipt = Receipt.objects.get()
        assert (receipt.recipient, receipt.amount) == (week_two["ada"], Decimal("50.00"))
        assert receipt.screenshot
        donor.goto(f"{base}/pods/{pod.slug}/this-week/")
        expect(ada_card).to_contain_text("Done: receipts posted for $50.00")
        expect(ada_card.get_by_role("link", name="I sent it")).to_have_count(0)
    assert watch.problems == []


def test_the_share_target_opens_the_form_with_the_picture_and_the_line(
    live_server, week_two, watch, tmp_path
):
    pod = week_two["pod"]
    base = live_server.url
    donor = watch.new_page("donor")
    donor.set_viewport_size(PHONE)
    with watch.screenshots_on_failure(tmp_path):
        sign_in(donor, f"{base}/pods/{pod.slug}/", "dana@example.org")
        loads = count_loads(donor)
        # What the share sheet does: a multipart POST to the manifest's share_target,
        # with the member's cookies and no CSRF token. It only stages the picture.
        manifest = donor.request.get(f"{base}/manifest.webmanifest").json()
        target = manifest["share_target"]
        buffer = io.BytesIO()
        Image.new("RGB", (40, 80), (20, 60, 120)).save(buffer, "PNG")
        shared = donor.request.post(
            f"{base}{target['action']}",
            multipart={
                target["params"]["files"][0]["name"]: {
                    "name": "shot.png",
                    "mimeType": "image/png",
                    "buffer": buffer.getvalue(),
                }
            },
            max_redirects=0,
        )
        assert shared.status == 302, shared.status
        assert not Receipt.objects.exists()
        donor.goto(f"{base}{shared.headers['location']}")  # load 1: the share lands here
        expect(donor.locator(".staged-screenshot img")).to_be_visible()
        expect(donor.get_by_label("Sent to")).to_have_value(str(week_two["ada"].pk))
        expect(donor.get_by_label("Amount")).to_have_value("50.00")
        donor.get_by_role("button", name="Post the receipt").click()  # the one tap; load 2
        expect(donor).to_have_url(f"{base}/pods/{pod.slug}/receipts/")
        expect(donor.locator("table.receipt-list tbody tr")).to_contain_text("Ada")
        assert len(loads) == 2, loads
        receipt = Receipt.objects.get()
        assert receipt.screenshot.name.endswith(".png")
        assert not StagedScreenshot.objects.exists()
    assert watch.problems == []
