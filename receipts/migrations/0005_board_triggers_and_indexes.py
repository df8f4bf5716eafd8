"""The receipts board's version triggers and indexes.

Bump Pod.board_version (pods/migrations/0009_pod_board_version.py) in the same
transaction as every write that the receipts board shows, whoever makes it (the app's
services, the admin, a management command, a shell): a receipt posted, voided, confirmed
or erased; an enrollment added, changed or ended; a recipient's name; a cycle; a
membership; a member's name or address. The board's cached fragments are keyed on the
version (receipts/views.py), so the next request after any of these renders afresh.

On PostgreSQL the triggers run once per statement (with transition tables), so a bulk
insert of thousands of receipts bumps each pod once; on SQLite once per row.
"""

from django.db import migrations, models

# Tables with a pod_id of their own, and those whose pod is found another way.
DIRECT = ["receipts_receipt", "recipients_recipient", "pods_cycle", "pods_membership"]
BUMP = "UPDATE pods_pod SET board_version = board_version + 1 WHERE id IN ({pods})"


def _sqlite():
    forward, backward = [], []
    for table in DIRECT:
        for event, pods in (
            ("INSERT", "NEW.pod_id"),
            ("UPDATE", "NEW.pod_id, OLD.pod_id"),
            ("DELETE", "OLD.pod_id"),
        ):
            name = f"{table}_board_version_{event.lower()}"
            forward.append(
                f"CREATE TRIGGER {name} AFTER {event} ON {table} "
                f"BEGIN {BUMP.format(pods=pods)}; END"
            )
            backward.append(f"DROP TRIGGER IF EXISTS {name}")
    for event, cycles in (
        ("INSERT", "NEW.cycle_id"),
        ("UPDATE", "NEW.cycle_id, OLD.cycle_id"),
        ("DELETE", "OLD.cycle_id"),
    ):
        name = f"recipients_enrollment_board_version_{event.lower()}"
        pods = f"SELECT pod_id FROM pods_cycle WHERE id IN ({cycles})"
        forward.append(
            f"CREATE TRIGGER {name} AFTER {event} ON recipients_enrollment "
            f"BEGIN {BUMP.format(pods=pods)}; END"
        )
        backward.append(f"DROP TRIGGER IF EXISTS {name}")
    # A member's shown name is their display name, else their address: only those count
    # (signing in writes last_login, which no board shows).
    pods = "SELECT pod_id FROM pods_membership WHERE user_id = NEW.id"
    forward.append(
        "CREATE TRIGGER users_user_board_version_update "
        "AFTER UPDATE OF display_name, email ON users_user "
        "WHEN NEW.display_name IS NOT OLD.display_name OR NEW.email IS NOT OLD.email "
        f"BEGIN {BUMP.format(pods=pods)}; END"
    )
    backward.append("DROP TRIGGER IF EXISTS users_user_board_version_update")
    return forward, backward


def _function(name, pods_of):
    """A statement trigger's function; `pods_of` turns a transition table into the
    query of the pods it touches."""
    return f"""
    CREATE FUNCTION {name}() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            {BUMP.format(pods=pods_of("new_rows"))};
        ELSIF TG_OP = 'DELETE' THEN
            {BUMP.format(pods=pods_of("old_rows"))};
        ELSE
            {BUMP.format(pods=pods_of("new_rows") + " UNION " + pods_of("old_rows"))};
        END IF;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql
    """


USER_PODS = (
    "SELECT m.pod_id FROM pods_membership m JOIN new_rows n ON n.id = m.user_id "
    "JOIN old_rows o ON o.id = n.id WHERE n.display_name IS DISTINCT FROM o.display_name "
    "OR n.email IS DISTINCT FROM o.email"
)


def _postgres():
    forward = [
        _function("receipts_board_version_by_pod", lambda rows: f"SELECT pod_id FROM {rows}"),
        _function(
            "receipts_board_version_by_cycle",
            lambda rows: f"SELECT c.pod_id FROM pods_cycle c JOIN {rows} r ON r.cycle_id = c.id",
        ),
        f"""
        CREATE FUNCTION receipts_board_version_by_user() RETURNS trigger AS $$
        BEGIN
            {BUMP.format(pods=USER_PODS)};
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql
        """,
    ]
    backward = []
    tables = [(table, "receipts_board_version_by_pod") for table in DIRECT]
    tables.append(("recipients_enrollment", "receipts_board_version_by_cycle"))
    for table, function in tables:
        for event, referencing in (
            ("INSERT", "NEW TABLE AS new_rows"),
            ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
            ("DELETE", "OLD TABLE AS old_rows"),
        ):
            name = f"{table}_board_version_{event.lower()}"
            forward.append(
                f"CREATE TRIGGER {name} AFTER {event} ON {table} "
                f"REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
            )
            backward.append(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    forward.append(
        "CREATE TRIGGER users_user_board_version_update AFTER UPDATE ON users_user "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION receipts_board_version_by_user()"
    )
    backward.append("DROP TRIGGER IF EXISTS users_user_board_version_update ON users_user")
    backward += [
        "DROP FUNCTION IF EXISTS receipts_board_version_by_pod()",
        "DROP FUNCTION IF EXISTS receipts_board_version_by_cycle()",
        "DROP FUNCTION IF EXISTS receipts_board_version_by_user()",
    ]
    return forward, backward


STATEMENTS = {"sqlite": _sqlite(), "postgresql": _postgres()}


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
        ("receipts", "0004_staged_screenshot"),
        ("pods", "0011_pod_board_version"),
        ("recipients", "0008_recipient_language"),
        ("users", "0004_user_alert_emails"),
    ]

    operations = [
        migrations.RunPython(run(0), run(1)),
        # An index for each of the board's filters, in the list's order (newest first);
        # the one on (cycle, week) is the first part of the week's.
        migrations.RemoveIndex(model_name="receipt", name="receipts_cycle_week_idx"),
        migrations.AddIndex(
            model_name="receipt",
            index=models.Index(
                fields=["cycle", "-posted_at", "-id"], name="receipts_cycle_posted_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="receipt",
            index=models.Index(
                fields=["cycle", "week", "-posted_at", "-id"],
                name="receipts_cycle_week_posted_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="receipt",
            index=models.Index(
                fields=["cycle", "recipient", "-posted_at", "-id"],
                name="receipts_cycle_recipient_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="receipt",
            index=models.Index(
                fields=["cycle", "payer", "-posted_at", "-id"], name="receipts_cycle_payer_idx"
            ),
        ),
    ]
