"""The receipts board at /pods/<slug>/receipts/: the cycle's grid, then its receipts."""

import datetime
import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone, translation

from mutualaid.money import format_money
from pods.models import Cycle, Membership
from receipts.models import Receipt
from receipts.services import CellState
from recipients.models import Enrollment, Recipient
from recipients.services import enroll

pytestmark = pytest.mark.django_db


def url(pod, **query):
    base = reverse("receipts:board", args=[pod.slug])
    if query:
        base += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return base


@pytest.fixture
def cycle(pod):
    """Today is the third day of week 6, and payday (yesterday) has passed."""
    today = pod.today()
    pod.payday = (today - datetime.timedelta(days=1)).weekday()
    pod.save()
    return Cycle.objects.create(
        pod=pod,
        number=1,
        starts_on=today - datetime.timedelta(days=7 * 5 + 2),
        weeks=15,
        weekly_amount=Decimal("175.00"),
        slots=3,
    )


@pytest.fixture
def member_client(client, donor):
    client.force_login(donor)
    return client


def new_recipient(pod, cycle, name, **enrollment):
    recipient = Recipient.objects.create(pod=pod, display_name=name, payment_handle=f"${name}")
    enroll(recipient=recipient, cycle=cycle, **enrollment)
    return recipient


def states(response, row=0):
    return {cell.week: cell.state for cell in response.context["grid"].rows[row].cells}


def without_token(text):
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", text)


def grid_html(response):
    text = response.text
    start = text.index('<section aria-labelledby="grid-heading">')
    return text[start : text.index("</section>", start)]


def test_signed_out_visitor_is_sent_to_sign_in(client, pod, cycle):
    response = client.get(url(pod))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_outsider_gets_404(client, outsider, pod, cycle, add_receipt, enrollment):
    add_receipt()
    client.force_login(outsider)
    assert client.get(url(pod)).status_code == 404


def test_former_member_gets_404(client, donor, pod, cycle):
    Membership.objects.filter(pod=pod, user=donor).update(active=False)
    client.force_login(donor)
    assert client.get(url(pod)).status_code == 404


@pytest.mark.parametrize("language", ["en", "es", "ar"])
def test_the_board_writes_money_as_every_other_page(
    member_client, pod, cycle, enrollment, add_receipt, language
):
    # The grid, the list and the totals all write through format_money: in Arabic
    # isolated, so that "US$" never reads "$US" beside a name.
    add_receipt(amount=Decimal("175.00"))
    response = member_client.get(url(pod), HTTP_ACCEPT_LANGUAGE=language)
    with translation.override(language):
        written = format_money(Decimal("175.00"), pod.currency)
    assert response.text.count(written) >= 3  # a cell, the list, the totals
    assert "$US" not in response.text


@pytest.mark.parametrize("who", ["donor", "organizer"])
def test_every_member_sees_every_receipt(client, request, pod, cycle, enrollment, add_receipt, who):
    add_receipt(reference="first week")
    client.force_login(request.getfixturevalue(who))
    response = client.get(url(pod))
    assert response.status_code == 200
    assert "first week" in response.text
    assert response.context["page"].paginator.count == 1


def test_grid_states_by_hand(member_client, pod, cycle, enrollment, add_receipt, organizer):
    confirmed = timezone.now()
    add_receipt(week=1, confirmed_at=confirmed)
    add_receipt(week=2, amount=Decimal("100.00"), confirmed_at=confirmed)
    add_receipt(week=2, amount=Decimal("75.00"))
    add_receipt(week=3, amount=Decimal("100.00"))
    add_receipt(week=4).void(by=organizer, reason="Sent to the wrong person")
    add_receipt(week=8, amount=Decimal("50.00"))
    response = member_client.get(url(pod))
    cells = states(response)
    assert cells[1] == CellState.CONFIRMED
    assert cells[2] == CellState.PAID  # only part of it confirmed
    assert cells[3] == CellState.PARTLY
    assert cells[4] == CellState.MISSING  # its only receipt is void
    assert cells[5] == CellState.MISSING
    assert cells[6] == CellState.MISSING  # payday was yesterday
    assert cells[7] == CellState.UPCOMING
    assert cells[8] == CellState.PARTLY  # paid a little ahead
    assert all(cells[week] == CellState.UPCOMING for week in range(9, 16))
    row = response.context["grid"].rows[0]
    assert row.total == Decimal("500.00")  # 175 + 175 + 100 + 50
    text = response.text
    # Readable without colour: a symbol for the eye, words for everyone.
    assert "paid in full, arrival confirmed by the recipient, $175.00" in text
    assert "partly paid, $100.00" in text
    assert ">missing<" in text
    assert "✘" in text and "◐" in text and "✔✔" in text
    assert '<th scope="row">' in text
    assert 'aria-current="date"' in text  # this week's column


