"""What each payer still owes in a week is cached (pledges.services.week_owed) under the
pod's board version, which the database bumps in the same transaction as every write of
a plan line, a receipt, an enrollment or a cycle: a change shows on the very next request,
and one pod's lines are never another's."""

import uuid
from decimal import Decimal

import pytest
from django.urls import reverse

from pledges import services
from pledges.models import Assignment, Pledge
from pods.models import Cycle, Membership, Pod
from receipts.services import post_receipt
from recipients.models import Recipient
from recipients.services import enroll

pytestmark = pytest.mark.django_db

WEEK = 6  # the `cycle` fixture started five weeks ago


def version(pod):
    return Pod.objects.values_list("board_version", flat=True).get(pk=pod.pk)


def this_week(client, user, pod):
    client.force_login(user)
    response = client.get(reverse("pods:this_week", args=[pod.slug]))
    assert response.status_code == 200
    return response


def owed(response):
    return [(line.recipient.display_name, line.outstanding) for line in response.context["mine"]]


@pytest.fixture
def rosa_owed(cycle, donor, recipient, enrollment):
    Pledge.objects.create(cycle=cycle, donor=donor, amount=Decimal("175.00"), last_week=15)
    return cycle


def test_every_write_of_a_plan_line_bumps_the_pods_version(rosa_owed, pod, donor, recipient):
    cycle = rosa_owed
    before = version(pod)
    services.week_plan(cycle=cycle, week=WEEK)
    built = version(pod)
    assert built > before
    line = Assignment.objects.get(cycle=cycle, week=WEEK)
    line.amount = Decimal("100.00")
    line.save()
    assert version(pod) > built
    changed = version(pod)
    Assignment.objects.filter(pk=line.pk).delete()
    assert version(pod) > changed


def test_a_receipt_posted_then_voided_shows_on_the_very_next_request(
    client, rosa_owed, pod, donor, recipient
):
    cycle = rosa_owed
    assert owed(this_week(client, donor, pod)) == [("Rosa", Decimal("175.00"))]
    assert owed(this_week(client, donor, pod)) == [("Rosa", Decimal("175.00"))]  # cached
    receipt, _new = post_receipt(
        pod=pod,
        cycle=cycle,
        posted_by=donor,
        payer=donor,
        recipient=recipient,
        week=WEEK,
        amount=Decimal("75.00"),
        method="cashapp",
        sent_on=cycle.week_starts_on(WEEK),
        submission_key=uuid.uuid4(),
    )
    assert owed(this_week(client, donor, pod)) == [("Rosa", Decimal("100.00"))]
    receipt.void(by=donor, reason="Wrong amount")
    assert owed(this_week(client, donor, pod)) == [("Rosa", Decimal("175.00"))]


def test_an_organizers_correction_of_a_started_week_shows_at_once(
    client, rosa_owed, pod, donor, organizer, recipient
):
    cycle = rosa_owed
    assert owed(this_week(client, donor, pod)) == [("Rosa", Decimal("175.00"))]
    services.set_week_plan(
        cycle=cycle,
        week=WEEK,
        lines=[(donor.pk, recipient.pk, Decimal("60.00"))],
        correcting_started=True,
        recipient_id=recipient.pk,
    )
    assert owed(this_week(client, donor, pod)) == [("Rosa", Decimal("60.00"))]
    # The organizers' figures too, from the same cached lines.
    assert this_week(client, organizer, pod).context["planned"] == Decimal("60.00")


def test_one_pods_lines_are_never_anothers(client, rosa_owed, pod, donor, other_pod, make_user):
    """Two pods at the same version and week: each member sees their own pod's lines."""
    elm = Cycle.objects.create(
        pod=other_pod,
        number=1,
        starts_on=rosa_owed.starts_on,
        weeks=15,
        weekly_amount=Decimal("175.00"),
        slots=2,
    )
    ezra = make_user("ezra@example.org", display_name="Ezra")
    Membership.objects.create(pod=other_pod, user=ezra)
    enroll(recipient=Recipient.objects.create(pod=other_pod, display_name="Inés"), cycle=elm)
    Pledge.objects.create(cycle=elm, donor=ezra, amount=Decimal("50.00"), last_week=15)
    for each in (pod, other_pod):
        services.week_plan(cycle=each.cycles.get(), week=WEEK)
    # The same version in both pods, so that only the pod tells their keys apart.
    while version(pod) != version(other_pod):
        lower = pod if version(pod) < version(other_pod) else other_pod
        Pod.objects.filter(pk=lower.pk).update(name=lower.name)
    assert owed(this_week(client, donor, pod)) == [("Rosa", Decimal("175.00"))]
    assert owed(this_week(client, ezra, other_pod)) == [("Inés", Decimal("50.00"))]
    assert owed(this_week(client, donor, pod)) == [("Rosa", Decimal("175.00"))]
