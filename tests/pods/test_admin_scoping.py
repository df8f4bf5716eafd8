"""An organizer of one pod gets nothing of another pod from the admin: not in lists,
change pages, form choices, searches, list filters or autocompletes."""

import datetime
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.admin import RelatedFieldListFilter
from django.urls import reverse
from django.utils import timezone

from pledges.models import Assignment, Pledge
from pods.models import Alert, Cycle, Invitation, Membership
from receipts.models import Receipt
from recipients.models import Enrollment, Recipient, Referral
from recipients.services import enroll

pytestmark = pytest.mark.django_db

# Every name in the other pod carries this marker, so a page that shows any of it fails.
SECRET = "Zephyrine"


def fill_pod(pod, organizer, donor, name):
    """One of everything in `pod`, named after `name`."""
    cycle = Cycle.objects.create(
        pod=pod,
        number=1,
        starts_on=pod.today() - datetime.timedelta(days=14),
        slots=3,
    )
    recipient = Recipient.objects.create(pod=pod, display_name=name, payment_handle=f"${name}")
    enrollment = enroll(recipient=recipient, cycle=cycle)
    referral = Referral.objects.create(pod=pod, display_name=f"{name} cousin", referred_by=donor)
    pledge = Pledge.objects.create(cycle=cycle, donor=donor, amount=Decimal("50.00"), last_week=15)
    assignment = Assignment.objects.create(
        cycle=cycle, week=1, payer=donor, recipient=recipient, amount=Decimal("50.00")
    )
    receipt = Receipt.objects.create(
        pod=pod,
        cycle=cycle,
        week=1,
        recipient=recipient,
        payer=donor,
        amount=Decimal("50.00"),
        method="cashapp",
        sent_on=cycle.starts_on,
        reference=f"{name} ref",
        posted_by=donor,
    )
    invitation = Invitation(pod=pod, expires_at=timezone.now() + datetime.timedelta(days=3))
    invitation.new_token()
    invitation.save()
    alert = Alert.objects.create(pod=pod, message=f"{name} scam going around")
    return {
        "pods.pod": pod,
        "pods.membership": Membership.objects.get(pod=pod, user=organizer),
        "pods.invitation": invitation,
        "pods.cycle": cycle,
        "pods.alert": alert,
        "recipients.recipient": recipient,
        "recipients.enrollment": enrollment,
        "recipients.referral": referral,
        "pledges.pledge": pledge,
        "pledges.assignment": assignment,
        "receipts.receipt": receipt,
    }


MODELS = [
    "pods.pod",
    "pods.membership",
    "pods.invitation",
    "pods.cycle",
    "pods.alert",
    "recipients.recipient",
    "recipients.enrollment",
    "recipients.referral",
    "pledges.pledge",
    "pledges.assignment",
    "receipts.receipt",
]

# Models an organizer may add, and the fields of the add form that point elsewhere.
ADD_FORMS = {
    "pods.invitation": ["pod"],
    "pods.cycle": ["pod"],
    "pods.alert": ["pod"],
    "recipients.recipient": ["pod"],
    "recipients.enrollment": ["cycle", "recipient"],
    "recipients.referral": ["pod", "recipient"],
    "pledges.assignment": ["cycle", "payer", "recipient"],
}

SEARCHABLE = {
    "recipients.recipient": SECRET,
    "recipients.enrollment": SECRET,
    "recipients.referral": SECRET,
    "receipts.receipt": SECRET,
    "pods.alert": SECRET,
    "pods.membership": "otto",
    "pods.invitation": "Elm",
    "pledges.pledge": "bob",
    "pledges.assignment": SECRET,
    "pods.pod": "Elm",
    "pods.cycle": "Elm",
}


POD_PATH = {
    "pods.pod": "pk",
    "recipients.enrollment": "cycle__pod",
    "pledges.pledge": "cycle__pod",
    "pledges.assignment": "cycle__pod",
}


def rows_of(model, pod):
    """Every row of `model` in `pod`."""
    return set(apps.get_model(model).objects.filter(**{POD_PATH.get(model, "pod"): pod.pk}))


def url(model, view, *args):
    app, name = model.split(".")
    return reverse(f"admin:{app}_{name}_{view}", args=args)