def test_this_week_before_payday_is_due_not_missing(member_client, pod, cycle, enrollment):
    pod.payday = (pod.today() + datetime.timedelta(days=1)).weekday()
    pod.save()
    cells = states(member_client.get(url(pod)))
    assert cells[5] == CellState.MISSING
    assert cells[6] == CellState.DUE
    assert cells[7] == CellState.UPCOMING


def test_rows_say_who_left_and_who_took_the_slot(member_client, pod, cycle, enrollment):
    new_recipient(pod, cycle, "Tomás")
    Enrollment.objects.filter(pk=enrollment.pk).update(
        status=Enrollment.Status.LEFT, last_week=4, ended_at=timezone.now()
    )
    new_recipient(pod, cycle, "Sam", first_week=5)
    response = member_client.get(url(pod))
    rows = response.context["grid"].rows
    assert [(r.recipient.display_name, r.enrollment.slot) for r in rows] == [
        ("Rosa", 1),
        ("Sam", 1),
        ("Tomás", 2),
    ]
    text = response.text
    assert "left after week 4; slot went to <bdi>Sam</bdi>" in text
    assert "took slot 1 from week 5, after <bdi>Rosa</bdi>" in text
    rosa, sam, _tomas = (states(response, n) for n in range(3))
    assert rosa[4] == CellState.MISSING
    assert rosa[5] == CellState.NOT_ENROLLED
    assert sam[4] == CellState.NOT_ENROLLED
    assert sam[5] == CellState.MISSING


def test_payment_handles_are_never_shown(
    client, organizer, pod, cycle, enrollment, recipient, add_receipt
):
    add_receipt()
    client.force_login(organizer)
    assert "$rosa" not in client.get(url(pod)).text


def test_members_are_named_never_by_email(
    member_client, pod, cycle, enrollment, add_receipt, make_user
):
    quiet = make_user("quiet.neighbor@example.org")
    Membership.objects.create(pod=pod, user=quiet)
    add_receipt(payer=quiet, posted_by=quiet)
    text = member_client.get(url(pod)).text
    assert "quiet.neighbor" in text
    assert "quiet.neighbor@example.org" not in text


def test_voided_receipts_are_struck_through_with_their_reason_and_not_counted(
    member_client, pod, cycle, enrollment, add_receipt, organizer
):
    add_receipt(week=1)
    add_receipt(week=2, amount=Decimal("15.00")).void(by=organizer, reason="Typo, posted anew")
    add_receipt(week=2)
    response = member_client.get(url(pod))
    text = response.text
    assert "<del>$15.00</del>" in text
    assert "voided</strong>: <bdi>Typo, posted anew</bdi>" in text
    totals = response.context["totals"]
    assert totals.total == Decimal("350.00")
    assert totals.per_week == [(1, Decimal("175.00")), (2, Decimal("175.00"))]
    assert totals.per_recipient == [("Rosa", Decimal("350.00"))]
    # Both live and void receipts are listed.
    assert response.context["page"].paginator.count == 3


def test_newest_first(member_client, pod, cycle, enrollment, add_receipt):
    now = timezone.now()
    old = add_receipt(week=1, posted_at=now - datetime.timedelta(days=20))
    new = add_receipt(week=2, posted_at=now)
    middle = add_receipt(week=3, posted_at=now - datetime.timedelta(days=5))
    page = member_client.get(url(pod)).context["page"]
    assert list(page) == [new, middle, old]


