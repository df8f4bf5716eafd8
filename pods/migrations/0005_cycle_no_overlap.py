"""Cycles of a pod never overlap in time: at most one covers any day.

On PostgreSQL an exclusion constraint over the cycle's dates (btree_gist lets the pod id
share the GiST index with the date range); on SQLite, triggers that refuse an insert or
an update that would overlap another cycle of the same pod. A cycle covers
[starts_on, starts_on + 7 * weeks).
"""

from django.db import migrations

OVERLAP = """
    EXISTS (
        SELECT 1 FROM pods_cycle other
        WHERE other.pod_id = NEW.pod_id AND other.id <> NEW.id
          AND other.starts_on < date(NEW.starts_on, '+' || (7 * NEW.weeks) || ' days')
          AND NEW.starts_on < date(other.starts_on, '+' || (7 * other.weeks) || ' days')
    )
"""

SQLITE_FORWARD = [
    f"""
    CREATE TRIGGER pods_cycle_no_overlap_insert BEFORE INSERT ON pods_cycle
    WHEN {OVERLAP.replace("other.id <> NEW.id", "1")}
    BEGIN SELECT RAISE(ABORT, 'pods_cycle_no_overlap'); END
    """,
    f"""
    CREATE TRIGGER pods_cycle_no_overlap_update
    BEFORE UPDATE OF pod_id, starts_on, weeks ON pods_cycle
    WHEN {OVERLAP}
    BEGIN SELECT RAISE(ABORT, 'pods_cycle_no_overlap'); END
    """,
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS pods_cycle_no_overlap_insert",
    "DROP TRIGGER IF EXISTS pods_cycle_no_overlap_update",
]
POSTGRES_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    """
    ALTER TABLE pods_cycle ADD CONSTRAINT pods_cycle_no_overlap
    EXCLUDE USING gist (pod_id WITH =, daterange(starts_on, starts_on + 7 * weeks) WITH &&)
    """,
]
POSTGRES_BACKWARD = ["ALTER TABLE pods_cycle DROP CONSTRAINT IF EXISTS pods_cycle_no_overlap"]

STATEMENTS = {
    "sqlite": (SQLITE_FORWARD, SQLITE_BACKWARD),
    "postgresql": (POSTGRES_FORWARD, POSTGRES_BACKWARD),
}


def run(direction):
    def apply(apps, schema_editor):
        statements = STATEMENTS.get(schema_editor.connection.vendor)
        if statements is None:
            raise NotImplementedError("Only SQLite and PostgreSQL are supported.")
        for sql in statements[direction]:
            schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [("pods", "0004_calendar")]

    operations = [migrations.RunPython(run(0), run(1))]
