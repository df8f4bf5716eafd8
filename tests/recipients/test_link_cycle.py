"""/r/<secret>/cycles/<number>/: one cycle's receipts to the recipient. Their page lists
the latest cycle's receipts and a line for each earlier cycle that leads here; whoever
holds the secret sees them, confirms their arrival from here, and nobody else sees
anything."""

import datetime
import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from pods.models import Cycle
from receipts.models import Receipt
from recipients import link as link_views
from recipients.models import Enrollment
from recipients.services import enroll

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


@pytest.fixture
def earlier(pod):
    """Cycle 1, over."""
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
    """Cycle 2, now in week 6 of 15 (the recipients conftest's receipts go here)."""
    return Cycle.objects.create(
        pod=pod,
        number=2,
        starts_on=pod.today() - datetime.timedelta(days=7 * 5),
        weeks=15,
        weekly_amount=Decimal("175.00"),
        slots=3,
    )


def in_cycle(cycle, recipient, payer, *, week=1, amount="50.00", **fields):
    return Receipt.objects.create(
        pod=cycle.pod,
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
def history(recipient, earlier, cycle, donor, organizer, make_receipt):
    """Rosa in cycle 1 (left) and cycle 2: in cycle 1 two receipts (one she confirmed)
    and one voided; in cycle 2 one receipt."""
    past = enroll(recipient=recipient, cycle=earlier)
    Enrollment.objects.filter(pk=past.pk).update(status=Enrollment.Status.LEFT, last_week=8)
    enroll(recipient=recipient, cycle=cycle)
    first = in_cycle(earlier, recipient, donor, week=1, amount="100.00", reference="groceries")
    second = in_cycle(earlier, recipient, organizer, week=2, amount="25.00")
    Receipt.objects.filter(pk=second.pk).update(confirmed_at=timezone.now())
    mistake = in_cycle(earlier, recipient, donor, week=3, amount="9.00")
    mistake.void(by=organizer, reason="Sent twice")
    now = make_receipt(recipient, week=5, amount="175.00")
    return {"first": first, "second": second, "mistake": mistake, "now": now}


def cycle_url(token, number):
    return reverse("recipients:link_cycle", args=[token, number])


def assert_private(response):
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "noindex" in response.headers["X-Robots-Tag"]


def test_the_page_lists_the_latest_cycle_and_a_line_for_each_earlier_one(
    client, recipient_link, history
):
    response = client.get(reverse("recipients:link", args=[recipient_link]))
    text = response.text
    assert f'id="receipt-{history["now"].pk}"' in text
    for old in ("first", "second", "mistake"):
        assert f'id="receipt-{history[old].pk}"' not in text
    line = re.search(r'<li id="cycle-1">(.*?)</li>', text).group(1)
    assert f'<a href="{cycle_url(recipient_link, 1)}">Cycle 1</a>' in line
    assert "2 receipts, $125.00 in all · one not confirmed yet · one voided" in line
    # The honest counts, of every cycle.
    knows = text.split('id="knows-heading"')[1]
    assert "3 receipts: the latest cycle's listed above" in knows
    assert "One more receipt was posted by mistake and voided" in knows
    assert "One of them is from an earlier cycle" in knows
    assert "Sent twice" not in text


def test_the_cycle_page_lists_its_receipts_and_the_voided_ones(
    client, recipient_link, history, make_recipient, earlier, donor
):
    ana = make_recipient("Ana")
    in_cycle(earlier, ana, donor, amount="88.00")
    response = client.get(cycle_url(recipient_link, 1))
    assert response.status_code == 200
    assert_private(response)
    assert response.headers["Content-Language"] == "en"
    text = response.text
    assert "Money sent to you in cycle 1" in text
    assert "2 receipts, $125.00 in all · one not confirmed yet · one voided" in text
    first, second = history["first"], history["second"]
    assert f'id="receipt-{first.pk}"' in text
    assert "$100.00</strong> · cycle 1, week 1" in text
    assert "The sender added a reference; the pod keeps it" in text
    assert "groceries" not in text
    confirm = reverse("recipients:confirm_arrival", args=[recipient_link, first.pk])
    assert f'formaction="{confirm}"' in text
    assert f'id="receipt-{second.pk}"' in text and "You confirmed it arrived" in text
    voided = re.search(rf'<li id="receipt-{history["mistake"].pk}">(.*?)</li>', text).group(1)
    assert "$9.00 · cycle 1, week 3" in voided and "voided: “<bdi>Sent twice</bdi>”" in voided
    # Not this cycle's, not anyone else's.
    assert f'id="receipt-{history["now"].pk}"' not in text
    assert "$88.00" not in text and "$ana" not in text
    assert f'href="{reverse("recipients:link", args=[recipient_link])}"' in text


def test_the_latest_cycle_has_its_page_too(client, recipient_link, history):
    text = client.get(cycle_url(recipient_link, 2)).text
    assert f'id="receipt-{history["now"].pk}"' in text
    assert f'id="receipt-{history["first"].pk}"' not in text


def test_a_cycle_without_their_receipts_says_so(client, recipient_link, enrollment):
    response = client.get(cycle_url(recipient_link, 1))
    assert response.status_code == 200
    assert "No money was sent to you through the pod in this cycle." in response.text


def test_a_wrong_secret_gets_a_plain_404_and_counts_as_a_miss(client, recipient_link, history):
    wrong = "not-" + recipient_link
    response = client.get(cycle_url(wrong, 1))
    assert response.status_code == 404
    assert "Rosa" not in response.text
    assert_private(response)
    for _ in range(link_views.LINK_MISSES_ALLOWED - 1):
        client.get(cycle_url(wrong, 1))
    assert client.get(cycle_url(wrong, 1)).status_code == 429
    # The right secret still opens it.
    assert client.get(cycle_url(recipient_link, 1)).status_code == 200


@pytest.mark.parametrize("who", ["outsider", "donor", "organizer"])
def test_signing_in_gives_no_way_around_the_secret(client, history, who, request):
    client.force_login(request.getfixturevalue(who))
    assert client.get(cycle_url("wrong-secret", 1)).status_code == 404


def test_another_pods_cycle_or_none_gets_404(client, recipient_link, history, other_pod):
    Cycle.objects.create(
        pod=other_pod,
        number=7,
        starts_on=other_pod.today(),
        weeks=15,
        weekly_amount=Decimal("175.00"),
        slots=3,
    )
    for number in (7, 3, 0, 999_999, 2**70):
        response = client.get(cycle_url(recipient_link, number))
        assert response.status_code == 404, number
        assert_private(response)
    # Numbers that are no number do not even reach the view.
    client.raise_request_exception = False
    link = reverse("recipients:link", args=[recipient_link])
    for garbage in ("x", "-1", "1.5", "%D9%A1", "1%00"):
        assert client.get(f"{link}cycles/{garbage}/").status_code in (400, 404), garbage


def test_another_recipients_secret_shows_only_their_own(
    client, history, make_recipient, earlier, donor
):
    ana = make_recipient("Ana")
    token = ana.new_access_token()
    ana.save(update_fields=["access_token_hash"])
    in_cycle(earlier, ana, donor, amount="88.00")
    text = client.get(cycle_url(token, 1)).text
    assert "$88.00" in text
    assert "$100.00" not in text and "Rosa" not in text


def csrf_of(page):
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)


