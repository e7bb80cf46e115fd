"""Priority classes (优先安排对接, domain-rules §3.1) are data: Zhaoqing's six, loaded as the
default list, decided from the enterprise's honours, IP portfolio, industry and figures, each
shown with its reason. Business date 2026-11-30: "the last 5 years" starts 2021-11-30."""

from __future__ import annotations

import datetime as dt

import pytest

from enterprises.models import IPAsset
from fundmgr.ground.accounts.models import User
from fundmgr.ground.funds.models import Fund
from matching import rules, selectors, services
from matching.models import EnterpriseHonour, FinancingNeed, NeedPriority, PriorityClass, PriorityRule
from tests.matching.conftest import make_enterprise, need_body, ok

pytestmark = pytest.mark.django_db


def classes(enterprise) -> dict[str, str]:
    """{class code: reason} for the enterprise today."""
    return {m.code: m.reason for m in selectors.enterprise_priorities(enterprise)}


def test_the_default_list_is_zhaoqings_six_in_order(db):
    defaults = PriorityClass.objects.filter(fund__isnull=True).order_by("order")
    assert [(c.order, c.code, c.rule) for c in defaults] == [
        (1, "ip_demonstration", PriorityRule.HONOUR),
        (2, "recent_patents", PriorityRule.IP_PORTFOLIO),
        (3, "well_known_trademark", PriorityRule.HONOUR),
        (4, "high_tech", PriorityRule.HONOUR),
        (5, "tech_sme", PriorityRule.HONOUR),
        (6, "city_industry", PriorityRule.INDUSTRY),
    ]
    for c in defaults:  # every default's parameters pass the same check the admin runs
        assert rules.parameter_errors(c.rule, c.parameters, honour_kinds=rules.HONOUR_LABELS) == []


def test_an_enterprise_with_nothing_special_falls_in_no_class(demo):
    assert classes(make_enterprise()) == {}


def test_rule_1_demonstration_or_advantage_title_or_key_protection_list(demo):
    titled = make_enterprise(honours=[("ip_demonstration", "2024-06-01", "2027-05-31")])
    listed = make_enterprise(honours=[("key_ip_protection", "2025-03-01", None)])
    lapsed = make_enterprise(honours=[("ip_advantage", "2020-06-01", "2023-05-31")])
    assert "知识产权示范企业" in classes(titled)["ip_demonstration"]
    assert "2024-06-01认定" in classes(titled)["ip_demonstration"]
    assert "长期有效" in classes(listed)["ip_demonstration"]
    assert classes(lapsed) == {}  # the title expired


def test_rule_2_one_invention_or_three_utility_models_in_the_last_five_years(demo):
    invention = make_enterprise(ip=[("invention_patent", "2022-03-01")])
    old_invention = make_enterprise(ip=[("invention_patent", "2021-11-29")])  # a day before the window
    two_models = make_enterprise(ip=[("utility_model", "2023-01-01"), ("utility_model", "2024-01-01")])
    three_models = make_enterprise(
        ip=[("utility_model", d) for d in ("2023-01-01", "2024-01-01", "2025-01-01")]
    )
    reason = classes(invention)["recent_patents"]
    assert "发明专利1件" in reason and "2021-11-30以来" in reason
    assert "recent_patents" not in classes(old_invention)
    assert "recent_patents" not in classes(two_models)
    assert "实用新型专利3件" in classes(three_models)["recent_patents"]
    # a lapsed right does not count
    IPAsset.objects.filter(enterprise=invention).update(status=IPAsset.Status.LAPSED)
    assert "recent_patents" not in classes(invention)


def test_rule_3_well_known_trademark(demo):
    owner = make_enterprise(honours=[("well_known_trademark", "2019-01-01", None)])
    assert classes(owner) == {"well_known_trademark": classes(owner)["well_known_trademark"]}
    assert "驰名商标" in classes(owner)["well_known_trademark"]


def test_rule_4_high_tech_enterprise_or_in_its_pool(demo):
    certified = make_enterprise(honours=[("high_tech", "2024-12-01", "2027-11-30")])
    pooled = make_enterprise(honours=[("high_tech_pool", "2026-03-01", "2027-02-28")])
    not_yet = make_enterprise(honours=[("high_tech", "2026-12-15", "2029-12-14")])  # granted next month
    assert "高新技术企业" in classes(certified)["high_tech"]
    assert "培育库" in classes(pooled)["high_tech"]
    assert classes(not_yet) == {}


