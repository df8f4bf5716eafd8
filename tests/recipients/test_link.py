"""/r/<secret>/: the recipient's private page, no sign-in. It shows the pod, their
schedule and the receipts sent to them, to whoever holds the secret and to nobody else."""

import pytest
from django.core.cache import cache
from django.urls import reverse

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
    assert "Hello Rosa" in response.text
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
    assert "Hello Rosa" in response.text
    assert "Sign out" not in response.text


def test_a_wrong_secret_gets_a_plain_404(client, recipient_link, enrollment):
    response = client.get(url(recipient_link[:-1] + "x"))
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
    from django.utils import timezone

    Recipient.objects.filter(pk=recipient.pk).update(erased_at=timezone.now())
    assert client.get(url(recipient_link)).status_code == 404


def test_guessing_is_rate_limited_per_address(client, recipient_link, enrollment, settings):
    statuses = [
        client.get(url(f"guess{n}")).status_code for n in range(link_views.LINK_MISSES_ALLOWED)
    ]
    assert statuses == [404] * link_views.LINK_MISSES_ALLOWED

    blocked = client.get(url("one-more-guess"))
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.text
    assert_private(blocked)
    # Blocked before the lookup: a right guess now looks like any other.
    assert client.get(url(recipient_link)).status_code == 429
    # Another address is not held back.
    assert client.get(url(recipient_link), REMOTE_ADDR="10.0.0.9").status_code == 200


def test_the_right_secret_never_counts_as_a_miss(client, recipient_link, enrollment):
    for _ in range(link_views.LINK_MISSES_ALLOWED + 5):
        assert client.get(url(recipient_link)).status_code == 200


def test_receipts_to_them_show_amount_date_method_and_payer(
    client, recipient, recipient_link, enrollment, make_receipt, donor, organizer
):
    make_receipt(recipient, week=1, amount="100.00")
    make_receipt(recipient, week=2, amount="75.00", payer=organizer)
    response = client.get(url(recipient_link))
    assert [str(r.amount) for r in response.context["receipts"]] == ["75.00", "100.00"]
    assert "$100.00" in response.text
    assert "Cash App" in response.text
    assert "from Dana" in response.text
    assert "from Olive" in response.text


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


def test_voided_receipts_and_other_recipients_receipts_are_not_shown(
    client, recipient, recipient_link, enrollment, make_receipt, make_recipient, organizer
):
    make_receipt(recipient, amount="60.00").void(by=organizer, reason="Wrong amount")
    make_receipt(make_recipient("Ana"), amount="90.00")
    response = client.get(url(recipient_link))
    assert response.context["receipts"] == []
    assert "$60.00" not in response.text
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
