"""Every amount typed into the app or the admin goes through one field, MoneyField: it
refuses NaN, infinity, exponents, more than two places and amounts over its maximum
with a clear message, before any Decimal arithmetic (has_changed too). `sNaN` in the
weekly plan form, `1e1000000` or a million digits used to be 500s."""

import time
import uuid
from decimal import Decimal

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation

from mutualaid.money import MONEY_MAX, MoneyField
from pledges import services
from pledges.models import Assignment, Pledge
from pods.models import Cycle, Pod
from receipts.models import Receipt

pytestmark = pytest.mark.django_db

INVALID = "Enter an amount of money, such as 175 or 87.50."
PLACES = "Use at most two decimal places, such as 87.50."
ZERO = "The amount must be more than zero."
OVER_MAX = "That is more than 99,999,999.99. Please check the amount."
MILLION_DIGITS = "9" * 1_000_000

CRAFTED = [
    ("sNaN", INVALID),
    ("NaN", INVALID),
    ("-sNaN", INVALID),
    ("Infinity", INVALID),
    ("-inf", INVALID),
    ("1e3", INVALID),
    ("1E+2", INVALID),
    ("1e1000000", INVALID),
    ("1_000", INVALID),
    ("0x10", INVALID),
    ("12 34", INVALID),
    (".", INVALID),
    ("-", INVALID),
    ("12.345", PLACES),
    ("1." + "0" * 1_000_000, PLACES),
    ("100000000", OVER_MAX),
    ("99999999.999", PLACES),
    (MILLION_DIGITS, OVER_MAX),
    ("0", ZERO),
    ("0.00", ZERO),
    ("-5", ZERO),
]


def messages_of(error):
    return " ".join(error.messages)


@pytest.mark.parametrize(("text", "message"), CRAFTED, ids=lambda v: str(v)[:20])
def test_crafted_amounts_are_refused_with_a_clear_message(text, message):
    field = MoneyField()
    started = time.perf_counter()
    with pytest.raises(ValidationError) as refused:
        field.clean(text)
    assert messages_of(refused.value) == message
    # Before any Decimal arithmetic: has_changed compares nothing it cannot.
    assert field.has_changed(Decimal("175.00"), text) is True
    assert time.perf_counter() - started < 1


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("175", "175.00"),
        ("175.5", "175.50"),
        (" 87.50 ", "87.50"),
        (".5", "0.50"),
        ("0.01", "0.01"),
        ("+12", "12.00"),
        ("0099999999.99", "99999999.99"),
        # Arabic-Indic digits, as an Arabic keyboard types them, are fine: 175.50.
        ("١٧٥", "175.00"),
        ("١٧٥.٥٠", "175.50"),
        ("١٧٥٫٥٠", "175.50"),
        # Eastern Arabic-Indic (Persian, Urdu keyboards).
        ("۱۷۵", "175.00"),
    ],
)
def test_amounts_people_type_are_read(text, amount):
    field = MoneyField()
    assert field.clean(text) == Decimal(amount)
    assert str(field.clean(text)) == amount
    assert field.has_changed(Decimal(amount), text) is False


@pytest.mark.parametrize(
    ("language", "text", "amount"),
    [
        ("en", "1,970.50", "1970.50"),
        ("en", "1,970,000", "1970000.00"),
        ("en", "87.5", "87.50"),
        # Spanish writes decimals with a comma and groups with a point (CLDR).
        ("es", "12,50", "12.50"),
        ("es", "1.970,50", "1970.50"),
        ("es", "1.970.000", "1970000.00"),
        ("es", "1 970", "1970.00"),
        # Arabic (CLDR): a point or the Arabic decimal separator, a comma or the Arabic
        # thousands separator, in Latin or Arabic-Indic digits.
        ("ar", "١٧٥٫٥٠", "175.50"),
        ("ar", "175.50", "175.50"),
        ("ar", "١٬٩٧٠٫٠٠", "1970.00"),
        ("ar", "١٬٩٧٠", "1970.00"),
        # Copied from an Arabic page, right-to-left mark and all.
        ("ar", "\u200f1,970.00", "1970.00"),
        ("ar", "\u2067\u200f1,970.00\u200e\u2069", "1970.00"),
    ],
)
def test_amounts_are_read_the_readers_way(language, text, amount):
    with translation.override(language):
        assert MoneyField().clean(text) == Decimal(amount)