def test_filters_narrow_the_list_and_the_totals(
    member_client, pod, cycle, enrollment, recipient, add_receipt, organizer
):
    tomas = new_recipient(pod, cycle, "Tomás")
    add_receipt(week=1)
    add_receipt(week=2, amount=Decimal("100.00"))
    add_receipt(week=2, recipient=tomas, amount=Decimal("60.00"))
    add_receipt(week=2, recipient=tomas, payer=organizer, amount=Decimal("115.00"))

    response = member_client.get(url(pod, week=2))
    assert response.context["page"].paginator.count == 3
    assert response.context["totals"].total == Decimal("275.00")
    assert "(filtered)" in response.text

    response = member_client.get(url(pod, recipient=tomas.pk))
    assert response.context["totals"].per_recipient == [("Tomás", Decimal("175.00"))]

    response = member_client.get(url(pod, week=2, recipient=tomas.pk, payer=organizer.pk))
    assert [r.amount for r in response.context["page"]] == [Decimal("115.00")]
    assert response.context["totals"].per_week == [(2, Decimal("115.00"))]
    # The grid always shows the whole cycle: the same grid, whatever the filters.
    assert grid_html(response) == grid_html(member_client.get(url(pod)))
    assert "cell-paid" in grid_html(response)


@pytest.mark.parametrize(
    "query",
    [
        {"week": "x"},
        {"week": "99"},
        {"recipient": "abc"},
        {"recipient": "999999"},
        {"payer": "-1"},
        {"cycle": "nope"},
        {"cycle": "42"},
        {"page": "abc"},
        {"page": "999"},
    ],
)
def test_bad_filter_values_are_ignored(member_client, pod, cycle, enrollment, add_receipt, query):
    add_receipt(week=1)
    add_receipt(week=2)
    response = member_client.get(url(pod, **query))
    assert response.status_code == 200
    assert response.context["cycle"] == cycle
    assert response.context["page"].paginator.count == 2


def test_filter_form_works_without_javascript(member_client, pod, cycle, enrollment):
    text = member_client.get(url(pod)).text
    assert '<form method="get"' in text
    for name in ("cycle", "week", "recipient", "payer"):
        assert f'name="{name}"' in text
    assert "<script" not in text


def test_paginated_fifty_a_page(member_client, pod, cycle, enrollment, recipient, donor):
    Receipt.objects.bulk_create(
        Receipt(
            pod=pod,
            cycle=cycle,
            week=1 + n % 6,
            recipient=recipient,
            payer=donor,
            posted_by=donor,
            amount=Decimal("1.00"),
            method="cash",
            sent_on=cycle.starts_on,
        )
        for n in range(120)
    )
    first = member_client.get(url(pod, week=1))
    assert first.context["page"].paginator.count == 20
    first = member_client.get(url(pod))
    assert len(first.context["page"].object_list) == 50
    assert "Page 1 of 3" in first.text
    # The page links keep the filters.
    assert 'href="?page=2"' in first.text
    third = member_client.get(url(pod, page=3))
    assert len(third.context["page"].object_list) == 20
    # Totals are for every page, not just the one shown.
    assert third.context["totals"].total == Decimal("120.00")
    filtered = member_client.get(url(pod, week=2, page=1))
    assert filtered.context["page"].paginator.count == 20


def test_earlier_cycles_can_be_browsed(
    member_client, pod, cycle, enrollment, add_receipt, recipient
):
    # Cycle 1 is over (its last day was yesterday) and cycle 2 starts today.
    Cycle.objects.filter(pk=cycle.pk).update(
        starts_on=pod.today() - datetime.timedelta(days=7 * cycle.weeks)
    )
    cycle.refresh_from_db()
    add_receipt(week=1, reference="from cycle one")
    second = Cycle.objects.create(
        pod=pod,
        number=2,
        starts_on=pod.today(),
        weeks=10,
        slots=3,
    )
    enroll(recipient=recipient, cycle=second)
    response = member_client.get(url(pod))
    assert response.context["cycle"] == second
    assert "from cycle one" not in response.text
    assert len(response.context["grid"].weeks) == 10

    response = member_client.get(url(pod, cycle=1))
    assert response.context["cycle"].pk == cycle.pk
    assert "from cycle one" in response.text
    assert 'value="1" selected' in response.text
    assert "Cycle 2 (running)" in response.text
    assert "Its weeks are over." in response.text


