"""What the pod knows about a recipient: every field that can hold something about them
is listed here, shown on their private page and handled by retention; erasing it (now, on
their request, or by the daily run) leaves every total as it was and none of their words
anywhere in the database."""

import csv
import datetime
import html
import io
import json
import re
import zoneinfo
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection, models
from django.db.models import Sum
from django.urls import reverse
from django.utils import formats, timezone, translation

from pledges.models import Assignment
from pods.models import Cycle
from pods.templatetags.money import format_money
from receipts.models import Receipt
from receipts.retention import erased_label
from recipients.models import Enrollment, Recipient, Referral, ReferralMove
from recipients.services import enroll, move_referral

pytestmark = pytest.mark.django_db

NAME, HANDLE, CONTACT = "Rosalind Quill", "$rosaquill", "555-0199"
# Other people's words about her, each naming or describing her.
NOTE = "Ask for Rosalind at the shelter desk"
MOVE_REASON = "Rosalind Quill has a baby due"
END_REASON = "Rosalind is back after the summer"
REFERENCE = "groceries for Rosalind"
VOID_REASON = "Sent to $rosaquill twice"
ALL_HER_WORDS = [NAME, "Rosalind", HANDLE, CONTACT, NOTE, MOVE_REASON, END_REASON, REFERENCE]


# Every field of every model that can hold something about a recipient: what the
# recipient's page shows of it (a function of the row giving the text the page holds,
# or None with why not) and what retention does with it ("erased", or "kept" with the
# money history, which is what keeps the pod's totals right).

SHOWN_AS_IS = "as is"


def _date(value, pod):
    if isinstance(value, datetime.datetime):
        value = value.astimezone(zoneinfo.ZoneInfo(pod.time_zone)).date()
    return formats.date_format(value, "DATE_FORMAT")


def _money(amount, pod):
    return format_money(amount, pod.currency)


KEY = None  # a key between rows, or a row's own id: nothing about the person in it