@pytest.mark.parametrize(
    ("language", "text", "message"),
    [
        # One point or comma with three digits after it: 1970 to some, 1.97 to others.
        ("es", "1.970", "Write 1970, or 1.970,00 with the cents"),
        ("en", "1,970", "Write 1970, or 1,970.00 with the cents"),
        ("ar", "1,970", "Write 1970, or 1,970.00 with the cents"),
        ("es", "12.345", "Write 12345, or 12.345,00 with the cents"),
    ],
)
def test_an_amount_that_reads_two_ways_is_refused(language, text, message):
    with translation.override(language), pytest.raises(ValidationError) as refused:
        MoneyField().clean(text)
    assert refused.value.code == "ambiguous"
    assert message in messages_of(refused.value)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        # A point where Spanish groups: not a decimal point, and not a group of three.
        ("es", "17.50"),
        ("es", "1.970.5"),
        # A comma where Arabic (CLDR) groups.
        ("ar", "١٧٥,٥٠"),
        ("en", "17,50"),
        # Two kinds of grouping, a group of four, a decimal mark twice.
        ("en", "1,970 000"),
        ("en", "19,70,000"),
        ("es", "1,5,0"),
    ],
)
def test_marks_in_the_wrong_places_are_refused(language, text):
    with translation.override(language), pytest.raises(ValidationError) as refused:
        MoneyField().clean(text)
    assert refused.value.code == "invalid"


@pytest.mark.parametrize(
    ("language", "shown"), [("en", "175.50"), ("es", "175,50"), ("ar", "175.50")]
)
def test_an_amount_in_the_field_is_written_as_the_field_reads_it(language, shown):
    field = MoneyField()
    with translation.override(language):
        assert field.prepare_value(Decimal("175.5")) == shown
        assert field.clean(shown) == Decimal("175.50")
        assert field.has_changed(Decimal("175.50"), shown) is False


def test_the_maximum_is_stated_the_readers_way_and_can_be_lowered():
    field = MoneyField(max_value=Decimal("10000.00"))
    with pytest.raises(ValidationError) as refused:
        field.clean("10000.01")
    assert messages_of(refused.value) == "That is more than 10,000.00. Please check the amount."
    # Never above what the database holds.
    assert MoneyField(max_value=Decimal("1e12")).max_value == MONEY_MAX


def test_a_required_amount_left_empty_says_so():
    with pytest.raises(ValidationError) as refused:
        MoneyField().clean("")
    assert refused.value.code == "required"
    assert MoneyField(required=False).clean("") is None


def test_a_decimal_given_by_the_code_is_checked_too():
    field = MoneyField()
    assert field.clean(Decimal("25")) == Decimal("25.00")
    for bad in [Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), Decimal("1E+20")]:
        with pytest.raises(ValidationError):
            field.clean(bad)


def no_new_rows(page):
    """The management form of each inline on an admin page, posting no extra row."""
    data = {}
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        data[management.add_prefix("TOTAL_FORMS")] = management["INITIAL_FORMS"].value()
    return data


# The app's forms


@pytest.fixture
def plan(cycle, donor, organizer, recipient, enrollment):
    """Dana pledges 100.00: she pays Rosa in week 7."""
    Pledge.objects.create(cycle=cycle, donor=donor, amount=Decimal("100.00"), last_week=15)
    return services.week_plan(cycle=cycle, week=7)


