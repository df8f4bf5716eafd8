"""Remind payers whose transfer is overdue and tell organizers which transfers are
missing. Meant for a daily cron job; see pledges/reminders.py for the rules."""

import argparse
import datetime

from django.core.management.base import BaseCommand, CommandError

from pledges.reminders import send_reminders
from pods.models import Pod


def iso_date(value):
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2026-03-14.") from None


def reminding_cycle(pod, day):
    """The pod's cycle whose week is overdue on `day` (its own clock): the running one,
    or on the day after a cycle ends, that cycle when its last payday was its last day."""
    yesterday = pod.cycle_on(day - datetime.timedelta(days=1))
    if yesterday is not None and yesterday.reminder_week(day) is not None:
        return yesterday
    return pod.cycle_on(day)


class Command(BaseCommand):
    help = (
        "Once a pod's payday has passed, email each payer whose transfer for the week has "
        "no receipt, and send the organizers the list of missing transfers. Safe to run "
        "daily: a payer is reminded once a week, an organizer gets one list a day."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Print what would be sent; send and record nothing.",
        )
        parser.add_argument("--pod", metavar="SLUG", help="Only this pod (its short name).")
        parser.add_argument(
            "--today",
            type=iso_date,
            metavar="YYYY-MM-DD",
            help="Act as if today were this date (default: today in each pod's time zone).",
        )

    def handle(self, *args, dry_run=False, pod=None, today=None, **options):
        pods = Pod.objects.order_by("slug")
        if pod is not None:
            pods = pods.filter(slug=pod)
            if not pods.exists():
                raise CommandError(f"No pod has the short name {pod!r}.")
        cycles = [c for c in (reminding_cycle(p, today or p.today()) for p in pods) if c]
        verb = "would remind" if dry_run else "reminded"
        sent = "would send" if dry_run else "sent"
        totals = {"pods": 0, "reminded": 0, "told": 0}
        for cycle in cycles:
            totals["pods"] += 1
            slug = cycle.pod.slug
            outcome = send_reminders(cycle=cycle, today=today or cycle.pod.today(), dry_run=dry_run)
            if outcome.week is None:
                self.stdout.write(f"{slug}: no payday has passed in the current week.")
                continue
            head = f"{slug}: week {outcome.week} (payday {outcome.payday.isoformat()})"
            if not outcome.missing and not outcome.unasked:
                self.stdout.write(f"{head}: every transfer has its receipt.")
                continue
            self.stdout.write(f"{head}: {len(outcome.missing)} transfers missing.")
            for need in outcome.unasked:
                self.stdout.write(
                    f"  {need.amount} for recipient {need.recipient.pk} not asked of anyone"
                )
            for payer in outcome.reminded:
                self.stdout.write(f"  {verb} {payer.email}")
            for organizer in outcome.told:
                self.stdout.write(f"  {sent} the missing transfers to organizer {organizer.email}")
            for payer in outcome.former_members:
                self.stdout.write(f"  not reminded, has left the pod: {payer.email}")
            if outcome.already_sent:
                self.stdout.write(f"  already sent earlier: {outcome.already_sent}")
            totals["reminded"] += len(outcome.reminded)
            totals["told"] += len(outcome.told)
        if pod is not None and not totals["pods"]:
            self.stdout.write(f"{pod}: no active cycle.")
        if dry_run:
            summary = (
                f"{totals['pods']} pods checked; {totals['reminded']} payers would be "
                f"reminded; {totals['told']} organizers would be told."
            )
        else:
            summary = (
                f"{totals['pods']} pods checked; {totals['reminded']} payers reminded; "
                f"{totals['told']} organizers told."
            )
        self.stdout.write(self.style.SUCCESS(summary))
