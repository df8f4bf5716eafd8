"""Every date and time the admin or the app takes stays within a range the calendar can
work with: an alert shown until 9999-12-31 in a pod east of UTC, an invitation expiring
then or a cycle starting then used to make every page of the pod a 500. The admin and
the app refuse such dates with a clear message and save nothing; the database refuses
them too (years 2000 to 2199)."""

import datetime
import uuid
import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from mutualaid.dates import END_MOMENT, FIRST_MOMENT, LAST_DAY
from pods.models import Alert, Cycle, Invitation
from recipients.models import Enrollment

pytestmark = pytest.mark.django_db

FAR = {"_0": "9999-12-31", "_1": "23:59:59"}
OUT_OF_RANGE = "Enter a date between 2000 and 2199."
TOO_FAR = "That is too far ahead: choose a date up to"


@pytest.fixture
def east(pod):
    """The pod lives east of UTC, where 9999-12-31 23:59 UTC is already year 10000."""
    pod.time_zone = "Asia/Tokyo"
    pod.save()
    return pod


@pytest.fixture
def organizer_client(client, organizer):
    client.force_login(organizer)
    return client


def split(field, day, time="12:00:00"):
    """The admin's two boxes for a date and time."""
    return {f"{field}_0": day, f"{field}_1": time}


