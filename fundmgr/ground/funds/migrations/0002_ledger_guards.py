"""Database-level guards on the fund ledger (PostgreSQL only).

- UPDATE and DELETE on funds_ledgerentry are refused: the ledger is append-only; a
  correction is a new `adjustment` entry.
- An INSERT that leaves the fund's balance below zero is refused. Services already lock
  the fund row and check first; this is the last line of defence. The trigger takes the
  same row lock on the fund, so two inserts for one fund cannot both pass on stale sums.

SQLite (demo, quick local runs) relies on the ORM guards in models.py; the PostgreSQL
tests exercise these triggers.
"""

from django.db import migrations

CREATE = r"""
CREATE OR REPLACE FUNCTION funds_ledger_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'fund ledger is append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER funds_ledger_no_update_delete
    BEFORE UPDATE OR DELETE ON funds_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION funds_ledger_refuse_change();

CREATE OR REPLACE FUNCTION funds_ledger_refuse_overdraft() RETURNS trigger AS $$
DECLARE
    new_balance numeric;
BEGIN
    IF NEW.amount >= 0 THEN
        RETURN NEW;
    END IF;
    PERFORM 1 FROM funds_fund WHERE id = NEW.fund_id FOR UPDATE;
    SELECT COALESCE(SUM(amount), 0) + NEW.amount INTO new_balance
        FROM funds_ledgerentry WHERE fund_id = NEW.fund_id;
    IF new_balance < 0 THEN
        RAISE EXCEPTION 'fund_balance_insufficient: fund % would go to %', NEW.fund_id, new_balance
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER funds_ledger_no_overdraft
    BEFORE INSERT ON funds_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION funds_ledger_refuse_overdraft();
"""

DROP = r"""
DROP TRIGGER IF EXISTS funds_ledger_no_overdraft ON funds_ledgerentry;
DROP FUNCTION IF EXISTS funds_ledger_refuse_overdraft();
DROP TRIGGER IF EXISTS funds_ledger_no_update_delete ON funds_ledgerentry;
DROP FUNCTION IF EXISTS funds_ledger_refuse_change();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("funds", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
