"""`manage.py send_reminders`: after payday, payers whose transfer has no receipt are
reminded once a week, organizers get the list of missing transfers once a day, and
nothing is ever sent twice. Dates are given with --today, counted from the cycle."""

import datetime
import threading
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection

from pledges.models import Assignment, Pledge
from pods.models import Cycle, Membership, Notification, Pod
from receipts.models import Receipt
from recipients.models import Recipient
from recipients.services import enroll

pytestmark = pytest.mark.django_db

WEEK = 6


@pytest.fixture
def site(settings):
    settings.SITE_URL = "https://pods.example.net/"


@pytest.fixture
def payday(pod, cycle):
    """Payday is the third day of each of the cycle's weeks."""
    pod.payday = (cycle.starts_on + datetime.timedelta(days=2)).weekday()
    pod.save()
    return cycle.payday(WEEK)


@pytest.fixture
def sam(pod, cycle):
    recipient = Recipient.objects.create(
        pod=pod, display_name="Sam", payment_method="venmo", payment_handle="@sam-v"
    )
    enroll(recipient=recipient, cycle=cycle)
    return recipient


@pytest.fixture
def pat(make_user, pod):
    user = make_user("pat@example.org", display_name="Pat")
    Membership.objects.create(pod=pod, user=user)
    return user


@pytest.fixture
def plan(cycle, enrollment, recipient, sam, donor, pat, organizer, payday):
    """Weeks 6 and 7: Dana and Pat share Rosa's $175, Olive (an organizer) pays Sam."""
    for week in (WEEK, WEEK + 1):
        Assignment.objects.bulk_create(
            [
                Assignment(
                    cycle=cycle, week=week, payer=donor, recipient=recipient, amount=Decimal("100")
                ),
                Assignment(
                    cycle=cycle, week=week, payer=pat, recipient=recipient, amount=Decimal("75")
                ),
                Assignment(
                    cycle=cycle, week=week, payer=organizer, recipient=sam, amount=Decimal("175")
                ),
            ]
        )
    return cycle


