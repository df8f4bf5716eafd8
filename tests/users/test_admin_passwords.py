"""No password screens in the admin for people who sign in by an emailed code: no link to
one in the header, and the page itself sends them back; the person admin has none."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_an_organizer_without_a_password_is_offered_no_password_change(client, organizer):
    assert not organizer.has_usable_password()
    client.force_login(organizer)

    index = client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:password_change") not in index
    assert "Change password" not in index

    response = client.get(reverse("admin:password_change"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("admin:index")
    assert "there is no password to change" in response.content.decode()
    assert "old_password" not in response.content.decode()
    response = client.post(
        reverse("admin:password_change"),
        {
            "old_password": "",
            "new_password1": "x-Long-enough-1",
            "new_password2": "x-Long-enough-1",
        },
    )
    assert response.status_code == 302
    organizer.refresh_from_db()
    assert not organizer.has_usable_password()
    assert client.get(reverse("admin:password_change_done")).status_code == 302


def test_someone_with_a_password_keeps_the_screen(client, make_user):
    admin = make_user("root@example.org", password="a-Long-password-1", is_staff=True)
    client.force_login(admin)
    assert reverse("admin:password_change") in client.get(reverse("admin:index")).text
    assert "old_password" in client.get(reverse("admin:password_change")).text


def test_the_person_admin_shows_no_password_field_or_link(client, make_user, donor):
    client.force_login(make_user("root@example.org", is_staff=True, is_superuser=True))
    page = client.get(reverse("admin:users_user_change", args=[donor.pk])).text
    assert "password" not in page.lower().replace("password_change", "")
    assert client.get(f"/admin/users/user/{donor.pk}/password/").status_code in (302, 404)


def test_signed_out_visitor_is_sent_to_sign_in(client):
    response = client.get(reverse("admin:password_change"))
    assert response.status_code == 302
    assert reverse("admin:login") in response.url
