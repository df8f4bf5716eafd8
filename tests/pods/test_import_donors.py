"""/pods/<slug>/import/: an organizer uploads the pod's donor list (CSV), sees each row as
it will be taken, and confirms; each new person is emailed an invitation in the pod's
language, and their pledge form offers the list's amount when they join."""

import re
import threading
from decimal import Decimal

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mutualaid import spreadsheet
from pledges.models import Pledge
from pods.models import Invitation, Membership, StagedImport

pytestmark = pytest.mark.django_db

PAGE = reverse("pods:import", args=["maple"])
UPLOAD = reverse("pods:import_donors", args=["maple"])

GOOD = "name,email,weekly amount\nAna,ana@example.org,25\nBea,BEA@example.org,\n"


def csv_file(text, *, name="donors.csv", encoding="utf-8"):
    data = text.encode(encoding) if isinstance(text, str) else text
    return SimpleUploadedFile(name, data, content_type="text/csv")


def upload(client, text, **kwargs):
    return client.post(UPLOAD, {"donors-file": csv_file(text, **kwargs)})


def preview(client, text, **kwargs):
    response = upload(client, text, **kwargs)
    assert response.status_code == 302, response.content[:2000]
    return client.get(response.url), response.url


@pytest.fixture
def confirm(django_capture_on_commit_callbacks):
    """Confirm the upload; its mail is sent once the request's transaction commits."""

    def send(client, preview_url):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(preview_url + "confirm/", follow=True)

    return send


def statuses(page):
    return [row["status"] for row in page.context["rows"]]


def join_link(message):
    return re.search(r"http://\S+/join/([^/\s]+)/", message.body).group(1)


# Who may


@pytest.mark.parametrize("method", ["get", "post"])
def test_signed_out_visitor_is_sent_to_sign_in(client, pod, method):
    response = client.get(PAGE) if method == "get" else upload(client, GOOD)
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert not StagedImport.objects.exists()


def test_outsider_gets_404(client, pod, outsider):
    client.force_login(outsider)
    assert client.get(PAGE).status_code == 404
    assert upload(client, GOOD).status_code == 404
    assert not StagedImport.objects.exists()


def test_donor_gets_403(client, pod, donor):
    client.force_login(donor)
    assert client.get(PAGE).status_code == 403
    assert upload(client, GOOD).status_code == 403
    assert not StagedImport.objects.exists()


def test_another_pods_organizer_cannot_see_or_confirm_an_upload(client, pod, organizer, outsider):
    client.force_login(organizer)
    _page, url = preview(client, GOOD)
    staged = StagedImport.objects.get()
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    assert client.post(url + "confirm/").status_code == 404
    theirs = reverse("pods:import_donors_preview", args=["elm", staged.pk])
    assert client.get(theirs).status_code == 404
    assert not Invitation.objects.exists()


def test_a_donor_cannot_confirm_an_organizers_upload(client, pod, organizer, donor):
    client.force_login(organizer)
    _page, url = preview(client, GOOD)
    client.force_login(donor)
    assert client.post(url + "confirm/").status_code == 403
    assert not Invitation.objects.exists()


# The good file


def test_preview_shows_every_row_and_saves_nothing(client, pod, organizer):
    client.force_login(organizer)

    page, _url = preview(client, GOOD)

    assert page.status_code == 200
    assert statuses(page) == ["new", "new"]
    rows = page.context["rows"]
    assert (rows[0]["name"], rows[0]["email"], rows[0]["amount"]) == (
        "Ana",
        "ana@example.org",
        "$25.00",
    )
    assert rows[1]["email"] == "bea@example.org" and rows[1]["amount"] == ""
    assert "Invite 2 people" in page.text
    assert not Invitation.objects.exists()
    assert not mail.outbox


def test_confirm_emails_each_new_person_an_invitation_of_their_own(client, pod, organizer, confirm):
    client.force_login(organizer)
    _page, url = preview(client, GOOD)

    done = confirm(client, url)

    assert done.status_code == 200
    assert "2 invitations sent by email." in done.text
    ana = Invitation.objects.get(email="ana@example.org")
    assert (ana.max_uses, ana.role, ana.suggested_amount) == (1, "donor", Decimal("25.00"))
    assert Invitation.objects.get(email="bea@example.org").suggested_amount is None
    assert sorted(m.to[0] for m in mail.outbox) == ["ana@example.org", "bea@example.org"]
    to_ana = next(m for m in mail.outbox if m.to == ["ana@example.org"])
    assert "Hello Ana," in to_ana.body
    assert "$25.00 a week" in to_ana.body
    assert to_ana.subject == "You are invited to join Maple Street Pod"
    assert Invitation.objects.filter(token_hash__isnull=False).count() == 2
    # The upload's cells are gone; what happened stays, for the result page.
    staged = StagedImport.objects.get()
    assert staged.rows == [] and staged.imported_at is not None
    assert statuses(done) == ["sent", "sent"]


