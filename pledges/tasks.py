"""The daily jobs, as tasks on the same queue as mail (settings.TASKS).

`manage.py enqueue_daily_jobs`, from one cron line, queues them; whichever worker claims a
task runs it (a task row is claimed by one worker only). Each job is also safe to run
twice, as when the cron line runs on two machines: a reminder is claimed through the
reminder log's unique key (pledges/reminders.py), so is a digest (recipients/notices.py),
and a second purge (of former recipients' data, of shared screenshots never posted) finds
nothing left.
"""

import datetime
from io import StringIO

from django.core.management import call_command
from django.db import transaction
from django.tasks import TaskResultStatus, task
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

# A task still "running" this long after a worker claimed it lost that worker (killed,
# its machine gone): none of ours runs for more than a minute or two (a message's SMTP
# timeout is 20 s, the daily jobs take seconds).
STALLED_AFTER = datetime.timedelta(hours=1)


def _run(command, *args) -> str:
    # The commands are the one place their work is described; their summary is the
    # task's result (counts only, no address: results are kept in the database).
    out = StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue().strip().splitlines()[-1] if out.getvalue().strip() else ""


@task
def send_reminders(today: str | None = None) -> str:
    """`today` (YYYY-MM-DD) to act as on another day, as the command's --today."""
    return _run("send_reminders", *(["--today", today] if today else []))


@task
def purge_recipient_data() -> str:
    return _run("purge_recipient_data")


@task
def send_organizer_digests(today: str | None = None) -> str:
    """The organizers' daily digest of new referrals and members (recipients/notices.py):
    one per organizer per day, however many times it runs."""
    return _run("send_organizer_digests", *(["--today", today] if today else []))


@task
def purge_staged_screenshots() -> str:
    return _run("purge_staged_screenshots")


@task
def prune_task_results() -> str:
    # Finished tasks keep their arguments, whole messages among them (sign-in codes,
    # payment handles in reminders): kept a week for the operator, then deleted.
    return _run("prune_db_task_results", "--min-age-days", "7")


@task
def send_rollover_notices(cycle_id: int, pledge_ids: list[int]) -> str:
    """Queue the rollover notice for each donor whose pledges (`pledge_ids`, of the cycle
    before) carried over into cycle `cycle_id` (pledges.services.notify_rolled_over)."""
    from pledges import services
    from pledges.models import Pledge
    from pods.models import Cycle

    cycle = Cycle.objects.select_related("pod").get(pk=cycle_id)
    pledges = list(Pledge.objects.filter(pk__in=pledge_ids).select_related("donor"))
    # All the messages are queued, or none (and the task fails, to be seen and run again).
    with transaction.atomic():
        services.send_rollover_notices(cycle=cycle, pledges=pledges)
    return f"{len({p.donor_id for p in pledges})} notices queued"


@task
def requeue_stalled_tasks() -> str:
    """Queue again the tasks whose worker died while running them, so that a message a
    worker was sending when it was killed is still sent (at least once: should the worker
    have died after sending, before marking it done, the message goes out twice)."""
    stalled = DBTaskResult.objects.running().filter(started_at__lt=timezone.now() - STALLED_AFTER)
    count = stalled.update(status=TaskResultStatus.READY, started_at=None, run_after=timezone.now())
    return f"{count} stalled task(s) queued again"


DAILY = [
    send_reminders,
    send_organizer_digests,
    purge_recipient_data,
    purge_staged_screenshots,
    prune_task_results,
    requeue_stalled_tasks,
]