@pytest.fixture
def mine(pod, organizer, donor):
    return fill_pod(pod, organizer, donor, "Rosa")


@pytest.fixture
def theirs(other_pod, outsider, make_user):
    bob = make_user("bob@example.org", display_name="Bob")
    Membership.objects.create(pod=other_pod, user=bob)
    return fill_pod(other_pod, outsider, bob, SECRET)


@pytest.fixture
def organizer_client(client, organizer, mine, theirs):
    client.force_login(organizer)
    return client


@pytest.mark.parametrize("model", MODELS)
def test_changelist_shows_only_own_pods_rows(organizer_client, mine, theirs, model):
    response = organizer_client.get(url(model, "changelist"))
    assert response.status_code == 200
    assert set(response.context["cl"].result_list) == rows_of(model, mine["pods.pod"])
    assert SECRET not in response.text
    assert "Elm Street" not in response.text


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("view", ["change", "history"])
def test_other_pods_row_by_id_is_not_found(organizer_client, theirs, model, view):
    response = organizer_client.get(url(model, view, theirs[model].pk), follow=True)
    assert response.redirect_chain[-1][0] == reverse("admin:index")
    assert "doesn’t exist" in response.text
    assert SECRET not in response.text
    assert "Elm Street" not in response.text


@pytest.mark.parametrize("model", MODELS)
def test_other_pods_row_cannot_be_deleted(organizer_client, theirs, model):
    # Refused outright where organizers may not delete at all, "not found" elsewhere.
    page = organizer_client.get(url(model, "delete", theirs[model].pk), follow=True)
    assert page.status_code in (200, 403)
    assert SECRET not in page.text
    assert "Elm Street" not in page.text
    response = organizer_client.post(url(model, "delete", theirs[model].pk), {"post": "yes"})
    assert response.status_code in (302, 403)
    assert type(theirs[model]).objects.filter(pk=theirs[model].pk).exists()


@pytest.mark.parametrize("model", MODELS)
def test_own_pods_row_opens(organizer_client, mine, model):
    response = organizer_client.get(url(model, "change", mine[model].pk))
    assert response.status_code == 200
    assert SECRET not in response.text


@pytest.mark.parametrize("model", ADD_FORMS)
def test_add_form_offers_only_own_pods_choices(organizer_client, mine, theirs, model):
    response = organizer_client.get(url(model, "add"))
    assert response.status_code == 200
    form = response.context["adminform"].form
    for name in ADD_FORMS[model]:
        choices = set(form.fields[name].queryset)
        assert choices, name
        for other in theirs.values():
            assert other not in choices, name
    assert SECRET not in response.text
    assert "Elm Street" not in response.text
    assert "bob@example.org" not in response.text


@pytest.mark.parametrize("model", SEARCHABLE)
def test_search_finds_nothing_of_other_pod(organizer_client, client, theirs, model, make_user):
    response = organizer_client.get(url(model, "changelist"), {"q": SEARCHABLE[model]})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []

    # The same search finds it for someone who can see it.
    client.force_login(make_user("root@example.org", is_staff=True, is_superuser=True))
    response = client.get(url(model, "changelist"), {"q": SEARCHABLE[model]})
    assert theirs[model] in response.context["cl"].result_list


@pytest.mark.parametrize("model", MODELS)
def test_list_filters_offer_nothing_of_other_pod(organizer_client, theirs, model):
    response = organizer_client.get(url(model, "changelist"))
    for spec in response.context["cl"].filter_specs:
        labels = " ".join(str(choice["display"]) for choice in spec.choices(response.context["cl"]))
        assert SECRET not in labels
        assert "Elm Street" not in labels
        if isinstance(spec, RelatedFieldListFilter):
            offered = {value for value, _label in spec.lookup_choices}
            assert theirs[spec.field.related_model._meta.label_lower].pk not in offered


