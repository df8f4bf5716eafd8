"""Organizers' warnings: the alerts page (post, list, take down), tried as a signed-out
visitor, an outsider, a donor and an organizer; and the warning region that every pod
page shows."""

import datetime
import uuid
import zoneinfo

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from pods.models import Alert, Membership

pytestmark = pytest.mark.django_db

LIST = reverse("pods:alerts", args=["maple"])
HEADING = "Warning from your organizers"


def post_alert(pod, message="Nobody from the pod will ask you to pay a new handle.", **fields):
    return Alert.objects.create(pod=pod, message=message, **fields)


def take_down_url(alert):
    return reverse("pods:alert_take_down", args=[alert.pod.slug, alert.pk])


def local_input(pod, when):
    """What an organizer types in the form: `when` on the pod's clock."""
    return when.astimezone(zoneinfo.ZoneInfo(pod.time_zone)).strftime("%Y-%m-%dT%H:%M")


# Who may see and do what.


def test_signed_out_visitor_is_sent_to_sign_in(client, pod):
    alert = post_alert(pod)
    for response in [
        client.get(LIST),
        client.post(LIST, {"message": "Hello"}),
        client.post(take_down_url(alert)),
    ]:
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))
    assert Alert.objects.count() == 1
    alert.refresh_from_db()
    assert alert.taken_down_at is None


def test_outsider_gets_404(client, pod, outsider):
    alert = post_alert(pod)
    client.force_login(outsider)

    assert client.get(LIST).status_code == 404
    assert client.post(LIST, {"message": "Hello"}).status_code == 404
    assert client.post(take_down_url(alert)).status_code == 404

    assert Alert.objects.count() == 1
    alert.refresh_from_db()
    assert alert.taken_down_at is None


def test_donor_gets_403(client, pod, donor):
    alert = post_alert(pod)
    client.force_login(donor)

    assert client.get(LIST).status_code == 403
    assert client.post(LIST, {"message": "Hello"}).status_code == 403
    assert client.post(take_down_url(alert)).status_code == 403

    assert Alert.objects.count() == 1
    alert.refresh_from_db()
    assert alert.taken_down_at is None


def test_organizer_cannot_take_down_another_pods_alert(client, pod, other_pod, organizer):
    theirs = post_alert(other_pod)
    client.force_login(organizer)

    response = client.post(reverse("pods:alert_take_down", args=["maple", theirs.pk]))

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.taken_down_at is None


def test_only_organizers_have_the_alerts_nav_entry(client, pod, organizer, donor):
    client.force_login(donor)
    assert LIST not in client.get(reverse("pods:dashboard", args=["maple"])).text
    client.force_login(organizer)
    assert f'href="{LIST}"' in client.get(reverse("pods:dashboard", args=["maple"])).text


# Posting.


def test_organizer_posts_a_warning_that_shows_until_taken_down(client, pod, organizer):
    client.force_login(organizer)

    response = client.post(
        LIST,
        {
            "message": "  Scam texts are going around.  ",
            "expires_at": "",
            "submission_key": str(uuid.uuid4()),
        },
    )

    assert response.status_code == 302
    assert response.url == LIST
    alert = Alert.objects.get()
    assert alert.pod == pod
    assert alert.message == "Scam texts are going around."
    assert alert.created_by == organizer
    assert alert.expires_at is None
    assert alert.taken_down_at is None
    page = client.get(LIST)
    assert "Your warning now shows on every page of the pod." in page.text
    assert page.context["current"] == [alert]


def test_expiry_is_read_on_the_pods_clock(client, pod, organizer):
    pod.time_zone = "America/Los_Angeles"
    pod.save()
    client.force_login(organizer)
    in_a_week = timezone.localdate(timezone=zoneinfo.ZoneInfo(pod.time_zone)) + datetime.timedelta(
        days=7
    )

    client.post(
        LIST,
        {
            "message": "Meeting moved",
            "expires_at": f"{in_a_week}T18:30",
            "submission_key": str(uuid.uuid4()),
        },
    )

    alert = Alert.objects.get()
    expected = datetime.datetime.combine(
        in_a_week, datetime.time(18, 30), tzinfo=zoneinfo.ZoneInfo("America/Los_Angeles")
    )
    assert alert.expires_at == expected


def nonexistent_local_time():
    """The next half past two of a spring-forward night in New York, within a year."""
    now = timezone.now()
    for year in (now.year, now.year + 1):
        march = datetime.date(year, 3, 1)
        second_sunday = march + datetime.timedelta(days=(6 - march.weekday()) % 7 + 7)
        moment = datetime.datetime.combine(second_sunday, datetime.time(12), tzinfo=datetime.UTC)
        if now < moment < now + datetime.timedelta(days=360):
            return f"{second_sunday}T02:30"
    raise AssertionError("no spring-forward night within a year")


