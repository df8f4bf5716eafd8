"""The board's cached fragments are never stale and never another pod's: their key holds
the pod, its board version (bumped by the database in the same transaction as every
write the board shows), the pod's today, the language and the query."""

import uuid
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from pods.models import Cycle, Membership, Pod
from receipts.models import Receipt
from recipients.models import Recipient
from recipients.services import enroll

pytestmark = pytest.mark.django_db


def url(pod, **query):
    base = reverse("receipts:board", args=[pod.slug])
    return f"{base}?{'&'.join(f'{k}={v}' for k, v in query.items())}" if query else base


def version(pod):
    return Pod.objects.values_list("board_version", flat=True).get(pk=pod.pk)


@pytest.fixture
def member_client(client, donor):
    client.force_login(donor)
    return client


def test_a_post_shows_on_the_very_next_request(member_client, pod, cycle, enrollment, recipient):
    assert "No receipts to show." in member_client.get(url(pod)).text
    before = version(pod)
    response = member_client.post(
        reverse("receipts:receipt_create", args=[pod.slug]),
        {
            "recipient": recipient.pk,
            "week": 1,
            "amount": "42.50",
            "method": "cashapp",
            "sent_on": cycle.week_starts_on(1).isoformat(),
            "submission_key": str(uuid.uuid4()),
        },
    )
    assert response.status_code == 302
    assert version(pod) > before
    text = member_client.get(url(pod)).text
    assert "$42.50" in text
    assert "1 receipt" in text


def test_a_void_shows_on_the_very_next_request(member_client, pod, cycle, enrollment, add_receipt):
    receipt = add_receipt(amount=Decimal("175.00"))
    assert 'class="cell cell-paid"' in member_client.get(url(pod)).text
    before = version(pod)
    member_client.post(
        reverse("receipts:receipt_void", args=[pod.slug, receipt.pk]), {"reason": "Typo"}
    )
    assert version(pod) > before
    text = member_client.get(url(pod)).text
    assert "<del>$175.00</del>" in text
    assert "Typo" in text
    assert 'class="cell cell-paid"' not in text


def test_a_receipt_written_outside_the_app_shows_at_once(
    member_client, pod, cycle, enrollment, add_receipt
):
    """The admin, a command or a shell write straight to the table: the trigger bumps."""
    member_client.get(url(pod))
    add_receipt(amount=Decimal("33.00"))
    assert "$33.00" in member_client.get(url(pod)).text
    Receipt.objects.update(confirmed_at="2026-01-05T12:00:00Z")
    assert 'class="cell cell-partly"' in member_client.get(url(pod)).text  # 33 of 175
    assert "arrival confirmed" in member_client.get(url(pod)).text


@pytest.mark.parametrize(
    "change",
    [
        "rename_recipient",
        "enroll",
        "end_enrollment",
        "change_cycle",
        "rename_member",
        "new_member",
        "pod_settings",
    ],
)
def test_every_write_the_board_shows_bumps_the_version(
    change, pod, cycle, enrollment, recipient, donor
):
    before = version(pod)
    if change == "rename_recipient":
        Recipient.objects.filter(pk=recipient.pk).update(display_name="Rosa M.")
    elif change == "enroll":
        enroll(recipient=Recipient.objects.create(pod=pod, display_name="Sam"), cycle=cycle)
    elif change == "end_enrollment":
        enrollment.status = "left"
        enrollment.save()
    elif change == "change_cycle":
        Cycle.objects.filter(pk=cycle.pk).update(weekly_amount=Decimal("150.00"))
    elif change == "rename_member":
        donor.display_name = "Dana R."
        donor.save(update_fields=["display_name"])
    elif change == "new_member":
        Membership.objects.create(pod=pod, user=type(donor).objects.create_user("n@example.org"))
    elif change == "pod_settings":
        Pod.objects.filter(pk=pod.pk).update(currency="EUR")
    assert version(pod) > before


def test_signing_in_does_not_bump_the_version(pod, donor):
    before = version(pod)
    Client().force_login(donor)  # writes last_login
    assert version(pod) == before


def test_a_stale_pod_saved_cannot_set_the_version_back(pod, cycle, enrollment, add_receipt):
    stale = Pod.objects.get(pk=pod.pk)
    add_receipt()
    posted = version(pod)
    stale.name = "Maple Street"
    stale.save()
    assert version(pod) > posted


