"""/r/<secret>/: the recipient's private page, no sign-in. It shows the pod, their
schedule and the receipts sent to them, to whoever holds the secret and to nobody else."""

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from recipients import link as link_views
from recipients.models import Recipient
from recipients.services import end_enrollment, enroll
from tests.pods.crowd import add_donors

pytestmark = pytest.mark.django_db


def url(token):
    return reverse("recipients:link", args=[token])


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Misses are counted in the cache; each test starts with none.
    cache.clear()


def assert_private(response):
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "noindex" in response.headers["X-Robots-Tag"]


def test_the_right_secret_shows_the_recipients_page(client, recipient_link, enrollment, pod):
    response = client.get(url(recipient_link))
    assert response.status_code == 200
    assert pod.name in response.text
    assert "Hello <bdi>Rosa</bdi>" in response.text
    assert "$175.00 a week, weeks 1 to 15" in response.text
    assert_private(response)
    assert '<meta name="robots" content="noindex, nofollow">' in response.text


@pytest.mark.parametrize("who", [None, "outsider", "donor", "organizer"])
def test_the_page_is_the_same_signed_in_or_not(client, recipient_link, enrollment, who, request):
    """The secret is the only key: no account is needed, and none adds anything."""
    if who:
        client.force_login(request.getfixturevalue(who))
    response = client.get(url(recipient_link))
    assert response.status_code == 200
    assert "Hello <bdi>Rosa</bdi>" in response.text
    assert "Sign out" not in response.text


def nearly(secret):
    """The secret with its last character changed: always wrong, never by chance the real
    one (replacing it with a fixed letter was the real secret one time in 64)."""
    return secret[:-1] + ("y" if secret.endswith("x") else "x")


def test_nearly_gives_another_secret_whatever_the_last_character():
    assert nearly("abcx") == "abcy"
    assert nearly("abcy") == "abcx"
    assert nearly("abc-") == "abcx"


def test_a_wrong_secret_gets_a_plain_404(client, recipient_link, enrollment):
    assert nearly(recipient_link) != recipient_link
    response = client.get(url(nearly(recipient_link)))
    assert response.status_code == 404
    assert "Rosa" not in response.text
    assert_private(response)


def test_a_revoked_secret_gets_404(client, recipient, recipient_link, enrollment):
    Recipient.objects.filter(pk=recipient.pk).update(access_token_hash="")
    assert client.get(url(recipient_link)).status_code == 404


def test_a_replaced_secret_gets_404_and_the_new_one_works(client, recipient, recipient_link):
    new = recipient.new_access_token()
    recipient.save()
    assert client.get(url(recipient_link)).status_code == 404
    assert client.get(url(new)).status_code == 200


def test_another_pods_recipient_sees_only_their_own(client, other_pod, recipient_link, enrollment):
    stranger = Recipient.objects.create(pod=other_pod, display_name="Otis", payment_handle="$otis")
    token = stranger.new_access_token()
    stranger.save()
    response = client.get(url(token))
    assert response.status_code == 200
    assert "Otis" in response.text
    assert "Rosa" not in response.text
    assert "Maple Street Pod" not in response.text


def test_an_erased_recipients_secret_gets_404(client, recipient, recipient_link):
    Recipient.objects.filter(pk=recipient.pk).update(erased_at=timezone.now())
    assert client.get(url(recipient_link)).status_code == 404


def guess(client, times, **extra):
    return [client.get(url(f"guess{n}"), **extra).status_code for n in range(times)]


def test_guessing_is_rate_limited_per_address(client, recipient_link, enrollment, settings):
    assert guess(client, link_views.LINK_MISSES_ALLOWED) == [404] * link_views.LINK_MISSES_ALLOWED

    blocked = client.get(url("one-more-guess"))
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.text
    assert_private(blocked)
    # Another address is not held back.
    assert client.get(url("guess0"), REMOTE_ADDR="10.0.0.9").status_code == 404


def test_a_stranger_guessing_does_not_lock_out_recipients_at_the_same_address(
    client, recipient_link, enrollment
):
    """A shelter's wifi, a carrier's gateway: one guesser there must not keep everyone
    else behind the same address from their page."""
    guess(client, link_views.LINK_MISSES_ALLOWED + 5)
    response = client.get(url(recipient_link))
    assert response.status_code == 200
    assert "Hello <bdi>Rosa</bdi>" in response.text
    assert_private(response)
    # Leaving works too: every page of the link takes the right secret.
    assert client.get(reverse("recipients:leave", args=[recipient_link])).status_code == 200


def test_a_hit_does_not_reset_the_count_of_misses(client, recipient_link, enrollment):
    """Else a guesser holding one real link could wipe out their misses with it."""
    guess(client, link_views.LINK_MISSES_ALLOWED)
    assert client.get(url(recipient_link)).status_code == 200
    assert client.get(url("after-the-hit")).status_code == 429


