"""Every member page costs the same number of queries and stays under a size bound
whatever the pod's size (issue 14): a small pod is measured, then grown to hundreds of
donors, a hundred recipients and thousands of receipts (by bulk_create, in a second or
two), and measured again. The timings are benchmarks/pages.py's; what can be pinned
without a clock is pinned here."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from pods.models import Cycle, Membership
from receipts.models import Receipt
from recipients.models import Enrollment, Recipient
from tests.pods.crowd import add_donors

pytestmark = pytest.mark.django_db

MAX_BYTES = 100_000
DONORS = 500
RECIPIENTS = 100
RECEIPTS = 5_000


def grow(pod, cycle, recipient, organizer, *, donors=DONORS, recipients=RECIPIENTS):
    """`pod` with `donors` more donors, `recipients` recipients in all and RECEIPTS
    receipts over the weeks so far, the first recipient's among them."""
    cycle.slots = recipients + 10
    cycle.save(update_fields=["slots"])
    start = Membership.objects.filter(pod=pod).count()
    people = add_donors(pod, cycle, donors, start=start)
    taken = cycle.enrollments.count()
    neighbors = Recipient.objects.bulk_create(
        Recipient(
            pod=pod,
            display_name=f"Neighbor R{n}",
            payment_method="cashapp",
            payment_handle=f"$r{n}",
        )
        for n in range(start, start + recipients - taken)
    )
    Enrollment.objects.bulk_create(
        Enrollment(recipient=r, cycle=cycle, slot=taken + 1 + n, last_week=cycle.weeks)
        for n, r in enumerate(neighbors)
    )
    everyone = [recipient, *neighbors]
    weeks = cycle.week_of(pod.today())
    now = timezone.now()
    Receipt.objects.bulk_create(
        (
            Receipt(
                pod=pod,
                cycle=cycle,
                week=n % weeks + 1,
                recipient=everyone[n % len(everyone)],
                payer=people[n % len(people)],
                posted_by=organizer if n % 7 == 0 else people[n % len(people)],
                amount=Decimal("17.50"),
                method="cashapp",
                sent_on=cycle.week_starts_on(n % weeks + 1),
                posted_at=now - datetime.timedelta(minutes=n),
                reference=f"ref {n}",
                confirmed_at=now if n % 3 == 0 else None,
            )
            for n in range(RECEIPTS)
        ),
        batch_size=1000,
    )


@pytest.fixture
def world(pod, cycle, organizer, donor, recipient, enrollment, recipient_link):
    """The small pod: an organizer, a donor (pledging), one recipient, two receipts."""
    from pledges.models import Pledge

    Pledge.objects.create(cycle=cycle, donor=donor, amount=Decimal("175.00"), last_week=15)
    for week in (1, 2):
        Receipt.objects.create(
            pod=pod,
            cycle=cycle,
            week=week,
            recipient=recipient,
            payer=donor,
            posted_by=donor,
            amount=Decimal("175.00"),
            method="cashapp",
            sent_on=cycle.week_starts_on(week),
        )
    return pod


def member_pages(pod, cycle, recipient_link, organizer, donor):
    """(name, user or None for the private link, URL) of every member page."""
    return [
        ("board", donor, reverse("receipts:board", args=[pod.slug])),
        ("dashboard", donor, reverse("pods:dashboard", args=[pod.slug])),
        ("this week (donor)", donor, reverse("pods:this_week", args=[pod.slug])),
        ("this week (organizer)", organizer, reverse("pods:this_week", args=[pod.slug])),
        ("members", donor, reverse("pods:members", args=[pod.slug])),
        ("pledge", donor, reverse("pods:pledge", args=[pod.slug])),
        ("recipient's page", None, reverse("recipients:link", args=[recipient_link])),
        (
            "recipient's cycle page",
            None,
            reverse("recipients:link_cycle", args=[recipient_link, cycle.number]),
        ),
    ]


def measure(pages):
    """{name: (status, bytes, queries)}, each page visited twice first and then counted:
    the week's plan is built on a first visit, which changes the pod's board version, and
    the shared cache is filled under the new one on the second."""
    result = {}
    for name, user, url in pages:
        client = Client()
        if user is not None:
            client.force_login(user)
        client.get(url)
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        result[name] = (response.status_code, len(response.content), len(queries))
    return result


