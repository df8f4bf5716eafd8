"""An admin action posted with ids that are not ids (a forged or damaged form: empty,
words, exponents, too large for the column) answers as Django does when nothing is
selected, never with a 500, for every model page and every action, organizers' and site
admins' alike; real ids among them still act."""

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.pods.test_invitations import make_invitation

pytestmark = pytest.mark.django_db

NOT_IDS = ["", "abc", "1e9", "9" * 30, "-1", "0", "1.5", "\x00"]


def actions_of_every_page():
    for model, model_admin in admin.site._registry.items():
        for name in model_admin.actions or []:
            action = name if isinstance(name, str) else name.__name__
            yield model, action
        yield model, "delete_selected"


@pytest.mark.parametrize(
    ("model", "action"),
    sorted(actions_of_every_page(), key=lambda pair: (pair[0]._meta.label, pair[1])),
    ids=lambda value: value if isinstance(value, str) else value._meta.label,
)
@pytest.mark.parametrize("who", ["organizer", "admin_user"])
def test_ids_that_are_not_ids_change_nothing_and_give_no_500(
    client, request, pod, cycle, model, action, who
):
    client.force_login(request.getfixturevalue(who))
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    before = model.objects.count()
    for value in NOT_IDS:
        response = client.post(url, {"action": action, "_selected_action": [value]})
        assert response.status_code in (200, 302, 403), (value, response.status_code)
    assert model.objects.count() == before


def test_real_ids_beside_them_still_act(client, organizer, pod):
    invitation = make_invitation(pod, created_by=organizer)
    client.force_login(organizer)
    response = client.post(
        reverse("admin:pods_invitation_changelist"),
        {"action": "revoke", "_selected_action": ["abc", str(invitation.pk), "9" * 30]},
    )
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None


@pytest.mark.parametrize("value", ["\u00b2", "\u0661", "9" * 30, "-3", "abc"])
def test_a_pod_that_is_not_an_id_on_an_add_page_is_no_500(client, organizer, pod, value):
    client.force_login(organizer)
    for model in ["pods_alert", "pods_cycle", "recipients_recipient"]:
        response = client.get(reverse(f"admin:{model}_add"), {"pod": value})
        assert response.status_code == 200, (model, value)


@pytest.mark.parametrize("value", ["%C2%B2", "%D9%A1", "9" * 30])
def test_a_person_that_is_not_an_id_is_refused_not_a_500(client, organizer, value):
    client.force_login(organizer)
    assert client.get(f"/admin/users/user/{value}/change/").status_code in (403, 404)
