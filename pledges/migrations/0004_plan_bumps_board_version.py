"""The weekly plan's lines bump Pod.board_version too, in the same transaction as every
write of them (a plan built, rebuilt, or edited by an organizer), as the receipts,
enrollments and cycles do (receipts/migrations/0005_board_triggers_and_indexes.py): what
each payer still owes in a week is cached under the version (pledges.services.week_owed),
so that a page of a pod of hundreds does not work it out again on every request, and the
next request after any of these writes works it out afresh.

On PostgreSQL the triggers run once per statement, with the function of receipts' 0005;
on SQLite once per row.
"""

from django.db import migrations

BUMP = (
    "UPDATE pods_pod SET board_version = board_version + 1 "
    "WHERE id IN (SELECT pod_id FROM pods_cycle WHERE id IN ({cycles}))"
)
EVENTS = {
    "INSERT": ("NEW.cycle_id", "NEW TABLE AS new_rows"),
    "UPDATE": ("NEW.cycle_id, OLD.cycle_id", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    "DELETE": ("OLD.cycle_id", "OLD TABLE AS old_rows"),
}


def _statements(vendor):
    forward, backward = [], []
    for event, (cycles, referencing) in EVENTS.items():
        name = f"pledges_assignment_board_version_{event.lower()}"
        if vendor == "sqlite":
            forward.append(
                f"CREATE TRIGGER {name} AFTER {event} ON pledges_assignment "
                f"BEGIN {BUMP.format(cycles=cycles)}; END"
            )
            backward.append(f"DROP TRIGGER IF EXISTS {name}")
        elif vendor == "postgresql":
            forward.append(
                f"CREATE TRIGGER {name} AFTER {event} ON pledges_assignment "
                f"REFERENCING {referencing} FOR EACH STATEMENT "
                "EXECUTE FUNCTION receipts_board_version_by_cycle()"
            )
            backward.append(f"DROP TRIGGER IF EXISTS {name} ON pledges_assignment")
        else:
            raise NotImplementedError("Only SQLite and PostgreSQL are supported.")
    return forward, backward


def run(direction):
    def apply(apps, schema_editor):
        for sql in _statements(schema_editor.connection.vendor)[direction]:
            schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [
        ("receipts", "0005_board_triggers_and_indexes"),
        ("pledges", "0003_pledge_carries_over"),
    ]

    operations = [migrations.RunPython(run(0), run(1), elidable=False)]
