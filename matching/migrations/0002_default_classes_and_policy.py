"""The default priority classes and matching numbers, used by every fund without its own.

The classes are Zhaoqing's six (优先安排对接, domain-rules §3.1 [V:S9]), the only city measure
that names them; a fund with another measure gets rows of its own in the admin. The industry
list of class 6 reads Zhaoqing's priority industries (new-energy vehicles and parts, electronic
information, biomedicine, metal processing, building materials, food and beverages, forest
chemicals, advanced equipment, energy saving and environmental protection) as GB/T 4754
divisions; its revenue floor (5,000,000 yuan) stands for "good economic results" and is a
prototype default [D], as are the policy numbers (a need is listed 60 working days; staff are
told of a need untouched for 10 working days).
"""

import datetime as dt

from django.db import migrations

ZHAOQING_INDUSTRIES = [
    "C13", "C14", "C15", "C20", "C26", "C27", "C30", "C32", "C33", "C34",
    "C35", "C36", "C38", "C39", "C40", "N77",
]

DEFAULT_CLASSES = [
    (1, "ip_demonstration", "国家或省知识产权示范、优势企业，或列入本市重点知识产权保护名录", "honour",
     {"kinds": ["ip_demonstration", "ip_advantage", "key_ip_protection"]}),
    (2, "recent_patents", "近5年取得有效发明专利1件以上或实用新型专利3件以上", "ip_portfolio",
     {"years": 5, "any_of": [{"kinds": ["invention_patent"], "min": 1}, {"kinds": ["utility_model"], "min": 3}]}),
    (3, "well_known_trademark", "拥有驰名商标", "honour", {"kinds": ["well_known_trademark"]}),
    (4, "high_tech", "国家高新技术企业或入库培育企业", "honour", {"kinds": ["high_tech", "high_tech_pool"]}),
    (5, "tech_sme", "入库国家科技型中小企业", "honour", {"kinds": ["tech_sme"]}),
    (6, "city_industry", "符合本市产业布局、经济效益良好的科技创新型企业", "industry",
     {"industry_prefixes": ZHAOQING_INDUSTRIES, "requires_patent": True, "min_annual_revenue": "5000000.00"}),
]

DOCUMENT = "肇庆市知识产权质押融资风险补偿资金管理办法（优先安排对接）"


def load(apps, schema_editor):
    PriorityClass = apps.get_model("matching", "PriorityClass")
    MatchingPolicy = apps.get_model("matching", "MatchingPolicy")
    for order, code, label, rule, parameters in DEFAULT_CLASSES:
        PriorityClass.objects.get_or_create(
            fund=None,
            code=code,
            defaults={
                "order": order,
                "label": label,
                "rule": rule,
                "parameters": parameters,
                "document_ref": DOCUMENT,
            },
        )
    MatchingPolicy.objects.get_or_create(
        fund=None,
        effective_from=dt.date(2000, 1, 1),
        defaults={"need_valid_working_days": 60, "untouched_alert_working_days": 10, "document_ref": "默认值 [D]"},
    )


def unload(apps, schema_editor):
    apps.get_model("matching", "PriorityClass").objects.filter(
        fund=None, code__in=[c[1] for c in DEFAULT_CLASSES]
    ).delete()
    apps.get_model("matching", "MatchingPolicy").objects.filter(fund=None, effective_from=dt.date(2000, 1, 1)).delete()


class Migration(migrations.Migration):
    dependencies = [("matching", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
