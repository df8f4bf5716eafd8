"""Pod.board_version, the key of the receipts board's cached fragments.

Every update of a pod's row bumps it, whatever the update writes: a save() of a Pod read
before a receipt was posted would otherwise set the version back to one whose fragments
are stale. On PostgreSQL a BEFORE trigger sets it; on SQLite (whose triggers cannot
change NEW) an AFTER trigger writes it again, and since SQLite's recursive triggers are
off, that write does not fire the trigger once more. The triggers that bump it for the
rows the board shows are in receipts/migrations/0005_board_triggers_and_indexes.py.
"""

from django.db import migrations, models

SQLITE_FORWARD = [
    """
    CREATE TRIGGER pods_pod_board_version_forward
    AFTER UPDATE ON pods_pod
    WHEN NEW.board_version <= OLD.board_version
    BEGIN UPDATE pods_pod SET board_version = OLD.board_version + 1 WHERE id = NEW.id; END
    """,
]
SQLITE_BACKWARD = ["DROP TRIGGER IF EXISTS pods_pod_board_version_forward"]

POSTGRES_FORWARD = [
    """
    CREATE FUNCTION pods_pod_board_version_forward() RETURNS trigger AS $$
    BEGIN
        NEW.board_version := OLD.board_version + 1;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER pods_pod_board_version_forward
    BEFORE UPDATE ON pods_pod
    FOR EACH ROW EXECUTE FUNCTION pods_pod_board_version_forward()
    """,
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS pods_pod_board_version_forward ON pods_pod",
    "DROP FUNCTION IF EXISTS pods_pod_board_version_forward()",
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
        ("pods", "0010_organizer_notices"),
    ]

    operations = [
        migrations.AddField(
            model_name="pod",
            name="board_version",
            field=models.PositiveBigIntegerField(
                default=0, editable=False, verbose_name="board version"
            ),
        ),
        migrations.RunPython(run(0), run(1)),
    ]