RECIPIENT_DATA = {
    "recipients.Recipient": {
        "id": (KEY, "kept"),
        "pod": (KEY, "kept"),
        "display_name": (SHOWN_AS_IS, "erased"),
        "payment_method": (lambda r, pod: r.get_payment_method_display(), "kept"),
        "payment_handle": (SHOWN_AS_IS, "erased"),
        "contact": (SHOWN_AS_IS, "erased"),
        # Only its hash: the page says the pod keeps a fingerprint of its address.
        "access_token_hash": (lambda r, pod: "fingerprint of its address", "erased"),
        "handle_changed_at": (lambda r, pod: _date(r.handle_changed_at, pod), "erased"),
        "erased_at": (None, "kept"),  # empty while the page can be seen at all
        "created_at": (lambda r, pod: _date(r.created_at, pod), "kept"),
        # The language their page opens in: the page itself is in it, and its menu says so.
        "language": (None, "kept"),
    },
    "recipients.Enrollment": {
        "id": (KEY, "kept"),
        "recipient": (KEY, "kept"),
        "cycle": (lambda e, pod: f"Cycle {e.cycle.number}, slot", "kept"),
        "slot": (lambda e, pod: f"slot {e.slot}:", "kept"),
        "first_week": (lambda e, pod: f"weeks {e.first_week} to", "kept"),
        "last_week": (lambda e, pod: f"to {e.last_week}", "kept"),
        "status": (lambda e, pod: e.get_status_display(), "kept"),
        "ended_at": (lambda e, pod: f"ended on {_date(e.ended_at, pod)}", "kept"),
        "end_reason": (SHOWN_AS_IS, "erased"),
        "created_at": (None, "kept"),  # when an organizer enrolled them: the schedule says it
    },
    "recipients.Referral": {
        "id": (KEY, "kept"),
        "pod": (KEY, "kept"),
        "referred_by": (None, "kept"),  # the member who referred them: the member's data
        "display_name": (SHOWN_AS_IS, "erased"),
        "contact": (SHOWN_AS_IS, "erased"),
        "note": (SHOWN_AS_IS, "erased"),
        "status": (None, "kept"),  # "enrolled", for anyone with a page
        "recipient": (KEY, "kept"),
        "created_at": (lambda r, pod: f"On {_date(r.created_at, pod)}, as", "kept"),
        "queue_position": (None, "kept"),  # a place in a queue they have left
        "withdrawn_at": (None, "kept"),  # empty: they were enrolled
        "erased_at": (None, "kept"),
        "submission_key": (KEY, "kept"),
    },
    "recipients.ReferralMove": {
        "id": (KEY, "kept"),
        "referral": (KEY, "kept"),
        "moved_by": (None, "kept"),  # the organizer's
        "from_position": (lambda m, pod: f"from place {m.from_position}", "kept"),
        "to_position": (lambda m, pod: f"to place {m.to_position}", "kept"),
        "reason": (SHOWN_AS_IS, "erased"),
        "created_at": (lambda m, pod: f"On {_date(m.created_at, pod)} an organizer", "kept"),
    },
    "receipts.Receipt": {
        "id": (KEY, "kept"),
        "pod": (KEY, "kept"),
        "cycle": (lambda r, pod: f"cycle {r.cycle.number}, week", "kept"),
        "week": (lambda r, pod: f"week {r.week}", "kept"),
        "recipient": (KEY, "kept"),
        "payer": (None, "kept"),  # the payer's name is the payer's (and may be hidden)
        "amount": (lambda r, pod: _money(r.amount, pod), "kept"),
        "method": (lambda r, pod: r.get_method_display(), "kept"),
        "sent_on": (lambda r, pod: _date(r.sent_on, pod), "kept"),
        # The sender's words (they may hold the sender's handle): said to exist.
        "reference": (lambda r, pod: "The sender added a reference", "erased"),
        "screenshot": (lambda r, pod: "The sender added a screenshot", "erased"),
        "posted_by": (None, "kept"),
        "posted_at": (None, "kept"),
        "confirmed_at": (
            lambda r, pod: f"You confirmed it arrived ({_date(r.confirmed_at, pod)})",
            "kept",
        ),
        "voided_at": (lambda r, pod: "voided", "kept"),
        "voided_by": (None, "kept"),
        "void_reason": (SHOWN_AS_IS, "erased"),
        "submission_key": (KEY, "kept"),
    },
    # The weekly plan: who is to pay them how much. The schedule shows the amount a week.
    "pledges.Assignment": {
        "id": (KEY, "kept"),
        "cycle": (KEY, "kept"),
        "week": (None, "kept"),
        "payer": (None, "kept"),
        "recipient": (KEY, "kept"),
        "amount": (None, "kept"),
    },
}


def models_about_recipients():
    """Recipient, Referral, and every model that points to one of them, directly or
    through another such model."""
    about = {Recipient, Referral}
    grown = True
    while grown:
        grown = False
        for model in apps.get_models():
            if model in about:
                continue
            if any(
                field.is_relation
                and (field.many_to_one or field.one_to_one)
                and field.related_model in about
                for field in model._meta.concrete_fields
            ):
                about.add(model)
                grown = True
    return about


def test_every_field_that_can_hold_data_about_a_recipient_is_listed():
    """Add a field (or a model pointing to a recipient) and this fails until the field is
    listed above: shown on the recipient's page and handled by retention, or said why not."""
    found = {
        model._meta.label: {field.name for field in model._meta.concrete_fields}
        for model in models_about_recipients()
    }
    listed = {label: set(fields) for label, fields in RECIPIENT_DATA.items()}
    assert found == listed


def test_every_text_field_of_those_models_is_erased_or_a_key():
    """Free text is where words about a person hide: none of it may be kept."""
    for label, fields in RECIPIENT_DATA.items():
        model = apps.get_model(label)
        for name, (_shown, retention) in fields.items():
            field = model._meta.get_field(name)
            free_text = isinstance(field, (models.CharField, models.TextField, models.FileField))
            if free_text and not field.choices:
                assert retention == "erased", f"{label}.{name} is free text and is kept"


# The story: Rosalind, referred with a note and moved up the queue with a reason,
# supported in an earlier cycle (it ended with a reason) and now in this one, paid in
# both, her handle changed in the admin, one receipt confirmed, one voided. Ana beside
# her, whose data stays.


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.RECIPIENT_RETENTION_DAYS = 30


