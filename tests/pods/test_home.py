import datetime

import pytest
from django.urls import reverse
from django.utils.formats import date_format

from pods.models import Cycle

pytestmark = pytest.mark.django_db


def test_signed_out_visitor_sees_what_the_app_is(client):
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert b"invitation" in response.content
    assert reverse("account_login").encode() in response.content


def test_member_sees_their_pod_with_cycle_and_week(client, donor, cycle):
    client.force_login(donor)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "Maple Street Pod" in response.text
    assert "Cycle 1" in response.text
    assert "week 6 of 15" in response.text


def home_text(client):
    return " ".join(client.get(reverse("home")).text.split())


def test_a_planned_next_cycle_waits_for_its_first_day(client, donor, cycle, pod):
    Cycle.objects.create(pod=pod, number=2, starts_on=cycle.ends_on + datetime.timedelta(days=1))
    client.force_login(donor)
    text = home_text(client)
    assert "Cycle 1 · week 6 of 15" in text
    assert "Cycle 2" not in text


def test_between_two_cycles_the_next_one_shows_with_its_date(client, donor, pod):
    today = pod.today()
    Cycle.objects.create(pod=pod, number=1, starts_on=today - datetime.timedelta(weeks=16))
    upcoming = Cycle.objects.create(pod=pod, number=2, starts_on=today + datetime.timedelta(days=3))
    client.force_login(donor)
    assert f"Cycle 2 · starts {date_format(upcoming.starts_on)}" in home_text(client)


def test_after_the_last_cycle_its_weeks_are_over(client, donor, pod):
    Cycle.objects.create(pod=pod, number=1, starts_on=pod.today() - datetime.timedelta(weeks=16))
    client.force_login(donor)
    assert "Cycle 1 · its weeks are over" in home_text(client)


def test_outsider_does_not_see_another_pod(client, outsider, cycle):
    client.force_login(outsider)
    response = client.get(reverse("home"))
    assert "Maple Street Pod" not in response.text
    assert "Elm Street Pod" in response.text


def test_person_without_pod_is_told_how_to_join(client, make_user):
    client.force_login(make_user("new@example.org"))
    response = client.get(reverse("home"))
    assert "invitation link" in response.text


def test_home_query_count_does_not_grow_with_pods(client, make_user, django_assert_max_num_queries):
    from pods.models import Membership, Pod

    user = make_user("many@example.org")
    client.force_login(user)

    def add_pods(count, start):
        for n in range(start, start + count):
            pod = Pod.objects.create(name=f"Pod {n}", slug=f"pod-{n}")
            Membership.objects.create(pod=pod, user=user)
            Cycle.objects.create(pod=pod, number=1, starts_on=pod.today())

    add_pods(1, 0)
    with django_assert_max_num_queries(6) as one:
        client.get(reverse("home"))
    add_pods(20, 1)
    with django_assert_max_num_queries(6) as many:
        client.get(reverse("home"))
    assert len(one.captured_queries) == len(many.captured_queries)