def test_no_fragment_of_one_pod_is_served_to_another(
    client, pod, cycle, enrollment, add_receipt, donor, other_pod, make_user
):
    add_receipt(amount=Decimal("12.34"))
    other_cycle = Cycle.objects.create(
        pod=other_pod,
        number=cycle.number,
        starts_on=cycle.starts_on,
        weeks=cycle.weeks,
        weekly_amount=cycle.weekly_amount,
        slots=cycle.slots,
    )
    enroll(
        recipient=Recipient.objects.create(pod=other_pod, display_name="Elsa"), cycle=other_cycle
    )
    neighbor = make_user("nia@example.org", display_name="Nia")
    Membership.objects.create(pod=other_pod, user=neighbor)
    # The same version in both pods, so that only the pod tells their keys apart.
    while version(pod) != version(other_pod):
        lower = pod if version(pod) < version(other_pod) else other_pod
        Pod.objects.filter(pk=lower.pk).update(name=lower.name)
    client.force_login(donor)
    mine = client.get(url(pod)).text
    assert "$12.34" in mine and "Rosa" in mine
    client.force_login(neighbor)
    theirs = client.get(url(other_pod)).text
    assert "Elsa" in theirs
    assert "$12.34" not in theirs and "Rosa" not in theirs
    assert "No receipts to show." in theirs


def test_each_language_gets_its_own_fragments(member_client, pod, cycle, enrollment, donor):
    assert "Nobody is enrolled" not in member_client.get(url(pod)).text
    donor.language = "es"
    donor.save(update_fields=["language"])
    text = member_client.get(url(pod)).text
    assert "No hay comprobantes para mostrar." in text
    assert "No receipts to show." not in text


def test_pages_of_the_grid_and_the_list_keep_the_filters(
    member_client, pod, cycle, enrollment, recipient, add_receipt
):
    cycle.slots = 30
    cycle.save(update_fields=["slots"])
    for n in range(24):
        enroll(recipient=Recipient.objects.create(pod=pod, display_name=f"R{n:02}"), cycle=cycle)
    for _ in range(60):
        add_receipt(week=2)
    first = member_client.get(url(pod, week=2))
    assert len(first.context["grid_page"]) == 20
    assert 'href="?week=2&amp;grid=2" rel="next"' in first.text
    assert 'href="?week=2&amp;page=2" rel="next"' in first.text
    second = member_client.get(url(pod, week=2, grid=2, page=2))
    assert len(second.context["grid_page"]) == 5
    assert len(second.context["page"].object_list) == 10
    assert 'href="?week=2&amp;grid=1&amp;page=2" rel="prev"' in second.text
    assert 'href="?week=2&amp;grid=2&amp;page=1" rel="prev"' in second.text
    # Every cell keeps its words for screen readers: the state, and the amount if any.
    assert '<span class="visually-hidden">paid in full, $10,500.00</span>' in first.text
    assert '<span class="visually-hidden">missing</span>' in first.text


def test_pages_of_the_board_are_for_members_only(client, pod, cycle, enrollment, outsider):
    page = url(pod, grid=2, page=2)
    response = client.get(page)
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    client.force_login(outsider)
    assert client.get(page).status_code == 404


def test_member_pages_are_private_to_caches(member_client, pod, cycle, enrollment):
    for _ in range(2):  # rendered, then from the cache
        response = member_client.get(url(pod))
        assert "private" in response["Cache-Control"]


def test_links_are_those_of_the_query_asked_never_of_a_cached_one(
    member_client, pod, cycle, enrollment, recipient, add_receipt
):
    cycle.slots = 30
    cycle.save(update_fields=["slots"])
    for n in range(24):
        enroll(recipient=Recipient.objects.create(pod=pod, display_name=f"R{n:02}"), cycle=cycle)
    add_receipt(week=2)
    add_receipt(week=3)
    assert 'href="?week=2&amp;grid=2"' in member_client.get(url(pod, week=2)).text
    third = member_client.get(url(pod, week=3)).text
    assert 'href="?week=3&amp;grid=2"' in third
    assert "week=2" not in third
    # Anything else in the address is neither kept in the links nor a key of its own.
    other = member_client.get(url(pod, week=3, utm_source="flyer"))
    board = other.text.split("<h1>", 1)[1].split("</main>", 1)[0]
    assert "utm_source" not in board
    assert grid_of(other.text) == grid_of(third)


def grid_of(text):
    start = text.index('<section aria-labelledby="grid-heading">')
    return text[start : text.index("</section>", start)]