@pytest.fixture
def earlier(pod):
    return Cycle.objects.create(
        pod=pod,
        number=1,
        starts_on=pod.today() - datetime.timedelta(days=7 * 25),
        weeks=15,
        weekly_amount=Decimal("150.00"),
        slots=3,
    )


@pytest.fixture
def cycle(pod, earlier):
    """Cycle 2, now in week 6 of 15."""
    return Cycle.objects.create(
        pod=pod,
        number=2,
        starts_on=pod.today() - datetime.timedelta(days=7 * 5),
        weeks=15,
        weekly_amount=Decimal("175.00"),
        slots=3,
    )


def receipt(pod, cycle, recipient, payer, *, week, amount, **fields):
    return Receipt.objects.create(
        pod=pod,
        cycle=cycle,
        week=week,
        recipient=recipient,
        payer=payer,
        amount=Decimal(amount),
        method="cashapp",
        sent_on=cycle.week_starts_on(week) + datetime.timedelta(days=1),
        posted_by=payer,
        **fields,
    )


@pytest.fixture
def story(client, pod, earlier, cycle, organizer, donor, make_referral):
    pod.organizer_contact = "Text Olive at 555-0123"
    pod.save()
    make_referral("Somebody first", contact="555-0001")
    referral = make_referral(NAME, contact=CONTACT, note=NOTE)
    rosa = Recipient.objects.create(
        pod=pod,
        display_name=NAME,
        payment_method="cashapp",
        payment_handle="$rosa-old",
        contact=CONTACT,
    )
    token = rosa.new_access_token()
    rosa.save(update_fields=["access_token_hash"])
    move_referral(referral=referral, to_position=1, reason=MOVE_REASON, by=organizer)
    Referral.objects.filter(pk=referral.pk).update(recipient=rosa, status="enrolled")
    past = enroll(recipient=rosa, cycle=earlier)
    Enrollment.objects.filter(pk=past.pk).update(
        status=Enrollment.Status.LEFT,
        last_week=8,
        ended_at=timezone.now() - datetime.timedelta(days=7 * 15),
        end_reason=END_REASON,
    )
    now = enroll(recipient=rosa, cycle=cycle)
    # Her handle changes in the admin, as organizers do it.
    client.force_login(organizer)
    response = client.post(
        reverse("admin:recipients_recipient_change", args=[rosa.pk]),
        {
            "display_name": NAME,
            "payment_method": "cashapp",
            "payment_handle": HANDLE,
            "contact": CONTACT,
        },
    )
    assert response.status_code == 302
    # A change of the cycle names her enrollment in the cycle's history, as the
    # admin writes it (untranslated).
    with translation.override(None):
        LogEntry.objects.create(
            user=organizer,
            content_type=ContentType.objects.get_for_model(Cycle),
            object_id=str(cycle.pk),
            object_repr=str(cycle),
            action_flag=CHANGE,
            change_message=json.dumps([{"added": {"name": "enrollment", "object": str(now)}}]),
        )
    client.logout()
    ana = Recipient.objects.create(
        pod=pod,
        display_name="Ana Stays",
        payment_method="venmo",
        payment_handle="@ana-stays",
        contact="555-0777",
    )
    enroll(recipient=ana, cycle=cycle)
    receipt(pod, earlier, rosa, donor, week=2, amount="150.00")
    confirmed = receipt(pod, cycle, rosa, donor, week=1, amount="100.00", reference=REFERENCE)
    Receipt.objects.filter(pk=confirmed.pk).update(confirmed_at=timezone.now())
    pictured = receipt(pod, cycle, rosa, organizer, week=2, amount="75.00")
    pictured.screenshot.save("rosa.png", ContentFile(b"\x89PNG fake"), save=True)
    receipt(pod, cycle, rosa, donor, week=3, amount="20.00").void(by=organizer, reason=VOID_REASON)
    receipt(pod, cycle, ana, donor, week=1, amount="175.00", reference="for Ana")
    rosa.refresh_from_db()
    return rosa, token, ana


def page(client, token):
    response = client.get(reverse("recipients:link", args=[token]))
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def with_cycle_pages(client, token):
    """Her page and, after it, every earlier cycle's page that it links to: each earlier
    cycle's receipts (voided ones too) are listed on their cycle's page, not hers."""
    text = page(client, token)
    cycles = reverse("recipients:link_cycle", args=[token, 0]).removesuffix("0/")
    linked = re.findall(rf'href="({re.escape(cycles)}\d+/)"', text)
    assert linked, "no earlier cycle is linked"
    for address in linked:
        response = client.get(address)
        assert response.status_code == 200
        text += html.unescape(response.content.decode())
    return text