def test_a_closed_cycle_has_nothing_upcoming(member_client, pod, enrollment, cycle):
    # Its dates are past: it ended five weeks ago.
    Cycle.objects.filter(pk=cycle.pk).update(
        starts_on=pod.today() - datetime.timedelta(days=7 * 20)
    )
    response = member_client.get(url(pod))
    assert set(states(response).values()) == {CellState.MISSING}
    assert "Its weeks are over." in response.text
    assert "This is week" not in response.text


def test_before_the_cycle_starts_every_week_is_upcoming(member_client, pod, enrollment, cycle):
    Cycle.objects.filter(pk=cycle.pk).update(starts_on=pod.today() + datetime.timedelta(days=3))
    response = member_client.get(url(pod))
    assert set(states(response).values()) == {CellState.UPCOMING}
    assert "It starts" in response.text


def test_without_any_cycle_says_so(member_client, pod):
    response = member_client.get(url(pod))
    assert response.status_code == 200
    assert "This pod has no cycle yet" in response.text


def test_screenshot_is_linked_through_the_protected_view(
    member_client, pod, cycle, enrollment, add_receipt
):
    receipt = add_receipt(screenshot="receipts/2026/01/" + "a" * 32 + ".jpg")
    text = member_client.get(url(pod)).text
    assert reverse("receipts:screenshot", args=[pod.slug, receipt.pk]) in text
    assert "a" * 32 not in text


def add_many(cycle, recipients, payers, count):
    Receipt.objects.bulk_create(
        (
            Receipt(
                pod=cycle.pod,
                cycle=cycle,
                week=1 + n % cycle.weeks,
                recipient=recipients[n % len(recipients)],
                payer=payers[n % len(payers)],
                posted_by=payers[n % len(payers)],
                amount=Decimal("25.00"),
                method="cashapp",
                sent_on=cycle.starts_on,
                confirmed_at=timezone.now() if n % 3 else None,
            )
            for n in range(count)
        ),
        batch_size=1000,
    )


def test_query_count_is_the_same_for_100_and_20000_receipts(
    member_client, pod, cycle, enrollment, recipient, donor, django_assert_max_num_queries
):
    recipients = [recipient, new_recipient(pod, cycle, "Tomás"), new_recipient(pod, cycle, "Sam")]
    User = get_user_model()
    payers = User.objects.bulk_create(
        User(email=f"neighbor{n}@example.org", password="!") for n in range(200)
    )
    Membership.objects.bulk_create(Membership(pod=pod, user=user) for user in payers)
    add_many(cycle, recipients, payers, 100)
    # Rendering the board afresh (its fragments not cached yet): 12 queries, and those of
    # storing the two fragments in the cache (the database cache here, Redis in
    # production).
    with django_assert_max_num_queries(22) as small:
        response = member_client.get(url(pod))
    assert response.context["page"].paginator.count == 100

    add_many(cycle, recipients, payers, 19_900)
    with django_assert_max_num_queries(22) as large:
        response = member_client.get(url(pod))
    assert response.context["page"].paginator.count == 20_000
    assert len(small.captured_queries) == len(large.captured_queries)
    # From the cache: the fragments come in one read.
    with django_assert_max_num_queries(5):
        cached = member_client.get(url(pod))
    # The same page (but for the CSRF token of the sign-out form, masked afresh).
    assert without_token(cached.text) == without_token(response.text)
    # 20,000 × 25.00, summed by the database.
    assert response.context["totals"].total == Decimal("500000.00")
    assert sum(row.total for row in response.context["grid"].rows) == Decimal("500000.00")
    # No query reads the receipts row by row: only the page of 50 is fetched.
    assert len(response.context["page"].object_list) == 50


def test_csv_link_carries_the_filters(member_client, pod, cycle, enrollment, recipient):
    text = member_client.get(url(pod, week=2, recipient=recipient.pk, page=1)).text
    export = reverse("receipts:export", args=[pod.slug])
    assert f'href="{export}?week=2&amp;recipient={recipient.pk}"' in text
    assert f'href="{export}"' in member_client.get(url(pod)).text