def in_days(days):
    return (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


def errors_of(response):
    """Every error the admin page shows, field and non-field, as one text."""
    form = response.context["adminform"].form
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


def pod_pages_open(client, pod):
    for name in ["pods:dashboard", "pods:this_week", "pods:alerts", "pods:invitations"]:
        response = client.get(reverse(name, args=[pod.slug]))
        assert response.status_code == 200, name


def no_new_rows(page):
    """The management form of each inline on an admin page, posting no extra row."""
    data = {}
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        data[management.add_prefix("TOTAL_FORMS")] = management["INITIAL_FORMS"].value()
    return data


# Alerts in the admin


@pytest.mark.parametrize(
    ("day", "time", "message"),
    [
        ("9999-12-31", "23:59:59", OUT_OF_RANGE),
        ("0001-01-01", "00:00:00", OUT_OF_RANGE),
        ("2250-06-01", "12:00:00", OUT_OF_RANGE),
        (in_days(400), "12:00:00", TOO_FAR),
    ],
)
def test_admin_refuses_an_alert_shown_too_far_ahead(
    organizer_client, east, cycle, day, time, message
):
    response = organizer_client.post(
        reverse("admin:pods_alert_add"),
        {"pod": east.pk, "message": "Scam texts", **split("expires_at", day, time)},
    )

    assert response.status_code == 200
    assert message in errors_of(response)
    assert message in response.text
    assert not Alert.objects.exists()
    pod_pages_open(organizer_client, east)


def test_admin_refuses_an_alert_taken_down_in_the_far_future(organizer_client, east):
    alert = Alert.objects.create(pod=east, message="Scam texts")

    response = organizer_client.post(
        reverse("admin:pods_alert_change", args=[alert.pk]),
        {"message": "Scam texts", **split("taken_down_at", "9999-12-31", "23:59:59")},
    )

    assert response.status_code == 200
    assert OUT_OF_RANGE in errors_of(response)
    alert.refresh_from_db()
    assert alert.taken_down_at is None


def test_admin_takes_an_alert_shown_for_a_year(organizer_client, east):
    response = organizer_client.post(
        reverse("admin:pods_alert_add"),
        {"pod": east.pk, "message": "Scam texts", **split("expires_at", in_days(300))},
    )

    assert response.status_code == 302
    assert Alert.objects.get().expires_at.date() > timezone.localdate()


def test_an_alert_edited_long_after_it_expired_saves(organizer_client, east):
    alert = Alert.objects.create(
        pod=east,
        message="Scam texts",
        expires_at=datetime.datetime(2001, 1, 1, tzinfo=datetime.UTC),
    )

    response = organizer_client.post(
        reverse("admin:pods_alert_change", args=[alert.pk]),
        {"message": "Scam texts, still", **split("expires_at", "2001-01-01", "00:00:00")},
    )

    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.message == "Scam texts, still"


# Alerts in the app


@pytest.mark.parametrize("when", ["9999-12-31T23:59", "0001-01-01T00:00", "2199-12-31T23:59"])
def test_app_refuses_an_alert_shown_too_far_ahead(organizer_client, east, when):
    response = organizer_client.post(
        reverse("pods:alerts", args=[east.slug]),
        {"message": "Scam texts", "expires_at": when, "submission_key": str(uuid.uuid4())},
    )

    assert response.status_code == 200
    assert response.context["form"].errors
    assert not Alert.objects.exists()
    pod_pages_open(organizer_client, east)


# Invitations in the admin


@pytest.mark.parametrize(
    ("day", "message"), [("9999-12-31", OUT_OF_RANGE), (in_days(400), TOO_FAR)]
)
def test_admin_refuses_an_invitation_expiring_too_far_ahead(organizer_client, east, day, message):
    response = organizer_client.post(
        reverse("admin:pods_invitation_add"),
        {"pod": east.pk, "role": "donor", "max_uses": 1, **split("expires_at", day, "23:59:59")},
    )

    assert response.status_code == 200
    assert message in errors_of(response)
    assert not Invitation.objects.exists()
    pod_pages_open(organizer_client, east)


# Cycles in the admin


def cycle_form(pod, starts_on, **changes):
    return {
        "pod": pod.pk,
        "number": 2,
        "starts_on": starts_on,
        "weeks": 15,
        "weekly_amount": "175.00",
        "slots": 3,
        **changes,
    }


@pytest.mark.parametrize(
    ("starts_on", "message"),
    [
        ("9999-12-31", OUT_OF_RANGE),
        ("0001-01-01", OUT_OF_RANGE),
        ("1999-12-31", OUT_OF_RANGE),
        (in_days(3 * 365), TOO_FAR),
    ],
)
def test_admin_refuses_a_cycle_starting_too_far_off(
    organizer_client, east, cycle, starts_on, message
):
    response = organizer_client.post(reverse("admin:pods_cycle_add"), cycle_form(east, starts_on))

    assert response.status_code == 200
    assert message in errors_of(response)
    assert list(Cycle.objects.all()) == [cycle]
    pod_pages_open(organizer_client, east)


def test_admin_refuses_moving_a_planned_cycle_to_9999(organizer_client, east):
    planned = Cycle.objects.create(
        pod=east, number=1, starts_on=east.today() + datetime.timedelta(days=30), slots=3
    )
    page = organizer_client.get(reverse("admin:pods_cycle_change", args=[planned.pk]))
    data = {
        "number": 1,
        "starts_on": "9999-12-31",
        "weeks": 15,
        "weekly_amount": "175.00",
        "slots": 3,
    }
    data.update(no_new_rows(page))

    response = organizer_client.post(reverse("admin:pods_cycle_change", args=[planned.pk]), data)

    assert response.status_code == 200
    assert OUT_OF_RANGE in errors_of(response)
    planned.refresh_from_db()
    assert planned.starts_on == east.today() + datetime.timedelta(days=30)


def test_admin_refuses_a_next_cycle_starting_in_9999(organizer_client, east, cycle):
    response = organizer_client.post(
        reverse("admin:pods_cycle_changelist"),
        {
            "action": "start_next",
            "_selected_action": [cycle.pk],
            "post": "yes",
            "starts_on": "9999-12-31",
            "weeks": 15,
            "weekly_amount": "175.00",
            "slots": 3,
        },
    )

    assert response.status_code == 200
    assert OUT_OF_RANGE in response.text
    assert list(Cycle.objects.all()) == [cycle]


def test_admin_refuses_a_next_cycle_planned_years_ahead(organizer_client, east, cycle):
    response = organizer_client.post(
        reverse("admin:pods_cycle_changelist"),
        {
            "action": "start_next",
            "_selected_action": [cycle.pk],
            "post": "yes",
            "starts_on": in_days(3 * 365),
            "weeks": 15,
            "weekly_amount": "175.00",
            "slots": 3,
        },
    )

    assert response.status_code == 200
    assert TOO_FAR in response.text
    assert list(Cycle.objects.all()) == [cycle]


# Enrollments in the admin


def test_admin_refuses_an_enrollment_ended_in_9999(organizer_client, east, enrollment):
    response = organizer_client.post(
        reverse("admin:recipients_enrollment_change", args=[enrollment.pk]),
        {
            "slot": enrollment.slot,
            "first_week": enrollment.first_week,
            "last_week": enrollment.last_week,
            "status": "active",
            "end_reason": "",
            **split("ended_at", "9999-12-31", "23:59:59"),
        },
    )

    assert response.status_code == 200
    assert OUT_OF_RANGE in errors_of(response)
    enrollment.refresh_from_db()
    assert enrollment.ended_at is None


# The database


@pytest.mark.parametrize(
    "make",
    [
        lambda pod, value: Alert.objects.create(pod=pod, message="x", expires_at=value),
        lambda pod, value: Alert.objects.create(pod=pod, message="x", taken_down_at=value),
        lambda pod, value: Invitation.objects.create(pod=pod, token_hash="x", expires_at=value),
    ],
    ids=["alert shown until", "alert taken down", "invitation expiring"],
)
@pytest.mark.parametrize(
    "value",
    [
        datetime.datetime(9999, 12, 31, 23, 59, tzinfo=datetime.UTC),
        END_MOMENT,
        FIRST_MOMENT - datetime.timedelta(microseconds=1),
    ],
)
def test_database_refuses_a_moment_out_of_range(pod, make, value):
    with pytest.raises(IntegrityError), transaction.atomic():
        make(pod, value)


@pytest.mark.parametrize(
    "starts_on",
    [datetime.date(9999, 12, 31), datetime.date(2200, 1, 1), datetime.date(1999, 12, 31)],
)
def test_database_refuses_a_cycle_starting_out_of_range(pod, starts_on):
    with pytest.raises(IntegrityError), transaction.atomic():
        Cycle.objects.create(pod=pod, number=1, starts_on=starts_on)


def test_database_refuses_an_enrollment_ended_out_of_range(enrollment):
    with pytest.raises(IntegrityError), transaction.atomic():
        Enrollment.objects.filter(pk=enrollment.pk).update(
            ended_at=datetime.datetime(9999, 12, 31, tzinfo=datetime.UTC)
        )


def test_the_farthest_dates_the_database_takes_still_show_in_any_time_zone(
    client, pod, organizer, other_pod
):
    """At the very edge of the range, every page still opens: the furthest east (UTC+14)
    and the furthest west (UTC-11) of an alert's last moment, a cycle's last week."""
    last = END_MOMENT - datetime.timedelta(microseconds=1)
    Alert.objects.create(pod=pod, message="Far", expires_at=last)
    Invitation.objects.create(pod=pod, token_hash="far", expires_at=last)
    Cycle.objects.create(pod=pod, number=1, starts_on=LAST_DAY, weeks=104, slots=3)
    client.force_login(organizer)
    for zone in ["Pacific/Kiritimati", "Pacific/Pago_Pago"]:
        pod.time_zone = zone
        pod.save()
        pod_pages_open(client, pod)
        assert client.get(reverse("home")).status_code == 200


# The model rules themselves, as services that call full_clean() meet them


def test_full_clean_refuses_a_cycle_planned_three_years_ahead(pod):
    cycle = Cycle(pod=pod, number=1, starts_on=pod.today() + datetime.timedelta(days=3 * 365))
    with pytest.raises(ValidationError) as refused:
        cycle.full_clean()
    assert "starts_on" in refused.value.message_dict


def test_full_clean_refuses_a_cycle_starting_in_9999_without_overflowing(pod):
    cycle = Cycle(pod=pod, number=1, starts_on=datetime.date(9999, 12, 31))
    with pytest.raises(ValidationError) as refused:
        cycle.full_clean()
    assert "starts_on" in refused.value.message_dict


def test_an_alert_ending_in_9999_is_refused_on_any_clock(pod):
    for zone in ["Asia/Tokyo", "America/New_York"]:
        with timezone.override(zoneinfo.ZoneInfo(zone)):
            alert = Alert(
                pod=pod,
                message="x",
                expires_at=datetime.datetime(9999, 12, 31, 23, 59, tzinfo=zoneinfo.ZoneInfo(zone)),
            )
            with pytest.raises(ValidationError) as refused:
                alert.full_clean()
            assert "expires_at" in refused.value.message_dict
