"""A kept figure snapshot is written once (PostgreSQL only, like the ledger's and the transition
log's guards): the database refuses an UPDATE of its rows. A correction deletes a period's rows
and writes new ones, with new ids, so a report process may keep what it parsed of a row by its
id (`reports.selectors.snapshot_figures`). SQLite (demo, quick runs) relies on the application:
no code updates a snapshot."""

from django.db import migrations

CREATE = r"""
CREATE OR REPLACE FUNCTION figure_snapshot_refuse_update() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'a kept figure snapshot is written once: delete it and write it anew'
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER reports_figuresnapshot_write_once
    BEFORE UPDATE ON reports_figuresnapshot
    FOR EACH ROW EXECUTE FUNCTION figure_snapshot_refuse_update();
"""

DROP = """
DROP TRIGGER IF EXISTS reports_figuresnapshot_write_once ON reports_figuresnapshot;
DROP FUNCTION IF EXISTS figure_snapshot_refuse_update();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("reports", "0004_figure_snapshot_text")]

    operations = [migrations.RunPython(forwards, backwards)]