def test_it_arrived_from_the_cycle_page_comes_back_to_it(recipient_link, history):
    """As a browser does it, with CSRF checks on: the list's form says where it is."""
    first = history["first"]
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(cycle_url(recipient_link, 1))
    back = re.search(r'name="next" value="([^"]+)"', page.text.split("link-receipts-form")[1])
    assert back.group(1) == cycle_url(recipient_link, 1)

    response = browser.post(
        reverse("recipients:confirm_arrival", args=[recipient_link, first.pk]),
        {"csrfmiddlewaretoken": csrf_of(page), "next": back.group(1)},
        HTTP_ORIGIN="http://testserver",
    )

    assert response.status_code == 302
    assert response.url == cycle_url(recipient_link, 1) + f"#receipt-{first.pk}"
    first.refresh_from_db()
    assert first.confirmed_at is not None
    again = browser.get(response.url).text
    assert "2 receipts, $125.00 in all · one voided" in again
    assert "not confirmed yet" not in again


def test_it_arrived_from_the_page_comes_back_to_the_page(client, recipient_link, history):
    now = history["now"]
    page = client.get(reverse("recipients:link", args=[recipient_link]))
    assert f'name="next" value="{reverse("recipients:link", args=[recipient_link])}"' in page.text
    response = client.post(
        reverse("recipients:confirm_arrival", args=[recipient_link, now.pk]),
        {"next": reverse("recipients:link", args=[recipient_link])},
    )
    assert response.url == reverse("recipients:link", args=[recipient_link]) + (
        f"#receipt-{now.pk}"
    )


@pytest.mark.parametrize(
    "back", ["https://elsewhere.example/r/", "/pods/", "//elsewhere.example/", "/r/other/"]
)
def test_it_arrived_never_goes_back_off_their_pages(client, recipient_link, history, back):
    first = history["first"]
    response = client.post(
        reverse("recipients:confirm_arrival", args=[recipient_link, first.pk]), {"next": back}
    )
    assert response.url == reverse("recipients:link", args=[recipient_link]) + (
        f"#receipt-{first.pk}"
    )


def test_the_cycle_page_speaks_their_language_right_to_left(
    client, recipient, recipient_link, history
):
    recipient.language = "ar"
    recipient.save(update_fields=["language"])
    response = client.get(cycle_url(recipient_link, 1))
    assert response.headers["Content-Language"] == "ar"
    assert '<html lang="ar" dir="rtl">' in response.text
    assert "المال المرسَل إليك في الدورة 1" in response.text
    assert "Money sent to you" not in response.text
    # The menu brings them back here.
    menu = reverse("recipients:link_language", args=[recipient_link])
    assert f'action="{menu}"' in response.text
    assert f'name="next" value="{cycle_url(recipient_link, 1)}"' in response.text
    moved = client.post(menu, {"language": "es", "next": cycle_url(recipient_link, 1)})
    assert moved.url == cycle_url(recipient_link, 1)
    assert "Dinero que te enviaron en el ciclo 1" in client.get(moved.url).text


def test_the_main_page_in_spanish(client, recipient, recipient_link, history):
    recipient.language = "es"
    recipient.save(update_fields=["language"])
    text = client.get(reverse("recipients:link", args=[recipient_link])).text
    assert "Ciclos anteriores" in text
    assert ">Ciclo 1</a>: 2 comprobantes," in text
    assert "uno todavía sin confirmar · uno anulado" in text


def test_the_cycle_page_costs_the_same_queries_however_many_receipts(
    client, recipient_link, history, earlier, donor, organizer, count_queries
):
    url = cycle_url(recipient_link, 1)
    _, few = count_queries(lambda: client.get(url))
    for week in range(1, 16):
        in_cycle(earlier, history["first"].recipient, donor, week=week, reference="r")
        in_cycle(earlier, history["first"].recipient, organizer, week=week).void(
            by=organizer, reason="x"
        )
    response, many = count_queries(lambda: client.get(url))
    assert len(response.context["receipts"]) == 17
    assert len(response.context["voided"]) == 16
    assert few == many