def test_member_pages_cost_the_same_queries_and_stay_small_in_a_big_pod(
    world, pod, cycle, organizer, donor, recipient, recipient_link
):
    pages = member_pages(pod, cycle, recipient_link, organizer, donor)
    small = measure(pages)
    grow(pod, cycle, recipient, organizer)
    big = measure(pages)
    for name, (status, size, queries) in big.items():
        assert status == 200, name
        assert small[name][0] == 200, name
        assert queries == small[name][2], f"{name}: {small[name][2]} queries, then {queries}"
        assert size < MAX_BYTES, f"{name}: {size} bytes"


def test_the_board_rendered_afresh_costs_the_same_queries_in_a_big_pod(
    world, pod, cycle, organizer, donor, recipient, recipient_link
):
    """Not from the cache: every write the board shows (the growth here) changes its key."""
    client = Client()
    client.force_login(donor)
    url = reverse("receipts:board", args=[pod.slug])
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    grow(pod, cycle, recipient, organizer)
    with CaptureQueriesContext(connection) as big:
        response = client.get(url)
    assert len(big) == len(small)
    assert response.context["page"].paginator.count == RECEIPTS + 2
    assert len(response.content) < MAX_BYTES


def test_the_admin_cycle_page_costs_the_same_in_a_big_pod_and_links_to_the_enrollments(
    world, pod, cycle, organizer, donor, recipient, recipient_link
):
    """Whatever the pod's size, the cycle's page has the same fields, figures and links
    (its enrollments are listed, a page at a time, in the Enrollment admin)."""
    client = Client()
    client.force_login(organizer)
    url = reverse("admin:pods_cycle_change", args=[cycle.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        first = client.get(url)
    grow(pod, cycle, recipient, organizer)
    with CaptureQueriesContext(connection) as big:
        response = client.get(url)
    assert response.status_code == 200
    assert len(big) == len(small)
    # Only its figures' digits differ.
    assert abs(len(response.content) - len(first.content)) < 200
    assert len(response.content) < 20_000
    assert response.context["inline_admin_formsets"] == []
    assert f"{RECIPIENTS} used, 10 free of {RECIPIENTS + 10} slots" in response.text
    enrollments = reverse("admin:recipients_enrollment_changelist")
    assert f'href="{enrollments}?cycle__id__exact={cycle.pk}"' in response.text
    listed = client.get(f"{enrollments}?cycle__id__exact={cycle.pk}")
    assert listed.status_code == 200
    assert listed.context["cl"].result_count == RECIPIENTS
    assert "Neighbor R" in listed.text
    assert len(listed.content) < MAX_BYTES


def test_members_page_is_paginated_for_members_only(client, world, pod, donor, outsider):
    add_donors(pod, None, 150, start=10)
    url = reverse("pods:members", args=[pod.slug])
    assert client.get(url, {"page": 2}).status_code == 302
    client.force_login(outsider)
    assert client.get(url, {"page": 2}).status_code == 404
    client.force_login(donor)
    second = client.get(url, {"page": 2})
    assert second.status_code == 200
    assert len(second.context["donors"]) == 51
    # A page past the end is the last page, a page that is no number the first.
    assert client.get(url, {"page": 99}).context["page"].number == 2
    assert client.get(url, {"page": "x"}).context["page"].number == 1


def test_organizers_this_week_pages_the_recipients_and_keeps_the_weeks_figures(
    world, pod, cycle, organizer, donor, recipient
):
    grow(pod, cycle, recipient, organizer)
    client = Client()
    client.force_login(organizer)
    url = reverse("pods:this_week", args=[pod.slug])
    first = client.get(url)
    assert len(first.context["rows"]) == 20
    assert first.context["rows_page"].paginator.count == RECIPIENTS
    assert 'href="?page=2" rel="next"' in first.text
    last = client.get(url, {"page": 5})
    assert len(last.context["rows"]) == 20
    # The figures are the whole week's on every page.
    assert last.context["planned"] == first.context["planned"]
    assert last.context["needed"] == cycle.weekly_amount * RECIPIENTS


def test_the_recipients_page_posts_every_it_arrived_from_one_form(
    world, pod, recipient_link, recipient
):
    text = Client().get(reverse("recipients:link", args=[recipient_link])).text
    assert text.count('name="csrfmiddlewaretoken"') == 2  # the list's and the language menu's
    for receipt in Receipt.objects.filter(recipient=recipient):
        url = reverse("recipients:confirm_arrival", args=[recipient_link, receipt.pk])
        assert f'formaction="{url}"' in text


def paid_in_earlier_cycles(cycle, recipient, payers, organizer, numbers, *, per_week=5):
    """Cycles `numbers` before `cycle` (back to back, 15 weeks each), `recipient` enrolled
    in each and paid `per_week` times a week, a fifth of it voided, a third confirmed."""
    pod, now = cycle.pod, timezone.now()
    for number in numbers:
        earlier = Cycle.objects.create(
            pod=pod,
            number=number,
            starts_on=cycle.starts_on - datetime.timedelta(days=105 * (cycle.number - number)),
            weeks=15,
            weekly_amount=cycle.weekly_amount,
            slots=cycle.slots,
        )
        Enrollment.objects.create(recipient=recipient, cycle=earlier, slot=1, last_week=15)
        Receipt.objects.bulk_create(
            Receipt(
                pod=pod,
                cycle=earlier,
                week=n // per_week + 1,
                recipient=recipient,
                payer=payers[n % len(payers)],
                posted_by=organizer,
                amount=Decimal("35.00"),
                method="cashapp",
                sent_on=earlier.week_starts_on(n // per_week + 1),
                reference=f"ref {n}",
                confirmed_at=now if n % 3 == 0 else None,
                voided_at=now if n % 5 == 0 else None,
                voided_by=organizer if n % 5 == 0 else None,
                void_reason="Wrong amount" if n % 5 == 0 else "",
            )
            for n in range(15 * per_week)
        )


def test_the_recipients_page_lists_one_cycle_however_many_they_were_paid_in(
    world, pod, cycle, organizer, donor, recipient, recipient_link
):
    """Each earlier cycle is a line that leads to its own page: ten more cycles of
    receipts (750 of them) add ten short lines and no query."""
    url = reverse("recipients:link", args=[recipient_link])
    client = Client()
    Cycle.objects.filter(pk=cycle.pk).update(number=13)
    cycle.refresh_from_db()
    payers = add_donors(pod, cycle, 20)

    def measured():
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        return response, len(queries)

    paid_in_earlier_cycles(cycle, recipient, payers, organizer, [11, 12])
    few, few_queries = measured()
    paid_in_earlier_cycles(cycle, recipient, payers, organizer, range(1, 11))
    many, many_queries = measured()
    assert many_queries == few_queries
    assert len(many.content) < MAX_BYTES / 4
    # A few lines a cycle (its schedule, its place, its line), none of its receipts.
    assert (len(many.content) - len(few.content)) / 10 < 1_000
    assert len(many.context["earlier"]) == 12
    assert many.context["receipt_count"] == 12 * 60 + 2
    assert many.context["voided_count"] == 12 * 15
    assert len(many.context["receipts"]) == 2
    assert many.context["voided"] == []
    text = many.text
    for number in range(1, 13):
        link = reverse("recipients:link_cycle", args=[recipient_link, number])
        assert f'<a href="{link}">Cycle {number}</a>: 60 receipts, $2,100.00 in all' in text
    assert text.count('id="receipt-') == 2
    # Each of those cycles' pages holds its own, with the voided ones and their reasons.
    page = client.get(reverse("recipients:link_cycle", args=[recipient_link, 4]))
    assert page.text.count('id="receipt-') == 75
    assert page.text.count("Wrong amount") == 15
    assert len(page.content) < MAX_BYTES


def test_in_a_big_pod_the_payer_filter_is_reached_from_the_names_in_the_list(
    world, client, pod, cycle, organizer, donor, recipient
):
    grow(pod, cycle, recipient, organizer)
    client.force_login(donor)
    url = reverse("receipts:board", args=[pod.slug])
    response = client.get(url, {"week": 2})
    payer_choices = response.context["form"].fields["payer"].choices
    assert payer_choices == [("", "All")]
    assert 'aria-describedby="id_payer_helptext"' in response.text
    assert "choose their name in the list below" in response.text
    first = response.context["page"].object_list[0]
    link = f'href="?week=2&amp;payer={first.payer_id}"'
    assert link in response.text
    narrowed = client.get(url, {"week": 2, "payer": first.payer_id})
    assert {r.payer_id for r in narrowed.context["page"].object_list} == {first.payer_id}
    assert narrowed.context["form"].fields["payer"].choices[1][0] == first.payer_id
    assert narrowed.context["filtered"]


def test_templates_are_compiled_once_per_process():
    """Django's cached loader (its default when no loaders are set): a page's templates
    are parsed on first use, not on every request."""
    from django.template import engines
    from django.template.loaders.cached import Loader

    loaders = engines["django"].engine.template_loaders
    assert [type(loader) for loader in loaders] == [Loader]
