"""Text people type cannot reorder what others read: a display name such as
"Ana\u202e 00.005$ diap" shows as "Ana paid $500.00" beside an amount.

On input the bidi controls are taken out of names, handles, contacts and references
(mutualaid.text.clean_typed_text, called by the forms). On output every such text, and
any typed before the cleaning or through the admin, is shown isolated: in a <bdi> (the
`bdi` filter), or, for an alert's paragraphs, in an element with dir="auto"."""

import datetime
import re
import uuid
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.db import connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from mutualaid.text import clean_typed_text, isolate
from pods.models import Alert, Invitation
from receipts.models import Receipt
from recipients.models import Recipient, Referral

pytestmark = pytest.mark.django_db

RLO = "\u202e"
CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


def evil(label):
    """A text that, shown bare, reads "<label> paid $500.00"."""
    return f"{label}{RLO} 00.005$ diap"


# Cleaning on input.


@pytest.mark.parametrize("control", list(CONTROLS))
def test_each_bidi_control_is_taken_out(control):
    assert clean_typed_text(f"Ana{control} 00.005$ diap") == "Ana 00.005$ diap"


def test_what_is_left_is_trimmed_and_joiners_stay():
    assert clean_typed_text(f" {RLO} Ana {RLO}") == "Ana"
    # Persian (zero-width non-joiner) and emoji (zero-width joiner) are spelt with them.
    assert clean_typed_text("می\u200cخواهم") == "می\u200cخواهم"
    assert clean_typed_text("👩\u200d👩\u200d👧") == "👩\u200d👩\u200d👧"
    assert clean_typed_text("Rosa") == "Rosa"


def test_a_referral_name_and_contact_are_cleaned(client, donor, pod):
    client.force_login(donor)
    response = client.post(
        reverse("recipients:refer", args=[pod.slug]),
        {
            "display_name": evil("Ana"),
            "contact": f"555{RLO}-0100",
            "note": "",
            "submission_key": str(uuid.uuid4()),
        },
    )
    assert response.status_code == 302
    referral = Referral.objects.get()
    assert referral.display_name == "Ana 00.005$ diap"
    assert referral.contact == "555-0100"


def test_a_payment_handle_and_contact_are_cleaned_on_enrolling(client, organizer, pod, cycle):
    referral = Referral.objects.create(pod=pod, display_name="Nia")
    client.force_login(organizer)
    response = client.post(
        reverse("recipients:referral_enroll", args=[pod.slug, referral.pk]),
        {
            "payment_method": "cashapp",
            "payment_handle": f"$n{RLO}ia\u2066",
            "contact": "\u200f555-0199",
            "first_week": cycle.open_weeks()[0],
        },
    )
    assert response.status_code == 200
    recipient = Recipient.objects.get(display_name="Nia")
    assert recipient.payment_handle == "$nia"
    assert recipient.contact == "555-0199"


def test_a_receipt_reference_is_cleaned(client, donor, pod, cycle, recipient, enrollment):
    client.force_login(donor)
    response = client.post(
        reverse("receipts:receipt_create", args=[pod.slug]),
        {
            "recipient": recipient.pk,
            "week": 1,
            "amount": "10",
            "method": "cashapp",
            "sent_on": cycle.starts_on.isoformat(),
            "reference": evil("ref"),
            "submission_key": str(uuid.uuid4()),
        },
    )
    assert response.status_code == 302
    assert Receipt.objects.get().reference == "ref 00.005$ diap"


def test_a_members_display_name_is_cleaned_on_the_profile(client, donor):
    client.force_login(donor)
    response = client.post(reverse("users:profile"), {"display_name": evil("Dana")})
    assert response.status_code == 302
    donor.refresh_from_db()
    assert donor.display_name == "Dana 00.005$ diap"


def test_a_display_name_is_cleaned_on_signing_up(client, pod, organizer, django_user_model):
    invitation = Invitation(
        pod=pod, created_by=organizer, expires_at=timezone.now() + datetime.timedelta(days=1)
    )
    token = invitation.new_token()
    invitation.save()
    client.get(reverse("users:join", args=[token]))
    response = client.post(
        reverse("account_signup"), {"email": "nina@example.org", "display_name": evil("Nina")}
    )
    assert response.status_code == 302
    assert django_user_model.objects.get(email="nina@example.org").display_name == (
        "Nina 00.005$ diap"
    )


# Isolation on output.


