"""An organizer brings a new pod in from its spreadsheets, end to end in a real browser:
imports the donor list (each new donor gets an invitation by email), imports the
recipients the pod already supports (their private links shown once), invites two more
people by email and makes an invitation link (shown again on reload, with Copy link),
and plans the next cycle from the Cycle page. A donor from the list then joins through
their emailed invitation and finds the list's amount offered in their pledge form, not
pledged for them.

The database is touched only to set the scene before and to check the outcome after.
"""

import datetime
import re
from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import expect

from pledges.models import Pledge
from pods.models import Cycle, Invitation, Membership, Pod
from recipients.models import Enrollment, Recipient

PASSWORD = "a-long-import-password"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DONORS_CSV = (
    "\ufeffName;Email;Weekly amount\r\n"
    "Ana Ruiz;ana@example.org;25,50\r\n"
    "Ben;ben@example.org;\r\n"
    "Nobody;not-an-address;10\r\n"
).encode()
RECIPIENTS_CSV = (
    b"Display name,Payment method,Handle,Contact\n"
    b"Rosa,Cash App,$rosa,555-0100\n"
    b"Sam,Venmo,@sam-lee,\n"
)


@pytest.fixture
def scene(make_user):
    """A new pod in week 2 of its first cycle (3 slots, nobody enrolled), its one
    organizer, who writes Spanish amounts: the pod's language is Spanish."""
    pod = Pod.objects.create(name="Cedar Pod", slug="cedar", language="es")
    olive = make_user("olive@example.org", display_name="Olive", password=PASSWORD)
    EmailAddress.objects.create(user=olive, email=olive.email, verified=True, primary=True)
    Membership.objects.create(pod=pod, user=olive, role=Membership.Role.ORGANIZER)
    cycle = Cycle.objects.create(
        pod=pod,
        number=1,
        starts_on=pod.today() - datetime.timedelta(days=7),
        weeks=15,
        weekly_amount=Decimal("100.00"),
        slots=3,
    )
    return {"pod": pod, "cycle": cycle, "organizer": olive}


def sign_in(page, url, email):
    page.goto(url)
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password (optional)").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(url)


def nav(page, name):
    page.get_by_role("navigation", name="Pod pages").get_by_role("link", name=name).click()


def upload(page, section, name, data, label="CSV file"):
    form = page.get_by_role("region", name=section)
    form.get_by_label(label).set_input_files({"name": name, "mimeType": "text/csv", "buffer": data})
    return form