def test_the_invited_person_joins_and_their_form_offers_the_amount_without_pledging(
    client, pod, organizer, cycle, make_user, confirm
):
    client.force_login(organizer)
    _page, url = preview(client, GOOD)
    confirm(client, url)
    token = join_link(next(m for m in mail.outbox if m.to == ["ana@example.org"]))
    ana_browser = Client()
    ana = make_user("ana@example.org")
    ana_browser.force_login(ana)

    joined = ana_browser.post(reverse("users:join", args=[token]), follow=True)

    assert joined.redirect_chain[-1][0] == reverse("pods:pledge", args=["maple"])
    assert "The pod's list had $25.00 a week for you" in joined.text
    assert 'value="25.00"' in joined.text
    assert not Pledge.objects.filter(donor=ana).exists()
    # Once they pledge, their own amount is the basis.
    Pledge.objects.create(
        cycle=cycle, donor=ana, amount=Decimal("10.00"), first_week=7, last_week=cycle.weeks
    )
    again = ana_browser.get(reverse("pods:pledge", args=["maple"]))
    assert "The pod's list had" not in again.text


def test_invitation_mail_is_in_the_pods_language_for_people_without_an_account(
    client, pod, organizer, make_user, confirm
):
    pod.language = "es"
    pod.save()
    make_user("bea@example.org", language="ar")
    client.force_login(organizer)
    _page, url = preview(client, GOOD)

    confirm(client, url)

    to_ana = next(m for m in mail.outbox if m.to == ["ana@example.org"])
    assert to_ana.subject == "Te invitan a unirte a Maple Street Pod"
    assert "25,00" in to_ana.body
    # Someone with an account reads it in their own language.
    to_bea = next(m for m in mail.outbox if m.to == ["bea@example.org"])
    assert "Maple Street Pod" in to_bea.subject and "الانضمام" in to_bea.subject


# Each kind of bad row


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("Ana,not-an-address,25", "is not an email address"),
        (",ana@example.org,25", "The name is missing."),
        ("Ana,,25", "The email address is missing."),
        ("Ana,ana@example.org,lots", "Enter an amount of money"),
        ("Ana,ana@example.org,0", "The amount must be more than zero."),
        ("Ana,ana@example.org,-5", "The amount must be more than zero."),
        ('Ana,ana@example.org,"1,970"', "could be read two ways"),
        ("Ana,ana@example.org,12.345", "at most two decimal places"),
        ("A" * 81 + ",ana@example.org,25", "longer than 80 characters"),
    ],
)
def test_a_bad_row_is_shown_with_its_problem_and_left_out(
    client, pod, organizer, row, problem, confirm
):
    client.force_login(organizer)
    page, url = preview(client, f"name,email,weekly amount\n{row}\nBea,bea@example.org,10\n")

    assert statuses(page) == ["error", "new"]
    assert problem in page.text
    confirm(client, url)
    assert list(Invitation.objects.values_list("email", flat=True)) == ["bea@example.org"]


def test_an_address_twice_in_the_file_is_invited_once(client, pod, organizer, confirm):
    client.force_login(organizer)
    page, url = preview(client, "name,email\nAna,ana@example.org\nAna B,ANA@example.org\n")

    assert statuses(page) == ["new", "error"]
    assert "The same address is on row 2." in page.text
    confirm(client, url)
    assert Invitation.objects.count() == 1


def test_members_and_people_invited_already_are_left_alone(client, pod, organizer, donor, confirm):
    client.force_login(organizer)
    client.post(
        reverse("pods:invitation_email", args=["maple"]),
        {"role": "donor", "emails": "cat@example.org"},
    )

    page, url = preview(
        client, "name,email\nDana,dana@example.org\nCat,cat@example.org\nAna,ana@example.org\n"
    )

    assert statuses(page) == ["member", "invited", "new"]
    assert "Already a member: left alone" in page.text
    assert "Already invited: left alone" in page.text
    confirm(client, url)
    assert [m.to for m in mail.outbox] == [["ana@example.org"]]


# Files as spreadsheet apps write them


def test_excel_csv_with_a_bom_and_semicolons_and_a_comma_decimal(client, pod, organizer, confirm):
    client.force_login(organizer)
    text = "\ufeffName;E-mail;Weekly Amount\r\nAna;ana@example.org;25,50\r\n"

    page, _url = preview(client, text)

    # In English, "25,50" is not an amount: amounts are read the uploader's way.
    assert statuses(page) == ["error"]
    client.cookies["django_language"] = "es"
    page, url = preview(client, text)
    assert statuses(page) == ["new"]
    assert page.context["rows"][0]["amount"] == "25,50\xa0US$"
    confirm(client, url)
    assert Invitation.objects.get().suggested_amount == Decimal("25.50")


