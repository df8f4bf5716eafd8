"""Database rules the app's own pages can meet under a race, on PostgreSQL with real
threads (see tests/recipients/test_concurrency.py): one person joining a pod through two
invitation links at the same moment (two tabs) becomes one member, never a 500.

The forms that create something (referrals, alerts, invitations, receipts) are tried
sent many times at once in tests/test_double_submit.py and tests/receipts/test_post.py."""

import datetime
import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from pods.models import Invitation, Membership

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent transactions"),
    pytest.mark.django_db(transaction=True),
]


def at_once(*calls):
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def attempt(index, call):
        try:
            barrier.wait(timeout=10)
            outcomes[index] = call()
        except Exception as error:
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def invitation(pod, role):
    made = Invitation(
        pod=pod, role=role, max_uses=5, expires_at=timezone.now() + datetime.timedelta(days=7)
    )
    token = made.new_token()
    made.save()
    return made, token


@pytest.mark.parametrize("round_", range(5))
def test_joining_through_two_links_at_once_makes_one_member(pod, make_user, round_):
    person = make_user(f"nia{round_}@example.org")
    links = [invitation(pod, "donor")[1], invitation(pod, "organizer")[1]]
    browsers = []
    for _ in links:
        browser = Client()
        browser.force_login(person)
        browsers.append(browser)

    outcomes = at_once(
        *[
            lambda b=browser, t=token: b.post(reverse("users:join", args=[t]))
            for browser, token in zip(browsers, links, strict=True)
        ]
    )

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    # Joined (302), or, when the other link got there first, told so on the page (200).
    assert sorted(o.status_code for o in outcomes) in ([302, 302], [200, 302])
    membership = Membership.objects.get(pod=pod, user=person)
    assert membership.active