def test_related_list_filter_offers_only_own_pods_cycles(organizer_client, mine, pod, donor):
    # Cycle 2 follows cycle 1: cycles of a pod never overlap.
    second = Cycle.objects.create(
        pod=pod,
        number=2,
        starts_on=mine["pods.cycle"].ends_on + datetime.timedelta(days=1),
        slots=3,
    )
    Pledge.objects.create(cycle=second, donor=donor, amount=Decimal("5.00"), last_week=15)
    response = organizer_client.get(url("pledges.pledge", "changelist"))
    (spec,) = [s for s in response.context["cl"].filter_specs if s.field_path == "cycle"]
    assert {pk for pk, _label in spec.lookup_choices} == {mine["pods.cycle"].pk, second.pk}


def test_filtering_by_other_pods_id_shows_nothing_of_it(organizer_client, theirs):
    response = organizer_client.get(
        url("receipts.receipt", "changelist"), {"cycle__id__exact": theirs["pods.cycle"].pk}
    )
    assert theirs["receipts.receipt"] not in response.context["cl"].result_list
    assert SECRET not in response.text


def test_autocomplete_offers_only_own_pods_recipients(organizer_client, mine, theirs):
    response = organizer_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "recipients", "model_name": "enrollment", "field_name": "recipient"},
    )
    assert response.status_code == 200
    ids = [row["id"] for row in response.json()["results"]]
    assert ids == [str(mine["recipients.recipient"].pk)]


def test_autocomplete_of_people_is_refused_to_organizers(organizer_client):
    response = organizer_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "pods", "model_name": "membership", "field_name": "user"},
    )
    assert response.status_code == 403


def test_forged_post_with_other_pods_cycle_is_rejected(organizer_client, mine, theirs):
    before = Enrollment.objects.count()
    response = organizer_client.post(
        url("recipients.enrollment", "add"),
        {
            "cycle": theirs["pods.cycle"].pk,
            "recipient": mine["recipients.recipient"].pk,
            "slot": 2,
            "first_week": 1,
            "last_week": 15,
            "status": "active",
        },
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.text
    assert Enrollment.objects.count() == before


def test_forged_post_with_other_pods_id_creates_nothing_there(organizer_client, theirs):
    response = organizer_client.post(
        url("recipients.recipient", "add"),
        {"pod": theirs["pods.pod"].pk, "display_name": "Mallory", "payment_method": "cashapp"},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.text
    assert not Recipient.objects.filter(display_name="Mallory").exists()


def test_forged_post_changing_other_pods_row_changes_nothing(organizer_client, theirs):
    recipient = theirs["recipients.recipient"]
    response = organizer_client.post(
        url("recipients.recipient", "change", recipient.pk),
        {"display_name": "Hijacked", "payment_method": "cashapp", "payment_handle": "$me"},
    )
    assert response.status_code == 302
    recipient.refresh_from_db()
    assert recipient.display_name == SECRET
    assert recipient.payment_handle == f"${SECRET}"


def test_actions_on_other_pods_rows_touch_nothing(organizer_client, theirs):
    invitation = theirs["pods.invitation"]
    organizer_client.post(
        url("pods.invitation", "changelist"),
        {"action": "revoke", "_selected_action": [invitation.pk], "index": 0},
    )
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


def test_mixing_two_of_ones_own_pods_is_rejected(organizer_client, mine, theirs, organizer):
    # The organizer now organizes both pods, so both are offered; a row still cannot
    # link one pod's cycle to the other's recipient.
    Membership.objects.create(pod=theirs["pods.pod"], user=organizer, role="organizer")
    response = organizer_client.post(
        url("pledges.assignment", "add"),
        {
            "cycle": mine["pods.cycle"].pk,
            "week": 2,
            "payer": mine["pledges.pledge"].donor_id,
            "recipient": theirs["recipients.recipient"].pk,
            "amount": "10.00",
        },
    )
    assert response.status_code == 200
    assert "These belong to different pods." in response.text
    assert Assignment.objects.count() == 2


def test_superuser_sees_every_pod(client, make_user, mine, theirs):
    client.force_login(make_user("root@example.org", is_staff=True, is_superuser=True))
    for model in MODELS:
        response = client.get(url(model, "changelist"))
        assert set(response.context["cl"].result_list) == rows_of(
            model, mine["pods.pod"]
        ) | rows_of(model, theirs["pods.pod"])
        assert client.get(url(model, "change", theirs[model].pk)).status_code == 200