@pytest.mark.parametrize("amount", ["sNaN", "1e1000000", MILLION_DIGITS, "NaN", "12.345"])
def test_weekly_plan_form_refuses_crafted_amounts(client, organizer, pod, plan, amount):
    (line,) = plan
    client.force_login(organizer)
    before = set(Assignment.objects.values_list("payer", "recipient", "amount"))

    response = client.post(
        reverse("pods:plan", args=[pod.slug, 7]),
        {
            "recipient": str(line.recipient_id),
            f"r{line.recipient_id}-TOTAL_FORMS": "1",
            f"r{line.recipient_id}-INITIAL_FORMS": "1",
            f"r{line.recipient_id}-0-payer": "Dana",
            f"r{line.recipient_id}-0-amount": amount,
        },
    )

    assert response.status_code == 200
    assert response.context["posted_row"].formset.forms[0].errors["amount"]
    assert set(Assignment.objects.values_list("payer", "recipient", "amount")) == before


@pytest.mark.parametrize("amount", ["sNaN", "1e1000000", MILLION_DIGITS])
def test_an_extra_plan_line_with_a_crafted_amount_is_refused(client, organizer, pod, plan, amount):
    """An extra line is skipped when unchanged: deciding that once compared the amount."""
    (line,) = plan
    client.force_login(organizer)

    response = client.post(
        reverse("pods:plan", args=[pod.slug, 7]),
        {
            "recipient": str(line.recipient_id),
            f"r{line.recipient_id}-TOTAL_FORMS": "2",
            f"r{line.recipient_id}-INITIAL_FORMS": "1",
            f"r{line.recipient_id}-0-payer": "Dana",
            f"r{line.recipient_id}-0-amount": "100.00",
            f"r{line.recipient_id}-1-amount": amount,
        },
    )

    assert response.status_code == 200
    assert response.context["posted_row"].formset.forms[1].errors


