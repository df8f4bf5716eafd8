"""The cycle admin: its figures, its enrollments, starting the next cycle, and the CSV of
its receipts."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from pledges.models import Pledge
from pods.models import Cycle, Membership
from receipts.models import Receipt
from recipients.models import Enrollment, Recipient
from recipients.services import enroll

pytestmark = pytest.mark.django_db


@pytest.fixture
def organizer_client(client, organizer):
    client.force_login(organizer)
    return client


@pytest.fixture
def second_enrollment(pod, cycle):
    return enroll(recipient=Recipient.objects.create(pod=pod, display_name="Sam"), cycle=cycle)


def change_url(cycle):
    return reverse("admin:pods_cycle_change", args=[cycle.pk])


def changelist_url():
    return reverse("admin:pods_cycle_changelist")


def form_data(response, **changes):
    """What the change page would post back untouched, with `changes` applied."""
    data = {}
    form = response.context["adminform"].form
    forms = [form]
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        forms += inline.formset.forms
    for each in forms:
        for name in each.fields:
            value = each[name].value()
            if value is not None:
                data[each.add_prefix(name)] = value
    data.update(changes)
    return data


def start_next(client, cycle, **fields):
    data = {"action": "start_next", "_selected_action": [cycle.pk], "post": "yes"}
    data.update(fields)
    return client.post(changelist_url(), data)


# Figures on the change page


def test_change_page_shows_slots_and_shortfall_for_this_week(
    organizer_client, cycle, enrollment, second_enrollment, donor, make_user, pod
):
    Pledge.objects.create(cycle=cycle, donor=donor, amount=Decimal("100.00"), last_week=15)
    # Not counted: paused, and one that ended before this week (week 6).
    Pledge.objects.create(
        cycle=cycle, donor=donor, amount=Decimal("40.00"), last_week=15, status="paused"
    )
    Pledge.objects.create(cycle=cycle, donor=donor, amount=Decimal("30.00"), last_week=3)
    response = organizer_client.get(change_url(cycle))
    assert response.status_code == 200
    assert "2 used, 1 free of 3" in response.text
    assert (
        "Week 6: pledged $100.00 a week; needed $350.00 (2 recipients × $175.00). "
        "Short by $250.00." in response.text
    )


def test_coverage_before_the_cycle_starts_is_week_one_with_surplus(organizer_client, pod, donor):
    cycle = Cycle.objects.create(
        pod=pod, number=1, starts_on=pod.today() + datetime.timedelta(days=3), slots=2
    )
    enroll(recipient=Recipient.objects.create(pod=pod, display_name="Rosa"), cycle=cycle)
    Pledge.objects.create(cycle=cycle, donor=donor, amount=Decimal("200.00"), last_week=1)
    response = organizer_client.get(change_url(cycle))
    assert "Week 1: pledged $200.00 a week; needed $175.00 (1 recipient × $175.00)." in (
        response.text
    )
    assert "Surplus of $25.00." in response.text


def test_change_page_queries_do_not_grow_with_enrollments_and_pledges(
    organizer_client, cycle, enrollment, donor, pod, django_assert_max_num_queries
):
    Pledge.objects.create(cycle=cycle, donor=donor, amount=Decimal("10.00"), last_week=15)
    with django_assert_max_num_queries(40) as few:
        organizer_client.get(change_url(cycle))
    for name in ["Sam", "Kai"]:
        enroll(recipient=Recipient.objects.create(pod=pod, display_name=name), cycle=cycle)
    for _ in range(5):
        Pledge.objects.create(cycle=cycle, donor=donor, amount=Decimal("10.00"), last_week=15)
    with django_assert_max_num_queries(40) as many:
        response = organizer_client.get(change_url(cycle))
    assert "pledged $60.00 a week" in response.text
    assert len(few.captured_queries) == len(many.captured_queries)


# Enrollments on the cycle page


def test_enrollment_rows_offer_only_the_cycles_pod_recipients(
    organizer_client, organizer, cycle, enrollment, other_pod
):
    # Even an organizer of both pods is offered only this cycle's pod's recipients.
    Membership.objects.create(pod=other_pod, user=organizer, role="organizer")
    Recipient.objects.create(pod=other_pod, display_name="Zephyrine")
    response = organizer_client.get(change_url(cycle))
    formset = response.context["inline_admin_formsets"][0].formset
    for form in formset.forms:
        assert {r.display_name for r in form.fields["recipient"].queryset} == {"Rosa"}
    assert "Zephyrine" not in response.text


def test_enrolling_another_pods_recipient_is_rejected(
    organizer_client, organizer, cycle, enrollment, other_pod
):
    Membership.objects.create(pod=other_pod, user=organizer, role="organizer")
    stranger = Recipient.objects.create(pod=other_pod, display_name="Zephyrine")
    page = organizer_client.get(change_url(cycle))
    data = form_data(
        page,
        **{
            "enrollments-1-recipient": stranger.pk,
            "enrollments-1-slot": 2,
            "enrollments-1-first_week": 1,
            "enrollments-1-last_week": 15,
            "enrollments-1-status": "active",
        },
    )
    response = organizer_client.post(change_url(cycle), data)
    assert response.status_code == 200
    assert "Select a valid choice" in response.text
    assert cycle.enrollments.count() == 1


def test_two_rows_in_one_slot_are_rejected_not_a_crash(organizer_client, cycle, enrollment, pod):
    sam = Recipient.objects.create(pod=pod, display_name="Sam")
    page = organizer_client.get(change_url(cycle))
    data = form_data(
        page,
        **{
            "enrollments-1-recipient": sam.pk,
            "enrollments-1-slot": 3,
            "enrollments-1-first_week": 1,
            "enrollments-1-last_week": 15,
            "enrollments-1-status": "active",
            "enrollments-0-slot": 3,
        },
    )
    response = organizer_client.post(change_url(cycle), data)
    assert response.status_code == 200
    assert "Two recipients cannot both hold slot 3." in response.text
    enrollment.refresh_from_db()
    assert enrollment.slot == 1
    assert cycle.enrollments.count() == 1


def test_cutting_slots_below_one_in_use_is_an_error_not_a_crash(
    organizer_client, cycle, enrollment, second_enrollment
):
    page = organizer_client.get(change_url(cycle))
    response = organizer_client.post(change_url(cycle), form_data(page, slots=1))
    assert response.status_code == 200
    assert "Slot 2 is in use" in response.text
    cycle.refresh_from_db()
    assert cycle.slots == 3


def test_second_active_cycle_is_an_error_not_a_crash(organizer_client, cycle, pod):
    planned = Cycle.objects.create(pod=pod, number=2, starts_on=cycle.ends_on, slots=3)
    page = organizer_client.get(change_url(planned))
    response = organizer_client.post(change_url(planned), form_data(page, status="active"))
    assert response.status_code == 200
    assert "This pod already has an active cycle." in response.text
    planned.refresh_from_db()
    assert planned.status == "planned"


# Starting the next cycle


def test_action_asks_with_the_current_values_filled_in(organizer_client, cycle):
    response = organizer_client.post(
        changelist_url(), {"action": "start_next", "_selected_action": [cycle.pk], "index": 0}
    )
    assert response.status_code == 200
    initial = response.context["form"].initial
    assert initial["starts_on"] == cycle.ends_on + datetime.timedelta(days=1)
    assert initial["weeks"] == 15
    assert initial["weekly_amount"] == Decimal("175.00")
    assert initial["slots"] == 3
    assert (cycle.ends_on + datetime.timedelta(days=1)).isoformat() in response.text
    cycle.refresh_from_db()
    assert cycle.status == "active"


def test_action_is_offered_on_the_cycle_page_too(organizer_client, cycle):
    response = organizer_client.post(
        change_url(cycle),
        {"CHANGE_FORM-action": "start_next", "_selected_action": [cycle.pk], "index": 0},
    )
    assert response.status_code == 200
    assert response.templates[0].name == "admin/pods/cycle/start_next_cycle.html"


def test_next_cycle_starts_with_changes_and_rolls_over(
    organizer_client, cycle, enrollment, second_enrollment, donor, pod
):
    # Sam leaves before the end: only Rosa rolls over. Of the pledges, only the one
    # running to the end does.
    Enrollment.objects.filter(pk=second_enrollment.pk).update(status="left", last_week=7)
    Pledge.objects.create(cycle=cycle, donor=donor, amount=Decimal("120.00"), last_week=15)
    Pledge.objects.create(cycle=cycle, donor=donor, amount=Decimal("30.00"), last_week=4)
    starts_on = cycle.ends_on + datetime.timedelta(days=3)

    response = start_next(
        organizer_client,
        cycle,
        starts_on=starts_on.isoformat(),
        weeks=10,
        weekly_amount="200.00",
        slots=5,
    )

    new = Cycle.objects.get(pod=pod, number=2)
    assert response.status_code == 302
    assert response.url == change_url(new)
    cycle.refresh_from_db()
    assert cycle.status == "closed"
    assert new.status == "active"
    assert (new.starts_on, new.weeks, new.weekly_amount, new.slots) == (
        starts_on,
        10,
        Decimal("200.00"),
        5,
    )
    assert [(e.recipient.display_name, e.slot, e.last_week) for e in new.enrollments.all()] == [
        ("Rosa", 1, 10)
    ]
    assert [(p.amount, p.first_week, p.last_week) for p in new.pledges.all()] == [
        (Decimal("120.00"), 1, 10)
    ]
    page = organizer_client.get(response.url)
    assert "Maple Street Pod, cycle 2 has started; cycle 1 is closed." in page.text


def test_too_few_slots_shows_the_error_and_changes_nothing(
    organizer_client, cycle, enrollment, second_enrollment
):
    response = start_next(
        organizer_client,
        cycle,
        starts_on=(cycle.ends_on + datetime.timedelta(days=1)).isoformat(),
        weeks=15,
        weekly_amount="175.00",
        slots=1,
    )
    assert response.status_code == 200
    assert "2 recipients are enrolled; the new cycle needs at least that many slots." in (
        response.text
    )
    assert "Nothing was changed." in response.text
    cycle.refresh_from_db()
    assert cycle.status == "active"
    assert Cycle.objects.count() == 1
    assert cycle.enrollments.active().count() == 2


def test_invalid_values_show_errors_and_change_nothing(organizer_client, cycle):
    response = start_next(
        organizer_client, cycle, starts_on="soon", weeks=0, weekly_amount="-5", slots=""
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"starts_on", "weeks", "weekly_amount", "slots"}
    cycle.refresh_from_db()
    assert cycle.status == "active"
    assert Cycle.objects.count() == 1


def test_start_date_before_the_cycle_is_refused(organizer_client, cycle):
    response = start_next(
        organizer_client,
        cycle,
        starts_on=cycle.starts_on.isoformat(),
        weeks=15,
        weekly_amount="175.00",
        slots=3,
    )
    assert response.status_code == 200
    assert "The new cycle must start after cycle 1 started." in response.text
    assert Cycle.objects.count() == 1


def test_planned_cycle_with_the_next_number_is_an_error_not_a_crash(organizer_client, cycle, pod):
    Cycle.objects.create(pod=pod, number=2, starts_on=cycle.ends_on, slots=3)
    response = start_next(
        organizer_client,
        cycle,
        starts_on=(cycle.ends_on + datetime.timedelta(days=1)).isoformat(),
        weeks=15,
        weekly_amount="175.00",
        slots=3,
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert "Nothing was changed." in response.text
    cycle.refresh_from_db()
    assert cycle.status == "active"


@pytest.mark.parametrize("selection", ["two", "closed"])
def test_action_needs_exactly_one_active_cycle(organizer_client, cycle, pod, selection):
    closed = Cycle.objects.create(
        pod=pod, number=2, starts_on=cycle.ends_on, slots=3, status="closed"
    )
    selected = [cycle.pk, closed.pk] if selection == "two" else [closed.pk]
    response = organizer_client.post(
        changelist_url(),
        {"action": "start_next", "_selected_action": selected, "index": 0},
        follow=True,
    )
    assert "Select exactly one active cycle to start the next one from." in response.text
    assert Cycle.objects.count() == 2
    cycle.refresh_from_db()
    assert cycle.status == "active"


def test_outsider_cannot_start_another_pods_next_cycle(client, outsider, cycle):
    client.force_login(outsider)
    response = start_next(
        client,
        cycle,
        starts_on=(cycle.ends_on + datetime.timedelta(days=1)).isoformat(),
        weeks=15,
        weekly_amount="175.00",
        slots=3,
    )
    assert response.status_code == 302
    cycle.refresh_from_db()
    assert cycle.status == "active"
    assert Cycle.objects.count() == 1


# Receipts as CSV


def test_cycle_export_has_only_that_cycles_receipts(
    organizer_client, cycle, enrollment, recipient, donor, pod
):
    older = Cycle.objects.create(
        pod=pod, number=9, starts_on=cycle.starts_on - datetime.timedelta(days=200), slots=3
    )
    for each, amount in [(cycle, "175.00"), (older, "99.00")]:
        Receipt.objects.create(
            pod=pod,
            cycle=each,
            week=2,
            recipient=recipient,
            payer=donor,
            amount=Decimal(amount),
            method="cashapp",
            sent_on=each.starts_on,
            posted_by=donor,
        )
    response = organizer_client.post(
        changelist_url(),
        {"action": "export_receipts", "_selected_action": [cycle.pk], "index": 0},
    )
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="maple-cycle-1-receipts.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 2
    assert rows[1][:6] == ["1", "2", cycle.starts_on.isoformat(), "Rosa", "Dana", "175.00"]
