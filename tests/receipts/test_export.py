"""The board as CSV at /pods/<slug>/receipts/export.csv: what the board shows, with the
same filters, on every page."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from pods.models import Cycle, Membership
from receipts.models import Receipt

pytestmark = pytest.mark.django_db


def url(pod, **query):
    base = reverse("receipts:export", args=[pod.slug])
    if query:
        base += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return base


def rows(response):
    text = response.content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_signed_out_visitor_is_sent_to_sign_in(client, pod, cycle):
    response = client.get(url(pod))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_outsider_gets_404(client, outsider, pod, cycle, enrollment, add_receipt):
    add_receipt()
    client.force_login(outsider)
    assert client.get(url(pod)).status_code == 404


@pytest.mark.parametrize("who", ["donor", "organizer"])
def test_members_download_every_receipt_of_the_cycle(
    client, request, pod, cycle, enrollment, add_receipt, organizer, who
):
    add_receipt(week=1, reference="first")
    add_receipt(week=2, amount=Decimal("15.00")).void(by=organizer, reason="Typo")
    client.force_login(request.getfixturevalue(who))
    response = client.get(url(pod))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="maple-cycle-1-receipts.csv"'
    lines = rows(response)
    assert [(r["week"], r["amount"], r["void_reason"]) for r in lines] == [
        ("1", "175.00", ""),
        ("2", "15.00", "Typo"),
    ]
    assert lines[0]["recipient"] == "Rosa"
    assert lines[0]["payer"] == "Dana"
    assert lines[0]["reference"] == "first"


def test_same_filters_as_the_board_on_every_page(
    client, donor, organizer, pod, cycle, enrollment, recipient
):
    Receipt.objects.bulk_create(
        Receipt(
            pod=pod,
            cycle=cycle,
            week=1 + n % 2,
            recipient=recipient,
            payer=donor if n % 3 else organizer,
            posted_by=donor,
            amount=Decimal("2.00"),
            method="cash",
            sent_on=cycle.starts_on,
        )
        for n in range(150)
    )
    client.force_login(donor)
    assert len(rows(client.get(url(pod)))) == 150
    week_two = rows(client.get(url(pod, week=2)))
    assert len(week_two) == 75
    assert {r["week"] for r in week_two} == {"2"}
    board = client.get(reverse("receipts:board", args=[pod.slug]) + f"?week=2&payer={organizer.pk}")
    both = rows(client.get(url(pod, week=2, payer=organizer.pk)))
    assert len(both) == board.context["page"].paginator.count == 25


def test_earlier_cycle_and_bad_values(client, donor, pod, cycle, enrollment, add_receipt):
    # Cycle 1 is over (its last day was yesterday) and cycle 2 starts today.
    Cycle.objects.filter(pk=cycle.pk).update(
        starts_on=pod.today() - datetime.timedelta(days=7 * cycle.weeks)
    )
    cycle.refresh_from_db()
    add_receipt(reference="cycle one")
    Cycle.objects.create(pod=pod, number=2, starts_on=pod.today())
    client.force_login(donor)
    assert rows(client.get(url(pod))) == []
    assert [r["reference"] for r in rows(client.get(url(pod, cycle=1)))] == ["cycle one"]
    response = client.get(url(pod, cycle="x", week="nope", payer="-3"))
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('cycle-2-receipts.csv"')


def test_members_are_named_never_by_email(
    client, donor, pod, cycle, enrollment, add_receipt, make_user
):
    quiet = make_user("quiet.neighbor@example.org")
    Membership.objects.create(pod=pod, user=quiet)
    add_receipt(payer=quiet, posted_by=quiet)
    client.force_login(donor)
    response = client.get(url(pod))
    assert b"@example.org" not in response.content
    assert rows(response)[0]["payer"] == "quiet.neighbor"


def test_cells_cannot_run_as_spreadsheet_formulas(
    client, donor, pod, cycle, enrollment, add_receipt
):
    add_receipt(reference='=HYPERLINK("http://evil.example","click")')
    client.force_login(donor)
    (line,) = rows(client.get(url(pod)))
    assert line["reference"].startswith("'=")


def test_no_handles_in_the_export(client, donor, pod, cycle, enrollment, add_receipt):
    add_receipt()
    client.force_login(donor)
    assert b"$rosa" not in client.get(url(pod)).content


def test_without_any_cycle_gets_404(client, donor, pod):
    client.force_login(donor)
    assert client.get(url(pod)).status_code == 404


def test_query_count_does_not_grow_with_the_receipts(
    client, donor, pod, cycle, enrollment, add_receipt, django_assert_max_num_queries
):
    for week in range(1, 4):
        add_receipt(week=week)
    client.force_login(donor)
    with django_assert_max_num_queries(8) as small:
        client.get(url(pod))
    for week in range(4, 12):
        add_receipt(week=week)
    with django_assert_max_num_queries(8) as large:
        assert len(rows(client.get(url(pod)))) == 11
    assert len(small.captured_queries) == len(large.captured_queries)
