"""The admin for volunteers, through its real pages: a receipt's times on its pod's clock
(in the list and on the page), and its links to people leading where the organizer may
go (the payer's membership of the pod), never to a 403."""

import datetime
import re
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import formats, timezone

from pods.models import Membership
from receipts.models import Receipt

pytestmark = pytest.mark.django_db

# 13:05 UTC is 22:05 in Tokyo, the same day.
POSTED = datetime.datetime(2026, 3, 2, 13, 5, tzinfo=datetime.UTC)


@pytest.fixture
def tokyo_receipt(pod, add_receipt):
    pod.time_zone = "Asia/Tokyo"
    pod.save()
    receipt = add_receipt()
    Receipt.objects.filter(pk=receipt.pk).update(posted_at=POSTED)
    return receipt


def on_the_pods_clock(value):
    return formats.localize(timezone.localtime(value, zoneinfo.ZoneInfo("Asia/Tokyo")))


def test_the_list_and_the_page_show_the_pods_time(client, organizer, tokyo_receipt):
    client.force_login(organizer)
    shown = on_the_pods_clock(POSTED)
    assert "10:05" in shown or "22:05" in shown

    listing = client.get(reverse("admin:receipts_receipt_changelist")).content.decode()
    assert shown in listing
    assert formats.localize(POSTED) not in listing

    page = client.get(reverse("admin:receipts_receipt_change", args=[tokyo_receipt.pk]))
    assert page.status_code == 200
    assert shown in page.content.decode()
    assert "Dates and times on this page are on the pod's clock: Asia/Tokyo." in page.text


