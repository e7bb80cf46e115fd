"""The transition log is append-only on every path (PostgreSQL only, like the ledger's guard):
UPDATE and DELETE on django-fsm-log's rows and on their business dates are refused by the
database, so not even a shell, a bulk update or a cascade can rewrite who signed what and
when. SQLite (demo, quick runs) relies on the application (no code updates the log; deleting
a signer is refused by accounts' pre_delete guard)."""

from django.db import migrations

TABLES = ("django_fsm_log_statelog", "accounts_transitiondate")

CREATE = r"""
CREATE OR REPLACE FUNCTION transition_log_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the transition log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
""" + "".join(
    f"""
CREATE TRIGGER {table}_append_only
    BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION transition_log_refuse_change();
"""
    for table in TABLES
)

DROP = "".join(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};\n" for table in TABLES) + (
    "DROP FUNCTION IF EXISTS transition_log_refuse_change();\n"
)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_transition_date"),
        ("django_fsm_log", "0004_auto_20190131_0341"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
