"""The recipients' story once more, in Arabic on a phone (390 x 844): the browser asks
for Arabic, and every page it passes through, the admin's change list and change form
among them, is right to left, in Arabic, with no English word of the app's own left
(names, handles, addresses and brands aside).

A full-page screenshot of each page is saved, in order, to the directory the test prints
(under pytest's tmp_path, or $E2E_SCREENSHOTS when set), to be looked at: the tests
check what a machine can, the screenshots show what reads wrong.
"""

import os
import re
from pathlib import Path

import pytest
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import expect

from receipts.models import Receipt
from recipients.models import Enrollment, Referral
from tests.e2e.test_story import PASSWORD, expect_styled, scene  # noqa: F401 - fixture
from tests.test_i18n_whole import ADDRESS, LATIN_WORD, data_of_the_pods, same_on_purpose

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
# What a page shows and reads out: its text (visually hidden text included, as screen
# readers read it) and the attributes people see or hear.
SHOWN_TEXT = """() => {
  const said = [document.title, document.body.innerText];
  for (const el of document.querySelectorAll('[aria-label], [title], [placeholder], [alt]')) {
    for (const name of ['aria-label', 'title', 'placeholder', 'alt']) {
      if (el.hasAttribute(name)) said.push(el.getAttribute(name));
    }
  }
  for (const el of document.querySelectorAll('.visually-hidden')) said.push(el.textContent);
  return said.join('\\n');
}"""
# Written as they are in every language: the kinds of picture and file the pages name.
FORMATS = {"jpeg", "png", "webp", "csv"}
# A handle as an example shows it ("$name" for Cash App).
HANDLE = re.compile(r"[$@][\w-]+")
# Wider than the phone: the page itself scrolls sideways (a table in its own scrolling
# box is fine, the page is not).
OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def t(message):
    """The Arabic the page shows for `message`."""
    with translation.override("ar"):
        return gettext(message)


class Story:
    """Looks at each page: saves its screenshot and notes what is wrong with it."""

    def __init__(self, directory):
        self.directory = directory
        self.count = 0
        self.problems = []
        self.kept = sorted(same_on_purpose("ar"), key=len, reverse=True)

    def look(self, page, name):
        page.wait_for_load_state("load")
        self.count += 1
        path = self.directory / f"{self.count:02d}-{name}.png"
        page.screenshot(path=path, full_page=True)
        html = page.locator("html")
        lang, direction = html.get_attribute("lang"), html.get_attribute("dir")
        if (lang, direction) != ("ar", "rtl"):
            self.problems.append(f"{name} ({page.url}): lang={lang!r} dir={direction!r}")
        english = self.english_words(page.evaluate(SHOWN_TEXT))
        if english:
            self.problems.append(f"{name} ({page.url}): English left: {sorted(english)}")
        overflow = page.evaluate(OVERFLOW)
        if overflow > 0:
            self.problems.append(f"{name} ({page.url}): {overflow}px wider than the phone")

    def english_words(self, text):
        # Case aside: the admin writes the person's name in capitals.
        rest = text.casefold()
        # The pod's data (names, handles, the pod's name) as typed, and brands.
        for value in [*data_of_the_pods(), *self.kept]:
            rest = rest.replace(value.casefold(), " ")
        rest = HANDLE.sub(" ", ADDRESS.sub(" ", rest))
        return set(LATIN_WORD.findall(rest)) - FORMATS


@pytest.fixture
def screenshots(tmp_path):
    directory = Path(os.environ.get("E2E_SCREENSHOTS") or tmp_path / "screenshots-ar")
    directory.mkdir(parents=True, exist_ok=True)
    print(f"\nArabic phone-width screenshots: {directory}")
    return directory


def sign_in(page, url, email):
    page.goto(url)
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form[action*='login'] button[type=submit]").click()
    expect(page).to_have_url(url)


def nav(page, name):
    page.get_by_role("navigation", name=t("Pod pages")).get_by_role(
        "link", name=t(name), exact=True
    ).click()


