"""The recipients' story, end to end in a real browser: a member refers two neighbors and
an organizer enrolls the first from the first week not started yet; a donor sends this
week's transfer to Ada and posts its receipt, and "this week" shrinks by it; Ada confirms
it on her private link and then leaves, and the second neighbor takes her slot from the
next week.

The database is touched only to set the scene before and to check the outcome after;
every step in between goes through the pages, as people would.
"""

import datetime
import re
from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from django.utils.formats import date_format
from playwright.sync_api import expect

from pledges.models import Pledge
from pods.models import Cycle, Membership
from receipts.models import Receipt
from recipients.models import Enrollment, Recipient, Referral
from recipients.services import enroll

PASSWORD = "a-long-story-password"
# The stylesheet's page background (--color-bg in static/css/app.css): seen only when
# the stylesheet really loaded.
STYLED_BACKGROUND = "rgb(251, 250, 247)"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def scene(pod, make_user):
    """Week 2 of a two-slot cycle: Ada holds slot 1 and has her private link, slot 2 is
    free. Olive organizes, Dana pledges what one recipient gets."""
    people = {}
    for key, email, name, role in [
        ("organizer", "olive@example.org", "Olive", Membership.Role.ORGANIZER),
        ("donor", "dana@example.org", "Dana", Membership.Role.DONOR),
    ]:
        user = make_user(email, display_name=name, password=PASSWORD)
        # Verification is mandatory: invited people prove their address by following
        # the invitation, as seed_demo's accounts have it proven already.
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        Membership.objects.create(pod=pod, user=user, role=role)
        people[key] = user
    cycle = Cycle.objects.create(
        pod=pod,
        number=1,
        starts_on=pod.today() - datetime.timedelta(days=7),
        weeks=15,
        weekly_amount=Decimal("100.00"),
        slots=2,
    )
    assert cycle.current_week() == 2
    Pledge.objects.create(
        cycle=cycle, donor=people["donor"], amount=Decimal("100.00"), last_week=cycle.weeks
    )
    ada = Recipient.objects.create(
        pod=pod, display_name="Ada", payment_method="cashapp", payment_handle="$ada"
    )
    enroll(recipient=ada, cycle=cycle)
    ada_link = ada.new_access_token()
    ada.save(update_fields=["access_token_hash"])
    return {"pod": pod, "cycle": cycle, "ada": ada, "ada_link": f"/r/{ada_link}/", **people}


def sign_in(page, url, email):
    """Open `url` signed out, get sent to the sign-in page, sign in with a password and
    land back on `url`."""
    page.goto(url)
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password (optional)").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(url)


def expect_styled(page):
    """The page has its stylesheet: served (not a 404, not refused by the CSP) and
    applied."""
    expect(page.locator("body")).to_have_css("background-color", STYLED_BACKGROUND)


def nav(page, name):
    page.get_by_role("navigation", name="Pod pages").get_by_role("link", name=name).click()


