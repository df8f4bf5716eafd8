"""No NUL character reaches the database (mutualaid/middleware_nul.py): one in the
address, the query string, a header or a cookie gets a 400 page and changes nothing; one
in a posted form field is taken out, and the page answers as it would without it.
PostgreSQL cannot store a NUL at all: there an admin list filter with one was a 500, and
so was every page for a session cookie with one. Run on SQLite and on PostgreSQL."""

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from recipients.models import Referral

pytestmark = pytest.mark.django_db

NUL = "\x00"


@pytest.fixture
def web(client):
    # A 500 is what this file guards against: let it show as a status, not a raise.
    client.raise_request_exception = False
    return client


def assert_refused(response):
    assert response.status_code == 400
    assert "This link could not be used" in response.text
    assert "Nothing was saved" in response.text


ADMIN_URLS = [
    "/admin/receipts/receipt/?method=%00",
    "/admin/receipts/receipt/?q=%00",
    "/admin/receipts/receipt/?%00=1",
    "/admin/recipients/recipient/?pod__id__exact=%00",
    "/admin/recipients/recipient/%00/change/",
    "/admin/pods/cycle/?o=%00",
]

APP_URLS = [
    "/pods/maple/",
    "/pods/maple/receipts/?week=%00",
    "/pods/maple/receipts/?cycle=1%00",
    "/pods/maple/receipts/export.csv?payer=%00",
    "/pods/maple/receipts/new/?recipient=%00&amount=1%00",
    "/pods/maple/waitlist/?x=%00",
    "/pods/ma%00ple/",
    "/pods/maple/receipts/1%00/",
    "/profile/?next=%00",
    "/accounts/login/?next=/%00",
    "/r/%00/",
    "/join/abc%00/",
]


@pytest.mark.parametrize("url", ADMIN_URLS)
def test_a_nul_in_an_admin_address_gets_400(web, organizer, cycle, url):
    web.force_login(organizer)
    assert_refused(web.get(url))


@pytest.mark.parametrize("url", APP_URLS)
@pytest.mark.parametrize("who", [None, "donor", "organizer", "outsider"])
def test_a_nul_in_an_app_address_gets_400(web, cycle, url, who, request):
    if who:
        web.force_login(request.getfixturevalue(who))
    if "%00" not in url:
        url += "?filter=%00"
    assert_refused(web.get(url))


def test_the_same_addresses_without_the_nul_still_work(web, organizer, cycle):
    web.force_login(organizer)
    assert web.get("/admin/receipts/receipt/?method=cashapp").status_code == 200
    assert web.get("/pods/maple/receipts/?week=2").status_code == 200


def test_a_nul_in_a_form_field_is_taken_out(web, donor, cycle):
    """Invisible, so what is saved is what the person saw in the field."""
    web.force_login(donor)
    response = web.post(
        reverse("recipients:refer", args=["maple"]),
        {
            "display_name": "A" + NUL + "na" + NUL,
            "note": NUL,
            "x" + NUL: NUL,
            "submission_key": str(uuid.uuid4()),
        },
    )
    assert response.status_code == 302
    referral = Referral.objects.get()
    assert referral.display_name == "Ana"
    assert referral.note == ""


def test_a_field_that_was_only_a_nul_is_empty(web, donor, cycle):
    web.force_login(donor)
    response = web.post(
        reverse("recipients:refer", args=["maple"]),
        {"display_name": NUL, "submission_key": str(uuid.uuid4())},
    )
    assert response.status_code == 200
    assert "Give a name for your neighbor" in response.text
    assert not Referral.objects.exists()


def test_a_nul_in_a_multipart_form_field_is_taken_out(web, donor, cycle):
    web.force_login(donor)
    upload = SimpleUploadedFile("note.txt", b"\x00 bytes of a file are left alone")
    response = web.post(
        reverse("recipients:refer", args=["maple"]),
        {"display_name": "Ana" + NUL, "attachment": upload, "submission_key": str(uuid.uuid4())},
    )
    assert response.status_code == 302
    assert Referral.objects.get().display_name == "Ana"


def test_a_nul_in_an_admin_form_is_taken_out(web, organizer, pod):
    web.force_login(organizer)
    response = web.post(
        reverse("admin:recipients_recipient_add"),
        {"pod": pod.pk, "display_name": "Ana" + NUL, "payment_method": "cash"},
    )
    assert response.status_code == 302
    assert pod.recipients.get().display_name == "Ana"


def test_a_nul_in_an_admin_action_saves_nothing(web, organizer, cycle, recipient, enrollment):
    """An admin action's row ids are read from the POST by hand, not by a form field."""
    web.force_login(organizer)
    response = web.post(
        reverse("admin:receipts_receipt_changelist"),
        {"action": "delete_selected", "_selected_action": [NUL, "1" + NUL]},
    )
    assert response.status_code < 500


@pytest.mark.parametrize("who", [None, "outsider"])
def test_a_nul_in_a_form_does_not_tell_strangers_a_pod_exists(web, cycle, who, request):
    """Taken out rather than refused: a stranger gets what they get for any post."""
    if who:
        web.force_login(request.getfixturevalue(who))
    data = {"display_name": "Ana" + NUL}
    response = web.post(reverse("recipients:refer", args=["maple"]), data)
    nowhere = web.post(reverse("recipients:refer", args=["no-such-pod"]), data)
    assert response.status_code == nowhere.status_code == (302 if who is None else 404)
    if who is None:
        assert response.url.startswith(reverse("account_login"))
    assert not Referral.objects.exists()


def test_a_nul_in_a_header_gets_400(web):
    assert_refused(web.get("/", HTTP_X_ANYTHING="a" + NUL))


def test_a_nul_in_the_session_cookie_gets_400_and_the_cookie_is_dropped(db):
    """The session is looked up by its cookie: with a NUL in it, PostgreSQL answered 500
    on every page. The 400 deletes it, so the browser is not stuck."""
    browser = Client(raise_request_exception=False)
    browser.cookies["sessionid"] = "abcdefghijklmnop" + NUL
    response = browser.get("/pods/maple/")
    assert_refused(response)
    assert response.cookies["sessionid"].value == ""
    assert response.cookies["sessionid"]["max-age"] == 0
    # The test client keeps the deleted cookie as an empty one: the next page works.
    assert browser.get(reverse("account_login")).status_code == 200


def test_the_400_page_reads_no_database(db):
    """Answered before the session is read or the user loaded: even a NUL in the
    session cookie itself does not reach a query."""
    browser = Client(raise_request_exception=False)
    browser.cookies["sessionid"] = "abcdefghijklmnop" + NUL
    with CaptureQueriesContext(connection) as queries:
        response = browser.get("/pods/maple/receipts/?week=%00")
    assert response.status_code == 400
    assert list(queries) == []


def test_the_400_page_is_in_the_visitors_language(web):
    response = web.get("/?q=%00", HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400
    assert '<html lang="es"' in response.text
