"""The cycle admin: its figures, the links to its enrollments, the rules of its form,
planning the next cycle, ending a cycle early, and the CSV of its receipts."""

import csv
import datetime
import io
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils.formats import date_format

from pledges.models import Assignment, Pledge
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
    form = response.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is not None:
            data[form.add_prefix(name)] = value
    data.update(changes)
    return data


def enroll_in_admin(client, cycle, recipient, *, slot, first_week=1, last_week=15):
    """An organizer enrolling `recipient` from the Enrollment admin's add page, reached by
    the cycle page's "Enroll a recipient"."""
    return client.post(
        reverse("admin:recipients_enrollment_add") + f"?cycle={cycle.pk}",
        {
            "cycle": cycle.pk,
            "recipient": recipient.pk,
            "slot": slot,
            "first_week": first_week,
            "last_week": last_week,
            "status": "active",
            "end_reason": "",
        },
    )


def start_next(client, cycle, **fields):
    data = {"action": "start_next", "_selected_action": [cycle.pk], "post": "yes"}
    data.update(fields)
    return client.post(changelist_url(), data)


def unchanged(cycle):
    """The cycle's calendar, read again, is what it was: same start, same weeks."""
    before = (cycle.pod_id, cycle.number, cycle.starts_on, cycle.weeks)
    cycle.refresh_from_db()
    return (cycle.pod_id, cycle.number, cycle.starts_on, cycle.weeks) == before


class _Forms(HTMLParser):
    """The post forms of a page: their address and the fields they send."""

    def __init__(self):
        super().__init__()
        self.forms = []
        self.open = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("method") == "post":
            self.forms.append((attrs.get("action"), []))
            self.open = True
        elif tag == "input" and self.open and attrs.get("name") and attrs.get("type") != "submit":
            self.forms[-1][1].append((attrs["name"], attrs.get("value", "")))

    def handle_endtag(self, tag):
        if tag == "form":
            self.open = False


def submit(client, page, follow=False):
    """Press the submit button of a confirmation page, as a browser would: post the
    fields of its form (the one that says yes, not the header's log-out) to its address."""
    parser = _Forms()
    parser.feed(page.text)
    (action, fields), *others = [form for form in parser.forms if ("post", "yes") in form[1]]
    assert not others
    data = {}
    for name, value in fields:
        data.setdefault(name, []).append(value)
    return client.post(action, data, follow=follow)


def post_receipt(cycle, week, recipient, payer):
    return Receipt.objects.create(
        pod=cycle.pod,
        cycle=cycle,
        week=week,
        recipient=recipient,
        payer=payer,
        amount=Decimal("175.00"),
        method="cashapp",
        sent_on=cycle.week_starts_on(week),
        posted_by=payer,
    )


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
    assert "2 used, 1 free of 3 slots" in response.text
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
    # Once unmeasured: the first page of a process reads content types into their cache,
    # so the count would depend on which tests ran before in the same worker.
    organizer_client.get(change_url(cycle))
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


# Enrollments: summed up on the cycle page, listed, added and ended in the Enrollment admin


def test_change_page_links_to_the_cycles_enrollments_and_has_no_rows_of_them(
    organizer_client, cycle, enrollment, second_enrollment
):
    response = organizer_client.get(change_url(cycle))
    assert response.status_code == 200
    assert response.context["inline_admin_formsets"] == []
    assert 'name="enrollments-' not in response.text
    enrollments = reverse("admin:recipients_enrollment_changelist")
    assert f'href="{enrollments}?cycle__id__exact={cycle.pk}"' in response.text
    add = reverse("admin:recipients_enrollment_add")
    assert f'href="{add}?cycle={cycle.pk}"' in response.text
    # The link's list is this cycle's, and its add page has the cycle filled in.
    listed = organizer_client.get(f"{enrollments}?cycle__id__exact={cycle.pk}")
    assert {e.recipient.display_name for e in listed.context["cl"].result_list} == {"Rosa", "Sam"}
    adding = organizer_client.get(f"{add}?cycle={cycle.pk}")
    assert adding.context["adminform"].form["cycle"].value() == str(cycle.pk)


