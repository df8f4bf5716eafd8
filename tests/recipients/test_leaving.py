"""recipients.services.end_enrollment, the one workflow behind a recipient leaving and an
organizer ending an enrollment, at the edges of a cycle."""

import datetime

import pytest

from pods.models import Cycle, Membership
from recipients.models import Enrollment, Referral
from recipients.services import end_enrollment, enroll

pytestmark = pytest.mark.django_db


@pytest.fixture
def ends(django_capture_on_commit_callbacks):
    def run(enrollment, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return end_enrollment(enrollment=enrollment, **kwargs)

    return run


def test_only_the_pods_organizers_are_emailed(
    ends, enrollment, organizer, donor, outsider, make_user, pod, mailoutbox
):
    former = make_user("fern@example.org")
    Membership.objects.create(pod=pod, user=former, role="organizer", active=False)
    second = make_user("gus@example.org")
    Membership.objects.create(pod=pod, user=second, role="organizer")

    ends(enrollment)

    assert sorted(m.to[0] for m in mailoutbox) == ["gus@example.org", "olive@example.org"]


def test_an_organizer_ending_it_is_named_in_the_email(ends, enrollment, organizer, mailoutbox):
    ending = ends(enrollment, by=organizer, reason="Moved away")
    assert ending.ended
    assert "Olive ended Rosa's enrollment." in mailoutbox[0].body
    assert "Moved away" in mailoutbox[0].body


def test_nothing_is_sent_if_the_change_is_rolled_back(
    enrollment, organizer, mailoutbox, django_capture_on_commit_callbacks
):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        end_enrollment(enrollment=enrollment)
        transaction.set_rollback(True)
    assert mailoutbox == []
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.ACTIVE


def test_leaving_before_the_cycle_starts_covers_no_week(
    ends, pod, recipient, make_referral, organizer
):
    pod.auto_handoff = True
    pod.save()
    upcoming = Cycle.objects.create(
        pod=pod,
        number=1,
        starts_on=pod.today() + datetime.timedelta(days=3),
        slots=1,
    )
    enrollment = enroll(recipient=recipient, cycle=upcoming)
    sam = make_referral("Sam")

    ends(enrollment)

    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.first_week, enrollment.last_week) == ("left", 1, 0)
    sam.refresh_from_db()
    assert sam.recipient.enrollments.get().first_week == 1


def test_leaving_before_ones_first_week_covers_no_week(ends, recipient, cycle):
    enrollment = enroll(recipient=recipient, cycle=cycle, first_week=9)
    ends(enrollment)
    enrollment.refresh_from_db()
    assert (enrollment.first_week, enrollment.last_week) == (9, 8)


def test_leaving_in_the_last_week_offers_no_slot(ends, pod, recipient, make_referral):
    ending = Cycle.objects.create(
        pod=pod,
        number=1,
        starts_on=pod.today() - datetime.timedelta(days=7 * 14),
        weeks=15,
        slots=2,
    )
    enrollment = enroll(recipient=recipient, cycle=ending)
    sam = make_referral("Sam")

    result = ends(enrollment)

    assert result.handed_to is None
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.last_week) == ("left", 15)
    sam.refresh_from_db()
    assert sam.status == Referral.Status.WAITING


def test_ending_twice_changes_nothing(ends, enrollment, make_referral, mailoutbox, organizer):
    ends(enrollment, reason="First")
    make_referral("Sam")
    again = ends(enrollment, reason="Second")
    assert not again.ended
    enrollment.refresh_from_db()
    assert enrollment.end_reason == "First"
    assert Referral.objects.get().status == Referral.Status.WAITING
    assert len(mailoutbox) == 1


def test_two_leaving_one_after_the_other_offer_two_referrals_in_order(
    ends, full_cycle, make_referral
):
    sam, tia, uma = (make_referral(n) for n in ["Sam", "Tia", "Uma"])
    ends(full_cycle.enrollments.get(slot=1))
    ends(full_cycle.enrollments.get(slot=2))
    statuses = [r.status for r in Referral.objects.filter(pk__in=[sam.pk, tia.pk, uma.pk])]
    assert statuses == ["offered", "offered", "waiting"]


def test_the_newcomer_takes_the_slot_that_was_left(ends, pod, full_cycle, make_referral):
    """Even with a lower slot free, so that the board reads "Sam took Ben's place"."""
    pod.auto_handoff = True
    pod.save()
    ends(full_cycle.enrollments.get(slot=1))  # nobody waits: slot 1 stays free
    make_referral("Sam")

    ends(full_cycle.enrollments.get(slot=3))

    sam = Enrollment.objects.get(recipient__display_name="Sam")
    assert (sam.slot, sam.first_week) == (3, 7)


def test_a_reserved_slot_is_not_offered_twice(ends, full_cycle, make_referral):
    # Someone was offered a slot, and then an organizer filled it from the admin: the
    # next slot freed is owed to that offer, not to the next one waiting.
    kept = make_referral("Kept", status=Referral.Status.OFFERED)
    following = make_referral("Next")
    ends(full_cycle.enrollments.get(slot=1))
    assert kept.recipient is None
    following.refresh_from_db()
    assert following.status == Referral.Status.WAITING