def bare(html, text):
    """Where `text` shows in `html` without being isolated. Allowed: inside a <bdi>, inside
    an element with a dir attribute, and where markup cannot go (the <title>, a
    select's <option>, an attribute's value)."""
    for pattern in [
        r"<title>.*?</title>",
        r"<option\b[^>]*>.*?</option>",
        r"<bdi\b[^>]*>.*?</bdi>",
        # Not <html dir="…">: that is the page's direction, not an isolate.
        r"<(?!html\b)(\w+)\b[^>]*\bdir=\"[^\"]+\"[^>]*>.*?</\1>",
        r'="[^"]*"',
    ]:
        html = re.sub(pattern, "", html, flags=re.DOTALL)
    return [m.start() for m in re.finditer(re.escape(text), html)]


def test_the_check_finds_a_bare_name():
    assert bare(f"<p>Paid by {evil('Dana')}</p>", evil("Dana"))
    assert not bare(f"<p>Paid by {isolate(evil('Dana'))}</p>", evil("Dana"))
    assert not bare(f'<p dir="auto">{evil("Dana")}</p>', evil("Dana"))
    assert bare(f'<html dir="ltr"><p>{evil("Dana")}</p></html>', evil("Dana"))


def write_past_the_cleaning(obj, **values):
    """Store `values` on `obj`'s row as data from before the cleaning existed: by SQL,
    since every save, update and query through the models now cleans typed text."""
    meta = type(obj)._meta
    columns = ", ".join(
        f"{connection.ops.quote_name(meta.get_field(name).column)} = %s" for name in values
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {connection.ops.quote_name(meta.db_table)} SET {columns} WHERE id = %s",
            [*values.values(), obj.pk],
        )


@pytest.fixture
def typed(pod, cycle, organizer, donor, recipient, enrollment, recipient_link):
    """Every kind of typed text, with bidi controls, as data from before the cleaning
    could hold it (written straight to the database)."""
    texts = {
        "organizer": evil("Olive"),
        "donor": evil("Dana"),
        "recipient": evil("Rosa"),
        "reference": evil("ref"),
        "void": evil("wrong"),
        "referral": evil("Nia"),
        "note": evil("call"),
        "contact": evil("555"),
        "alert": evil("scam"),
    }
    write_past_the_cleaning(organizer, display_name=texts["organizer"])
    write_past_the_cleaning(donor, display_name=texts["donor"])
    write_past_the_cleaning(recipient, display_name=texts["recipient"])
    fields = {
        "pod": pod,
        "cycle": cycle,
        "week": 1,
        "recipient": recipient,
        "payer": donor,
        "amount": Decimal("50.00"),
        "method": "cashapp",
        "sent_on": cycle.starts_on,
    }
    receipt = Receipt.objects.create(**fields, posted_by=organizer)
    write_past_the_cleaning(receipt, reference=texts["reference"])
    voided = Receipt.objects.create(**fields, posted_by=donor)
    voided.void(by=organizer, reason="wrong")
    write_past_the_cleaning(voided, void_reason=texts["void"])
    referral = Referral.objects.create(pod=pod, referred_by=donor, display_name="Nia")
    write_past_the_cleaning(
        referral, display_name=texts["referral"], note=texts["note"], contact=texts["contact"]
    )
    alert = Alert.objects.create(
        pod=pod,
        message="scam",
        created_by=organizer,
        expires_at=timezone.now() + datetime.timedelta(days=2),
    )
    write_past_the_cleaning(alert, message=texts["alert"])
    invitation = Invitation(
        pod=pod, created_by=organizer, expires_at=timezone.now() + datetime.timedelta(days=1)
    )
    invitation.new_token()
    invitation.save()
    return SimpleNamespace(
        texts=texts,
        receipt=receipt,
        voided=voided,
        referral=referral,
        recipient=recipient,
        token=recipient_link,
    )


def pages(pod, typed):
    slug = pod.slug
    return {
        "organizer": [
            reverse("pods:dashboard", args=[slug]),
            reverse("pods:members", args=[slug]),
            reverse("pods:this_week", args=[slug]),
            reverse("pods:plan", args=[slug, 6]),
            reverse("pods:alerts", args=[slug]),
            reverse("pods:invitations", args=[slug]),
            reverse("receipts:board", args=[slug]),
            reverse("receipts:receipt_detail", args=[slug, typed.receipt.pk]),
            reverse("receipts:receipt_detail", args=[slug, typed.voided.pk]),
            reverse("recipients:waitlist", args=[slug]),
            reverse("recipients:referral", args=[slug, typed.referral.pk]),
            reverse("recipients:referral_enroll", args=[slug, typed.referral.pk]),
            reverse("recipients:recipient", args=[slug, typed.recipient.pk]),
            reverse("recipients:enrollment_end", args=[slug, typed.recipient.pk]),
        ],
        "donor": [
            reverse("recipients:refer", args=[slug]),
            reverse("receipts:receipt_detail", args=[slug, typed.voided.pk]),
            reverse("home"),
        ],
        None: [
            reverse("recipients:link", args=[typed.token]),
            reverse("recipients:link_cycle", args=[typed.token, 1]),
        ],
    }


