"""Importing the recipients a pod already supports from its spreadsheet: preview, then
confirm; each is enrolled into a free slot of the current cycle from the first week not
started, and their private links are shown once."""

import re
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from pods.models import StagedImport
from recipients.models import Enrollment, Recipient, Referral

pytestmark = pytest.mark.django_db

UPLOAD = reverse("recipients:import", args=["maple"])
GOOD = (
    "display name,payment method,handle,contact\n"
    "Rosa,Cash App,$rosa,555-0100\n"
    "Sam,venmo,@sam-lee,\n"
    "Lu,cash,,\n"
)


def upload(client, text):
    data = text.encode() if isinstance(text, str) else text
    return client.post(UPLOAD, {"recipients-file": SimpleUploadedFile("r.csv", data, "text/csv")})


def preview(client, text):
    response = upload(client, text)
    assert response.status_code == 302, response.content[:3000]
    return client.get(response.url), response.url


def statuses(page):
    return [r["status"] if isinstance(r, dict) else r.status for r in page.context["rows"]]


def links_on(page):
    return re.findall(r'value="http://testserver/r/([^/"]+)/"', page.text)


# Who may


def test_signed_out_outsider_and_donor_cannot_import(client, pod, cycle, donor, outsider):
    response = upload(client, GOOD)
    assert response.status_code == 302 and response.url.startswith(reverse("account_login"))
    client.force_login(outsider)
    assert upload(client, GOOD).status_code == 404
    client.force_login(donor)
    assert upload(client, GOOD).status_code == 403
    assert not StagedImport.objects.exists()


def test_another_pods_organizer_and_a_donor_cannot_see_or_confirm(
    client, pod, cycle, organizer, donor, outsider
):
    client.force_login(organizer)
    _page, url = preview(client, GOOD)
    for person, status in [(outsider, 404), (donor, 403)]:
        client.force_login(person)
        assert client.get(url).status_code == status
        assert client.post(url + "confirm/").status_code == status
    client.logout()
    assert client.post(url + "confirm/").status_code == 302
    assert not Recipient.objects.exists()


# The good file


def test_preview_then_confirm_enrolls_each_and_shows_their_links_once(
    client, pod, cycle, organizer
):
    client.force_login(organizer)
    page, url = preview(client, GOOD)

    assert statuses(page) == ["new", "new", "new"]
    assert "from week 7, the first week not started" in page.text
    assert not Recipient.objects.exists()

    done = client.post(url + "confirm/")

    assert done.status_code == 200
    assert "3 recipients enrolled in cycle 1." in done.text
    rosa = Recipient.objects.get(display_name="Rosa")
    assert (rosa.payment_method, rosa.payment_handle, rosa.contact) == (
        "cashapp",
        "$rosa",
        "555-0100",
    )
    assert Recipient.objects.get(display_name="Sam").payment_method == "venmo"
    assert Recipient.objects.get(display_name="Lu").payment_method == "cash"
    enrollments = Enrollment.objects.filter(cycle=cycle).order_by("slot")
    assert [(e.slot, e.first_week, e.last_week) for e in enrollments] == [
        (1, 7, 15),
        (2, 7, 15),
        (3, 7, 15),
    ]
    tokens = links_on(done)
    assert len(tokens) == 3
    for token in tokens:
        assert client.get(reverse("recipients:link", args=[token])).status_code == 200
    # Shown once: the result page, reloaded or sent again, shows no link.
    later = client.get(url)
    assert statuses(later) == ["enrolled"] * 3
    assert not links_on(later)
    again = client.post(url + "confirm/", follow=True)
    assert "This list was imported already; nothing changed." in again.text
    assert not links_on(again)
    assert Recipient.objects.count() == 3


def test_the_same_file_twice_changes_nothing(client, pod, cycle, organizer):
    client.force_login(organizer)
    _page, url = preview(client, GOOD)
    client.post(url + "confirm/")

    page, url = preview(client, GOOD.replace("$rosa", "ROSA"))

    assert statuses(page) == ["here", "here", "here"]
    assert "Already here: left alone" in page.text
    client.post(url + "confirm/")
    assert Recipient.objects.count() == 3
    assert Enrollment.objects.count() == 3