def test_rule_5_in_the_tech_sme_database(demo):
    listed = make_enterprise(honours=[("tech_sme", "2026-05-01", "2026-12-31")])
    assert "科技型中小企业" in classes(listed)["tech_sme"]
    assert classes(make_enterprise(honours=[("specialised", "2026-05-01", None)])) == {}  # another honour


def test_rule_6_fits_the_citys_industries_with_a_patent_and_good_results(demo):
    fits = make_enterprise(
        industry_code="C3985", annual_revenue="6000000.00", ip=[("invention_patent", "2015-01-01")]
    )
    no_patent = make_enterprise(industry_code="C3985", annual_revenue="6000000.00")
    small = make_enterprise(
        industry_code="C3985", annual_revenue="4000000.00", ip=[("invention_patent", "2015-01-01")]
    )
    elsewhere = make_enterprise(
        industry_code="F5190", annual_revenue="9000000.00", ip=[("invention_patent", "2015-01-01")]
    )
    reason = classes(fits)["city_industry"]
    assert "C39" in reason and "有效专利1件" in reason and "600.00万元" in reason
    assert classes(no_patent) == {} and classes(small) == {} and classes(elsewhere) == {}


def test_several_classes_come_best_first_and_set_the_needs_rank(personas, zhaoqing):
    enterprise = make_enterprise(
        industry_code="C3857",
        annual_revenue="8000000.00",
        ip=[("invention_patent", "2023-05-05")],
        honours=[("tech_sme", "2026-01-01", None), ("high_tech", "2025-01-01", "2027-12-31")],
    )
    assert [m.code for m in selectors.enterprise_priorities(enterprise)] == [
        "recent_patents",
        "high_tech",
        "tech_sme",
        "city_industry",
    ]
    body = need_body(enterprise_uscc=enterprise.uscc, offered_ip=[])
    need = ok(personas.client("bank_a").post("/api/v1/financing-needs/", body, format="json"), 201)
    assert need["priority_rank"] == 2
    assert [c["code"] for c in need["priority_classes"]] == [
        "recent_patents",
        "high_tech",
        "tech_sme",
        "city_industry",
    ]
    assert all(c["reason"] for c in need["priority_classes"])


def test_recording_an_honour_reclassifies_the_enterprises_needs(personas, zhaoqing):
    enterprise = make_enterprise()
    need_id = ok(
        personas.client("bank_a").post(
            "/api/v1/financing-needs/",
            need_body(enterprise_uscc=enterprise.uscc, offered_ip=[]),
            format="json",
        ),
        201,
    )["id"]
    assert FinancingNeed.objects.get(pk=need_id).priority_rank is None
    honour = EnterpriseHonour(
        enterprise=enterprise,
        kind="well_known_trademark",
        title="中国驰名商标“星河”",
        granted_on=dt.date(2020, 1, 1),
    )
    services.honour_save(honour=honour, by=User.objects.get(username="officer"))
    need = FinancingNeed.objects.get(pk=need_id)
    assert need.priority_rank == 3
    assert NeedPriority.objects.get(need=need).reason.startswith("驰名商标：中国驰名商标“星河”")


def test_a_fund_with_its_own_list_uses_it_instead_of_the_default(personas):
    foshan = Fund.objects.get(code="foshan")
    enterprise = make_enterprise(
        fund="foshan", honours=[("high_tech", "2025-01-01", None), ("tech_sme", "2026-01-01", None)]
    )
    assert [m.code for m in selectors.enterprise_priorities(enterprise)] == ["high_tech", "tech_sme"]
    PriorityClass.objects.create(
        fund=foshan,
        order=1,
        code="fs_tech_sme",
        label="佛山：科技型中小企业",
        rule="honour",
        parameters={"kinds": ["tech_sme"]},
    )
    assert [m.code for m in selectors.enterprise_priorities(enterprise)] == ["fs_tech_sme"]


def test_class_parameters_are_checked_before_they_are_used(db):
    kinds = rules.HONOUR_LABELS
    assert rules.parameter_errors("honour", {"kinds": ["nobel_prize"]}, honour_kinds=kinds)
    assert rules.parameter_errors("ip_portfolio", {"years": 0, "any_of": []}, honour_kinds=kinds)
    assert rules.parameter_errors(
        "industry", {"industry_prefixes": [], "min_annual_revenue": "多"}, honour_kinds=kinds
    )
    assert rules.parameter_errors("industry", {"industry_prefixes": ["C39"]}, honour_kinds=kinds) == []
    assert rules.industry_fits("C3985", ["C39"]) == "C39"
    assert rules.industry_fits("3985", ["C39"]) == "C39"  # a code written without its door letter
    assert rules.industry_fits("I6510", ["C"]) is None and rules.industry_fits("C1310", ["C"]) == "C"