def test_an_organizer_imports_invites_and_plans_the_next_cycle(
    live_server, scene, watch, tmp_path, mailoutbox
):
    pod = scene["pod"]
    base = live_server.url
    organizer = watch.new_page("organizer")
    # The clipboard is for "Copy link" (localhost is a secure context).
    organizer.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)

    with watch.screenshots_on_failure(tmp_path):
        # 1. The donor list, as Excel writes it in Spanish: a BOM, semicolons, a
        # decimal comma. The organizer reads Spanish amounts, so the page is in Spanish
        # for that step: amounts are read the uploader's way.
        sign_in(organizer, f"{base}/pods/{pod.slug}/", "olive@example.org")
        nav(organizer, "Import")
        expect(organizer.get_by_role("heading", level=1)).to_have_text("Import from a spreadsheet")
        organizer.context.add_cookies([{"name": "django_language", "value": "es", "url": base}])
        organizer.reload()
        upload(organizer, "Donantes", "donors.csv", DONORS_CSV, label="Archivo CSV")
        organizer.get_by_role("button", name="Revisar los donantes").click()
        rows = organizer.locator("table.import-rows tbody tr")
        expect(rows).to_have_count(3)
        expect(rows.nth(0)).to_contain_text("Ana Ruiz")
        expect(rows.nth(0)).to_contain_text("25,50")
        expect(rows.nth(0)).to_contain_text("Recibirá una invitación por correo")
        expect(rows.nth(2)).to_contain_text("“not-an-address” no es un correo electrónico.")
        assert not Invitation.objects.exists()
        organizer.get_by_role("button", name="Invitar a 2 personas").click()
        expect(organizer.locator(".messages")).to_contain_text(
            "Se enviaron 2 invitaciones por correo."
        )
        expect(rows.nth(0)).to_contain_text("Invitación enviada por correo")
        assert sorted(m.to[0] for m in mailoutbox) == ["ana@example.org", "ben@example.org"]
        to_ana = next(m for m in mailoutbox if m.to == ["ana@example.org"])
        # In the pod's language: Ana has no account yet.
        assert to_ana.subject == "Te invitan a unirte a Cedar Pod"
        assert "25,50" in to_ana.body
        # Back to English for the rest of the story.
        organizer.context.add_cookies([{"name": "django_language", "value": "en", "url": base}])
        organizer.reload()

        # 2. The recipients the pod already supports: enrolled from week 3 (week 2 has
        # started), their private links shown this once.
        nav(organizer, "Import")
        upload(organizer, "Recipients the pod supports now", "recipients.csv", RECIPIENTS_CSV)
        organizer.get_by_role("button", name="Preview the recipients").click()
        expect(organizer.get_by_text("from week 3, the first week not started")).to_be_visible()
        expect(rows).to_have_count(2)
        organizer.get_by_role("button", name="Enroll 2 recipients").click()
        expect(organizer.locator(".messages")).to_contain_text("2 recipients enrolled in cycle 1.")
        rosa_link = organizer.get_by_label("Private link for Rosa").input_value()
        assert re.fullmatch(rf"{re.escape(base)}/r/[\w-]{{20,}}/", rosa_link), rosa_link
        rosa = watch.new_page("rosa")
        rosa.goto(rosa_link)
        expect(rosa.get_by_text("Hello Rosa.")).to_be_visible()
        # The links are never shown again: the upload's page now says what was done.
        organizer.goto(organizer.url.removesuffix("confirm/"))
        expect(rows.nth(0)).to_contain_text("Enrolled")
        expect(organizer.get_by_label("Private link for Rosa")).to_have_count(0)

        # 3. Two more people by email (Ben is invited already), and a link for a meeting.
        nav(organizer, "Invitations")
        organizer.get_by_label("Email addresses").fill("cy@example.org\nben@example.org")
        organizer.get_by_role("button", name="Send the invitations").click()
        messages = organizer.locator(".messages")
        expect(messages).to_contain_text("1 invitation sent by email.")
        expect(messages).to_contain_text(
            "Invited already, with an invitation that still works: ben@example.org."
        )
        organizer.get_by_label("Number of people who can join with it").fill("5")
        organizer.get_by_role("button", name="Create the link").click()
        expect(organizer).to_have_url(re.compile(rf"/pods/{pod.slug}/invitations/\d+/$"))
        link = organizer.get_by_label("Invitation link").input_value()
        organizer.reload()
        expect(organizer.get_by_label("Invitation link")).to_have_value(link)
        assert Invitation.objects.filter(max_uses=5).count() == 1
        copy = organizer.locator("button.copy-button")
        expect(copy).to_have_text("Copy link")
        copy.click()
        expect(copy).to_have_text("Copied")
        assert organizer.evaluate("navigator.clipboard.readText()") == link
        # Share shows only where the browser has a share sheet.
        has_share = organizer.evaluate("typeof navigator.share === 'function'")
        expect(organizer.get_by_role("button", name="Share")).to_have_count(1 if has_share else 0)

        # 4. The next cycle, from the Cycle page: the same weeks, a new amount.
        nav(organizer, "Cycle")
        plan = organizer.get_by_role("region", name="Plan cycle 2")
        plan.get_by_label("Weekly amount per recipient").fill("120")
        plan.get_by_role("button", name="Plan cycle 2").click()
        expect(organizer.locator(".messages")).to_contain_text("Cycle 2 is planned to start on")
        expect(organizer.get_by_role("heading", name="Cycle 2 is planned")).to_be_visible()

        # 5. Ana follows her emailed invitation, signs up with a code, and finds the
        # list's amount offered in her pledge form: nothing is pledged for her.
        ana = watch.new_page("ana")
        join = re.search(r"https?://\S+/join/[^/\s]+/", to_ana.body).group(0)
        ana.goto(join.replace("http://127.0.0.1:8000", base))
        ana.get_by_role("link", name="Create my account").click()
        ana.get_by_label("Email").fill("ana@example.org")
        ana.get_by_role("button", name="Create my account").click()
        code_mail = next(m for m in reversed(mailoutbox) if m.to == ["ana@example.org"])
        code = re.search(r"^\s*([A-Z0-9-]{4,12})\s*$", code_mail.body, re.MULTILINE).group(1)
        ana.get_by_label("Code").fill(code)
        ana.get_by_role("button", name="Confirm").click()
        expect(ana).to_have_url(f"{base}/pods/{pod.slug}/pledge/")
        expect(ana.locator("#suggested-amount")).to_contain_text("$25.50 a week")
        expect(ana.get_by_label("Weekly amount")).to_have_value("25.50")

    assert not watch.problems, watch.problems
    cycle = scene["cycle"]
    assert Cycle.objects.get(pod=pod, number=2).weekly_amount == Decimal("120.00")
    assert sorted(Recipient.objects.filter(pod=pod).values_list("display_name", flat=True)) == [
        "Rosa",
        "Sam",
    ]
    assert set(Enrollment.objects.filter(cycle=cycle).values_list("first_week", "last_week")) == {
        (3, 15)
    }
    assert Membership.objects.filter(pod=pod, user__email="ana@example.org").exists()
    assert not Pledge.objects.filter(donor__email="ana@example.org").exists()
    assert sorted(Invitation.objects.exclude(email="").values_list("email", flat=True)) == [
        "ana@example.org",
        "ben@example.org",
        "cy@example.org",
    ]
