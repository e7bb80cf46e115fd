"""Admin search by part of an enterprise's name (filings, claims, enterprises): on PostgreSQL a
trigram index on UPPER(name), the expression Django's icontains compares. pg_trgm ships with
PostgreSQL's contrib; creating the extension needs a role allowed to (the migrating role in
our deployments). SQLite has no such index and searches by scanning, which is fine at its
scale."""

from django.db import migrations

INDEX = "enterprise_name_trgm_idx"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON enterprises_enterprise USING gin (UPPER(name) gin_trgm_ops)"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("enterprises", "0003_load_sme_thresholds_2011")]

    operations = [migrations.RunPython(create, drop)]