def test_enrolling_another_pods_recipient_is_rejected(
    organizer_client, organizer, cycle, enrollment, other_pod
):
    # Even an organizer of both pods cannot put one pod's recipient in another's cycle.
    Membership.objects.create(pod=other_pod, user=organizer, role="organizer")
    stranger = Recipient.objects.create(pod=other_pod, display_name="Zephyrine")
    response = enroll_in_admin(organizer_client, cycle, stranger, slot=2)
    assert response.status_code == 200
    assert "These belong to different pods." in response.text
    assert cycle.enrollments.count() == 1


def test_a_slot_held_in_those_weeks_is_rejected_not_a_crash(
    organizer_client, cycle, enrollment, pod
):
    sam = Recipient.objects.create(pod=pod, display_name="Sam")
    response = enroll_in_admin(organizer_client, cycle, sam, slot=1)
    assert response.status_code == 200
    assert "Rosa holds slot 1 in weeks 1 to 15." in response.text
    assert cycle.enrollments.count() == 1


def test_one_slot_held_by_two_recipients_one_after_the_other_is_fine(
    organizer_client, cycle, enrollment, pod
):
    # A slot is held week by week: Rosa's enrollment ends after week 6, then Sam takes
    # her slot from week 7.
    sam = Recipient.objects.create(pod=pod, display_name="Sam")
    rosa_url = reverse("admin:recipients_enrollment_change", args=[enrollment.pk])
    page = organizer_client.get(rosa_url)
    response = organizer_client.post(rosa_url, form_data(page, last_week=6))
    assert response.status_code == 302
    # Not from week 6: Rosa still holds it then.
    response = enroll_in_admin(organizer_client, cycle, sam, slot=1, first_week=6)
    assert response.status_code == 200
    assert "Rosa holds slot 1 in weeks 1 to 6." in response.text
    assert cycle.enrollments.count() == 1
    response = enroll_in_admin(organizer_client, cycle, sam, slot=1, first_week=7)
    assert response.status_code == 302
    assert [
        (e.recipient.display_name, e.slot, e.first_week, e.last_week)
        for e in cycle.enrollments.in_slot_order()
    ] == [("Rosa", 1, 1, 6), ("Sam", 1, 7, 15)]


def test_cutting_slots_below_one_in_use_is_an_error_not_a_crash(
    organizer_client, cycle, enrollment, second_enrollment
):
    page = organizer_client.get(change_url(cycle))
    response = organizer_client.post(change_url(cycle), form_data(page, slots=1))
    assert response.status_code == 200
    assert "Slot 2 is in use" in response.text
    cycle.refresh_from_db()
    assert cycle.slots == 3


def test_overlapping_cycle_is_an_error_not_a_crash(organizer_client, cycle, pod):
    planned = Cycle.objects.create(
        pod=pod, number=2, starts_on=cycle.ends_on + datetime.timedelta(days=1), slots=3
    )
    page = organizer_client.get(change_url(planned))
    # One day earlier: its first day would be cycle 1's last.
    response = organizer_client.post(
        change_url(planned), form_data(page, starts_on=cycle.ends_on.isoformat())
    )
    assert response.status_code == 200
    assert (
        f"Cycle 1 runs from {cycle.starts_on} to {cycle.ends_on}: cycles of a pod cannot "
        "overlap." in response.text
    )
    planned.refresh_from_db()
    assert planned.starts_on == cycle.ends_on + datetime.timedelta(days=1)


# The cycle form: a started cycle's start stays put; a running cycle ends early only by
# the action that says what it ends.


def test_moving_the_start_of_a_started_cycle_is_refused(organizer_client, cycle):
    started = cycle.starts_on
    page = organizer_client.get(change_url(cycle))
    later = (started + datetime.timedelta(days=7)).isoformat()
    response = organizer_client.post(change_url(cycle), form_data(page, starts_on=later))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["starts_on"] == [
        f"Cycle 1 started on {date_format(started)}: its weeks have begun, so its start "
        "cannot move."
    ]
    cycle.refresh_from_db()
    assert cycle.starts_on == started


