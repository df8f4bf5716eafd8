"""A slot is held by at most one enrollment in any week.

An enrollment holds its slot from its first week to its last (an enrollment ended before
it began, last_week = first_week - 1, holds no week). On PostgreSQL an exclusion
constraint over the week range; on SQLite triggers. This replaces the old rule "one
active enrollment per slot", which let a newcomer share a slot with someone still being
paid in the same week.

The slot-number triggers of 0002 now hold for every enrollment, whatever its status:
someone who left is still counted in the weeks they were paid, so the slots of a cycle
cannot be cut below a slot that was used.
"""

from django.db import migrations

CLASH = """
    EXISTS (
        SELECT 1 FROM recipients_enrollment other
        WHERE other.cycle_id = NEW.cycle_id AND other.slot = NEW.slot AND {not_self}
          AND other.first_week <= other.last_week
          AND other.first_week <= NEW.last_week AND NEW.first_week <= other.last_week
    )
"""

SQLITE_FORWARD = [
    "DROP TRIGGER IF EXISTS recipients_enrollment_slot_within_cycle_insert",
    "DROP TRIGGER IF EXISTS recipients_enrollment_slot_within_cycle_update",
    "DROP TRIGGER IF EXISTS pods_cycle_slots_cover_enrollments",
    f"""
    CREATE TRIGGER recipients_enrollment_slot_weeks_insert
    BEFORE INSERT ON recipients_enrollment
    WHEN NEW.first_week <= NEW.last_week AND {CLASH.format(not_self="1")}
    BEGIN SELECT RAISE(ABORT, 'recipients_enrollment_slot_weeks_exclusive'); END
    """,
    f"""
    CREATE TRIGGER recipients_enrollment_slot_weeks_update
    BEFORE UPDATE OF cycle_id, slot, first_week, last_week ON recipients_enrollment
    WHEN NEW.first_week <= NEW.last_week AND {CLASH.format(not_self="other.id <> NEW.id")}
    BEGIN SELECT RAISE(ABORT, 'recipients_enrollment_slot_weeks_exclusive'); END
    """,
    """
    CREATE TRIGGER recipients_enrollment_slot_within_cycle_insert
    BEFORE INSERT ON recipients_enrollment
    WHEN NEW.slot > (SELECT slots FROM pods_cycle WHERE id = NEW.cycle_id)
    BEGIN SELECT RAISE(ABORT, 'recipients_enrollment_slot_within_cycle'); END
    """,
    """
    CREATE TRIGGER recipients_enrollment_slot_within_cycle_update
    BEFORE UPDATE OF slot, cycle_id, status ON recipients_enrollment
    WHEN NEW.slot > (SELECT slots FROM pods_cycle WHERE id = NEW.cycle_id)
    BEGIN SELECT RAISE(ABORT, 'recipients_enrollment_slot_within_cycle'); END
    """,
    """
    CREATE TRIGGER pods_cycle_slots_cover_enrollments
    BEFORE UPDATE OF slots ON pods_cycle
    WHEN NEW.slots < (
        SELECT COALESCE(MAX(slot), 0) FROM recipients_enrollment WHERE cycle_id = NEW.id
    )
    BEGIN SELECT RAISE(ABORT, 'recipients_enrollment_slot_within_cycle'); END
    """,
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS recipients_enrollment_slot_weeks_insert",
    "DROP TRIGGER IF EXISTS recipients_enrollment_slot_weeks_update",
]

POSTGRES_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    """
    ALTER TABLE recipients_enrollment ADD CONSTRAINT recipients_enrollment_slot_weeks_exclusive
    EXCLUDE USING gist (
        cycle_id WITH =, slot WITH =, int4range(first_week, last_week + 1) WITH &&
    )
    """,
    """
    CREATE OR REPLACE FUNCTION recipients_enrollment_slot_within_cycle() RETURNS trigger AS $$
    DECLARE
        cycle_slots integer;
    BEGIN
        -- FOR SHARE: a concurrent cut of the cycle's slots, whose own check cannot see
        -- this uncommitted row, must wait for it (and this waits for a cut in flight).
        SELECT slots INTO cycle_slots FROM pods_cycle WHERE id = NEW.cycle_id FOR SHARE;
        IF NEW.slot > cycle_slots THEN
            RAISE EXCEPTION 'recipients_enrollment_slot_within_cycle'
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE OR REPLACE FUNCTION pods_cycle_slots_cover_enrollments() RETURNS trigger AS $$
    BEGIN
        IF NEW.slots < (
            SELECT COALESCE(MAX(slot), 0) FROM recipients_enrollment WHERE cycle_id = NEW.id
        ) THEN
            RAISE EXCEPTION 'recipients_enrollment_slot_within_cycle'
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql
    """,
]
POSTGRES_BACKWARD = [
    "ALTER TABLE recipients_enrollment "
    "DROP CONSTRAINT IF EXISTS recipients_enrollment_slot_weeks_exclusive",
]

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
    dependencies = [("recipients", "0004_calendar"), ("pods", "0005_cycle_no_overlap")]

    operations = [migrations.RunPython(run(0), run(1))]
