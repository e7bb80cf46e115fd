"""The forecast as JSON values and as a workbook (the reports' XLSX writer, one sheet a table)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fundmgr.top.reports.exporters import INT, MULTIPLE, PERCENT, ROW_KIND, TEXT, YUAN, Column, Table, xlsx

from .services import ForecastResult

SUMMARY: tuple[tuple[str, str, str], ...] = (
    ("balance", "当前资金余额(元)", YUAN),
    ("capital", "出资总额(元)", YUAN),
    ("covered_outstanding", "在保余额(元)", YUAN),
    ("exposure", "风险敞口(元)", YUAN),
    ("expected_claims_total", "预测期内预期补偿(元)", YUAN),
    ("claims_p50", "预测期内补偿 P50(元)", YUAN),
    ("claims_p95", "预测期内补偿 P95(元)", YUAN),
    ("claims_p99", "预测期内补偿 P99(元)", YUAN),
    ("below_zero_p50", "P50 余额首次低于零", TEXT),
    ("below_zero_p95", "P95 余额首次低于零", TEXT),
    ("below_zero_p99", "P99 余额首次低于零", TEXT),
    ("top_up_p95", "P95 需补充资金(元)", YUAN),
    ("top_up_p99", "P99 需补充资金(元)", YUAN),
    ("all_default_now", "若未触发贷款全部立即违约，应付补偿合计(元)", YUAN),
)

MONTHS = (
    Column("month", "月份", TEXT, 10),
    Column("expected_new_npl", "预期新增不良(笔)", MULTIPLE, 12),
    Column("expected_new_npl_amount", "预期新增不良余额(元)", YUAN, 18),
    Column("expected_claims", "预期补偿(元)", YUAN, 16),
    Column("mean_claims", "模拟补偿均值(元)", YUAN, 16),
    Column("claims_p95", "补偿 P95(元)", YUAN, 16),
    Column("expected_recoveries", "预期追偿返还(元)", YUAN, 16),
    Column("expected_balance", "预期余额(元)", YUAN, 18),
    Column("balance_p50", "余额 P50(元)", YUAN, 18),
    Column("balance_p95", "余额 P95(元)", YUAN, 18),
    Column("balance_p99", "余额 P99(元)", YUAN, 18),
    Column("covered_outstanding", "预期在保余额(元)", YUAN, 18),
    Column("exposure", "预期风险敞口(元)", YUAN, 18),
    Column("leverage", "放大倍数(倍)", MULTIPLE, 10),
)

ROLL_KEYS = ("normal", "special_mention", "substandard", "doubtful", "loss", "settled")
ROLL_COLUMNS = (
    Column("label", "本月分类", TEXT, 10),
    Column("normal", "次月正常(%)", PERCENT),
    Column("special_mention", "次月关注(%)", PERCENT),
    Column("substandard", "次月次级(%)", PERCENT),
    Column("doubtful", "次月可疑(%)", PERCENT),
    Column("loss", "次月损失(%)", PERCENT),
    Column("settled", "次月结清(%)", PERCENT),
    Column("observations", "观测次数", INT),
    Column("source_label", "来源", TEXT, 26),
)

CONCENTRATION = (
    Column("name", "名称", TEXT, 34),
    Column("loans", "在保贷款(笔)", INT),
    Column("covered_outstanding", "在保余额(元)", YUAN, 18),
    Column("expected_loss", "预期损失(元)", YUAN, 18),
    Column("share", "占比(%)", PERCENT),
)
CONCENTRATION_NAMES = {"enterprises": "企业", "institutions": "合作机构", "districts": "区县"}


def summary_values(r: ForecastResult) -> dict[str, Any]:
    never = "预测期内不低于零"
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
        f"预测基准日：{r.as_of.isoformat()}；预测期：{r.months}个月；模拟路径：{r.paths}条；随机种子：{r.seed}",
        f"情景：{r.scenario.label()}",
        "金额单位：元；P95 表示 95% 的模拟路径不比该值更差",
    ]
    return f"资金充足性预测：{r.fund_name}", lines


def forecast_xlsx(r: ForecastResult) -> bytes:
    head, lines = title(r)
    values = summary_values(r)
    summary = Table(
        "结论",
        (Column("label", "指标", TEXT, 40), Column("value", "数值", ROW_KIND, 22)),
        [{"label": label, "value": values.get(key), "kind": kind} for key, label, kind in SUMMARY]
        + [{"label": "说明", "value": note, "kind": TEXT} for note in r.notes],
    )
    months = Table("逐月预测", MONTHS, [asdict(row) for row in r.rows])
    roll, province = (
        Table(
            name,
            ROLL_COLUMNS,
            [
                {
                    "label": row.label,
                    **dict(zip(ROLL_KEYS, row.rates, strict=True)),
                    "observations": row.observations,
                    "source_label": row.source_label,
                }
                for row in rows
            ],
        )
        for name, rows in (("迁徙率", r.roll_rates), ("全省迁徙率", r.province_roll_rates))
    )
    concentration = [
        Table(f"集中度-{CONCENTRATION_NAMES[key]}", CONCENTRATION, [asdict(c) for c in rows])
        for key, rows in r.concentration.items()
    ]
    return xlsx(title=head, lines=lines, tables=[summary, months, roll, province, *concentration])
