"""pledges.services.change_planned_cycle: a cycle that has not started changes its start,
amount or slots, and every stored week's plan is rebuilt for it, even a week the new
start makes begin today."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail

from pledges import services
from pledges.models import Pledge
from pods.models import Cycle
from recipients.services import enroll

pytestmark = pytest.mark.django_db


@pytest.fixture
def planned(pod, recipient, donor):
    cycle = Cycle.objects.create(
        pod=pod,
        number=1,
        starts_on=pod.today() + datetime.timedelta(days=3),
        weeks=15,
        weekly_amount=Decimal("175.00"),
        slots=3,
    )
    enroll(recipient=recipient, cycle=cycle)
    Pledge.objects.create(cycle=cycle, donor=donor, amount=Decimal("300.00"), last_week=15)
    return cycle


def lines(cycle, week):
    return [(line.payer_id, line.amount) for line in services.week_plan(cycle=cycle, week=week)]


def test_moving_the_start_to_today_rebuilds_week_1(pod, planned, donor):
    assert lines(planned, 1) == [(donor.pk, Decimal("175.00"))]
    services.change_planned_cycle(
        cycle=planned, starts_on=pod.today(), weekly_amount=Decimal("250.00"), slots=3
    )
    planned.refresh_from_db()
    assert planned.has_started(1)
    assert lines(planned, 1) == [(donor.pk, Decimal("250.00"))]
    assert [owed.owed for owed in services.owed_lines(cycle=planned, week=1)] == [Decimal("250.00")]


def test_a_payer_who_saw_week_1_is_told_it_changed(
    django_capture_on_commit_callbacks, pod, planned, donor
):
    services.week_plan(cycle=planned, week=1)
    services.saw_week(cycle=planned, week=1, payer=donor)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.change_planned_cycle(
            cycle=planned, starts_on=pod.today(), weekly_amount=Decimal("250.00"), slots=3
        )
    assert [m.to for m in mail.outbox] == [[donor.email]]


def test_a_cycle_that_has_started_still_refuses_the_change(pod, planned, donor):
    Cycle.objects.filter(pk=planned.pk).update(starts_on=pod.today())
    planned.refresh_from_db()
    with pytest.raises(services.ValidationError):
        services.change_planned_cycle(
            cycle=planned, starts_on=pod.today(), weekly_amount=Decimal("250.00"), slots=3
        )
    assert lines(planned, 1) == [(donor.pk, Decimal("175.00"))]