def test_the_story_in_arabic_on_a_phone(live_server, scene, watch, screenshots, mailoutbox):  # noqa: F811
    pod = scene["pod"]
    base = live_server.url
    story = Story(screenshots)

    def phone(name):
        return watch.new_page(name, locale="ar", viewport=PHONE)

    donor, organizer = phone("donor"), phone("organizer")
    with watch.screenshots_on_failure(screenshots):
        # 1. A member refers two neighbors.
        donor.goto(f"{base}/accounts/login/")
        story.look(donor, "sign-in")
        sign_in(donor, f"{base}/pods/{pod.slug}/refer/", "dana@example.org")
        expect_styled(donor)
        for name in ("Neighbor One", "Neighbor Two"):
            donor.get_by_label(t("Their name")).fill(name)
            donor.get_by_role("button", name=t("Add them to the waitlist")).click()
            expect(donor.locator(".messages")).to_contain_text(name)
        expect(donor.locator(".referrals > li")).to_have_count(2)
        story.look(donor, "refer")

        # 2. The organizer enrolls the first.
        sign_in(organizer, f"{base}/pods/{pod.slug}/", "olive@example.org")
        story.look(organizer, "dashboard")
        nav(organizer, "Waitlist")
        queue = organizer.locator("ol.queue > li")
        expect(queue).to_have_count(2)
        story.look(organizer, "waitlist")
        queue.nth(0).locator("a[href*='enroll']").click()
        organizer.get_by_label(t("Payment method")).select_option("cashapp")
        organizer.get_by_label(t("Payment handle")).fill("$neighborone")
        story.look(organizer, "enroll")
        organizer.get_by_role("button", name=t("Enroll and make their link")).click()
        private_link = organizer.get_by_label(t("Their private link")).input_value()
        story.look(organizer, "private-link")
        newcomer = phone("newcomer")
        newcomer.goto(private_link)
        expect_styled(newcomer)
        story.look(newcomer, "recipient-page-new")

        # 3. The donor pays Ada from "This week" and posts the receipt.
        nav(donor, "This week")
        transfers = donor.locator(".transfers > li")
        expect(transfers).to_have_count(1)
        expect(transfers.locator(".pay-button, a[href^='https://cash.app/']")).to_have_count(1)
        story.look(donor, "this-week")
        transfers.locator("a.sent-button").click()
        expect(donor.get_by_label(t("Sent to"))).to_have_value(str(scene["ada"].pk))
        story.look(donor, "receipt-form")
        donor.get_by_role("button", name=t("Post the receipt")).click()
        expect(donor).to_have_url(f"{base}/pods/{pod.slug}/receipts/")
        expect(donor.locator("table.receipt-list tbody tr")).to_have_count(1)
        story.look(donor, "board")
        nav(donor, "Members")
        story.look(donor, "members")
        nav(donor, "My pledge")
        story.look(donor, "pledge")

        # 4. Ada confirms the money arrived, then leaves.
        recipient = phone("recipient")
        recipient.goto(f"{base}{scene['ada_link']}")
        recipient.get_by_role("button", name=t("It arrived")).click()
        expect(recipient.get_by_role("button", name=t("It arrived"))).to_have_count(0)
        story.look(recipient, "recipient-page")
        recipient.get_by_role("link", name=t("I no longer need support")).click()
        story.look(recipient, "leave")
        recipient.get_by_role("button", name=t("Yes, I no longer need support")).click()
        expect(recipient).to_have_url(f"{base}{scene['ada_link']}")
        story.look(recipient, "recipient-page-left")

        # 5. The organizer enrolls the next neighbor and looks over the pod.
        nav(organizer, "Waitlist")
        offered = organizer.locator("#offered-heading + ul > li")
        expect(offered).to_have_count(1)
        offered.locator("a[href*='enroll']").click()
        organizer.get_by_label(t("Payment method")).select_option("venmo")
        organizer.get_by_label(t("Payment handle")).fill("@neighbor-two")
        organizer.get_by_role("button", name=t("Enroll and make their link")).click()
        expect(organizer.get_by_label(t("Their private link"))).to_be_visible()
        nav(organizer, "Receipts")
        expect(organizer.locator("table.receipt-grid")).to_be_visible()
        story.look(organizer, "board-organizer")
        nav(organizer, "This week")
        story.look(organizer, "this-week-organizer")
        organizer.goto(f"{base}/pods/{pod.slug}/plan/{scene['cycle'].current_week() + 1}/")
        story.look(organizer, "plan")
        nav(organizer, "Cycle")
        story.look(organizer, "cycle")

        # 6. The admin, at phone width: a change list and a change form.
        organizer.goto(f"{base}/admin/receipts/receipt/")
        expect(organizer.locator("#result_list")).to_be_visible()
        story.look(organizer, "admin-receipts")
        organizer.goto(f"{base}/admin/recipients/recipient/{scene['ada'].pk}/change/")
        expect(organizer.locator("#content form")).to_be_visible()
        story.look(organizer, "admin-recipient")

        problems = story.problems + [f"browser: {problem}" for problem in watch.problems]
        assert problems == [], "\n".join(problems)

    assert story.count == len(list(screenshots.glob("*.png")))
    assert Receipt.objects.get().confirmed_at is not None
    assert Enrollment.objects.get(recipient=scene["ada"]).status == Enrollment.Status.LEFT
    assert set(Referral.objects.values_list("status", flat=True)) == {Referral.Status.ENROLLED}
