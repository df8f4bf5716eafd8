"""Who gets into the organizers' admin, and what each of them may do there."""

import pytest
from django.urls import reverse

from pods.models import Membership, Pod

pytestmark = pytest.mark.django_db


def test_signed_out_visitor_is_sent_to_sign_in(client, pod):
    response = client.get(reverse("admin:pods_cycle_changelist"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_sign_in_page_points_organizers_to_the_emailed_code(client):
    response = client.get(reverse("admin:login") + "?next=/admin/")
    assert response.status_code == 200
    assert reverse("account_login") + "?next=/admin/" in response.text


def test_donor_cannot_enter(client, donor, cycle):
    client.force_login(donor)
    for name in ["admin:index", "admin:pods_cycle_changelist", "admin:receipts_receipt_changelist"]:
        response = client.get(reverse(name))
        assert response.status_code == 302, name
        assert response.url.startswith(reverse("admin:login"))
    page = client.get(reverse("admin:login"))
    assert "not authorized" in page.text
    assert "Maple Street" not in page.text


def test_donor_cannot_open_a_row_by_id(client, donor, cycle):
    client.force_login(donor)
    response = client.get(reverse("admin:pods_cycle_change", args=[cycle.pk]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_former_organizer_cannot_enter(client, organizer, pod):
    Membership.objects.filter(user=organizer).update(active=False)
    client.force_login(organizer)
    assert client.get(reverse("admin:index")).status_code == 302


def test_organizer_enters_and_sees_their_models_but_not_people(client, organizer, pod):
    client.force_login(organizer)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert reverse("admin:pods_cycle_changelist") in response.text
    assert reverse("admin:receipts_receipt_changelist") in response.text
    assert reverse("admin:users_user_changelist") not in response.text
    assert reverse("admin:auth_group_changelist") not in response.text


def test_pages_have_no_sidebar_and_read_no_list_of_apps_but_the_index_has_it(
    client, organizer, cycle
):
    # Each page's list of every app (and its permission checks) was for the sidebar
    # only; the index, one tap away, lists them.
    client.force_login(organizer)
    page = client.get(reverse("admin:pods_cycle_change", args=[cycle.pk]))
    assert page.status_code == 200
    assert 'id="nav-sidebar"' not in page.text
    assert reverse("admin:receipts_receipt_changelist") not in page.text
    assert reverse("admin:index") in page.text
    index = client.get(reverse("admin:index"))
    assert [app["app_label"] for app in index.context["app_list"]] == [
        "pledges",
        "pods",
        "receipts",
        "recipients",
    ]


def test_organizer_cannot_list_or_open_people(client, organizer, donor, pod):
    client.force_login(organizer)
    assert client.get(reverse("admin:users_user_changelist")).status_code == 403
    # A link to a member of their pod leads to the membership, not to the account.
    response = client.get(reverse("admin:users_user_change", args=[donor.pk]))
    assert response.status_code == 302
    assert response.url == reverse(
        "admin:pods_membership_change", args=[Membership.objects.get(pod=pod, user=donor).pk]
    )


def test_organizer_cannot_create_pods(client, organizer):
    client.force_login(organizer)
    assert client.get(reverse("admin:pods_pod_add")).status_code == 403
    response = client.post(reverse("admin:pods_pod_add"), {"name": "Mine", "slug": "mine"})
    assert response.status_code == 403
    assert not Pod.objects.filter(slug="mine").exists()


def test_organizer_changes_pod_settings_but_not_its_slug(client, organizer, pod):
    client.force_login(organizer)
    response = client.post(
        reverse("admin:pods_pod_change", args=[pod.pk]),
        {
            "name": "Maple Street Mutual Aid",
            "slug": "renamed",
            "currency": "USD",
            "time_zone": "America/Chicago",
            "payday": 4,
            "default_weeks": 10,
            "default_weekly_amount": "150.00",
            "default_slots": 5,
            "language": "es",
        },
    )
    assert response.status_code == 302
    pod.refresh_from_db()
    assert pod.name == "Maple Street Mutual Aid"
    assert pod.language == "es"
    assert pod.time_zone == "America/Chicago"
    assert pod.slug == "maple"


def test_organizer_cannot_delete_their_pod(client, organizer, pod):
    client.force_login(organizer)
    response = client.post(reverse("admin:pods_pod_delete", args=[pod.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert Pod.objects.filter(pk=pod.pk).exists()


def test_site_admin_creates_a_pod_and_sees_people(client, make_user, donor):
    client.force_login(make_user("root@example.org", is_staff=True, is_superuser=True))
    response = client.post(
        reverse("admin:pods_pod_add"),
        {
            "name": "Oak Pod",
            "slug": "oak",
            "currency": "USD",
            "time_zone": "America/New_York",
            "payday": 4,
            "default_weeks": 15,
            "default_weekly_amount": "175.00",
            "default_slots": 11,
            "language": "ar",
        },
    )
    assert response.status_code == 302
    assert Pod.objects.get(slug="oak").language == "ar"
    people = client.get(reverse("admin:users_user_changelist"))
    assert donor in people.context["cl"].result_list


def test_staff_without_permissions_sees_nothing(client, make_user, pod):
    client.force_login(make_user("staff@example.org", is_staff=True))
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(reverse("admin:pods_pod_changelist")).status_code == 403
