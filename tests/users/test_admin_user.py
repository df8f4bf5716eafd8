"""People in the admin: for site admins only."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_organizer_cannot_see_people(client, organizer, donor):
    client.force_login(organizer)
    assert client.get(reverse("admin:users_user_changelist")).status_code == 403
    assert client.get(reverse("admin:users_user_add")).status_code == 403
    response = client.post(
        reverse("admin:users_user_change", args=[donor.pk]),
        {"email": "dana@example.org", "display_name": "Hacked", "is_active": "on"},
    )
    assert response.status_code == 403
    donor.refresh_from_db()
    assert donor.display_name == "Dana"


def test_site_admin_adds_a_person_without_a_password(client, make_user):
    client.force_login(make_user("root@example.org", is_staff=True, is_superuser=True))
    response = client.post(
        reverse("admin:users_user_add"),
        {"email": "New.Person@Example.org", "display_name": "New", "is_active": "on"},
    )
    assert response.status_code == 302
    person = get_user_model().objects.get(display_name="New")
    assert person.email == "new.person@example.org"
    assert not person.has_usable_password()


def test_same_address_in_other_case_is_refused(client, make_user, donor):
    client.force_login(make_user("root@example.org", is_staff=True, is_superuser=True))
    response = client.post(
        reverse("admin:users_user_add"), {"email": "DANA@example.org", "is_active": "on"}
    )
    assert response.status_code == 200
    assert "already exists" in response.text
    assert get_user_model().objects.filter(email__iexact="dana@example.org").count() == 1


def test_staff_who_is_not_superuser_cannot_make_superusers(client, make_user, donor):
    from django.contrib.auth.models import Permission

    staff = make_user("staff@example.org", is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_user", "change_user"])
    )
    client.force_login(staff)
    client.post(
        reverse("admin:users_user_change", args=[donor.pk]),
        {
            "email": "dana@example.org",
            "display_name": "Dana",
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
        },
    )
    donor.refresh_from_db()
    assert not donor.is_staff
    assert not donor.is_superuser
