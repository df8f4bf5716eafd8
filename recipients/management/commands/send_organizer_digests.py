"""Send the organizers who chose it their daily digest of new referrals and members.
Meant for the daily jobs; see recipients/notices.py for the rules."""

import argparse
import datetime

from django.core.management.base import BaseCommand, CommandError

from pods.models import Membership, Pod
from recipients.notices import send_digests


def iso_date(value):
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2026-03-14.") from None


class Command(BaseCommand):
    help = (
        "Email each organizer who chose a daily digest what came in since their last one: "
        "new referrals and new members. Safe to run more than once a day: an organizer "
        "gets one digest a day."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Send and record nothing.")
        parser.add_argument("--pod", metavar="SLUG", help="Only this pod (its short name).")
        parser.add_argument(
            "--today",
            type=iso_date,
            metavar="YYYY-MM-DD",
            help="Act as if today were this date (default: today in each pod's time zone).",
        )

    def handle(self, *args, dry_run=False, pod=None, today=None, **options):
        pods = Pod.objects.filter(
            memberships__in=Membership.objects.organizers().filter(notices=Membership.Notices.DAILY)
        ).distinct()
        if pod is not None:
            if not Pod.objects.filter(slug=pod).exists():
                raise CommandError(f"No pod has the short name {pod!r}.")
            pods = pods.filter(slug=pod)
        told = already = 0
        for each in pods.order_by("slug"):
            outcome = send_digests(pod=each, today=today or each.today(), dry_run=dry_run)
            for user in outcome.told:
                verb = "would send" if dry_run else "sent"
                self.stdout.write(f"{each.slug}: {verb} the digest to {user.email}")
            told += len(outcome.told)
            already += outcome.already_sent
        verb = "would be sent" if dry_run else "sent"
        self.stdout.write(
            self.style.SUCCESS(f"{told} digests {verb}; {already} already sent today.")
        )
