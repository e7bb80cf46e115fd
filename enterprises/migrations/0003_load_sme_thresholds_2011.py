"""Load the 2011 SME classification thresholds (工信部联企业〔2011〕300号) from the JSON file.

The table is data: a revised standard is added as new rows under a new `standard` code.
"""

from django.db import migrations


def load(apps, schema_editor):
    from enterprises.sme import load_threshold_rows

    SMEThreshold = apps.get_model("enterprises", "SMEThreshold")
    for row in load_threshold_rows():
        SMEThreshold.objects.update_or_create(
            standard=row["standard"],
            industry=row["industry"],
            defaults={
                "name": row["name"],
                "gbt4754_prefixes": row["gbt4754_prefixes"],
                "rule": row["rule"],
                "effective_from": row["effective_from"],
            },
        )


def unload(apps, schema_editor):
    apps.get_model("enterprises", "SMEThreshold").objects.filter(standard="MIIT-2011-300").delete()


class Migration(migrations.Migration):
    dependencies = [("enterprises", "0002_smethreshold")]

    operations = [migrations.RunPython(load, unload)]