def test_moving_the_start_of_a_planned_cycle_is_fine(organizer_client, cycle, pod):
    first_day = cycle.ends_on + datetime.timedelta(days=1)
    planned = Cycle.objects.create(pod=pod, number=2, starts_on=first_day, slots=3)
    page = organizer_client.get(change_url(planned))
    later = first_day + datetime.timedelta(days=7)
    response = organizer_client.post(
        change_url(planned), form_data(page, starts_on=later.isoformat())
    )
    assert response.status_code == 302
    planned.refresh_from_db()
    assert planned.starts_on == later


def test_cutting_the_weeks_of_a_running_cycle_points_to_ending_it_early(organizer_client, cycle):
    page = organizer_client.get(change_url(cycle))
    response = organizer_client.post(change_url(cycle), form_data(page, weeks=10))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["weeks"] == [
        "Cycle 1 is running: to end it before week 15, use \u201cEnd this cycle early\u201d, "
        "which says what it ends."
    ]
    cycle.refresh_from_db()
    assert cycle.weeks == 15


def test_a_running_cycle_may_be_made_longer(organizer_client, cycle):
    page = organizer_client.get(change_url(cycle))
    response = organizer_client.post(change_url(cycle), form_data(page, weeks=16))
    assert response.status_code == 302
    cycle.refresh_from_db()
    assert cycle.weeks == 16


def test_cutting_the_weeks_of_a_planned_cycle_is_fine(organizer_client, cycle, pod):
    planned = Cycle.objects.create(
        pod=pod, number=2, starts_on=cycle.ends_on + datetime.timedelta(days=1), slots=3
    )
    page = organizer_client.get(change_url(planned))
    response = organizer_client.post(change_url(planned), form_data(page, weeks=10))
    assert response.status_code == 302
    planned.refresh_from_db()
    assert planned.weeks == 10


# Starting the next cycle: it plans cycle n+1 and never closes or shortens cycle n.


def test_action_asks_with_the_current_values_filled_in(organizer_client, cycle):
    response = organizer_client.post(
        changelist_url(), {"action": "start_next", "_selected_action": [cycle.pk], "index": 0}
    )
    assert response.status_code == 200
    first_day = cycle.ends_on + datetime.timedelta(days=1)
    initial = response.context["form"].initial
    assert initial["starts_on"] == first_day
    assert initial["weeks"] == 15
    assert initial["weekly_amount"] == Decimal("175.00")
    assert initial["slots"] == 3
    assert first_day.isoformat() in response.text
    # It says in plain words that cycle 1 keeps its weeks.
    assert (
        f"Cycle 1 keeps running to week 15, until {date_format(cycle.ends_on)}; cycle 2 "
        f"starts {date_format(first_day)}" in response.text
    )
    assert "Nothing in cycle 1 changes." in response.text
    assert Cycle.objects.count() == 1
    assert unchanged(cycle)


def test_action_is_offered_on_the_cycle_page_too(organizer_client, cycle):
    response = organizer_client.post(
        change_url(cycle),
        {"CHANGE_FORM-action": "start_next", "_selected_action": [cycle.pk], "index": 0},
    )
    assert response.status_code == 200
    assert response.templates[0].name == "admin/pods/cycle/start_next_cycle.html"


