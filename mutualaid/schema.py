"""Migration operations for tables that carry SQLite triggers.

SQLite cannot add a constraint to a table: Django copies the table into a new one, drops
the old one and renames the copy. Dropping a table drops its triggers (cycles that must
not overlap, slots held week by week), and the rename fails outright while a trigger of
another table still names the dropped one. These operations take the triggers that name
the table off first and put them back, unchanged, once the table is rebuilt. On
PostgreSQL the constraint is simply added.
"""

from contextlib import contextmanager

from django.db import migrations


@contextmanager
def triggers_kept(schema_editor, table):
    if schema_editor.connection.vendor != "sqlite":
        yield
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        triggers = [(name, sql) for name, sql in cursor.fetchall() if table in sql]
    for name, _ in triggers:
        schema_editor.execute(f'DROP TRIGGER "{name}"')
    yield
    for _, sql in triggers:
        schema_editor.execute(sql, None)


class AddConstraintKeepingTriggers(migrations.AddConstraint):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        table = to_state.apps.get_model(app_label, self.model_name)._meta.db_table
        with triggers_kept(schema_editor, table):
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        table = from_state.apps.get_model(app_label, self.model_name)._meta.db_table
        with triggers_kept(schema_editor, table):
            super().database_backwards(app_label, schema_editor, from_state, to_state)
