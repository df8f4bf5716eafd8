"""Enrollments never exceed a cycle's slots, held by the database.

An active enrollment holds one slot number alone (a partial unique constraint); these
triggers keep every active enrollment's slot within 1..cycle.slots (also when a left one
comes back), and keep a cycle's slots from being cut below a slot that is in use. Together
they make overfilling impossible on SQLite and PostgreSQL alike, even when two requests
race: the unique index decides between two enrollments, and on PostgreSQL an enrollment
share-locks its cycle so that a concurrent cut of the slots waits for it and sees it.
"""

from django.db import migrations

SQLITE_FORWARD = [
    """
    CREATE TRIGGER recipients_enrollment_slot_within_cycle_insert
    BEFORE INSERT ON recipients_enrollment
    WHEN NEW.status = 'active'
        AND NEW.slot > (SELECT slots FROM pods_cycle WHERE id = NEW.cycle_id)
    BEGIN SELECT RAISE(ABORT, 'recipients_enrollment_slot_within_cycle'); END
    """,
    """
    CREATE TRIGGER recipients_enrollment_slot_within_cycle_update
    BEFORE UPDATE OF slot, cycle_id, status ON recipients_enrollment
    WHEN NEW.status = 'active'
        AND NEW.slot > (SELECT slots FROM pods_cycle WHERE id = NEW.cycle_id)
    BEGIN SELECT RAISE(ABORT, 'recipients_enrollment_slot_within_cycle'); END
    """,
    """
    CREATE TRIGGER pods_cycle_slots_cover_enrollments
    BEFORE UPDATE OF slots ON pods_cycle
    WHEN NEW.slots < (
        SELECT COALESCE(MAX(slot), 0) FROM recipients_enrollment
        WHERE cycle_id = NEW.id AND status = 'active'
    )
    BEGIN SELECT RAISE(ABORT, 'recipients_enrollment_slot_within_cycle'); END
    """,
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS recipients_enrollment_slot_within_cycle_insert",
    "DROP TRIGGER IF EXISTS recipients_enrollment_slot_within_cycle_update",
    "DROP TRIGGER IF EXISTS pods_cycle_slots_cover_enrollments",
]

POSTGRES_FORWARD = [
    """
    CREATE FUNCTION recipients_enrollment_slot_within_cycle() RETURNS trigger AS $$
    DECLARE
        cycle_slots integer;
    BEGIN
        IF NEW.status <> 'active' THEN
            RETURN NEW;
        END IF;
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
    CREATE TRIGGER recipients_enrollment_slot_within_cycle
    BEFORE INSERT OR UPDATE OF slot, cycle_id, status ON recipients_enrollment
    FOR EACH ROW EXECUTE FUNCTION recipients_enrollment_slot_within_cycle()
    """,
    """
    CREATE FUNCTION pods_cycle_slots_cover_enrollments() RETURNS trigger AS $$
    BEGIN
        IF NEW.slots < (
            SELECT COALESCE(MAX(slot), 0) FROM recipients_enrollment
            WHERE cycle_id = NEW.id AND status = 'active'
        ) THEN
            RAISE EXCEPTION 'recipients_enrollment_slot_within_cycle'
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER pods_cycle_slots_cover_enrollments
    BEFORE UPDATE OF slots ON pods_cycle
    FOR EACH ROW EXECUTE FUNCTION pods_cycle_slots_cover_enrollments()
    """,
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS pods_cycle_slots_cover_enrollments ON pods_cycle",
    "DROP FUNCTION IF EXISTS pods_cycle_slots_cover_enrollments()",
    "DROP TRIGGER IF EXISTS recipients_enrollment_slot_within_cycle ON recipients_enrollment",
    "DROP FUNCTION IF EXISTS recipients_enrollment_slot_within_cycle()",
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
    dependencies = [
        ("recipients", "0001_initial"),
        # After every migration of pods that remakes pods_cycle on SQLite (a new table,
        # the rows copied, the old one dropped): SQLite refuses to drop a table that a
        # trigger on another table reads. Without it, the order only held by chance.
        ("pods", "0007_date_bounds_and_submission_keys"),
    ]

    operations = [migrations.RunPython(run(0), run(1))]
