"""Queue the daily jobs for the workers: one cron line on one machine, once a day."""

from django.core.management.base import BaseCommand

from pledges.tasks import DAILY


class Command(BaseCommand):
    help = (
        "Queue today's reminders, the organizers' digests, the purge of former recipients' "
        "data and of shared screenshots never posted, the pruning of old task results and "
        "the tasks whose worker died, for the task workers to run. Run once a day (cron); "
        "running it twice sends no reminder or digest twice."
    )

    def handle(self, *args, **options):
        for job in DAILY:
            result = job.enqueue()
            self.stdout.write(f"queued {job.name} ({result.id})")
