"""The forecast as JSON values and as a workbook (the reports' XLSX writer, one sheet a table).
Headers, sheet names and titles in the active language (Chinese unless the request asks)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from fundmgr.top.reports.exporters import INT, MULTIPLE, PERCENT, ROW_KIND, TEXT, YUAN, Column, Table, xlsx

from .rules.rollrates import STATE_LABELS, STATES
from .services import ForecastResult

SUMMARY: tuple[tuple[str, Any, str], ...] = (
    ("balance", _("当前资金余额(元)"), YUAN),
    ("capital", _("出资总额(元)"), YUAN),
    ("covered_outstanding", _("在保余额(元)"), YUAN),
    ("exposure", _("风险敞口(元)"), YUAN),
    ("expected_claims_total", _("预测期内预期补偿(元)"), YUAN),
    ("claims_p50", _("预测期内补偿 P50(元)"), YUAN),
    ("claims_p95", _("预测期内补偿 P95(元)"), YUAN),
    ("claims_p99", _("预测期内补偿 P99(元)"), YUAN),
    ("below_zero_p50", _("P50 余额首次低于零"), TEXT),
    ("below_zero_p95", _("P95 余额首次低于零"), TEXT),
    ("below_zero_p99", _("P99 余额首次低于零"), TEXT),
    ("top_up_p95", _("P95 需补充资金(元)"), YUAN),
    ("top_up_p99", _("P99 需补充资金(元)"), YUAN),
    ("all_default_now", _("若未触发贷款全部立即违约，应付补偿合计(元)"), YUAN),
)

MONTHS = (
    Column("month", _("月份"), TEXT, 10),
    Column("expected_new_npl", _("预期新增不良(笔)"), MULTIPLE, 12),
    Column("expected_new_npl_amount", _("预期新增不良余额(元)"), YUAN, 18),
    Column("expected_claims", _("预期补偿(元)"), YUAN, 16),
    Column("mean_claims", _("模拟补偿均值(元)"), YUAN, 16),
    Column("claims_p95", _("补偿 P95(元)"), YUAN, 16),
    Column("expected_recoveries", _("预期追偿返还(元)"), YUAN, 16),
    Column("expected_balance", _("预期余额(元)"), YUAN, 18),
    Column("balance_p50", _("余额 P50(元)"), YUAN, 18),
    Column("balance_p95", _("余额 P95(元)"), YUAN, 18),
    Column("balance_p99", _("余额 P99(元)"), YUAN, 18),
    Column("covered_outstanding", _("预期在保余额(元)"), YUAN, 18),
    Column("exposure", _("预期风险敞口(元)"), YUAN, 18),
    Column("leverage", _("放大倍数(倍)"), MULTIPLE, 10),
)


def _roll_columns() -> tuple[Column, ...]:
    return (
        Column("label", gettext("本月分类"), TEXT, 10),
        *(
            Column(key, gettext("次月%(state)s(%%)") % {"state": label}, PERCENT)
            for key, label in zip(STATES, STATE_LABELS, strict=True)
        ),
        Column("observations", gettext("观测次数"), INT),
        Column("source_label", gettext("来源"), TEXT, 26),
    )


CONCENTRATION = (
    Column("name", _("名称"), TEXT, 34),
    Column("loans", _("在保贷款(笔)"), INT),
    Column("covered_outstanding", _("在保余额(元)"), YUAN, 18),
    Column("expected_loss", _("预期损失(元)"), YUAN, 18),
    Column("share", _("占比(%)"), PERCENT),
)
CONCENTRATION_NAMES = {"enterprises": _("企业"), "institutions": _("合作机构"), "districts": _("区县")}


def summary_values(r: ForecastResult) -> dict[str, Any]:
    never = gettext("预测期内不低于零")
    return {
        "balance": r.balance,
        "capital": r.capital,
        "covered_outstanding": r.covered_outstanding,
        "exposure": r.exposure,
        "expected_claims_total": r.expected_claims_total,
        **{f"claims_{p.lower()}": v for p, v in r.claims_total.items()},
        **{f"below_zero_{p.lower()}": (m or never) for p, m in r.first_below_zero.items()},
        **{f"top_up_{p.lower()}": v for p, v in r.top_up.items()},
        "all_default_now": r.all_default_now,
    }


def as_data(r: ForecastResult) -> dict[str, Any]:
    """The API's body: Python values (Decimal money, dates), shaped as the serializer says."""
    return {
        "fund": {"code": r.fund_code, "name": r.fund_name},
        "as_of": r.as_of,
        "months": r.months,
        "paths": r.paths,
        "seed": r.seed,
        "scenario": r.scenario.as_dict(),
        "balance": r.balance,
        "capital": r.capital,
        "covered_outstanding": r.covered_outstanding,
        "exposure": r.exposure,
        "book": r.book,
        "assumptions": r.assumptions,
        "roll_rates": [asdict(row) for row in r.roll_rates],
        "province_roll_rates": [asdict(row) for row in r.province_roll_rates],
        "rows": [asdict(row) for row in r.rows],
        "first_below_zero": r.first_below_zero,
        "top_up": r.top_up,
        "expected_claims_total": r.expected_claims_total,
        "claims_total": r.claims_total,
        "all_default_now": r.all_default_now,
        "concentration": {k: [asdict(c) for c in rows] for k, rows in r.concentration.items()},
        "notes": r.notes,
        "seconds": r.seconds,
    }


def title(r: ForecastResult) -> tuple[str, list[str]]:
    lines = [
        gettext("预测基准日：%(date)s；预测期：%(months)s个月；模拟路径：%(paths)s条；随机种子：%(seed)s")
        % {"date": r.as_of.isoformat(), "months": r.months, "paths": r.paths, "seed": r.seed},
        gettext("情景：%(scenario)s") % {"scenario": r.scenario.label()},
        gettext("金额单位：元；P95 表示 95% 的模拟路径不比该值更差"),
    ]
    return gettext("资金充足性预测：%(fund)s") % {"fund": r.fund_name}, lines


def forecast_xlsx(r: ForecastResult) -> bytes:
    head, lines = title(r)
    values = summary_values(r)
    summary = Table(
        gettext("结论"),
        (Column("label", gettext("指标"), TEXT, 40), Column("value", gettext("数值"), ROW_KIND, 22)),
        [{"label": label, "value": values.get(key), "kind": kind} for key, label, kind in SUMMARY]
        + [{"label": gettext("说明"), "value": note, "kind": TEXT} for note in r.notes],
    )
    months = Table(gettext("逐月预测"), MONTHS, [asdict(row) for row in r.rows])
    roll_columns = _roll_columns()
    roll, province = (
        Table(
            name,
            roll_columns,
            [
                {
                    "label": row.label,
                    **dict(zip(STATES, row.rates, strict=True)),
                    "observations": row.observations,
                    "source_label": row.source_label,
                }
                for row in rows
            ],
        )
        for name, rows in ((gettext("迁徙率"), r.roll_rates), (gettext("全省迁徙率"), r.province_roll_rates))
    )
    concentration = [
        Table(
            gettext("集中度-%(kind)s") % {"kind": CONCENTRATION_NAMES[key]},
            CONCENTRATION,
            [asdict(c) for c in rows],
        )
        for key, rows in r.concentration.items()
    ]
    return xlsx(title=head, lines=lines, tables=[summary, months, roll, province, *concentration])
