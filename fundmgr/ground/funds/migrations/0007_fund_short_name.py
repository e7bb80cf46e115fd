from django.db import migrations, models

from fundmgr.ground.lib.regions import city_short_name


def fill_short_names(apps, schema_editor):
    """Existing funds are named by their city (肇庆市知识产权质押融资风险补偿资金 → 肇庆)."""
    Fund = apps.get_model("funds", "Fund")
    for fund in Fund.objects.filter(short_name=""):
        short = city_short_name(fund.region_code)
        if short:
            Fund.objects.filter(pk=fund.pk).update(short_name=short)


class Migration(migrations.Migration):
    dependencies = [
        ("funds", "0006_ledger_lock_no_key"),
    ]

    operations = [
        migrations.AddField(
            model_name="fund",
            name="short_name",
            field=models.CharField(
                blank=True,
                help_text="列表、筛选和看板中使用，例如 肇庆；留空时使用所在城市名",
                max_length=16,
                verbose_name="简称",
            ),
        ),
        migrations.RunPython(fill_short_names, migrations.RunPython.noop),
    ]
