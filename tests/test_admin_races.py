"""Two organizers saving the same thing in the admin at the same moment: the database
refuses the second save (a slot held twice in a week, say), and the admin shows it as a
form error on the page as it was filled in, never a 500, with nothing of it saved.

The threaded tests run on PostgreSQL, with real threads and connections (see
tests/recipients/test_concurrency.py). The first test shows the same path on any
database, with the other organizer's save made just before this one's."""

import threading
import time

import psycopg
import pytest
from django.contrib import admin
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.test import Client, RequestFactory
from django.urls import reverse

from pods.models import Membership
from recipients.admin import EnrollmentAdmin
from recipients.models import Enrollment, Recipient

REFUSED = "Someone else saved a change here at the same moment, so yours was not saved."
FREE_SLOT = 3  # the `cycle` fixture has 3 slots; Rosa (the `enrollment`) holds slot 1


def enrollment_data(cycle, recipient, slot=FREE_SLOT):
    """The Enrollment admin's add page, filled in for `recipient` from week 7."""
    return {
        "cycle": cycle.pk,
        "recipient": recipient.pk,
        "slot": slot,
        "first_week": 7,
        "last_week": 15,
        "status": "active",
        "end_reason": "",
    }


class SomeoneSavedFirst(EnrollmentAdmin):
    """The enrollment admin, with another organizer's enrollment into the same slot
    saved after this page was checked and just before its own: what a race does."""

    def save_model(self, request, obj, form, change):
        rival = Recipient.objects.create(pod=obj.cycle.pod, display_name="Rival")
        Enrollment.objects.create(
            recipient=rival, cycle=obj.cycle, slot=FREE_SLOT, first_week=1, last_week=15
        )
        super().save_model(request, obj, form, change)


@pytest.mark.django_db
def test_a_save_the_database_refuses_comes_back_as_a_form_error(organizer, pod, cycle, enrollment):
    sam = Recipient.objects.create(pod=pod, display_name="Sam")
    data = enrollment_data(cycle, sam)
    request = RequestFactory().post(reverse("admin:recipients_enrollment_add"), data)
    request.user = organizer
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    request._dont_enforce_csrf_checks = True

    response = SomeoneSavedFirst(Enrollment, admin.site).add_view(request)
    response.render()

    assert response.status_code == 200
    text = response.content.decode()
    assert REFUSED in text
    # The page is as the organizer filled it in: Sam is still picked, to save again.
    assert f'value="{sam.pk}" selected' in text
    # Nothing of either save is kept (the rival's was this transaction's own).
    assert list(cycle.enrollments.all()) == [enrollment]


# With real threads, on PostgreSQL


def on_postgres(test):
    for mark in [
        pytest.mark.postgres,
        pytest.mark.skipif(
            connection.vendor != "postgresql", reason="needs concurrent transactions"
        ),
        pytest.mark.django_db(transaction=True),
    ]:
        test = mark(test)
    return test


def at_once(posts):
    """Send each (client, url, data) in its own thread and connection, all released
    together. Returns each response, or the exception a request raised (a 500)."""
    barrier = threading.Barrier(len(posts))
    outcomes = [None] * len(posts)

    def attempt(index, client, url, data):
        try:
            barrier.wait(timeout=10)
            outcomes[index] = client.post(url, data)
        except Exception as error:  # a 500, raised by the test client
            outcomes[index] = error
        finally:
            connection.close()

    threads = [
        threading.Thread(target=attempt, args=(index, *post)) for index, post in enumerate(posts)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def at_once_behind_the_pod(posts, pod):
    """at_once, with every request's check made before any save: another connection
    holds the pod's row, which each save needs (the board version the database bumps on
    an enrollment's save, see Pod.board_version), until every request waits for it, so that
    all of them have checked the slot while it was free. Then one save wins and the
    others meet the database's rule: the race is run every time, not by luck of timing."""
    params = {
        key: value
        for key, value in connection.get_connection_params().items()
        if key not in ("cursor_factory", "context")
    }
    outcomes = []
    with psycopg.connect(**params) as holder, psycopg.connect(**params, autocommit=True) as watch:
        holder.execute("SELECT id FROM pods_pod WHERE id = %s FOR UPDATE", [pod.pk])
        runner = threading.Thread(target=lambda: outcomes.extend(at_once(posts)))
        runner.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            (waiting,) = watch.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).fetchone()
            if waiting >= len(posts):
                break
            time.sleep(0.05)
        holder.rollback()
        runner.join(timeout=60)
    return outcomes


@pytest.fixture
def organizers(pod, make_user, organizer):
    """Eight organizers of the pod, each signed in on a browser of their own."""
    people = [organizer] + [make_user(f"org{n}@example.org") for n in range(1, 8)]
    for person in people[1:]:
        Membership.objects.create(pod=pod, user=person, role=Membership.Role.ORGANIZER)
    clients = []
    for person in people:
        client = Client()
        client.force_login(person)
        clients.append(client)
    return clients


def sort_out(outcomes):
    """(saved, refused by a check, refused by the database); fails on any 500."""
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert not errors, errors
    assert all(o.status_code in (200, 302) for o in outcomes), [o.status_code for o in outcomes]
    saved = [o for o in outcomes if o.status_code == 302]
    refused = [o for o in outcomes if o.status_code == 200]
    by_database = [o for o in refused if REFUSED in o.text]
    return saved, refused, by_database


@on_postgres
@pytest.mark.parametrize("round_", range(3))
def test_organizers_adding_enrollments_into_one_free_slot_at_once(
    pod, cycle, enrollment, organizers, round_
):
    recipients = [Recipient.objects.create(pod=pod, display_name=f"N{n}") for n in range(8)]
    url = reverse("admin:recipients_enrollment_add")
    posts = [
        (client, url, enrollment_data(cycle, recipient))
        for client, recipient in zip(organizers, recipients, strict=True)
    ]

    saved, refused, by_database = sort_out(at_once_behind_the_pod(posts, pod))

    assert len(saved) == 1
    assert len(refused) == 7
    held = cycle.enrollments.filter(slot=FREE_SLOT)
    assert held.count() == 1
    assert held.get().recipient_id in {r.pk for r in recipients}
    assert cycle.enrollments.count() == 2
    # Each refusal names what went wrong: the slot now taken, or the race itself.
    for response in refused:
        assert REFUSED in response.text or f"holds slot {FREE_SLOT}" in response.text
    assert by_database, "no save reached the database's rule: the race was not run"
