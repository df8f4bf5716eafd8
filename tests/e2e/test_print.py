"""Printing the board, the roster of recipients (the waitlist page) and the members list,
on A4 and Letter, in Chromium: the print stylesheet hides the navigation, filters,
buttons and language menu, the grid's cells say their state in text (no colour needed),
the grid fits the page's width, and the PDF is made."""

import datetime
from decimal import Decimal

import pytest
from django.test import Client

from pods.models import Cycle, Membership
from receipts.models import Receipt
from recipients.models import Recipient
from recipients.services import enroll

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The printable width of each paper, in CSS pixels (96 per inch), less the stylesheet's
# 10 mm margins on either side.
PAPERS = {"A4": (210 - 20) / 25.4 * 96, "Letter": (215.9 - 20) / 25.4 * 96}


@pytest.fixture
def busy_pod(pod, make_user):
    """Week 6 of a 15-week cycle: 11 recipients, 40 members, receipts paid in full, in
    part and missing."""
    olive = make_user("olive@example.org", display_name="Olive")
    Membership.objects.create(pod=pod, user=olive, role=Membership.Role.ORGANIZER)
    donors = []
    for n in range(40):
        donor = make_user(f"donor{n}@example.org", display_name=f"Neighbor number {n}")
        Membership.objects.create(pod=pod, user=donor)
        donors.append(donor)
    cycle = Cycle.objects.create(
        pod=pod,
        number=4,
        starts_on=pod.today() - datetime.timedelta(days=7 * 5),
        weeks=15,
        weekly_amount=Decimal("175.00"),
        slots=11,
    )
    for n in range(11):
        recipient = Recipient.objects.create(
            pod=pod,
            display_name=f"Recipient with a long name {n}",
            payment_method="cashapp",
            payment_handle=f"$r{n}",
        )
        enroll(recipient=recipient, cycle=cycle)
        for week in range(1, 6):
            if (n + week) % 4 == 0:
                continue
            amount = Decimal("175.00") if (n + week) % 3 else Decimal("100.00")
            Receipt.objects.create(
                pod=pod,
                cycle=cycle,
                week=week,
                recipient=recipient,
                payer=donors[n],
                amount=amount,
                method="cashapp",
                sent_on=cycle.week_starts_on(week),
                posted_by=donors[n],
            )
    return {"pod": pod, "olive": olive}


def signed_in_page(browser, live_server, user, width):
    client = Client()
    client.force_login(user)
    context = browser.new_context(locale="en-US", viewport={"width": int(width), "height": 900})
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    return context.new_page()


HIDDEN_IN_PRINT = [".pod-nav", ".language-menu", ".site-header nav", "form", "button", ".button"]


@pytest.mark.parametrize("paper", ["A4", "Letter"])
@pytest.mark.parametrize("path", ["receipts/", "waitlist/", "members/"])
def test_the_page_prints_its_content_only(chromium, live_server, busy_pod, paper, path, tmp_path):
    page = signed_in_page(chromium, live_server, busy_pod["olive"], PAPERS[paper])
    page.goto(f"{live_server.url}/pods/maple/{path}")
    # On screen the navigation is there.
    assert page.locator(".pod-nav").is_visible()

    page.emulate_media(media="print")
    for selector in HIDDEN_IN_PRINT:
        for element in page.locator(selector).all():
            assert not element.is_visible(), f"{selector} shows in print on {path}"
    if path == "receipts/":
        assert not page.locator(".board-filters").is_visible()
        cells = page.locator(".receipt-grid td.cell")
        assert cells.count() == 11 * 15
        for text in cells.all_inner_texts():
            assert text.strip(), "a grid cell with no text"
        # Black on white: no cell relies on its colour.
        backgrounds = page.eval_on_selector_all(
            ".receipt-grid td.cell", "cells => cells.map(c => getComputedStyle(c).backgroundColor)"
        )
        assert set(backgrounds) <= {"rgba(0, 0, 0, 0)", "rgb(255, 255, 255)"}
        # The whole grid on the paper's width, nothing cut off at the side.
        width = page.eval_on_selector(".receipt-grid", "t => t.getBoundingClientRect().width")
        assert width <= PAPERS[paper] + 1
        assert page.locator(".grid-legend").is_visible()
    else:
        assert page.locator("main h1").is_visible()

    pdf = tmp_path / f"{path.strip('/')}-{paper}.pdf"
    page.pdf(path=pdf, format=paper, print_background=True)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    assert data.count(b"/Type /Page") - data.count(b"/Type /Pages") >= 1
    page.context.close()


def test_the_board_prints_right_to_left_in_arabic(chromium, live_server, busy_pod, tmp_path):
    olive = busy_pod["olive"]
    olive.language = "ar"
    olive.save()
    page = signed_in_page(chromium, live_server, olive, PAPERS["A4"])
    page.goto(f"{live_server.url}/pods/maple/receipts/")
    page.emulate_media(media="print")

    assert page.locator("html").get_attribute("dir") == "rtl"
    assert not page.locator(".pod-nav").is_visible()
    # The recipients' names start the row on the right, as Arabic reads.
    name = page.eval_on_selector(".receipt-grid tbody th", "c => c.getBoundingClientRect().right")
    first_week = page.eval_on_selector(
        ".receipt-grid tbody td.cell", "c => c.getBoundingClientRect().right"
    )
    assert name > first_week
    width = page.eval_on_selector(".receipt-grid", "t => t.getBoundingClientRect().width")
    assert width <= PAPERS["A4"] + 1
    pdf = tmp_path / "receipts-ar-A4.pdf"
    page.pdf(path=pdf, format="A4", print_background=True)
    assert pdf.read_bytes().startswith(b"%PDF")
    page.context.close()