def test_a_referred_neighbor_is_supported_leaves_and_hands_the_slot_on(
    live_server, scene, watch, tmp_path, mailoutbox
):
    pod = scene["pod"]
    base = live_server.url
    donor = watch.new_page("donor")
    organizer = watch.new_page("organizer")

    with watch.screenshots_on_failure(tmp_path):
        # 1. A member refers two neighbors.
        sign_in(donor, f"{base}/pods/{pod.slug}/refer/", "dana@example.org")
        expect_styled(donor)
        for name, contact in [("Neighbor One", "555-0101"), ("Neighbor Two", "")]:
            donor.get_by_label("Their name").fill(name)
            donor.get_by_label("How to reach them (optional)").fill(contact)
            donor.get_by_role("button", name="Add them to the waitlist").click()
            expect(donor.locator(".messages")).to_contain_text(f"{name} is on the waitlist")
        mine = donor.locator(".referrals")
        expect(mine).to_contain_text("waiting: number 1 in line")
        expect(mine).to_contain_text("waiting: number 2 in line")

        # 2. The organizer enrolls the first: only they may be, one slot being free.
        sign_in(organizer, f"{base}/pods/{pod.slug}/", "olive@example.org")
        nav(organizer, "Waitlist")
        expect_styled(organizer)
        expect(organizer.locator(".cycle-when")).to_contain_text("1 of 2 slots free")
        queue = organizer.locator("ol.queue > li")
        expect(queue).to_have_count(2)
        expect(queue.nth(0)).to_contain_text("Neighbor One")
        expect(queue.nth(1)).to_contain_text("Neighbor Two")
        expect(queue.nth(1).get_by_role("link", name=re.compile("^Enroll"))).to_have_count(0)
        queue.nth(0).get_by_role("link", name="Enroll Neighbor One").click()
        organizer.get_by_label("Payment method").select_option(label="Cash App")
        organizer.get_by_label("Payment handle").fill("$neighborone")
        # Week 2 has started, and its plan with it: support starts in week 3 at the
        # earliest, the first week offered.
        starts = organizer.get_by_label("Support starts in")
        expect(starts).to_have_value("3")
        expect(starts.locator("option[value='2']")).to_have_count(0)
        expect(starts.locator("option[value='15']")).to_have_count(1)
        organizer.get_by_role("button", name="Enroll and make their link").click()
        expect(organizer.get_by_role("heading", level=1)).to_have_text(
            "Private link for Neighbor One"
        )
        expect(organizer.get_by_text("enrolled in slot 2 from week 3")).to_be_visible()
        private_link = organizer.get_by_label("Their private link").input_value()
        assert re.fullmatch(rf"{re.escape(base)}/r/[\w-]{{20,}}/", private_link), private_link
        newcomer = watch.new_page("newcomer")
        newcomer.goto(private_link)
        expect_styled(newcomer)
        expect(newcomer.get_by_text("Hello Neighbor One.")).to_be_visible()
        expect(newcomer.locator(".link-receipts > li")).to_have_count(0)

        # 3. The donor sends this week's transfer to Ada, not to the newcomer whose
        # support begins next week, posts its receipt, and "this week" shrinks by it.
        nav(donor, "This week")
        expect_styled(donor)
        transfers = donor.locator(".transfers > li")
        expect(transfers).to_have_count(1)
        expect(transfers).to_contain_text("Send $100.00 to Ada")
        transfers.get_by_role("link", name="Post the receipt for Ada").click()
        expect(donor.get_by_label("Sent to")).to_have_value(str(scene["ada"].pk))
        expect(donor.get_by_label("For week")).to_have_value("2")
        donor.get_by_label("Amount").fill("100")
        donor.get_by_label("Sent with").select_option(label="Cash App")
        donor.get_by_role("button", name="Post the receipt").click()
        expect(donor).to_have_url(f"{base}/pods/{pod.slug}/receipts/")
        expect(donor.locator(".messages")).to_contain_text("to Ada for week 2")
        posted = donor.locator("table.receipt-list tbody tr")
        expect(posted).to_have_count(1)
        expect(posted).to_contain_text("Ada")
        expect(posted).to_contain_text("posted")
        nav(donor, "This week")
        expect(transfers).to_have_count(1)
        expect(transfers).to_contain_text("Ada: nothing left to send")
        expect(transfers).to_contain_text("Done: receipts posted for $100.00. Thank you!")
        expect(transfers.get_by_role("link", name="Post the receipt for Ada")).to_have_count(0)

        # 4. Ada, with no account and no session, opens her link and confirms that the
        # money arrived.
        recipient = watch.new_page("recipient")
        recipient.goto(f"{base}{scene['ada_link']}")
        expect_styled(recipient)
        expect(recipient.get_by_role("heading", level=1)).to_have_text(pod.name)
        expect(recipient.get_by_text("Hello Ada.")).to_be_visible()
        sent = recipient.locator(".link-receipts > li")
        expect(sent).to_have_count(1)
        expect(sent).to_contain_text("$100.00")
        expect(sent).to_contain_text("from Dana")
        sent.get_by_role("button", name="It arrived").click()
        # Dated in the pod's time zone, like every date the pod shows.
        today = date_format(pod.today(), "DATE_FORMAT")
        expect(sent).to_contain_text(f"You confirmed it arrived ({today}).")
        expect(sent.get_by_role("button", name="It arrived")).to_have_count(0)

        # 5. She no longer needs support: one link, one confirmation, no questions.
        # This week is still hers.
        recipient.get_by_role("link", name="I no longer need support").click()
        expect(recipient.get_by_role("heading", level=1)).to_have_text("Take yourself off?")
        recipient.get_by_label("A word for the organizers (optional)").fill("Found work!")
        recipient.get_by_role("button", name="Yes, I no longer need support").click()
        expect(recipient).to_have_url(f"{base}{scene['ada_link']}")
        expect(recipient.get_by_text("You have left the pod's support")).to_be_visible()
        expect(recipient.get_by_text("Your last week of support is week 2")).to_be_visible()
        expect(recipient.get_by_role("link", name="I no longer need support")).to_have_count(0)

        # 6. Her slot, free from next week, is offered to the next referral; the organizer
        # enrolls them.
        nav(organizer, "Waitlist")
        offered = organizer.locator("#offered-heading + ul > li")
        expect(offered).to_have_count(1)
        expect(offered).to_contain_text("Neighbor Two")
        expect(offered).to_contain_text("A slot is kept for them.")
        expect(organizer.locator("ol.queue")).to_have_count(0)
        offered.get_by_role("link", name="Enroll").click()
        organizer.get_by_label("Payment method").select_option(label="Venmo")
        organizer.get_by_label("Payment handle").fill("@neighbor-two")
        # The first week offered: the first one Ada no longer holds.
        expect(organizer.get_by_label("Support starts in")).to_have_value("3")
        organizer.get_by_role("button", name="Enroll and make their link").click()
        expect(organizer.get_by_text("enrolled in slot 1 from week 3")).to_be_visible()

        # 7. The board says who left and who took the slot; the referrer sees both
        # neighbors enrolled.
        nav(organizer, "Receipts")
        grid = organizer.locator("table.receipt-grid")
        expect(grid.get_by_role("row", name=re.compile("^Ada "))).to_contain_text(
            "left after week 2; slot went to Neighbor Two"
        )
        expect(grid.get_by_role("row", name=re.compile("^Neighbor Two "))).to_contain_text(
            "took slot 1 from week 3, after Ada"
        )
        expect(organizer.locator("table.receipt-list tbody tr")).to_contain_text(
            "arrival confirmed"
        )
        nav(donor, "Refer a neighbor")
        statuses = donor.locator(".referrals .referral-status")
        expect(statuses).to_have_text(["enrolled", "enrolled"])

        assert watch.problems == [], "The browser reported problems:\n" + "\n".join(watch.problems)

    one = Referral.objects.get(pod=pod, display_name="Neighbor One")
    two = Referral.objects.get(pod=pod, display_name="Neighbor Two")
    assert (one.status, two.status) == (Referral.Status.ENROLLED, Referral.Status.ENROLLED)
    ada = Enrollment.objects.get(recipient=scene["ada"])
    first = Enrollment.objects.get(recipient=one.recipient)
    took = Enrollment.objects.get(recipient=two.recipient)
    assert (ada.status, ada.slot, ada.first_week, ada.last_week) == (
        Enrollment.Status.LEFT,
        1,
        1,
        2,
    )
    assert ada.end_reason == "Found work!"
    assert (first.status, first.slot, first.first_week, first.last_week) == (
        Enrollment.Status.ACTIVE,
        2,
        3,
        15,
    )
    assert (took.status, took.slot, took.first_week) == (Enrollment.Status.ACTIVE, 1, 3)
    assert two.recipient.payment_handle == "@neighbor-two"
    receipt = Receipt.objects.get()
    assert (receipt.recipient, receipt.payer, receipt.amount, receipt.week) == (
        scene["ada"],
        scene["donor"],
        Decimal("100.00"),
        2,
    )
    assert receipt.confirmed_at is not None
    # Olive heard of each referral as it came (her choice: an email for each), then of
    # Ada leaving.
    assert [(m.to, m.subject) for m in mailoutbox] == [
        (["olive@example.org"], f"{pod.name}: Neighbor One was referred"),
        (["olive@example.org"], f"{pod.name}: Neighbor Two was referred"),
        (["olive@example.org"], f"Ada left {pod.name}; Neighbor Two is next for the slot"),
    ]