def rows_of(recipient):
    """Every stored row about `recipient`, by model label."""
    referrals = Referral.objects.filter(recipient=recipient)
    return {
        "recipients.Recipient": [recipient],
        "recipients.Enrollment": list(recipient.enrollments.select_related("cycle")),
        "recipients.Referral": list(referrals),
        "recipients.ReferralMove": list(ReferralMove.objects.filter(referral__in=referrals)),
        "receipts.Receipt": list(recipient.receipts.select_related("cycle")),
        "pledges.Assignment": list(Assignment.objects.filter(recipient=recipient)),
    }


def own_line(text, label, row):
    """The part of the page about one receipt, enrollment or move, whitespace folded."""
    prefix = {
        "receipts.Receipt": "receipt",
        "recipients.Enrollment": "enrollment",
        "recipients.ReferralMove": "move",
    }.get(label)
    if prefix is None:
        return None
    start = text.index(f'id="{prefix}-{row.pk}"')
    return " ".join(text[start : text.index("</li>", start)].split())


def test_the_page_shows_exactly_what_is_stored(client, story, pod):
    rosa, token, _ana = story
    text = with_cycle_pages(client, token)
    knows = " ".join(page(client, token).split('id="knows-heading"')[1].split())
    shown = 0
    for label, rows in rows_of(rosa).items():
        for row in rows:
            where = own_line(text, label, row) or knows
            for name, (how, _retention) in RECIPIENT_DATA[label].items():
                value = getattr(row, name)
                if how is None or value in ("", None):
                    continue
                expected = str(value) if how is SHOWN_AS_IS else how(row, pod)
                assert expected in where, f"{label}.{name} = {value!r} is not on the page"
                shown += 1
    assert shown > 40
    # Her own story, said where it belongs.
    assert f"Your name here</dt> <dd><bdi>{NAME}</bdi>" in knows
    assert HANDLE in knows and CONTACT in knows and NOTE in knows and MOVE_REASON in knows
    assert "Cycle 1, slot 1: weeks 1 to 8 · left" in knows
    assert "Cycle 2, slot 1: weeks 1 to 15 · active" in knows
    assert "3 receipts: the latest cycle's listed above, each earlier cycle's on" in knows
    assert "One more receipt was posted by mistake and voided" in knows
    # And nothing else: not Ana, not the sender's reference, not the old handle.
    for other in ("Ana Stays", "@ana-stays", "555-0777", "for Ana", REFERENCE, "$rosa-old"):
        assert other not in text


def test_the_organizers_contact_is_shown_next_to_if_this_is_wrong(client, story, pod):
    _rosa, token, _ana = story
    text = page(client, token)
    assert "If this is wrong, tell an organizer: <bdi>Text Olive at 555-0123</bdi>." in text
    pod.organizer_contact = ""
    pod.save()
    text = page(client, token)
    assert "If this is wrong, tell an organizer.</p>" in text
    assert "555-0123" not in text


def test_the_page_speaks_to_the_recipient(client, story):
    _rosa, token, _ana = story
    text = page(client, token)
    footer = text.split('<footer class="site-footer">')[1]
    assert "This page is yours" in footer
    assert "for its members only" not in text


def test_the_page_costs_the_same_queries_however_much_the_pod_knows(
    client, story, count_queries, pod, cycle, donor, organizer
):
    rosa, token, _ana = story
    url = reverse("recipients:link", args=[token])
    _, before = count_queries(lambda: client.get(url))
    referral = Referral.objects.get(recipient=rosa)
    Referral.objects.filter(pk=referral.pk).update(status="waiting")
    move_referral(referral=referral, to_position=2, reason="Another reason", by=organizer)
    Referral.objects.filter(pk=referral.pk).update(status="enrolled")
    for week in range(4, 10):
        receipt(pod, cycle, rosa, donor, week=week, amount="5.00", reference="r")
        receipt(pod, cycle, rosa, donor, week=week, amount="1.00").void(by=organizer, reason="x")
    response, after = count_queries(lambda: client.get(url))
    assert len(response.context["voided"]) == 7
    assert before == after


