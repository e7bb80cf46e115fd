"""The overdraft trigger locks the fund row FOR NO KEY UPDATE instead of FOR UPDATE (PostgreSQL).

It still serialises outflows of one fund (the two modes conflict with each other), but no
longer blocks other transactions' foreign-key checks on the fund (FOR KEY SHARE), which made
a payout deadlock with a monthly report holding the fund's kept loan figures while it wrote
a row referring to the fund. `funds.services.fund_lock` takes the same mode.
"""

from django.db import migrations

FUNCTION = r"""
CREATE OR REPLACE FUNCTION funds_ledger_refuse_overdraft() RETURNS trigger AS $$
DECLARE
    new_balance numeric;
BEGIN
    IF NEW.amount >= 0 THEN
        RETURN NEW;
    END IF;
    PERFORM 1 FROM funds_fund WHERE id = NEW.fund_id FOR {mode};
    SELECT COALESCE(SUM(amount), 0) + NEW.amount INTO new_balance
        FROM funds_ledgerentry WHERE fund_id = NEW.fund_id;
    IF new_balance < 0 THEN
        RAISE EXCEPTION 'fund_balance_insufficient: fund % would go to %', NEW.fund_id, new_balance
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION.replace("{mode}", "NO KEY UPDATE"), params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION.replace("{mode}", "UPDATE"), params=None)


class Migration(migrations.Migration):
    dependencies = [("funds", "0005_principal_caps")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