def test_past_the_limit_every_miss_looks_the_same(
    client, recipient, recipient_link, enrollment, other_pod
):
    """Never issued, replaced, revoked or erased: a blocked address learns nothing more
    from one miss than from another."""
    replaced = recipient_link
    new = recipient.new_access_token()
    recipient.save()
    gone = Recipient.objects.create(pod=other_pod, display_name="Gil", payment_handle="$gil")
    erased = gone.new_access_token()
    gone.save()
    Recipient.objects.filter(pk=gone.pk).update(erased_at=timezone.now())
    guess(client, link_views.LINK_MISSES_ALLOWED)
    responses = [client.get(url(secret)) for secret in ("never-issued", replaced, erased)]
    assert [r.status_code for r in responses] == [429] * 3
    assert len({r.text for r in responses}) == 1
    assert len({tuple(sorted(r.headers.items())) for r in responses}) == 1
    assert client.get(url(new)).status_code == 200


def test_going_over_the_limit_is_logged_once_a_window(client, caplog):
    with caplog.at_level("WARNING", logger="recipients.link"):
        guess(client, link_views.LINK_MISSES_ALLOWED + 5)
    warnings = [r.getMessage() for r in caplog.records if r.name == "recipients.link"]
    assert warnings == [
        f"Recipient links: {link_views.LINK_MISSES_ALLOWED + 1} misses from 127.0.0.1"
    ]


def test_an_ipv6_guesser_counts_as_one_address_across_its_64(client, recipient_link, enrollment):
    """Walking through the addresses of one /64 does not start new counts."""
    statuses = [
        client.get(url(f"guess{n}"), REMOTE_ADDR=f"2001:db8:1:2::{n + 1:x}").status_code
        for n in range(link_views.LINK_MISSES_ALLOWED + 1)
    ]
    assert statuses[-1] == 429
    assert client.get(url("next"), REMOTE_ADDR="2001:db8:1:3::1").status_code == 404
    assert client.get(url(recipient_link), REMOTE_ADDR="2001:db8:1:2::99").status_code == 200


def test_receipts_to_them_show_amount_date_method_and_payer(
    client, recipient, recipient_link, enrollment, make_receipt, donor, organizer
):
    make_receipt(recipient, week=1, amount="100.00")
    make_receipt(recipient, week=2, amount="75.00", payer=organizer)
    response = client.get(url(recipient_link))
    assert [str(r["amount"]) for r in response.context["receipts"]] == ["75.00", "100.00"]
    assert "$100.00" in response.text
    assert "Cash App" in response.text
    assert "from <bdi>Dana</bdi>" in response.text
    assert "from <bdi>Olive</bdi>" in response.text


def test_a_payer_can_stay_anonymous_to_recipients(
    client, recipient, recipient_link, enrollment, make_receipt, donor
):
    donor.anonymous_to_recipients = True
    donor.save()
    make_receipt(recipient)
    response = client.get(url(recipient_link))
    assert "from a neighbor" in response.text
    assert "Dana" not in response.text
    assert "dana@" not in response.text


def test_voided_receipts_are_only_listed_as_kept_and_other_recipients_not_at_all(
    client, recipient, recipient_link, enrollment, make_receipt, make_recipient, organizer
):
    make_receipt(recipient, amount="60.00").void(by=organizer, reason="Wrong amount")
    make_receipt(make_recipient("Ana"), amount="90.00")
    response = client.get(url(recipient_link))
    assert response.context["receipts"] == []
    assert "No money has been sent to you through the pod yet." in response.text
    # Not money sent, but kept by the pod: "what the pod knows" says so.
    knows = response.text.split('id="knows-heading"')[1]
    assert "$60.00" in knows and "voided" in knows and "Wrong amount" in knows
    assert "$90.00" not in response.text


def test_no_handle_but_their_own_is_shown(
    client, recipient, recipient_link, enrollment, make_recipient, make_receipt, cycle
):
    ana = make_recipient("Ana", payment_handle="$ana-secret")
    enroll(recipient=ana, cycle=cycle)
    make_receipt(recipient, reference="sent from $dana-handle")
    response = client.get(url(recipient_link))
    assert "$rosa" in response.text
    assert "$ana-secret" not in response.text
    assert "$dana-handle" not in response.text


def test_someone_who_left_sees_their_last_week(client, recipient_link, enrollment):
    end_enrollment(enrollment=enrollment, notify=False)
    response = client.get(url(recipient_link))
    assert "Your last week of support is week 6" in response.text
    assert "I no longer need support" not in response.text


def test_query_count_does_not_grow_with_the_pod_or_the_receipts(
    client, recipient, recipient_link, enrollment, make_receipt, pod, cycle, count_queries
):
    make_receipt(recipient)
    _, small = count_queries(lambda: client.get(url(recipient_link)))
    donors = add_donors(pod, cycle, 40)
    for week, payer in enumerate(donors[:30], start=1):
        make_receipt(recipient, week=week % 15 + 1, payer=payer)
    response, large = count_queries(lambda: client.get(url(recipient_link)))
    assert len(response.context["receipts"]) == 31
    assert small == large