def test_every_page_shows_typed_text_isolated(client, pod, typed, organizer, donor):
    seen = set()
    problems = []
    for who, urls in pages(pod, typed).items():
        client.logout()
        if who:
            client.force_login({"organizer": organizer, "donor": donor}[who])
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            html = response.text
            for kind, text in typed.texts.items():
                if text in html:
                    seen.add(kind)
                if bare(html, text):
                    problems.append(f"{url}: {kind} shown bare")
    assert not problems, "\n".join(problems)
    # Each kind was on at least one page: the check looked at something.
    assert seen == set(typed.texts)


def test_a_name_renders_inside_bdi(client, pod, typed, organizer):
    client.force_login(organizer)
    board = client.get(reverse("receipts:board", args=[pod.slug])).text
    assert f"<td><bdi>{typed.texts['recipient']}</bdi></td>" in board
    # The payer's name links to their receipts (the payer filter), and stays isolated.
    assert (
        f'<td><a href="?payer={typed.receipt.payer_id}"><bdi>{typed.texts["donor"]}</bdi></a>'
        in board
    )
    assert f"<bdi>{typed.texts['reference']}</bdi>" in board
    detail = client.get(reverse("receipts:receipt_detail", args=[pod.slug, typed.receipt.pk]))
    assert f"to <bdi>{typed.texts['recipient']}</bdi>" in detail.text
    assert f'<a class="who" href="/profile/"><bdi>{typed.texts["organizer"]}</bdi></a>' in (
        detail.text
    )


def test_html_emails_isolate_names_and_text_emails_keep_them_plain(pod, cycle):
    name, by, reason, following = evil("Rosa"), evil("Olive"), evil("bye"), evil("Nia")
    context = {
        "name": name,
        "by": by,
        "reason": reason,
        "pod": pod,
        "cycle": cycle,
        "started": True,
        "last_week": 6,
        "auto": False,
        "handed_to": SimpleNamespace(display_name=following),
        "replanned": False,
        "enroll_url": "https://pods.example.net/enroll/",
        "waitlist_url": "https://pods.example.net/waitlist/",
    }
    html = render_to_string("emails/recipient_left_body.html", context)
    for text in (name, by, reason, following):
        assert text in html
        assert not bare(html, text)
    # Plain text has no markup to isolate with: there the name is as it is.
    body = render_to_string("emails/recipient_left_body.txt", context)
    assert name in body
    assert "<bdi>" not in body


def test_a_reminders_transfer_line_isolates_name_and_handle(pod):
    recipient = SimpleNamespace(
        display_name=evil("Rosa"),
        payment_handle="$rosa",
        get_payment_method_display="Cash App",
    )
    transfer = SimpleNamespace(
        recipient=recipient,
        outstanding=Decimal("100.00"),
        received=Decimal("0.00"),
        assigned=Decimal("100.00"),
    )
    line = render_to_string("emails/_reminder_transfer.txt", {"transfer": transfer, "pod": pod})
    assert f"to <bdi>{evil('Rosa')}</bdi>, by Cash App at <bdi>$rosa</bdi>" in line


# Templates written later: a person-typed value output bare fails here.

TYPED = re.compile(
    r"(display_name|payer_name|poster_name|voider_name|reference|void_reason|end_reason"
    r"|referral\.note|\.contact|move\.reason|referred_by|moved_by|created_by|person\.name"
    r"|pod\.name|membership\.user|handed_to|took_slot_after)\b"
)


def bare_outputs(source):
    """{{ }} and blocktranslate values of person-typed fields without |bdi, leaving out
    what cannot hold markup (titles, attributes) and what is already isolated."""
    source = re.sub(r"\{% comment %\}.*?\{% endcomment %\}", "", source, flags=re.DOTALL)
    source = "\n".join(
        line
        for line in source.splitlines()
        if not re.search(r"\{% block (pod_)?title %\}|<title>", line)
    )
    source = re.sub(r'="[^"]*"', "", source)
    found = []
    for var in re.findall(r"\{\{(.*?)\}\}", source):
        if TYPED.search(var.split("|")[0]) and "|bdi" not in var:
            found.append(var.strip())
    for tag in re.findall(r"\{% blocktranslate.*?%\}", source):
        for key, value in re.findall(r"(\w+)=((?:[^\s\"']|\"[^\"]*\"|'[^']*')+)", tag):
            if TYPED.search(value.split("|")[0]) and "|bdi" not in value:
                found.append(f"{key}={value}")
    return found