def test_next_cycle_is_planned_with_changes_and_the_running_one_keeps_its_weeks(
    organizer_client,
    cycle,
    enrollment,
    second_enrollment,
    donor,
    pod,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    # Sam leaves before the end: only Rosa rolls over. Of the pledges, only the one
    # running to the end does.
    Enrollment.objects.filter(pk=second_enrollment.pk).update(status="left", last_week=7)
    Pledge.objects.create(cycle=cycle, donor=donor, amount=Decimal("120.00"), last_week=15)
    Pledge.objects.create(cycle=cycle, donor=donor, amount=Decimal("30.00"), last_week=4)
    starts_on = cycle.ends_on + datetime.timedelta(days=3)

    with django_capture_on_commit_callbacks(execute=True):
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
    # Cycle 1 runs on to its week 15; cycle 2 waits for its first day.
    assert unchanged(cycle)
    assert cycle.status() == Cycle.Status.ACTIVE
    assert cycle.current_week() == 6
    assert new.status() == Cycle.Status.PLANNED
    assert pod.current_cycle() == cycle
    assert pod.next_cycle() == new
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
    # Cycle 1's enrollments and pledges keep their weeks.
    assert sorted(cycle.enrollments.values_list("last_week", flat=True)) == [7, 15]
    assert sorted(cycle.pledges.values_list("last_week", flat=True)) == [4, 15]
    assert [message.to for message in mailoutbox] == [[donor.email]]
    page = organizer_client.get(response.url)
    assert (
        f"Cycle 2 is planned to start on {date_format(starts_on)}. Cycle 1 keeps running "
        "until then." in page.text
    )


def test_planning_the_next_cycle_in_week_6_leaves_every_page_on_the_running_one(
    organizer_client, cycle, enrollment, donor, pod
):
    """Issue 8, case 1, as an organizer meets it: planning cycle 2 in week 6 of cycle 1
    keeps weeks 7 to 15 of cycle 1 on every page."""
    Pledge.objects.create(cycle=cycle, donor=donor, amount=Decimal("175.00"), last_week=15)
    first_day = cycle.ends_on + datetime.timedelta(days=1)
    response = start_next(
        organizer_client,
        cycle,
        starts_on=first_day.isoformat(),
        weeks=15,
        weekly_amount="175.00",
        slots=3,
    )
    assert response.status_code == 302

    def text(name, **query):
        page = organizer_client.get(reverse(name, args=[pod.slug]), query)
        assert page.status_code == 200
        return page, " ".join(page.text.split())

    home = " ".join(organizer_client.get(reverse("home")).text.split())
    assert "Cycle 1 · week 6 of 15" in home
    dashboard, words = text("pods:dashboard")
    assert "Cycle 1 · week 6 of 15" in words
    assert "Week 6: 1 of 3 slots filled" in words
    assert f"Cycle 2 is planned: it starts {date_format(first_day)}." in words
    assert dashboard.context["coverage"].pledged == Decimal("175.00")
    _page, words = text("pods:this_week")
    assert "Cycle 1, week 6 of 15" in words
    form_page, _words = text("receipts:receipt_create")
    assert form_page.context["cycle"] == cycle
    offered = [week for week, _label in form_page.context["form"].fields["week"].choices]
    assert offered == list(range(1, 8))
    assert unchanged(cycle)
    assert cycle.enrollments.get().last_week == 15


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
    assert (
        "2 recipients are enrolled to the end of cycle 1; the new cycle needs at least that "
        "many slots." in response.text
    )
    assert "Nothing was changed." in response.text
    assert unchanged(cycle)
    assert Cycle.objects.count() == 1
    assert cycle.enrollments.active().count() == 2


def test_invalid_values_show_errors_and_change_nothing(organizer_client, cycle):
    response = start_next(
        organizer_client, cycle, starts_on="soon", weeks=0, weekly_amount="-5", slots=""
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"starts_on", "weeks", "weekly_amount", "slots"}
    assert unchanged(cycle)
    assert Cycle.objects.count() == 1


@pytest.mark.parametrize("days_before_the_end", [0, 7, 7 * 15 - 1])
def test_a_start_before_the_running_cycle_ends_is_refused(
    organizer_client, cycle, days_before_the_end
):
    # Its last day, a week before, its first day: all still cycle 1's.
    starts_on = cycle.ends_on - datetime.timedelta(days=days_before_the_end)
    response = start_next(
        organizer_client,
        cycle,
        starts_on=starts_on.isoformat(),
        weeks=15,
        weekly_amount="175.00",
        slots=3,
    )
    assert response.status_code == 200
    end = date_format(cycle.ends_on)
    earliest = date_format(cycle.ends_on + datetime.timedelta(days=1))
    assert response.context["form"].errors["starts_on"] == [
        f"Cycle 1 runs until {end}: the next one can start on {earliest} or later."
    ]
    assert "Nothing was changed." in response.text
    assert Cycle.objects.count() == 1
    assert unchanged(cycle)


def test_a_second_following_cycle_is_refused_with_a_message(organizer_client, cycle, pod):
    first_day = cycle.ends_on + datetime.timedelta(days=1)
    Cycle.objects.create(pod=pod, number=2, starts_on=first_day, slots=3)
    for data in [
        # Asking, and posting the form as if the page had been open since before.
        {"action": "start_next", "_selected_action": [cycle.pk], "index": 0},
        {
            "action": "start_next",
            "_selected_action": [cycle.pk],
            "post": "yes",
            "starts_on": (first_day + datetime.timedelta(weeks=20)).isoformat(),
            "weeks": 15,
            "weekly_amount": "175.00",
            "slots": 3,
        },
    ]:
        response = organizer_client.post(changelist_url(), data, follow=True)
        assert response.templates[0].name == "admin/change_list.html"
        assert (
            f"Maple Street Pod, cycle 2 is already planned, to start on "
            f"{date_format(first_day)}." in response.text
        )
    assert Cycle.objects.count() == 2
    assert unchanged(cycle)


def test_the_planned_cycle_can_have_its_own_next_one(organizer_client, cycle, pod):
    planned = Cycle.objects.create(
        pod=pod, number=2, starts_on=cycle.ends_on + datetime.timedelta(days=1), slots=3
    )
    response = start_next(
        organizer_client,
        planned,
        starts_on=(planned.ends_on + datetime.timedelta(days=1)).isoformat(),
        weeks=15,
        weekly_amount="175.00",
        slots=3,
    )
    assert response.status_code == 302
    assert list(pod.cycles.order_by("number").values_list("number", flat=True)) == [1, 2, 3]
    assert pod.current_cycle() == cycle
    assert unchanged(cycle)


def test_a_next_cycle_overlapping_a_later_one_is_an_error_not_a_crash(organizer_client, cycle, pod):
    # Cycle 3 was made by hand, three weeks after cycle 1: cycle 2 cannot fit 15 weeks.
    Cycle.objects.create(
        pod=pod, number=3, starts_on=cycle.ends_on + datetime.timedelta(weeks=3, days=1)
    )
    response = start_next(
        organizer_client,
        cycle,
        starts_on=(cycle.ends_on + datetime.timedelta(days=1)).isoformat(),
        weeks=15,
        weekly_amount="175.00",
        slots=3,
    )
    assert response.status_code == 200
    start = cycle.ends_on + datetime.timedelta(weeks=3, days=1)
    end = start + datetime.timedelta(weeks=15, days=-1)
    assert response.context["form"].non_field_errors() == [
        f"Cycle 3 runs from {start} to {end}: cycles of a pod cannot overlap."
    ]
    assert "Nothing was changed." in response.text
    assert not pod.cycles.filter(number=2).exists()
    assert unchanged(cycle)


def test_action_needs_exactly_one_cycle(organizer_client, cycle, pod):
    planned = Cycle.objects.create(
        pod=pod, number=2, starts_on=cycle.ends_on + datetime.timedelta(days=1), slots=3
    )
    response = organizer_client.post(
        changelist_url(),
        {"action": "start_next", "_selected_action": [cycle.pk, planned.pk], "index": 0},
        follow=True,
    )
    assert "Select exactly one cycle." in response.text
    assert Cycle.objects.count() == 2
    assert unchanged(cycle)


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
    assert unchanged(cycle)
    assert Cycle.objects.count() == 1


# Ending a cycle early: an explicit action, from the cycle's page, that names what it
# ends and asks first.


@pytest.fixture
def running_cycle(cycle, enrollment, second_enrollment, donor, organizer, pod, make_user):
    """Cycle 1 in week 6 of 15: Rosa and Sam to the end, Kai who left after week 4;
    Dana and Olive pledging to the end, Lee who stopped after week 3; a plan for weeks 1
    to 7 and a receipt for week 5."""
    kai = enroll(recipient=Recipient.objects.create(pod=pod, display_name="Kai"), cycle=cycle)
    Enrollment.objects.filter(pk=kai.pk).update(status="left", last_week=4)
    lee = make_user("lee@example.org", display_name="Lee")
    Membership.objects.create(pod=pod, user=lee)
    for who, amount, last_week in [
        (donor, "175.00", 15),
        (organizer, "175.00", 15),
        (lee, "50.00", 3),
    ]:
        Pledge.objects.create(cycle=cycle, donor=who, amount=Decimal(amount), last_week=last_week)
    for week in range(1, 8):
        for payer, recipient in [
            (donor, enrollment.recipient),
            (organizer, second_enrollment.recipient),
        ]:
            Assignment.objects.create(
                cycle=cycle, week=week, payer=payer, recipient=recipient, amount=Decimal("175.00")
            )
    post_receipt(cycle, 5, enrollment.recipient, donor)
    return cycle


def end_early(client, cycle):
    """Ask, from the cycle's page, to end it early: the confirmation page."""
    return client.post(
        change_url(cycle),
        {"CHANGE_FORM-action": "end_early", "_selected_action": [cycle.pk], "index": 0},
    )


def test_end_early_asks_first_and_names_what_it_ends(organizer_client, running_cycle):
    cycle = running_cycle
    response = end_early(organizer_client, cycle)
    assert response.status_code == 200
    assert response.templates[0].name == "admin/pods/cycle/end_cycle_early.html"
    preview = response.context["preview"]
    assert (preview.last_week, preview.weeks_dropped, preview.enrollments, preview.pledges) == (
        6,
        9,
        2,
        2,
    )
    text = " ".join(response.text.split())
    assert f"Cycle 1 will end after week 6, on {date_format(cycle.week_ends_on(6))}." in text
    assert "9 weeks that have not started are dropped, with their plans." in text
    assert (
        "2 recipients are supported through week 6 and carry over into the next cycle, "
        "as at the end of any cycle." in text
    )
    assert (
        "2 donors' pledges run through week 6 and carry over into the next cycle, "
        "as at the end of any cycle." in text
    )
    assert "End cycle 1 after week 6" in text
    # Asking changes nothing.
    assert unchanged(cycle)
    assert cycle.ended_early_at is None


def test_end_early_counts_one_of_each_in_the_singular(organizer_client, cycle, enrollment, donor):
    Pledge.objects.create(cycle=cycle, donor=donor, amount=Decimal("20.00"), last_week=15)
    # Week 14 of 15: one week left.
    Cycle.objects.filter(pk=cycle.pk).update(
        starts_on=cycle.pod.today() - datetime.timedelta(weeks=13)
    )
    text = " ".join(end_early(organizer_client, cycle).text.split())
    assert "1 week that has not started is dropped, with its plan." in text
    assert "1 recipient is supported through week 14 and carries over" in text
    assert "1 donor's pledge runs through week 14 and carries over" in text


def test_confirming_ends_the_cycle_after_its_last_started_week(
    organizer_client, running_cycle, enrollment, second_enrollment, pod
):
    cycle = running_cycle
    page = end_early(organizer_client, cycle)
    response = submit(organizer_client, page, follow=True)

    assert response.redirect_chain == [(change_url(cycle), 302)]
    cycle.refresh_from_db()
    assert cycle.weeks == 6
    assert cycle.ended_early_at is not None
    assert cycle.ends_on == cycle.week_ends_on(6)
    assert cycle.status() == Cycle.Status.ACTIVE  # week 6 still runs, and is the last
    assert cycle.first_open_week() is None
    assert (
        f"Cycle 1 now ends after week 6, on {date_format(cycle.week_ends_on(6))}." in response.text
    )
    # Enrollments and pledges that ran on now run to week 6, still active (to carry over
    # into the next cycle); the ones that ended before stay.
    assert sorted(
        cycle.enrollments.values_list("recipient__display_name", "last_week", "status")
    ) == [("Kai", 4, "left"), ("Rosa", 6, "active"), ("Sam", 6, "active")]
    assert sorted(cycle.pledges.values_list("donor__display_name", "last_week")) == [
        ("Dana", 6),
        ("Lee", 3),
        ("Olive", 6),
    ]
    # The started weeks keep their plans and receipts; the dropped weeks lose theirs.
    assert sorted(set(cycle.assignments.values_list("week", flat=True))) == [1, 2, 3, 4, 5, 6]
    assert cycle.receipts.count() == 1
    # A second press finds nothing left to end.
    again = end_early(organizer_client, cycle)
    assert again.status_code == 302


def test_a_receipt_posted_ahead_keeps_its_week(organizer_client, running_cycle, enrollment, donor):
    cycle = running_cycle
    post_receipt(cycle, 8, enrollment.recipient, donor)
    page = end_early(organizer_client, cycle)
    assert page.context["preview"].last_week == 8
    assert "Cycle 1 will end after week 8" in " ".join(page.text.split())
    submit(organizer_client, page)
    cycle.refresh_from_db()
    assert cycle.weeks == 8


def test_end_early_then_the_next_cycle_can_start_sooner(organizer_client, running_cycle, pod):
    cycle = running_cycle
    submit(organizer_client, end_early(organizer_client, cycle))
    cycle.refresh_from_db()
    response = start_next(
        organizer_client,
        cycle,
        starts_on=(cycle.ends_on + datetime.timedelta(days=1)).isoformat(),
        weeks=15,
        weekly_amount="175.00",
        slots=3,
    )
    assert response.status_code == 302
    new = pod.cycles.get(number=2)
    assert new.starts_on == cycle.week_ends_on(6) + datetime.timedelta(days=1)
    assert pod.current_cycle(new.starts_on) == new


def test_end_early_is_refused_to_an_organizer_of_another_pod(client, outsider, running_cycle):
    cycle = running_cycle
    client.force_login(outsider)
    # Our cycle's page does not exist for Otto: he is sent to the admin's index.
    asked = end_early(client, cycle)
    assert (asked.status_code, asked.url) == (302, reverse("admin:index"))
    # Posting the confirmation straight to the list finds no cycle of his to end.
    confirmed = client.post(
        changelist_url(),
        {"action": "end_early", "_selected_action": [cycle.pk], "post": "yes"},
        follow=True,
    )
    assert "Select exactly one cycle." in confirmed.text
    assert unchanged(cycle)
    assert cycle.ended_early_at is None
    assert cycle.assignments.filter(week=7).exists()


def test_end_early_is_refused_to_an_organizer_of_another_pod_who_names_its_id(
    client, outsider, running_cycle, other_pod
):
    # Otto organizes a cycle of his own and forges the id of ours into its page's form.
    theirs = Cycle.objects.create(pod=other_pod, number=1, starts_on=running_cycle.starts_on)
    client.force_login(outsider)
    response = client.post(
        change_url(theirs),
        {"CHANGE_FORM-action": "end_early", "_selected_action": [running_cycle.pk], "index": 0},
    )
    assert response.status_code == 400
    assert unchanged(running_cycle)
    assert running_cycle.ended_early_at is None
    assert unchanged(theirs)


def test_end_early_is_refused_to_a_donor(client, donor, running_cycle):
    cycle = running_cycle
    client.force_login(donor)
    for response in [
        end_early(client, cycle),
        client.post(
            changelist_url(),
            {"action": "end_early", "_selected_action": [cycle.pk], "post": "yes"},
        ),
    ]:
        assert response.status_code == 302
        assert response.url.startswith(reverse("admin:login"))
    assert unchanged(cycle)
    assert cycle.ended_early_at is None


def test_end_early_before_the_cycle_starts_is_refused_with_a_message(organizer_client, cycle, pod):
    planned = Cycle.objects.create(
        pod=pod, number=2, starts_on=cycle.ends_on + datetime.timedelta(days=1), slots=3
    )
    response = organizer_client.post(
        change_url(planned),
        {"CHANGE_FORM-action": "end_early", "_selected_action": [planned.pk], "index": 0},
        follow=True,
    )
    assert (
        "Cycle 2 cannot end early: it has not started, or its last week has begun." in response.text
    )
    assert "preview" not in response.context
    assert unchanged(planned)
    assert planned.ended_early_at is None


def test_end_early_in_the_last_week_is_refused_with_a_message(organizer_client, cycle, pod):
    Cycle.objects.filter(pk=cycle.pk).update(starts_on=pod.today() - datetime.timedelta(weeks=14))
    cycle.refresh_from_db()
    assert cycle.current_week() == 15
    response = organizer_client.post(
        change_url(cycle),
        {"CHANGE_FORM-action": "end_early", "_selected_action": [cycle.pk], "index": 0},
        follow=True,
    )
    assert (
        "Cycle 1 cannot end early: it has not started, or its last week has begun." in response.text
    )
    assert unchanged(cycle)
    assert cycle.ended_early_at is None


def test_end_early_of_a_cycle_that_is_over_is_refused(organizer_client, pod):
    over = Cycle.objects.create(
        pod=pod, number=1, starts_on=pod.today() - datetime.timedelta(weeks=20), slots=3
    )
    response = organizer_client.post(
        change_url(over),
        {"CHANGE_FORM-action": "end_early", "_selected_action": [over.pk], "index": 0},
        follow=True,
    )
    assert "Cycle 1 cannot end early" in response.text
    assert unchanged(over)


def test_confirming_after_the_last_week_began_changes_nothing(organizer_client, running_cycle, pod):
    # The page was asked in week 6 and confirmed after the cycle reached its last week.
    cycle = running_cycle
    page = end_early(organizer_client, cycle)
    Cycle.objects.filter(pk=cycle.pk).update(starts_on=pod.today() - datetime.timedelta(weeks=14))
    response = submit(organizer_client, page, follow=True)
    assert "Cycle 1 cannot end early" in response.text
    cycle.refresh_from_db()
    assert (cycle.weeks, cycle.ended_early_at) == (15, None)
    assert cycle.assignments.filter(week=7).exists()


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


def test_after_an_early_end_the_next_cycle_is_offered_the_pods_default_weeks(
    organizer_client, running_cycle, pod
):
    pod.default_weeks = 12
    pod.save(update_fields=["default_weeks"])
    cycle = running_cycle
    submit(organizer_client, end_early(organizer_client, cycle))
    response = organizer_client.post(
        changelist_url(), {"action": "start_next", "_selected_action": [cycle.pk], "index": 0}
    )
    assert response.context["form"].initial["weeks"] == 12


def test_after_an_early_end_the_next_cycle_carries_everyone_running_over(
    organizer_client, running_cycle, pod
):
    cycle = running_cycle
    submit(organizer_client, end_early(organizer_client, cycle))
    cycle.refresh_from_db()
    start_next(
        organizer_client,
        cycle,
        starts_on=(cycle.ends_on + datetime.timedelta(days=1)).isoformat(),
        weeks=15,
        weekly_amount="175.00",
        slots=3,
    )
    new = pod.cycles.get(number=2)
    # Rosa and Sam ran to the end, Kai had left; Dana and Olive pledged to the end, Lee
    # had stopped: the confirmation page said as much.
    assert sorted(new.enrollments.values_list("recipient__display_name", flat=True)) == [
        "Rosa",
        "Sam",
    ]
    assert sorted(new.pledges.values_list("donor__display_name", flat=True)) == ["Dana", "Olive"]
