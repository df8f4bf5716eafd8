"""/pods/<slug>/recipients/<pk>/end/: an organizer ends an enrollment after this week,
through the same workflow as a recipient leaving."""

import pytest
from django.urls import reverse

from recipients.models import Enrollment, Referral

pytestmark = pytest.mark.django_db


def url(recipient):
    return reverse("recipients:enrollment_end", args=[recipient.pod.slug, recipient.pk])


def status(enrollment):
    enrollment.refresh_from_db()
    return enrollment.status


def test_signed_out_visitor_is_sent_to_sign_in(client, recipient, enrollment):
    for response in (client.get(url(recipient)), client.post(url(recipient))):
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))
    assert status(enrollment) == Enrollment.Status.ACTIVE


def test_member_of_another_pod_gets_404(client, outsider, recipient, enrollment):
    client.force_login(outsider)
    assert client.get(url(recipient)).status_code == 404
    assert client.post(url(recipient)).status_code == 404
    assert status(enrollment) == Enrollment.Status.ACTIVE


def test_donor_gets_403(client, donor, recipient, enrollment):
    client.force_login(donor)
    assert client.get(url(recipient)).status_code == 403
    assert client.post(url(recipient)).status_code == 403
    assert status(enrollment) == Enrollment.Status.ACTIVE


def test_organizer_is_asked_to_confirm(client, organizer, recipient, enrollment):
    client.force_login(organizer)
    response = client.get(url(recipient))
    assert response.status_code == 200
    assert "End the enrollment" in response.text
    assert status(enrollment) == Enrollment.Status.ACTIVE


def test_organizer_ends_the_enrollment_and_the_slot_is_offered(
    client,
    organizer,
    recipient,
    enrollment,
    make_referral,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    sam = make_referral("Sam")
    client.force_login(organizer)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(recipient), {"reason": "Asked us to, by phone"})

    assert response.status_code == 302
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.last_week, enrollment.end_reason) == (
        "left",
        6,
        "Asked us to, by phone",
    )
    sam.refresh_from_db()
    assert sam.status == Referral.Status.OFFERED
    page = client.get(response.url).text
    assert "support ends after week <bdi>6</bdi>" in page
    assert "offered to <bdi>Sam</bdi>" in page
    assert "Olive ended Rosa's enrollment." in mailoutbox[0].body
    assert (
        "<bdi>Olive</bdi> ended <bdi>Rosa</bdi>'s enrollment." in mailoutbox[0].alternatives[0][0]
    )


def test_a_too_long_reason_is_refused(client, organizer, recipient, enrollment):
    client.force_login(organizer)
    response = client.post(url(recipient), {"reason": "x" * 201})
    assert response.status_code == 400
    assert "200 characters" in response.text
    assert status(enrollment) == Enrollment.Status.ACTIVE


def test_someone_not_enrolled_has_nothing_to_end(client, organizer, recipient):
    client.force_login(organizer)
    response = client.post(url(recipient))
    assert response.status_code == 400
    assert "not enrolled in a running cycle" in response.text