def receipt(cycle, payer, recipient, amount, week=WEEK, **fields):
    return Receipt.objects.create(
        pod=cycle.pod,
        cycle=cycle,
        week=week,
        recipient=recipient,
        payer=payer,
        amount=Decimal(amount),
        method=recipient.payment_method,
        sent_on=cycle.week_starts_on(week),
        posted_by=payer,
        **fields,
    )


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Run the command as cron would (mail goes out on commit); return its output."""

    def run_command(*args, today=None):
        out = StringIO()
        if today is not None:
            args = (*args, "--today", today.isoformat())
        with django_capture_on_commit_callbacks(execute=True):
            call_command("send_reminders", *args, stdout=out)
        return out.getvalue()

    return run_command


def day_after(date, days=1):
    return date + datetime.timedelta(days=days)


def to(mailoutbox, address):
    return [m for m in mailoutbox if m.to == [address]]


# When.


def test_nothing_is_sent_until_payday_has_passed(plan, payday, run, mailoutbox):
    for today in [plan.week_starts_on(WEEK), payday]:
        output = run(today=today)
        assert "no payday has passed" in output
    assert mailoutbox == []
    assert not Notification.objects.exists()


def test_reminders_go_out_the_day_after_payday(plan, payday, run, mailoutbox, site):
    output = run(today=day_after(payday))

    assert sorted(m.to[0] for m in mailoutbox) == [
        "dana@example.org",
        "olive@example.org",  # her reminder to pay Sam
        "olive@example.org",  # the organizers' list
        "pat@example.org",
    ]
    assert f"maple: week {WEEK} (payday {payday.isoformat()}): 3 transfers missing." in output
    assert "3 payers reminded; 1 organizers told." in output


def test_reminder_says_whom_to_pay_how_much_and_where(plan, payday, run, mailoutbox, site):
    run(today=day_after(payday))

    (message,) = to(mailoutbox, "dana@example.org")
    assert message.subject == f"Reminder: your transfer for week {WEEK} of Maple Street Pod"
    assert "Hello Dana," in message.body
    assert "$100.00 to Rosa, by Cash App at $rosa" in message.body
    assert "https://pods.example.net/pods/maple/this-week/" in message.body
    # The other payers' transfers are none of Dana's business.
    assert "Sam" not in message.body
    assert "Pat" not in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert 'href="https://pods.example.net/pods/maple/this-week/"' in html
    assert "$100.00 to <bdi>Rosa</bdi>, by Cash App at <bdi>$rosa</bdi>" in html


def test_the_plan_is_built_from_pledges_when_nobody_has_opened_the_week(
    pod, cycle, enrollment, donor, payday, run, mailoutbox
):
    Pledge.objects.create(cycle=cycle, donor=donor, amount=Decimal("175.00"), last_week=15)

    run(today=day_after(payday))

    (message,) = to(mailoutbox, "dana@example.org")
    assert "$175.00 to Rosa, by Cash App at $rosa" in message.body
    assert cycle.assignments.filter(week=WEEK, payer=donor).exists()


def test_a_payer_with_two_transfers_gets_one_reminder_with_both(
    plan, sam, donor, organizer, payday, run, mailoutbox
):
    # Dana takes $20.00 of Sam's $175.00 from Olive (nobody is planned more than that).
    Assignment.objects.filter(cycle=plan, week=WEEK, payer=organizer, recipient=sam).update(
        amount=155
    )
    Assignment.objects.create(cycle=plan, week=WEEK, payer=donor, recipient=sam, amount=20)

    run(today=day_after(payday))

    (message,) = to(mailoutbox, "dana@example.org")
    assert message.subject == f"Reminder: your transfers for week {WEEK} of Maple Street Pod"
    assert "- $100.00 to Rosa, by Cash App at $rosa\n- $20.00 to Sam, by Venmo at @sam-v" in (
        message.body
    )
    assert "If you have sent them, post the receipts" in message.body


def test_reminders_keep_going_until_the_week_is_over(plan, payday, run, mailoutbox):
    # A run missed the day after payday; the next day's run still reminds.
    run(today=day_after(payday, 2))
    assert len(to(mailoutbox, "dana@example.org")) == 1


def test_the_default_day_is_today_on_the_pods_clock(pod, cycle, make_user, run, mailoutbox):
    # Today is the fourth day of a week whose payday was its second day.
    Cycle.objects.filter(pk=cycle.pk).update(
        starts_on=pod.today() - datetime.timedelta(days=7 * 5 + 3)
    )
    cycle.refresh_from_db()
    pod.payday = (cycle.starts_on + datetime.timedelta(days=1)).weekday()
    pod.save()
    payer = make_user("kim@example.org")
    Membership.objects.create(pod=pod, user=payer)
    rosa = Recipient.objects.create(pod=pod, display_name="Rosa")
    enroll(recipient=rosa, cycle=cycle)
    Assignment.objects.create(cycle=cycle, week=6, payer=payer, recipient=rosa, amount=175)

    run()

    assert [m.to[0] for m in mailoutbox] == ["kim@example.org"]


def test_payday_on_the_last_day_of_the_week_reminds_the_next_morning(pod, plan, run, mailoutbox):
    pod.payday = plan.week_ends_on(WEEK).weekday()
    pod.save()

    run(today=plan.week_ends_on(WEEK))
    assert mailoutbox == []
    output = run(today=plan.week_starts_on(WEEK + 1))

    assert f"week {WEEK} (payday {plan.week_ends_on(WEEK).isoformat()})" in output
    assert len(to(mailoutbox, "dana@example.org")) == 1
    assert plan.reminder_week(day_after(plan.week_starts_on(WEEK + 1))) is None


# Whom.


def test_a_payer_with_a_receipt_for_the_full_amount_is_not_reminded(
    plan, recipient, donor, payday, run, mailoutbox
):
    receipt(plan, donor, recipient, "60")
    receipt(plan, donor, recipient, "40")

    run(today=day_after(payday))

    assert to(mailoutbox, "dana@example.org") == []
    assert len(to(mailoutbox, "pat@example.org")) == 1


def test_a_partial_payment_is_reminded_of_the_rest(plan, recipient, donor, payday, run, mailoutbox):
    receipt(plan, donor, recipient, "40")

    run(today=day_after(payday))

    (message,) = to(mailoutbox, "dana@example.org")
    assert "$60.00 to Rosa, by Cash App at $rosa ($40.00 of $100.00 posted so far)" in (
        message.body
    )


def test_a_voided_receipt_counts_for_nothing(
    plan, recipient, donor, organizer, payday, run, mailoutbox
):
    mistake = receipt(plan, donor, recipient, "100")
    mistake.void(by=organizer, reason="Sent to the wrong person")

    run(today=day_after(payday))

    (message,) = to(mailoutbox, "dana@example.org")
    assert "$100.00 to Rosa" in message.body


def test_a_receipt_for_another_week_does_not_count(plan, recipient, donor, payday, run, mailoutbox):
    receipt(plan, donor, recipient, "100", week=WEEK - 1)

    run(today=day_after(payday))

    (message,) = to(mailoutbox, "dana@example.org")
    assert "$100.00 to Rosa, by Cash App at $rosa\n" in message.body


def test_what_was_sent_to_another_recipient_that_week_is_not_asked_again(
    plan, recipient, sam, donor, organizer, payday, run, mailoutbox
):
    # Dana sent her week's $100.00 to Sam instead of Rosa: she is not asked for it twice,
    # and Olive is asked only for what Sam still needs.
    receipt(plan, donor, sam, "100")

    run(today=day_after(payday))

    assert to(mailoutbox, "dana@example.org") == []
    (reminder,) = [m for m in to(mailoutbox, "olive@example.org") if "Reminder" in m.subject]
    assert "$75.00 to Sam, by Venmo at @sam-v" in reminder.body


def test_someone_who_left_the_pod_is_not_emailed_but_organizers_hear_of_it(
    plan, pod, pat, payday, run, mailoutbox
):
    Membership.objects.filter(pod=pod, user=pat).update(active=False)

    output = run(today=day_after(payday))

    assert to(mailoutbox, "pat@example.org") == []
    assert "not reminded, has left the pod: pat@example.org" in output
    (digest,) = [m for m in to(mailoutbox, "olive@example.org") if "missing" in m.subject]
    assert "Pat (pat@example.org) to Rosa: $75.00 missing of $75.00 (has left the pod)" in (
        digest.body
    )


def test_nothing_is_sent_when_every_transfer_has_its_receipt(
    plan, recipient, sam, donor, pat, organizer, payday, run, mailoutbox
):
    receipt(plan, donor, recipient, "100")
    receipt(plan, pat, recipient, "75")
    receipt(plan, organizer, sam, "175")

    output = run(today=day_after(payday))

    assert mailoutbox == []
    assert "every transfer has its receipt" in output


# The organizers' list.


def test_organizers_get_the_list_of_missing_transfers(
    plan, pod, recipient, pat, make_user, payday, run, mailoutbox, site
):
    receipt(plan, pat, recipient, "25")
    second = make_user("omar@example.org", display_name="Omar")
    Membership.objects.create(pod=pod, user=second, role=Membership.Role.ORGANIZER)

    run(today=day_after(payday))

    digests = [m for m in mailoutbox if "missing" in m.subject]
    assert sorted(m.to[0] for m in digests) == ["olive@example.org", "omar@example.org"]
    (digest,) = to(digests, "omar@example.org")
    assert digest.subject == f"3 transfers missing for week {WEEK} of Maple Street Pod"
    assert "Hello Omar," in digest.body
    assert "Dana (dana@example.org) to Rosa: $100.00 missing of $100.00" in digest.body
    assert "Pat (pat@example.org) to Rosa: $50.00 missing of $75.00" in digest.body
    assert "Olive (olive@example.org) to Sam: $175.00 missing of $175.00" in digest.body
    assert "Missing in all: $325.00." in digest.body
    assert "https://pods.example.net/pods/maple/this-week/" in digest.body
    # Where to pay is for the payers' reminders; the list does without the handles.
    for handle in ["$rosa", "@sam-v"]:
        assert handle not in digest.body
        assert handle not in digest.alternatives[0][0]


def test_text_emails_are_not_html_escaped(plan, pod, recipient, payday, run, mailoutbox):
    pod.name = "O'Hara & Friends"
    pod.save()
    Recipient.objects.filter(pk=recipient.pk).update(display_name="Rosa <R>")

    run(today=day_after(payday))

    (message,) = to(mailoutbox, "dana@example.org")
    assert message.subject == f"Reminder: your transfer for week {WEEK} of O'Hara & Friends"
    assert "$100.00 to Rosa <R>, by Cash App" in message.body
    assert "Rosa &lt;R&gt;" in message.alternatives[0][0]


# Never twice.


def test_a_second_run_the_same_day_sends_nothing(plan, payday, run, mailoutbox):
    run(today=day_after(payday))
    sent = len(mailoutbox)

    output = run(today=day_after(payday))

    assert len(mailoutbox) == sent
    assert "already sent earlier: 4" in output
    assert "0 payers reminded; 0 organizers told." in output
    assert Notification.objects.count() == 4


def test_the_next_day_organizers_hear_again_but_payers_do_not(plan, payday, run, mailoutbox):
    run(today=day_after(payday))
    mailoutbox.clear()

    run(today=day_after(payday, 2))

    assert [m.to[0] for m in mailoutbox] == ["olive@example.org"]
    assert "missing" in mailoutbox[0].subject


def test_the_next_week_reminds_again(plan, payday, run, mailoutbox):
    run(today=day_after(payday))
    mailoutbox.clear()

    run(today=day_after(payday, 8))

    assert sorted(m.to[0] for m in mailoutbox) == [
        "dana@example.org",
        "olive@example.org",
        "olive@example.org",
        "pat@example.org",
    ]
    assert all(f"week {WEEK + 1}" in m.subject for m in mailoutbox)


def test_a_message_already_logged_is_never_sent_again(plan, pod, donor, payday, run, mailoutbox):
    # A run that crashed after logging Dana's reminder and before mailing it: she misses
    # this one reminder rather than risk getting it twice.
    Notification.objects.create(
        pod=pod,
        user=donor,
        kind=Notification.Kind.PAYMENT_REMINDER,
        key=f"cycle:{plan.pk}:week:{WEEK}",
    )

    run(today=day_after(payday))

    assert to(mailoutbox, "dana@example.org") == []
    assert len(to(mailoutbox, "pat@example.org")) == 1


def test_each_message_is_logged_before_it_is_sent(
    plan, donor, payday, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        call_command("send_reminders", "--today", day_after(payday).isoformat(), stdout=StringIO())
        assert mailoutbox == []
        assert Notification.objects.filter(user=donor).count() == 1
    assert len(callbacks) == 4


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent transactions")
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_each_message_once(plan, payday, mailoutbox):
    barrier = threading.Barrier(2)
    errors = []

    def run_in_cron():
        try:
            barrier.wait(timeout=10)
            call_command(
                "send_reminders", "--today", day_after(payday).isoformat(), stdout=StringIO()
            )
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run_in_cron) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    # Whichever run logged a message first sent it; the other found the row and skipped.
    assert sorted(m.to[0] for m in mailoutbox) == [
        "dana@example.org",
        "olive@example.org",
        "olive@example.org",
        "pat@example.org",
    ]
    assert Notification.objects.count() == 4


def test_the_log_holds_one_row_per_person_kind_and_key(pod, donor):
    fields = {"pod": pod, "user": donor, "kind": "payment_reminder", "key": "cycle:1:week:1"}
    Notification.objects.create(**fields)
    with pytest.raises(IntegrityError):
        Notification.objects.create(**fields)


# Options.


def test_dry_run_prints_what_it_would_send_and_sends_and_logs_nothing(
    plan, payday, run, mailoutbox
):
    output = run("--dry-run", today=day_after(payday))

    assert mailoutbox == []
    assert not Notification.objects.exists()
    assert "would remind dana@example.org" in output
    assert "would send the missing transfers to organizer olive@example.org" in output
    assert "3 payers would be reminded; 1 organizers would be told." in output
    # And the real run afterwards still sends everything.
    run(today=day_after(payday))
    assert len(mailoutbox) == 4


def test_pod_option_limits_the_run_to_that_pod(plan, payday, other_pod, outsider, run, mailoutbox):
    theirs = Cycle.objects.create(
        pod=other_pod,
        number=1,
        starts_on=plan.starts_on,
        weeks=15,
        slots=1,
    )
    other_pod.payday = Pod.objects.get(pk=plan.pod_id).payday
    other_pod.save()
    elm = Recipient.objects.create(pod=other_pod, display_name="Eli")
    enroll(recipient=elm, cycle=theirs)
    Assignment.objects.create(cycle=theirs, week=WEEK, payer=outsider, recipient=elm, amount=50)

    output = run("--pod", "elm", today=day_after(payday))

    assert "maple" not in output
    assert sorted(m.to[0] for m in mailoutbox) == ["otto@example.org", "otto@example.org"]


def test_unknown_pod_is_an_error(db):
    with pytest.raises(CommandError, match="No pod has the short name 'nowhere'"):
        call_command("send_reminders", "--pod", "nowhere", stdout=StringIO())


def test_pod_without_an_active_cycle_is_reported(pod, run, mailoutbox):
    assert "maple: no active cycle." in run("--pod", "maple")
    assert mailoutbox == []


def test_a_bad_date_is_refused(db):
    with pytest.raises(CommandError, match="not a date"):
        call_command("send_reminders", "--today", "tomorrow", stdout=StringIO())


def test_cycles_that_are_over_are_left_alone(plan, pod, run, mailoutbox):
    # Over is worked out from the dates: here the cycle's last week ended weeks ago, with
    # week 6's transfers still missing.
    Cycle.objects.filter(pk=plan.pk).update(starts_on=pod.today() - datetime.timedelta(weeks=20))

    output = run("--pod", "maple")

    assert mailoutbox == []
    assert "maple: no active cycle." in output
    assert not Notification.objects.exists()


def test_organizers_hear_of_a_need_no_line_asks_anyone_for(
    plan, pod, cycle, recipient, sam, donor, pat, organizer, payday, run, mailoutbox, site
):
    # Olive sends Sam's 175.00 to Rosa: Rosa's payers are asked nothing more (she has her
    # 175.00), Olive has sent all she was planned, and Sam is asked of nobody.
    receipt(plan, organizer, recipient, "175")

    output = run(today=day_after(payday))

    assert to(mailoutbox, donor.email) == [] and to(mailoutbox, pat.email) == []
    (digest,) = [m for m in mailoutbox if "missing" in m.subject]
    assert digest.to == [organizer.email]
    assert digest.subject == f"1 transfer missing for week {WEEK} of Maple Street Pod"
    assert "no receipt for" not in digest.body
    assert "Sam: $175.00 not asked of anyone yet" in digest.body
    assert "Missing in all: $175.00." in digest.body
    assert f"https://pods.example.net/pods/maple/plan/{WEEK}/" in digest.body
    html = digest.alternatives[0][0]
    assert "<bdi>Sam</bdi>: $175.00 not asked of anyone yet" in html
    assert f'href="https://pods.example.net/pods/maple/plan/{WEEK}/"' in html
    assert "for recipient" in output and "not asked of anyone" in output


def test_the_list_has_both_missing_transfers_and_needs_asked_of_nobody(
    plan, pod, recipient, sam, donor, organizer, payday, run, mailoutbox, site
):
    # Dana sends her 100.00 for Rosa to Sam instead: Pat still owes Rosa 75.00, Olive
    # owes Sam the 75.00 he still needs, and Rosa's other 100.00 is asked of nobody.
    receipt(plan, donor, sam, "100")

    run(today=day_after(payday))

    (digest,) = [m for m in mailoutbox if "missing" in m.subject]
    assert digest.subject == f"3 transfers missing for week {WEEK} of Maple Street Pod"
    assert "Pat (pat@example.org) to Rosa: $75.00 missing of $75.00" in digest.body
    assert "Olive (olive@example.org) to Sam: $75.00 missing of $175.00" in digest.body
    assert "Rosa: $100.00 not asked of anyone yet" in digest.body
    assert "Missing in all: $250.00." in digest.body
    assert "Dana" not in digest.body
    assert to(mailoutbox, donor.email) == []