def test_the_template_check_finds_a_bare_name():
    assert bare_outputs("<p>{{ recipient.display_name }}</p>") == ["recipient.display_name"]
    assert bare_outputs("{% blocktranslate with name=r.display_name %}{% endblocktranslate %}")
    assert not bare_outputs("<p>{{ recipient.display_name|bdi }}</p>")
    assert not bare_outputs('<input value="{{ recipient.display_name }}">')


# Handles already sit in an element with dir="ltr" ("$name" must not read "name$").
ALREADY_ISOLATED = {"recipient.payment_handle", "row.recipient.payment_handle"}


def test_templates_isolate_person_typed_text():
    root = Path(settings.BASE_DIR) / "templates"
    problems = []
    for path in sorted(root.rglob("*.html")):
        if "admin" in path.relative_to(root).parts:
            continue  # Django's admin escapes and lays out its own cells.
        for found in bare_outputs(path.read_text()):
            if found not in ALREADY_ISOLATED:
                problems.append(f"{path.relative_to(root)}: {found}")
    assert not problems, "Isolate with |bdi:\n" + "\n".join(problems)


# Cleaning at the model: whatever path writes the text (the admin, a service, a script).


def test_typed_text_is_cleaned_on_every_save_and_update(pod):
    recipient = Recipient.objects.create(
        pod=pod, display_name=evil("Ana"), payment_method="cashapp", payment_handle=evil("$a")
    )
    recipient.refresh_from_db()
    assert recipient.display_name == "Ana 00.005$ diap"
    assert recipient.payment_handle == "$a 00.005$ diap"
    Recipient.objects.filter(pk=recipient.pk).update(contact=f"555{RLO}-0100")
    recipient.refresh_from_db()
    assert recipient.contact == "555-0100"


def test_a_handle_edited_in_the_admin_is_cleaned(client, organizer, pod, recipient):
    client.force_login(organizer)
    response = client.post(
        reverse("admin:recipients_recipient_change", args=[recipient.pk]),
        {
            "pod": pod.pk,
            "display_name": f"{RLO}Rosa",
            "payment_method": "cashapp",
            "payment_handle": f"$rosa{RLO}",
            "contact": "",
        },
    )
    assert response.status_code == 302, response.text
    recipient.refresh_from_db()
    assert (recipient.display_name, recipient.payment_handle) == ("Rosa", "$rosa")


def test_a_name_of_nothing_but_controls_is_an_empty_name_in_the_admin(
    client, organizer, pod, recipient
):
    client.force_login(organizer)
    response = client.post(
        reverse("admin:recipients_recipient_change", args=[recipient.pk]),
        {"pod": pod.pk, "display_name": RLO * 3, "payment_method": "cashapp"},
    )
    assert response.status_code == 200
    assert "This field is required." in response.text
    recipient.refresh_from_db()
    assert recipient.display_name == "Rosa"


def test_an_alert_typed_in_the_app_is_cleaned(client, organizer, pod):
    client.force_login(organizer)
    response = client.post(
        reverse("pods:alerts", args=[pod.slug]),
        {"message": evil("Scam"), "expires_at": "", "submission_key": str(uuid.uuid4())},
    )
    assert response.status_code == 302
    assert Alert.objects.get().message == "Scam 00.005$ diap"


# Flash messages that name someone isolate the name.


def test_a_flash_message_isolates_the_name_it_shows(client, donor, pod, cycle):
    client.force_login(donor)
    referral = Referral.objects.create(pod=pod, referred_by=donor, display_name="Nia")
    write_past_the_cleaning(referral, display_name=evil("Nia"))
    key = str(uuid.uuid4())
    Referral.objects.filter(pk=referral.pk).update(submission_key=key)
    # The same form sent again finds the first referral and names it.
    response = client.post(
        reverse("recipients:refer", args=[pod.slug]),
        {"display_name": "Nia", "submission_key": key},
        follow=True,
    )
    assert f"You already referred <bdi>{evil('Nia')}</bdi>" in response.text
    assert not bare(response.text, evil("Nia"))


def test_a_flash_message_escapes_what_it_isolates():
    from mutualaid.text import format_isolated

    html = format_isolated("<b>%(name)s</b> & co", {"name": "<script>"})
    assert html == "&lt;b&gt;<bdi>&lt;script&gt;</bdi>&lt;/b&gt; &amp; co"