# Erasure: totals unchanged, no word of hers left in any table.


def totals(client, organizer, pod, cycles):
    """The pod's totals as the board, the CSV and the database give them."""
    client.force_login(organizer)
    seen = {}
    for cycle in cycles:
        board = client.get(reverse("receipts:board", args=[pod.slug]), {"cycle": cycle.number})
        export = client.get(reverse("receipts:export", args=[pod.slug]), {"cycle": cycle.number})
        lines = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
        seen[cycle.number] = (
            board.context["totals"].total,
            sorted(amount for _name, amount in board.context["totals"].per_recipient),
            sorted((r["week"], r["amount"], r["sent_on"]) for r in lines),
        )
    client.logout()
    sums = (
        Receipt.objects.live().aggregate(total=Sum("amount"))["total"],
        Receipt.objects.voided().aggregate(total=Sum("amount"))["total"],
        sorted(Receipt.objects.values_list("amount", "sent_on", "week", "cycle_id")),
    )
    return seen, sums


def anything_of(words):
    """(table, column, word) for each word found in any text column of any table."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            for column in connection.introspection.get_table_description(cursor, table):
                quoted = connection.ops.quote_name(column.name)
                for word in words:
                    cursor.execute(
                        f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)} "  # noqa: S608
                        f"WHERE CAST({quoted} AS TEXT) LIKE %s",
                        [f"%{word}%"],
                    )
                    if cursor.fetchone()[0]:
                        found.append((table, column.name, word))
    return found


def test_the_search_finds_her_before_erasure(story):
    found = {(table, word) for table, _column, word in anything_of(ALL_HER_WORDS)}
    for table, word in [
        ("recipients_recipient", NAME),
        ("recipients_referral", NOTE),
        ("recipients_referralmove", MOVE_REASON),
        ("recipients_enrollment", END_REASON),
        ("receipts_receipt", REFERENCE),
        ("django_admin_log", NAME),
    ]:
        assert (table, word) in found


def erase_from_the_page(client, token, django_capture_on_commit_callbacks):
    url = reverse("recipients:erase", args=[token])
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert "It cannot be undone." in confirm.text
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 200
    assert "What the pod knew about you is erased" in response.text
    assert NAME not in response.text
    return response


def assert_erased(rosa, ana, screenshot):
    rosa.refresh_from_db()
    assert rosa.display_name == f"Former recipient {rosa.pk}"
    assert (rosa.payment_handle, rosa.contact, rosa.access_token_hash) == ("", "", "")
    assert rosa.handle_changed_at is None and rosa.erased_at is not None
    assert anything_of(ALL_HER_WORDS + [VOID_REASON]) == []
    assert not default_storage.exists(screenshot)
    for label, rows in rows_of(rosa).items():
        for row in rows:
            for name, (_how, retention) in RECIPIENT_DATA[label].items():
                value = getattr(row, name)
                if retention == "erased" and name != "display_name":
                    assert not value or value == erased_label(), (label, name)
    assert Receipt.objects.get(void_reason=erased_label()).recipient == rosa
    # Ana is untouched.
    ana.refresh_from_db()
    assert (ana.display_name, ana.payment_handle, ana.contact) == (
        "Ana Stays",
        "@ana-stays",
        "555-0777",
    )
    assert Receipt.objects.get(recipient=ana).reference == "for Ana"


def test_erasing_now_keeps_every_total_and_leaves_no_word_of_hers(
    client, story, organizer, pod, earlier, cycle, mailoutbox, django_capture_on_commit_callbacks
):
    rosa, token, ana = story
    screenshot = Receipt.objects.exclude(screenshot="").get().screenshot.name
    before = totals(client, organizer, pod, [earlier, cycle])

    erase_from_the_page(client, token, django_capture_on_commit_callbacks)

    assert totals(client, organizer, pod, [earlier, cycle]) == before
    assert_erased(rosa, ana, screenshot)
    # She left too: her support ends after this week, the slot is free after it.
    current = rosa.enrollments.get(cycle=cycle)
    assert (current.status, current.last_week) == (Enrollment.Status.LEFT, 6)
    # The organizers are told it happened, under the label, not what was erased.
    assert [m.to for m in mailoutbox] == [[organizer.email]]
    mail = mailoutbox[0]
    body = mail.body + mail.alternatives[0].content + mail.subject
    assert f"Former recipient {rosa.pk}" in mail.subject
    assert "week 6 of cycle 2" in mail.body
    for word in ALL_HER_WORDS + [VOID_REASON]:
        assert word not in body
    # The page is gone, and a second erasure changes nothing.
    assert client.get(reverse("recipients:link", args=[token])).status_code == 404
    assert client.post(reverse("recipients:erase", args=[token])).status_code == 404
    assert len(mailoutbox) == 1
    assert run().startswith(
        "Erased 0 former recipient(s), 0 withdrawn referral(s), 0 receipt screenshot(s) "
        "and the words of 0 row(s)"
    )


def run(*args):
    out = io.StringIO()
    call_command("purge_recipient_data", *args, stdout=out)
    return out.getvalue()


def test_daily_retention_keeps_every_total_and_leaves_no_word_of_hers(
    client, story, organizer, pod, earlier, cycle, settings
):
    settings.RECIPIENT_RETENTION_DAYS = 7
    rosa, token, ana = story
    screenshot = Receipt.objects.exclude(screenshot="").get().screenshot.name
    current = rosa.enrollments.get(cycle=cycle)
    # She left in week 1 of cycle 2, four weeks ago: past the window of a week.
    Enrollment.objects.filter(pk=current.pk).update(
        status=Enrollment.Status.LEFT,
        last_week=1,
        ended_at=timezone.now() - datetime.timedelta(days=31),
    )
    before = totals(client, organizer, pod, [earlier, cycle])
    assert run("--dry-run").startswith(
        "Would erase 1 former recipient(s), 0 withdrawn referral(s), 1 receipt screenshot(s) "
        "and the words of 4 row(s)"
    )

    output = run()

    # A reference, a void reason, the earlier end reason and the move reason.
    assert output.startswith(
        "Erased 1 former recipient(s), 0 withdrawn referral(s), 1 receipt screenshot(s) "
        "and the words of 4 row(s)"
    )
    assert totals(client, organizer, pod, [earlier, cycle]) == before
    assert_erased(rosa, ana, screenshot)
    assert client.get(reverse("recipients:link", args=[token])).status_code == 404


def test_a_second_daily_run_changes_nothing(story, cycle, settings):
    settings.RECIPIENT_RETENTION_DAYS = 7
    rosa, _token, _ana = story
    Enrollment.objects.filter(recipient=rosa, cycle=cycle).update(
        status=Enrollment.Status.LEFT,
        last_week=1,
        ended_at=timezone.now() - datetime.timedelta(days=31),
    )
    run()
    before = dump()
    output = run()
    assert dump() == before
    assert output.startswith(
        "Erased 0 former recipient(s), 0 withdrawn referral(s), 0 receipt screenshot(s) "
        "and the words of 0 row(s)"
    )


def dump():
    """Every row of every table the erasure touches."""
    return {
        label: list(apps.get_model(label).objects.order_by("pk").values())
        for label in [*RECIPIENT_DATA, "admin.LogEntry"]
    }


def test_words_written_about_her_after_the_erasure_go_on_the_next_run(
    client, story, donor, pod, cycle, django_capture_on_commit_callbacks
):
    rosa, token, _ana = story
    erase_from_the_page(client, token, django_capture_on_commit_callbacks)
    # A payer who had not seen the news posts this week's receipt, with a note.
    late = receipt(pod, cycle, rosa, donor, week=6, amount="25.00", reference=f"for {NAME}")

    output = run()

    late.refresh_from_db()
    assert late.reference == ""
    assert late.amount == Decimal("25.00")
    assert "and the words of 1 row(s)" in output


def test_the_organizers_are_told_in_their_own_language(
    client, story, organizer, mailoutbox, django_capture_on_commit_callbacks
):
    rosa, token, _ana = story
    organizer.language = "es"
    organizer.save(update_fields=["language"])

    erase_from_the_page(client, token, django_capture_on_commit_callbacks)

    assert [m.subject for m in mailoutbox] == [
        f"Former recipient {rosa.pk} de {rosa.pod.name} pidió que se borraran sus datos"
    ]
