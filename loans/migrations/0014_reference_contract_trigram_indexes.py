"""Admin search by part of a filing's reference or contract number: on PostgreSQL trigram
indexes on UPPER(reference) and UPPER(contract_no), the expressions icontains compares (the
enterprise's name has its own, enterprises 0004). With them each condition of the search is an
index scan, combined by a bitmap OR, instead of a read of every loan. SQLite has no such index
and scans, which is fine at its scale."""

from django.db import migrations

INDEXES = {
    "filing_reference_trgm_idx": "reference",
    "filing_contract_no_trgm_idx": "contract_no",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON loans_loanfiling USING gin (UPPER({column}) gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("loans", "0013_filing_financing_need"), ("enterprises", "0004_name_trigram_index")]

    operations = [migrations.RunPython(create, drop)]
