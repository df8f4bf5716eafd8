from django.core.management.base import BaseCommand

from receipts.models import StagedScreenshot


class Command(BaseCommand):
    help = (
        "Delete the screenshots shared from a phone's share sheet and left waiting more "
        "than a day without a receipt posted: their files from storage and their rows. "
        "Safe to run daily: a second run finds nothing left."
    )

    def handle(self, *args, **options):
        done = StagedScreenshot.objects.purge_stale()
        # A count only: the output of a daily job ends up in logs.
        self.stdout.write(f"Deleted {done} staged screenshot(s) older than a day.")
