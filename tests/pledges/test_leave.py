import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from pledges.models import Pledge
from pledges.services import leave_pod
from pods.models import Cycle, Membership
from receipts.models import Receipt
from tests.pods.crowd import add_donors

pytestmark = pytest.mark.django_db


def url(pod):
    return reverse("pods:leave", args=[pod.slug])


def membership(pod, user):
    return Membership.objects.get(pod=pod, user=user)


def pledge(cycle, donor, amount, first_week=1, last_week=15, status=Pledge.Status.ACTIVE):
    return Pledge.objects.create(
        cycle=cycle,
        donor=donor,
        amount=Decimal(amount),
        first_week=first_week,
        last_week=last_week,
        status=status,
    )


def test_signed_out_visitor_is_sent_to_sign_in(client, pod, donor):
    for response in (client.get(url(pod)), client.post(url(pod))):
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))
    assert membership(pod, donor).active


def test_member_of_another_pod_gets_404_and_nobody_leaves(client, outsider, pod, donor):
    client.force_login(outsider)
    assert client.get(url(pod)).status_code == 404
    assert client.post(url(pod)).status_code == 404
    assert membership(pod, donor).active
    assert Membership.objects.get(user=outsider).active


def test_donor_is_asked_to_confirm(client, donor, pod):
    client.force_login(donor)
    response = client.get(url(pod))
    assert response.status_code == 200
    assert "Yes, leave the pod" in response.text
    assert membership(pod, donor).active


def test_donor_leaves_and_no_longer_sees_the_pod(client, donor, pod, cycle):
    client.force_login(donor)
    response = client.post(url(pod))
    assert response.status_code == 302
    assert response.url == reverse("home")
    assert not membership(pod, donor).active
    assert client.get(reverse("pods:dashboard", args=[pod.slug])).status_code == 404


def test_leaving_keeps_this_week_and_the_past_and_ends_the_rest(
    client, donor, pod, cycle, enrollment
):
    # Week 6 of 15.
    past = pledge(cycle, donor, "10.00", last_week=3)
    running = pledge(cycle, donor, "20.00", first_week=4, last_week=6)
    current = pledge(cycle, donor, "25.00", first_week=6)
    upcoming = pledge(cycle, donor, "30.00", first_week=7)
    receipt = Receipt.objects.create(
        pod=pod,
        cycle=cycle,
        week=2,
        recipient=enrollment.recipient,
        payer=donor,
        amount=Decimal("10.00"),
        method="cashapp",
        sent_on=cycle.week_starts_on(2),
        posted_by=donor,
    )
    client.force_login(donor)
    client.post(url(pod))
    for p in (past, running, current, upcoming):
        p.refresh_from_db()
    assert (past.first_week, past.last_week, past.status) == (1, 3, "active")
    assert (running.first_week, running.last_week, running.status) == (4, 6, "active")
    assert (current.first_week, current.last_week, current.status) == (6, 6, "active")
    assert (upcoming.first_week, upcoming.last_week, upcoming.status) == (7, 15, "cancelled")
    assert Pledge.objects.filter(donor=donor).count() == 4
    receipt.refresh_from_db()
    assert receipt.payer == donor
    assert Receipt.objects.count() == 1


def test_leaving_before_the_cycle_starts_cancels_its_pledges(client, donor, pod):
    cycle = Cycle.objects.create(
        pod=pod, number=1, starts_on=pod.today() + datetime.timedelta(days=5)
    )
    planned = pledge(cycle, donor, "25.00")
    client.force_login(donor)
    client.post(url(pod))
    planned.refresh_from_db()
    assert planned.status == Pledge.Status.CANCELLED


def test_only_organizer_cannot_leave(client, organizer, donor, pod):
    client.force_login(organizer)
    page = client.get(url(pod))
    assert page.status_code == 200
    assert "only organizer" in page.text
    assert "Yes, leave the pod" not in page.text
    response = client.post(url(pod))
    assert response.status_code == 200
    assert "only organizer" in response.text
    assert membership(pod, organizer).active


def test_organizer_leaves_when_another_organizer_stays(client, organizer, pod, make_user):
    other = make_user("oscar@example.org")
    Membership.objects.create(pod=pod, user=other, role=Membership.Role.ORGANIZER)
    client.force_login(organizer)
    assert "Yes, leave the pod" in client.get(url(pod)).text
    assert client.post(url(pod)).status_code == 302
    assert not membership(pod, organizer).active
    assert membership(pod, other).active


def test_query_count_is_the_same_for_5_and_500_donors(
    client, donor, pod, cycle, django_assert_num_queries
):
    client.force_login(donor)
    add_donors(pod, cycle, 5)
    with django_assert_num_queries(4) as small:
        assert client.get(url(pod)).status_code == 200
    add_donors(pod, cycle, 495, start=5)
    with django_assert_num_queries(4) as large:
        assert client.get(url(pod)).status_code == 200
    assert len(small.captured_queries) == len(large.captured_queries)


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
@pytest.mark.django_db(transaction=True)
def test_two_last_organizers_leaving_at_once_leave_one_behind(organizer, pod, make_user):
    other = make_user("oscar@example.org")
    Membership.objects.create(pod=pod, user=other, role=Membership.Role.ORGANIZER)
    barrier = threading.Barrier(2)
    outcomes = []

    def leave(user):
        try:
            barrier.wait(timeout=10)
            leave_pod(membership=Membership.objects.get(pod=pod, user=user))
            outcomes.append("left")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=leave, args=(user,)) for user in (organizer, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["left", "refused"]
    assert pod.memberships.organizers().count() == 1