# Bad rows


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (",cashapp,$nobody,", "The name is missing."),
        ("Ana,bitcoin,xyz,", "is not a payment method we know"),
        ("Ana,cashapp,,", "The payment handle is missing."),
        ("Ana,cashapp,$has-dash,", "A Cash App $cashtag is"),
        ("Ana,venmo,@abc,", "A Venmo username is 5 to 30"),
        ("Ana,zelle,12345,", "Zelle sends to an email address"),
        ("Ana,paypal,pay.pal,", "A PayPal.me name is"),
        ("Ana,cashapp,$ana," + "x" * 201, "The contact is longer than 200 characters."),
        ("A" * 81 + ",cash,,", "longer than 80 characters"),
    ],
)
def test_a_bad_row_is_shown_with_its_problem_and_left_out(
    client, pod, cycle, organizer, row, problem
):
    client.force_login(organizer)
    page, url = preview(client, f"name,method,handle,contact\n{row}\nBo,cash,,\n")

    assert statuses(page) == ["error", "new"]
    assert problem in page.text
    client.post(url + "confirm/")
    assert list(Recipient.objects.values_list("display_name", flat=True)) == ["Bo"]


def test_the_same_person_twice_in_the_file_is_enrolled_once(client, pod, cycle, organizer):
    client.force_login(organizer)
    page, _url = preview(client, "name,method,handle\nRosa,cashapp,$rosa\nRosa M,Cash App,rosa\n")
    assert statuses(page) == ["new", "error"]
    assert "The same person is on row 2." in page.text


def test_rows_past_the_free_slots_are_left_out(client, pod, cycle, organizer, enrollment):
    # One of the 3 slots is Rosa's, one is kept for a referral offered it.
    Referral.objects.create(pod=pod, display_name="Kim", status=Referral.Status.OFFERED)
    client.force_login(organizer)
    page, url = preview(client, "name,method\nAbe,cash\nBo,cash\nCy,cash\n")

    assert statuses(page) == ["new", "no_slot", "no_slot"]
    done = client.post(url + "confirm/")
    assert statuses(done) == ["enrolled", "no_slot", "no_slot"]
    assert Recipient.objects.filter(display_name="Abe").exists()
    assert not Recipient.objects.filter(display_name__in=["Bo", "Cy"]).exists()


def test_without_a_cycle_nothing_is_enrolled(client, pod, organizer):
    client.force_login(organizer)
    page, url = preview(client, GOOD)
    assert "No cycle is running with weeks left to enroll into." in page.text
    client.post(url + "confirm/")
    assert not Recipient.objects.exists()


def test_a_file_we_cannot_read_gets_a_clear_message(client, pod, cycle, organizer):
    client.force_login(organizer)
    response = upload(client, b"\x89PNG\r\n\x1a\n\x00\x00")
    assert response.status_code == 400
    assert "This is not a CSV file." in response.content.decode()


def test_semicolons_and_a_bom_and_translated_headers(client, pod, cycle, organizer):
    client.force_login(organizer)
    page, _url = preview(
        client, "\ufeffNombre visible;Medio de pago;Usuario de pago\r\nRosa;Efectivo;\r\n"
    )
    assert statuses(page) == ["new"]
    assert page.context["rows"][0].payment_method == "cash"


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent transactions")
@pytest.mark.django_db(transaction=True)
def test_confirms_sent_at_once_enroll_each_once(client, pod, cycle, organizer):
    client.force_login(organizer)
    _page, url = preview(client, GOOD)
    barrier = threading.Barrier(4)
    codes = []

    def attempt():
        browser = Client()
        browser.cookies = client.cookies
        try:
            barrier.wait(timeout=10)
            codes.append(browser.post(url + "confirm/").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # One confirm shows the links; the others find the list imported.
    assert sorted(codes) == [200, 302, 302, 302]
    assert Recipient.objects.count() == 3
    assert Enrollment.objects.filter(cycle=cycle).count() == 3


def test_the_preview_costs_the_same_queries_for_3_and_60_rows(client, pod, cycle, organizer):
    client.force_login(organizer)
    counts = []
    for size in (3, 60):
        rows = "".join(f"P{n},cashapp,$p{n}\n" for n in range(size))
        _page, url = preview(client, "name,method,handle\n" + rows)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