def test_a_time_typed_in_the_admin_is_read_on_the_pods_clock(client, pod, organizer):
    from pods.models import Alert

    pod.time_zone = "Asia/Tokyo"
    pod.save()
    alert = Alert.objects.create(pod=pod, message="Scam texts going around.")
    client.force_login(organizer)
    tomorrow = (timezone.now() + datetime.timedelta(days=1)).astimezone(
        zoneinfo.ZoneInfo("Asia/Tokyo")
    )
    response = client.post(
        reverse("admin:pods_alert_change", args=[alert.pk]),
        {
            "message": "Scam texts going around.",
            "expires_at_0": tomorrow.date().isoformat(),
            "expires_at_1": "18:30:00",
            "taken_down_at_0": "",
            "taken_down_at_1": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    alert.refresh_from_db()
    assert alert.expires_at == datetime.datetime.combine(
        tomorrow.date(), datetime.time(18, 30), tzinfo=zoneinfo.ZoneInfo("Asia/Tokyo")
    )


def test_the_pod_clock_stays_with_the_page(client, organizer, tokyo_receipt):
    # The time zone is the page's, not the thread's: the next request is on UTC again.
    client.force_login(organizer)
    client.get(reverse("admin:receipts_receipt_change", args=[tokyo_receipt.pk]))
    assert timezone.get_current_timezone_name() == "UTC"


def payer_link(page):
    """The href of the payer's link on a receipt's admin page."""
    match = re.search(
        r'<div class="[^"]*field-payer[^"]*">.*?<a href="([^"]+)">', page, flags=re.DOTALL
    )
    assert match, "no payer link on the page"
    return match.group(1)


def test_the_payer_link_leads_the_organizer_to_the_payers_membership(
    client, pod, organizer, donor, tokyo_receipt
):
    client.force_login(organizer)
    page = client.get(reverse("admin:receipts_receipt_change", args=[tokyo_receipt.pk]))
    link = payer_link(page.content.decode())

    response = client.get(link, follow=True)

    assert response.status_code == 200
    membership = Membership.objects.get(pod=pod, user=donor)
    assert response.redirect_chain[-1][0] == reverse(
        "admin:pods_membership_change", args=[membership.pk]
    )
    assert "Dana · Maple Street Pod (donor)" in response.content.decode()


def test_a_person_in_two_of_the_organizers_pods_leads_to_both_memberships(
    client, pod, other_pod, organizer, donor, tokyo_receipt
):
    Membership.objects.create(pod=other_pod, user=organizer, role="organizer")
    Membership.objects.create(pod=other_pod, user=donor)
    client.force_login(organizer)
    page = client.get(reverse("admin:receipts_receipt_change", args=[tokyo_receipt.pk]))
    response = client.get(payer_link(page.content.decode()), follow=True)
    assert response.status_code == 200
    assert response.context["cl"].result_count == 2


def test_another_pods_organizer_cannot_reach_a_person_through_the_link(
    client, outsider, donor, tokyo_receipt
):
    client.force_login(outsider)
    assert (
        client.get(reverse("admin:receipts_receipt_change", args=[tokyo_receipt.pk])).status_code
        == 302
    )
    response = client.get(reverse("admin:users_user_change", args=[donor.pk]))
    assert response.status_code == 403


def test_a_donor_and_a_signed_out_visitor_are_sent_to_sign_in(client, donor, tokyo_receipt):
    url = reverse("admin:users_user_change", args=[donor.pk])
    assert client.get(url).status_code == 302
    client.force_login(donor)
    response = client.get(url)
    assert response.status_code == 302
    assert reverse("admin:login") in response.url


def test_a_site_admin_still_gets_the_persons_page(client, make_user, donor):
    client.force_login(make_user("root@example.org", is_staff=True, is_superuser=True))
    response = client.get(reverse("admin:users_user_change", args=[donor.pk]))
    assert response.status_code == 200
    assert "dana@example.org" in response.content.decode()


def test_each_row_of_the_list_is_on_its_own_pods_clock(
    client, pod, other_pod, organizer, tokyo_receipt, make_user
):
    from pods.models import Alert

    Membership.objects.create(pod=other_pod, user=organizer, role="organizer")
    other_pod.time_zone = "America/Los_Angeles"
    other_pod.save()
    tokyo = Alert.objects.create(pod=pod, message="Tokyo alert")
    pacific = Alert.objects.create(pod=other_pod, message="Pacific alert")
    Alert.objects.filter(pk__in=[tokyo.pk, pacific.pk]).update(created_at=POSTED)
    client.force_login(organizer)

    listing = client.get(reverse("admin:pods_alert_changelist")).text

    assert on_the_pods_clock(POSTED) in listing
    pacific_time = formats.localize(
        timezone.localtime(POSTED, zoneinfo.ZoneInfo("America/Los_Angeles"))
    )
    assert pacific_time in listing
    assert pacific_time != on_the_pods_clock(POSTED)


def test_the_lists_query_count_does_not_grow_with_its_rows(
    client, pod, organizer, add_receipt, django_assert_max_num_queries
):
    client.force_login(organizer)
    url = reverse("admin:receipts_receipt_changelist")
    add_receipt()
    client.get(url)
    with django_assert_max_num_queries(30) as few:
        client.get(url)
    for week in range(2, 8):
        add_receipt(week=week)
    with django_assert_max_num_queries(30) as many:
        client.get(url)
    assert len(many.captured_queries) == len(few.captured_queries)


def test_a_time_typed_on_an_add_page_is_read_on_the_pods_clock(client, pod, organizer):
    from pods.models import Invitation

    pod.time_zone = "Asia/Tokyo"
    pod.save()
    client.force_login(organizer)
    tokyo = zoneinfo.ZoneInfo("Asia/Tokyo")
    day = (timezone.now() + datetime.timedelta(days=3)).astimezone(tokyo).date()
    page = client.get(reverse("admin:pods_invitation_add"))
    assert "on the pod's clock: Asia/Tokyo" in page.text

    response = client.post(
        reverse("admin:pods_invitation_add"),
        {
            "pod": pod.pk,
            "role": "donor",
            "expires_at_0": day.isoformat(),
            "expires_at_1": "09:00:00",
            "max_uses": 1,
        },
    )

    assert response.status_code == 302
    assert Invitation.objects.get().expires_at == datetime.datetime.combine(
        day, datetime.time(9), tzinfo=tokyo
    )