@pytest.mark.parametrize(
    "data",
    [
        {"message": ""},
        {"message": "   \n  "},
        {"message": "x" * 1001},
        {"message": "Hello", "expires_at": "not a date"},
        {"message": "Hello", "expires_at": "2020-01-01T10:00"},
        {"message": "Hello", "expires_at": "99999-01-01T10:00"},
        {"message": "Hello", "expires_at": "9999-12-31T23:59"},
        {"message": "Hello", "expires_at": "past"},
        {"message": "Hello", "expires_at": "nonexistent"},
        {},
    ],
)
def test_invalid_input_is_a_form_error_and_saves_nothing(client, pod, organizer, data):
    if data.get("expires_at") == "past":
        # A minute ago on the pod's clock: today, but already gone.
        data = {
            **data,
            "expires_at": local_input(pod, timezone.now() - datetime.timedelta(minutes=2)),
        }
    if data.get("expires_at") == "nonexistent":
        data = {**data, "expires_at": nonexistent_local_time()}
    client.force_login(organizer)

    response = client.post(LIST, data)

    assert response.status_code == 200
    assert response.context["form"].errors
    assert 'class="errorlist' in response.text
    assert not Alert.objects.exists()


def test_a_past_expiry_says_why(client, pod, organizer):
    client.force_login(organizer)

    response = client.post(LIST, {"message": "Hello", "expires_at": "2020-01-01T10:00"})

    assert response.context["form"].errors["expires_at"] == [
        "That time has passed. Choose a later one, or leave it empty."
    ]


def test_message_is_plain_text_with_its_line_breaks(client, pod, donor):
    post_alert(pod, message='Beware of <script>alert("x")</script> & co.\nCall Olive first.')
    client.force_login(donor)

    text = client.get(reverse("pods:dashboard", args=["maple"])).text

    assert "<script>alert" not in text
    assert (
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co.<br>Call Olive first." in text
    )


# Listing and taking down.


def test_list_shows_current_and_past_alerts(client, pod, organizer):
    now = timezone.now()
    showing = post_alert(pod, message="Still true", created_by=organizer)
    ending = post_alert(pod, message="Until Friday", expires_at=now + datetime.timedelta(days=2))
    expired = post_alert(pod, message="Old news", expires_at=now - datetime.timedelta(hours=1))
    down = post_alert(pod, message="Taken back", taken_down_at=now)
    client.force_login(organizer)

    response = client.get(LIST)

    assert response.status_code == 200
    assert set(response.context["current"]) == {showing, ending}
    assert set(response.context["past"]) == {expired, down}
    assert "by <bdi>Olive</bdi>" in response.text
    assert "Taken down" in response.text
    assert "Ended" in response.text
    # Only what is showing can be taken down.
    assert response.text.count("Take it down") == 2


def test_list_does_not_show_other_pods_alerts(client, pod, other_pod, organizer):
    post_alert(other_pod, message="Elm only")
    client.force_login(organizer)

    response = client.get(LIST)

    assert response.context["current"] == []
    assert response.context["past"] == []
    assert "Elm only" not in response.text


def test_organizer_takes_a_warning_down(client, pod, organizer, donor):
    alert = post_alert(pod, message="Scam texts are going around.")
    client.force_login(organizer)

    response = client.post(take_down_url(alert))

    assert response.status_code == 302
    assert response.url == LIST
    alert.refresh_from_db()
    assert alert.taken_down_at is not None
    client.force_login(donor)
    text = client.get(reverse("pods:dashboard", args=["maple"])).text
    assert "Scam texts" not in text
    assert HEADING not in text


def test_taking_down_twice_keeps_the_first_time(client, pod, organizer):
    alert = post_alert(pod)
    client.force_login(organizer)
    client.post(take_down_url(alert))
    alert.refresh_from_db()
    first = alert.taken_down_at

    response = client.post(take_down_url(alert), follow=True)

    assert "already taken down" in response.text
    alert.refresh_from_db()
    assert alert.taken_down_at == first


def test_take_down_needs_post(client, pod, organizer):
    alert = post_alert(pod)
    client.force_login(organizer)

    assert client.get(take_down_url(alert)).status_code == 405
    alert.refresh_from_db()
    assert alert.taken_down_at is None