@pytest.mark.parametrize("amount", ["sNaN", "1e1000000", MILLION_DIGITS, "Infinity"])
def test_pledge_form_refuses_crafted_amounts(client, donor, pod, cycle, amount):
    client.force_login(donor)

    response = client.post(
        reverse("pods:pledge", args=[pod.slug]), {"action": "set", "starts": 7, "amount": amount}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["amount"]
    assert not Pledge.objects.exists()


def test_a_pledge_typed_in_arabic_indic_digits_is_saved(client, donor, pod, cycle):
    client.force_login(donor)

    response = client.post(
        reverse("pods:pledge", args=[pod.slug]), {"action": "set", "starts": 7, "amount": "٢٥٫٥٠"}
    )

    assert response.status_code == 302
    assert Pledge.objects.get().amount == Decimal("25.50")


@pytest.mark.parametrize("amount", ["sNaN", "1e1000000", MILLION_DIGITS])
def test_receipt_form_refuses_crafted_amounts(
    client, donor, pod, cycle, recipient, enrollment, amount
):
    client.force_login(donor)

    response = client.post(
        reverse("receipts:receipt_create", args=[pod.slug]),
        {
            "recipient": recipient.pk,
            "week": 6,
            "amount": amount,
            "method": "cashapp",
            "sent_on": pod.today().isoformat(),
            "submission_key": str(uuid.uuid4()),
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors["amount"]
    assert not Receipt.objects.exists()


# The admin's forms


def test_every_amount_in_the_admin_goes_through_money_field(site_admin):
    """Every money field of every model in the admin, main forms and inlines alike."""
    request = RequestFactory().get("/admin/")
    request.user = site_admin
    checked = []
    for model, model_admin in admin.site._registry.items():
        if not (
            model_admin.has_add_permission(request) or model_admin.has_change_permission(request)
        ):
            continue  # nothing typed there (receipts are append-only, voided in the app)
        forms = [model_admin.get_form(request)]
        forms += [
            inline.get_formset(request, None).form
            for inline in model_admin.get_inline_instances(request)
        ]
        for form in forms:
            for name, field in form.base_fields.items():
                db_field = next((f for f in form._meta.model._meta.fields if f.name == name), None)
                if isinstance(db_field, models.DecimalField):
                    assert isinstance(field, MoneyField), (model, name)
                    checked.append(f"{form._meta.model.__name__}.{name}")
    assert {"Pod.default_weekly_amount", "Cycle.weekly_amount", "Assignment.amount"} <= set(checked)


@pytest.fixture
def site_admin(make_user):
    return make_user("root@example.org", is_staff=True, is_superuser=True)


@pytest.mark.parametrize("amount", ["sNaN", "1e1000000", MILLION_DIGITS, "NaN", "12.345"])
def test_admin_cycle_form_refuses_crafted_amounts(client, organizer, cycle, amount):
    client.force_login(organizer)
    page = client.get(reverse("admin:pods_cycle_change", args=[cycle.pk]))
    data = {
        "number": cycle.number,
        "starts_on": cycle.starts_on.isoformat(),
        "weeks": cycle.weeks,
        "weekly_amount": amount,
        "slots": cycle.slots,
    }
    data.update(no_new_rows(page))

    response = client.post(reverse("admin:pods_cycle_change", args=[cycle.pk]), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["weekly_amount"]
    cycle.refresh_from_db()
    assert cycle.weekly_amount == Decimal("175.00")


@pytest.mark.parametrize("amount", ["sNaN", "1e1000000", MILLION_DIGITS])
def test_admin_plan_line_refuses_crafted_amounts(client, organizer, donor, cycle, plan, amount):
    """The assignment form asks which fields changed (a newly picked payer must be a
    member), which compared the stored amount with the typed one."""
    (line,) = plan
    client.force_login(organizer)

    response = client.post(
        reverse("admin:pledges_assignment_change", args=[line.pk]),
        {"week": 7, "payer": donor.pk, "recipient": line.recipient_id, "amount": amount},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["amount"]
    line.refresh_from_db()
    assert line.amount == Decimal("100.00")


@pytest.mark.parametrize("amount", ["sNaN", "1e1000000", MILLION_DIGITS])
def test_admin_pod_form_refuses_crafted_amounts(client, site_admin, pod, amount):
    client.force_login(site_admin)

    response = client.post(
        reverse("admin:pods_pod_change", args=[pod.pk]),
        {
            "name": pod.name,
            "slug": pod.slug,
            "currency": "USD",
            "time_zone": pod.time_zone,
            "payday": pod.payday,
            "default_weeks": 15,
            "default_weekly_amount": amount,
            "default_slots": 11,
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["default_weekly_amount"]
    pod.refresh_from_db()
    assert pod.default_weekly_amount == Decimal("175.00")
    assert Pod.objects.count() == 1


@pytest.mark.parametrize("amount", ["sNaN", "1e1000000", MILLION_DIGITS])
def test_admin_next_cycle_refuses_crafted_amounts(client, organizer, cycle, amount):
    client.force_login(organizer)

    response = client.post(
        reverse("admin:pods_cycle_changelist"),
        {
            "action": "start_next",
            "_selected_action": [cycle.pk],
            "post": "yes",
            "starts_on": cycle.ends_on.isoformat(),
            "weeks": 15,
            "weekly_amount": amount,
            "slots": 3,
        },
    )

    assert response.status_code == 200
    assert Cycle.objects.count() == 1


def test_admin_takes_an_amount_in_arabic_indic_digits(client, organizer, cycle):
    client.force_login(organizer)
    page = client.get(reverse("admin:pods_cycle_change", args=[cycle.pk]))
    data = {
        "number": cycle.number,
        "starts_on": cycle.starts_on.isoformat(),
        "weeks": cycle.weeks,
        "weekly_amount": "٢٠٠",
        "slots": cycle.slots,
    }
    data.update(no_new_rows(page))

    response = client.post(reverse("admin:pods_cycle_change", args=[cycle.pk]), data)

    assert response.status_code == 302
    cycle.refresh_from_db()
    assert cycle.weekly_amount == Decimal("200.00")
