"""Arabic dates and numbers written one way everywhere: Django's own Arabic formats left
a date with its time in the American order (3 December as "12/03/2026") and numbers with
a decimal comma that the money fields, which read CLDR's "1,970.00", refused. See
mutualaid/formats/ar/formats.py."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format, localize_input, number_format

from mutualaid.money import MoneyField, grouped
from tests.pledges.test_plan_review import NEXT_WEEK, plan, stored  # noqa: F401 - fixture

WHEN = datetime.datetime(2026, 12, 3, 15, 4)


def test_a_date_with_its_time_puts_the_day_first():
    with translation.override("ar"):
        assert date_format(WHEN, "SHORT_DATETIME_FORMAT") == "03\u200f/12\u200f/2026 3:04 م"
        assert date_format(WHEN, "DATETIME_FORMAT") == "3 ديسمبر، 2026، 3:04 م"


def test_a_number_is_written_as_the_money_fields_read_it():
    with translation.override("ar"):
        assert number_format(Decimal("10000"), decimal_pos=2, force_grouping=True) == grouped(
            Decimal("10000")
        )
        written = localize_input(Decimal("87.50"))
        assert written == "87.50"
        assert MoneyField().clean(written) == Decimal("87.50")


@pytest.mark.django_db
def test_the_plan_editor_in_arabic_saves_its_own_amounts_back(
    client,
    pod,
    organizer,
    recipient,
    plan,  # noqa: F811
):
    organizer.language = "ar"
    organizer.save(update_fields=["language"])
    client.force_login(organizer)
    url = reverse("pods:plan", args=[pod.slug, NEXT_WEEK])
    page = client.get(url)
    assert page.text.count('dir="rtl"') >= 1
    formset = next(r.formset for r in page.context["rows"] if r.recipient.pk == recipient.pk)
    prefix = formset.prefix
    data = {
        "recipient": str(recipient.pk),
        **{f"{prefix}-{key}": value for key, value in formset.management_form.initial.items()},
    }
    for n, form in enumerate(formset.forms[: len(formset.initial)]):
        data[f"{prefix}-{n}-payer"] = form.initial["payer"]
        data[f"{prefix}-{n}-amount"] = form.initial["amount"]
    data[f"{prefix}-TOTAL_FORMS"] = str(len(formset.initial))
    # The amounts as the page wrote them ("100.00"), sent back unchanged.
    assert {form.initial["amount"] for form in formset.forms[: len(formset.initial)]} == {
        "100.00",
        "75.00",
    }
    response = client.post(url, data)
    assert response.status_code == 302
    assert stored() == plan
