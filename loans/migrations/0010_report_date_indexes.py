# Reports read a period's loans by business date.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("loans", "0009_fund_book"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="loanfiling",
            index=models.Index(
                condition=models.Q(("status", "accepted")),
                fields=["accepted_on", "fund"],
                name="filing_accepted_on_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="loanfiling",
            index=models.Index(fields=["submitted_on", "fund"], name="filing_submitted_on_idx"),
        ),
    ]
