from decimal import Decimal

import pytest
from django.db import transaction
from django.utils.formats import date_format

from pledges.models import Pledge
from pledges.services import start_next_cycle
from pods.models import Membership

pytestmark = pytest.mark.django_db


def pledge(cycle, donor, amount, first_week=1, last_week=15, status=Pledge.Status.ACTIVE):
    return Pledge.objects.create(
        cycle=cycle,
        donor=donor,
        amount=Decimal(amount),
        first_week=first_week,
        last_week=last_week,
        status=status,
    )


@pytest.fixture
def rolling(cycle, donor, organizer, make_user, pod):
    """Dana and Olive pledge to the end of the cycle; others do not roll over."""
    pledge(cycle, donor, "10.00", last_week=5)
    pledge(cycle, donor, "25.00", first_week=6)
    pledge(cycle, organizer, "1500.00")
    stopped = make_user("stopped@example.org")
    Membership.objects.create(pod=pod, user=stopped)
    pledge(cycle, stopped, "30.00", last_week=8)
    paused = make_user("paused@example.org")
    Membership.objects.create(pod=pod, user=paused)
    pledge(cycle, paused, "40.00", status=Pledge.Status.PAUSED)
    return cycle


def test_each_donor_whose_pledge_rolled_over_gets_one_email(
    rolling, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://pods.example.net/"
    with django_capture_on_commit_callbacks(execute=True):
        new = start_next_cycle(cycle=rolling)

    assert sorted(m.to[0] for m in mailoutbox) == ["dana@example.org", "olive@example.org"]
    by_address = {m.to[0]: m for m in mailoutbox}
    message = by_address["dana@example.org"]
    assert message.subject == "Your pledge to Maple Street Pod continues in cycle 2"
    assert "Hello Dana," in message.body
    assert "$25.00 a week" in message.body
    # It says when the pledge carries on: cycle 1 keeps running until cycle 2 starts.
    assert f"runs for 15 weeks from {date_format(new.starts_on, 'DATE_FORMAT')}." in (message.body)
    assert "https://pods.example.net/pods/maple/pledge/" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert 'href="https://pods.example.net/pods/maple/pledge/"' in html
    assert "$1,500.00 a week" in by_address["olive@example.org"].body
    # And the pledges did roll over.
    assert sorted(new.pledges.values_list("amount", flat=True)) == [
        Decimal("25.00"),
        Decimal("1500.00"),
    ]


def test_email_waits_for_the_commit(rolling, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        start_next_cycle(cycle=rolling)
        assert mailoutbox == []
    assert len(callbacks) == 1


def test_no_email_when_the_rollover_is_rolled_back(
    rolling, mailoutbox, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        start_next_cycle(cycle=rolling)
        raise RuntimeError("the organizer's request failed later on")
    assert mailoutbox == []
    assert rolling.pod.cycles.count() == 1


def test_someone_who_left_in_the_last_week_is_not_rolled_over(
    cycle, donor, pod, mailoutbox, django_capture_on_commit_callbacks
):
    pledge(cycle, donor, "25.00")
    Membership.objects.filter(pod=pod, user=donor).update(active=False)
    with django_capture_on_commit_callbacks(execute=True):
        new = start_next_cycle(cycle=cycle)
    assert not new.pledges.exists()
    assert mailoutbox == []


def test_text_email_is_not_html_escaped(
    cycle, make_user, pod, mailoutbox, django_capture_on_commit_callbacks
):
    pod.name = "O'Hara & Friends"
    pod.save()
    neighbor = make_user("kim@example.org", display_name="Kim")
    Membership.objects.create(pod=pod, user=neighbor)
    pledge(cycle, neighbor, "5.00")
    with django_capture_on_commit_callbacks(execute=True):
        start_next_cycle(cycle=cycle)
    (message,) = mailoutbox
    assert message.subject == "Your pledge to O'Hara & Friends continues in cycle 2"
    assert "Cycle 2 of O'Hara & Friends runs for 15 weeks" in message.body
    assert "O&#x27;Hara &amp; Friends" in message.alternatives[0][0]