def test_headers_in_another_language_and_any_order_and_currency_signs(client, pod, organizer):
    client.force_login(organizer)
    text = '"Correo electrónico","NOMBRE","Aporte semanal"\nana@example.org,Ana,"$1,970.00"\n'

    page, _url = preview(client, text)

    assert statuses(page) == ["new"]
    assert page.context["rows"][0]["amount"] == "$1,970.00"


def test_google_sheets_csv_without_a_bom(client, pod, organizer):
    client.force_login(organizer)
    page, _url = preview(client, 'Name,Email,Weekly amount\r\nAna,ana@example.org,"25.00"\r\n')
    assert statuses(page) == ["new"]


def test_the_same_file_twice_changes_nothing(client, pod, organizer, confirm):
    client.force_login(organizer)
    _page, url = preview(client, GOOD)
    confirm(client, url)
    sent = len(mail.outbox)

    page, url = preview(client, GOOD)

    assert statuses(page) == ["invited", "invited"]
    assert '<button type="submit">Invite' not in page.text
    confirm(client, url)
    assert Invitation.objects.count() == 2
    assert len(mail.outbox) == sent


def test_a_confirm_sent_twice_imports_once(client, pod, organizer, confirm):
    client.force_login(organizer)
    _page, url = preview(client, GOOD)
    confirm(client, url)

    again = confirm(client, url)

    assert "This list was imported already; nothing changed." in again.text
    assert Invitation.objects.count() == 2
    assert len(mail.outbox) == 2


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent transactions")
@pytest.mark.django_db(transaction=True)
def test_confirms_sent_at_once_import_once(client, pod, organizer):
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

    assert codes == [302] * 4
    assert Invitation.objects.count() == 2
    assert len(mail.outbox) == 2


# Files that are not what we take


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 100, "This is not a CSV file."),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "This is not a CSV file."),
        ("name,email\nJosé,jose@example.org\n".encode("latin-1"), "not in UTF-8"),
        (b"", "The submitted file is empty."),
        (b"   \n\n", "The file is empty."),
        (b"name,email\n", "a header row but no rows below it"),
        (b"name,telefono\nAna,555\n", "Missing: \u201cemail\u201d"),
        (b'name,email\n"Ana,ana@example.org\n', "not a CSV file we can read"),
    ],
    ids=["xlsx", "png", "latin-1", "no-bytes", "blank", "header-only", "no-email", "broken"],
)
def test_a_file_we_cannot_read_gets_a_clear_message(client, pod, organizer, data, message):
    client.force_login(organizer)

    response = upload(client, data)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not StagedImport.objects.exists()


def test_a_file_over_the_size_cap_is_refused(client, pod, organizer):
    client.force_login(organizer)
    big = "name,email\n" + "Ana,ana@example.org\n" * (spreadsheet.MAX_BYTES // 20 + 10)

    response = upload(client, big)

    assert response.status_code == 400
    assert "The file is too big: at most 1024 KB" in response.content.decode()


def test_a_file_over_the_row_cap_is_refused(client, pod, organizer):
    client.force_login(organizer)
    rows = "".join(f"P{n},p{n}@example.org\n" for n in range(spreadsheet.MAX_ROWS + 1))

    response = upload(client, "name,email\n" + rows)

    assert response.status_code == 400
    assert "The file has more than 2000 rows." in response.content.decode()


# Size


def test_a_thousand_rows_preview_and_import_correctly(client, pod, organizer, make_user, confirm):
    for n in range(0, 1000, 100):
        user = make_user(f"p{n}@example.org")
        Membership.objects.create(pod=pod, user=user)
    rows = "".join(f"Person {n},p{n}@example.org,{n % 50 + 1}\n" for n in range(1000))
    client.force_login(organizer)

    page, url = preview(client, "name,email,weekly amount\n" + rows)

    assert page.context["counts"] == {"new": 990, "member": 10}
    assert page.context["rows"][999]["amount"] == "$50.00"
    confirm(client, url)
    assert Invitation.objects.count() == 990
    assert len(mail.outbox) == 990


def test_the_preview_costs_the_same_queries_for_3_and_300_rows(client, pod, organizer):
    client.force_login(organizer)
    counts = []
    for size in (3, 300):
        rows = "".join(f"P{n},p{n}@example.org,5\n" for n in range(size))
        _page, url = preview(client, "name,email,weekly amount\n" + rows)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
