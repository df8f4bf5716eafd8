from django.conf import settings
from django.core.management.base import BaseCommand

from receipts.retention import purge


class Command(BaseCommand):
    help = (
        "Erase what the pods knew about former recipients and withdrawn referrals once "
        "RECIPIENT_RETENTION_DAYS have passed: names, handles, contacts, notes, reasons, "
        "receipt references and screenshots, private links. Names become anonymous labels; "
        "amounts and dates stay. Safe to run daily: a second run changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Only count what would be erased."
        )

    def handle(self, *args, dry_run=False, **options):
        done = purge(dry_run=dry_run)
        verb = "Would erase" if dry_run else "Erased"
        # Counts only: the output of a daily job ends up in logs.
        self.stdout.write(
            f"{verb} {done.recipients} former recipient(s), {done.referrals} withdrawn "
            f"referral(s), {done.screenshots} receipt screenshot(s) and the words of "
            f"{done.texts} row(s) about them "
            f"(retention: {settings.RECIPIENT_RETENTION_DAYS} days)."
        )