def test_list_runs_the_same_queries_for_many_alerts(
    client, pod, organizer, django_assert_max_num_queries
):
    client.force_login(organizer)
    post_alert(pod, created_by=organizer)
    post_alert(pod, taken_down_at=timezone.now(), created_by=organizer)
    with django_assert_max_num_queries(7) as few:
        client.get(LIST)
    for n in range(30):
        post_alert(pod, message=f"Alert {n}", created_by=organizer)
        post_alert(pod, message=f"Old {n}", taken_down_at=timezone.now(), created_by=organizer)
    with django_assert_max_num_queries(7) as many:
        client.get(LIST)
    assert len(few.captured_queries) == len(many.captured_queries)


# Shown on every page of the pod.


@pytest.mark.parametrize(
    "name",
    [
        "pods:dashboard",
        "pods:members",
        "pods:pledge",
        "pods:this_week",
        "pods:leave",
        "pods:alerts",
        "pods:invitations",
        "receipts:board",
        "receipts:receipt_create",
        "recipients:refer",
        "recipients:waitlist",
    ],
)
def test_a_warning_shows_on_every_pod_page(client, pod, organizer, cycle, name):
    post_alert(pod, message="Only pay the handle on the this-week page.")
    client.force_login(organizer)

    response = client.get(reverse(name, args=["maple"]))

    assert response.status_code == 200
    assert HEADING in response.text
    assert "Only pay the handle on the this-week page." in response.text


@pytest.mark.parametrize(
    "name", ["pods:dashboard", "pods:members", "pods:pledge", "pods:this_week", "receipts:board"]
)
def test_donors_see_the_warning_too(client, pod, donor, cycle, name):
    post_alert(pod, message="Only pay the handle on the this-week page.")
    client.force_login(donor)

    text = client.get(reverse(name, args=["maple"])).text

    assert "Only pay the handle on the this-week page." in text
    # Managing it is for organizers.
    assert "Manage alerts" not in text


def test_warning_is_a_labelled_region_not_a_live_alert(client, pod, donor):
    post_alert(pod)
    client.force_login(donor)

    text = client.get(reverse("pods:dashboard", args=["maple"])).text

    assert '<section class="pod-alerts" aria-labelledby="pod-alerts-heading">' in text
    assert '<h2 id="pod-alerts-heading">' in text
    assert 'role="alert"' not in text


def test_no_region_without_a_warning(client, pod, donor):
    client.force_login(donor)
    assert HEADING not in client.get(reverse("pods:dashboard", args=["maple"])).text


def test_an_expired_warning_disappears(client, pod, donor):
    alert = post_alert(
        pod, message="Until noon", expires_at=timezone.now() + datetime.timedelta(hours=1)
    )
    client.force_login(donor)
    assert "Until noon" in client.get(reverse("pods:members", args=["maple"])).text

    Alert.objects.filter(pk=alert.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )

    text = client.get(reverse("pods:members", args=["maple"])).text
    assert "Until noon" not in text
    assert HEADING not in text


def test_another_pods_warning_never_shows(client, pod, other_pod, donor, make_user):
    post_alert(other_pod, message="Elm only")
    # Even for someone in both pods.
    Membership.objects.create(pod=other_pod, user=donor)
    client.force_login(donor)

    text = client.get(reverse("pods:dashboard", args=["maple"])).text

    assert "Elm only" not in text
    assert HEADING not in text
    assert "Elm only" in client.get(reverse("pods:dashboard", args=["elm"])).text


def test_newest_warning_comes_first(client, pod, donor):
    post_alert(pod, message="First warning")
    post_alert(pod, message="Second warning")
    client.force_login(donor)

    text = client.get(reverse("pods:dashboard", args=["maple"])).text

    assert text.index("Second warning") < text.index("First warning")


def test_the_region_costs_one_query_whatever_the_number_of_alerts(pod, django_assert_num_queries):
    template = Template("{% load alerts %}{% pod_alerts pod %}")
    post_alert(pod)
    with django_assert_num_queries(1):
        one = template.render(Context({"pod": pod}))
    for n in range(20):
        post_alert(pod, message=f"Alert {n}")
    with django_assert_num_queries(1):
        many = template.render(Context({"pod": pod}))
    assert one.count('class="pod-alert"') == 1
    assert many.count('class="pod-alert"') == 21


def test_dashboard_runs_the_same_queries_with_many_alerts(
    client, pod, donor, cycle, django_assert_num_queries
):
    client.force_login(donor)
    post_alert(pod)
    with django_assert_num_queries(9) as one:
        client.get(reverse("pods:dashboard", args=["maple"]))
    for n in range(20):
        post_alert(pod, message=f"Alert {n}")
    with django_assert_num_queries(9) as many:
        client.get(reverse("pods:dashboard", args=["maple"]))
    assert len(one.captured_queries) == len(many.captured_queries)
