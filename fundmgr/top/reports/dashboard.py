"""The fund dashboard in the admin (资金看板): live figures, the claims pipeline and monthly
trends drawn as inline SVG on the server — no script, no CDN, nothing fetched at run time.

Mounted on the fund admin (`FundAdmin.fund_views`, registered by reports/admin.py) at
/admin/funds/fund/dashboard/<code>/ and linked from the fund list.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from fundmgr.ground.funds.models import Fund
from fundmgr.ground.funds.selectors import fund_figures_one
from fundmgr.ground.lib import clock
from fundmgr.ground.lib.money import HUNDRED, ZERO, format_yuan, to_wan_yuan
from matching.models import EventKind

from . import selectors
from .selectors import FUND, Period

URL_NAME = "funds_fund_dashboard"


def fund_dashboard_view(request, code: str, *, model_admin: admin.ModelAdmin):
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    fund = get_object_or_404(model_admin.get_queryset(request), code=code)  # a regulator: its city only
    context = {
        **model_admin.admin_site.each_context(request),
        **dashboard_context(fund=fund),
        "opts": Fund._meta,
        "title": f"{fund.name} · 资金看板",
    }
    return TemplateResponse(request, "admin/reports/dashboard.html", context)


def dashboard_context(*, fund: Fund) -> dict:
    today = clock.today()
    live = fund_figures_one(fund=fund, on=today)
    month_start = today.replace(day=1)
    this_month = selectors.report_figures(
        funds=[fund], period=Period.clipped(month_start, today, today), today=today, dimensions=(FUND,)
    )[FUND][(fund.pk,)]
    pipeline = selectors.claims_pipeline(fund_id=fund.pk)
    trend = selectors.monthly_trend(fund=fund, today=today)
    labels = [p.month for p in trend]
    # Leverage as the reports compute it (half-up), so the page and the reports agree.
    leverage, limit = this_month.leverage, this_month.leverage_limit
    gauge = None
    if leverage is not None and limit:
        gauge = min(leverage * HUNDRED / limit, HUNDRED).quantize(Decimal("0.1"), ROUND_HALF_UP)
    quarter = (today.month - 1) // 3 + 1
    outreach = outreach_section(fund=fund, today=today)
    return {
        "outreach": outreach,
        "fund": fund,
        "today": today,
        "cards": [
            ("台账余额(元)", format_yuan(live.balance)),
            ("出资总额(元)", format_yuan(live.capital)),
            ("在保余额(元)", format_yuan(live.covered_outstanding)),
            ("风险敞口(元)", format_yuan(live.exposure)),
            ("实际放大倍数", "—" if leverage is None else f"{leverage}"),
            ("放大倍数上限", "—" if limit is None else f"{limit}"),
            ("剩余备案容量(元)", "—" if live.headroom is None else format_yuan(live.headroom)),
            ("不良率(%)", "—" if this_month.npl_ratio is None else f"{this_month.npl_ratio}"),
            ("不良余额(元)", format_yuan(this_month.non_performing_amount)),
            ("逾期余额(元)", format_yuan(this_month.overdue_amount)),
            ("本月受理(笔/元)", f"{this_month.accepted} / {format_yuan(this_month.accepted_amount)}"),
            ("累计代偿(元)", format_yuan(live.compensation_paid)),
            ("累计追偿返还(元)", format_yuan(live.recoveries_returned)),
        ],
        "leverage_gauge": gauge,
        "pipeline": [(s.label, s.count, format_yuan(s.amount)) for s in pipeline],
        "trend_json": [
            {
                "month": p.month,
                "accepted_wan_yuan": f"{to_wan_yuan(p.accepted_amount)}",
                "claims_paid_wan_yuan": f"{to_wan_yuan(p.claims_paid_amount)}",
                "balance_wan_yuan": f"{to_wan_yuan(p.balance)}",
                "covered_outstanding_wan_yuan": f"{to_wan_yuan(p.covered_outstanding)}",
                "npl_ratio": None if p.npl_ratio is None else f"{p.npl_ratio}",
            }
            for p in trend
        ],
        "accepted_chart": bar_chart(
            title="每月受理金额（万元）",
            labels=labels,
            values=[to_wan_yuan(p.accepted_amount) for p in trend],
        ),
        "book_chart": line_chart(
            title="月末在保余额与资金余额（万元）",
            labels=labels,
            series=[
                ("在保余额", "#2f6fb0", [to_wan_yuan(p.covered_outstanding) for p in trend]),
                ("资金余额", "#3c9a5f", [to_wan_yuan(p.balance) for p in trend]),
            ],
        ),
        "npl_chart": line_chart(
            title="月末不良率（%）",
            labels=labels,
            series=[("不良率", "#c0392b", [p.npl_ratio for p in trend])],
        ),
        "quarterly_xlsx": f"{reverse('v1:report-quarterly')}?fund={fund.code}&year={today.year}&quarter={quarter}&format=xlsx",
        "stored_reports": reverse("admin:reports_storedreport_changelist") + f"?fund__id__exact={fund.pk}",
    }


# --- outreach: the matching funnel and the events of the running quarter -------------------------


def outreach_section(*, fund: Fund, today) -> dict:
    """The fund's funnel (needs registered this quarter, each at the furthest step it reached)
    and its events this quarter, as the quarterly report computes them."""
    quarter = (today.month - 1) // 3 + 1
    start = today.replace(month=3 * (quarter - 1) + 1, day=1)
    period = Period.clipped(start, today, today)
    funnel = selectors.need_funnel(fund_ids=[fund.pk], period=period)[fund.pk]
    events = selectors.event_figures(fund_ids=[fund.pk], period=period)

    def rate(part, whole) -> str:
        value = selectors.ratio_percent(Decimal(part), Decimal(whole))
        return "—" if value is None else f"{value}%"

    steps = [
        ("登记融资需求", funnel.needs, format_yuan(funnel.needs_amount), "100.00%" if funnel.needs else "—"),
        ("银行表达意向", funnel.interested, "", rate(funnel.interested, funnel.needs)),
        ("报送贷款备案", funnel.filed, "", rate(funnel.filed, funnel.needs)),
        (
            "受理入池",
            funnel.accepted,
            format_yuan(funnel.accepted_amount),
            rate(funnel.accepted, funnel.needs),
        ),
    ]
    kinds = []
    for kind, label in EventKind.choices:
        f = events[(fund.pk, kind)]
        kinds.append(
            {
                "label": str(label),
                "events": f.events,
                "participants": f"{f.enterprises} / {f.institutions}",
                "people": f"{f.attendance} / {f.online_viewers}",
                "signings": f.signings,
                "signed": format_yuan(f.signed_amount),
                "realised": f"{f.realised} / {format_yuan(f.realised_amount)}",
                "rate": rate(f.realised_amount, f.signed_amount),
            }
        )
    return {
        "title": f"{today.year}年第{quarter}季度",
        "steps": steps,
        "events": kinds,
        "report_xlsx": f"{reverse('v1:report-outreach')}?fund={fund.code}&year={today.year}&quarter={quarter}&format=xlsx",
    }


# --- inline SVG charts (Decimal coordinates, one decimal place) ------------------------------------

WIDTH, HEIGHT = Decimal(640), Decimal(220)
LEFT, RIGHT, TOP, BOTTOM = Decimal(64), Decimal(12), Decimal(24), Decimal(36)
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM


def _fmt(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.1'), ROUND_HALF_UP)}"


def _scale_max(values: list[Decimal | None]) -> Decimal:
    present = [v for v in values if v is not None]
    top = max(present, default=ZERO)
    return top if top > 0 else Decimal(1)


def _frame(title: str, labels: list[str], top: Decimal) -> list[str]:
    parts = [
        format_html('<text x="{}" y="16" class="chart-title">{}</text>', _fmt(LEFT), title),
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" class="chart-axis"/>',
            _fmt(LEFT),
            _fmt(TOP + PLOT_H),
            _fmt(LEFT + PLOT_W),
            _fmt(TOP + PLOT_H),
        ),
    ]
    for fraction in (Decimal(0), Decimal("0.5"), Decimal(1)):
        y = TOP + PLOT_H - PLOT_H * fraction
        parts.append(
            format_html(
                '<text x="{}" y="{}" class="chart-tick" text-anchor="end">{}</text>'
                '<line x1="{}" y1="{}" x2="{}" y2="{}" class="chart-grid"/>',
                _fmt(LEFT - 6),
                _fmt(y + 4),
                f"{(top * fraction).quantize(Decimal('0.01'), ROUND_HALF_UP)}",
                _fmt(LEFT),
                _fmt(y),
                _fmt(LEFT + PLOT_W),
                _fmt(y),
            )
        )
    step = PLOT_W / max(len(labels), 1)
    for i, label in enumerate(labels):
        if i % 2 == len(labels) % 2:  # every other month, ending on the latest
            continue
        x = LEFT + step * i + step / 2
        parts.append(
            format_html(
                '<text x="{}" y="{}" class="chart-tick" text-anchor="middle">{}</text>',
                _fmt(x),
                _fmt(HEIGHT - 12),
                label[2:],
            )
        )
    return parts


def _svg(title: str, parts: list[str]) -> SafeString:
    body = "".join(str(p) for p in parts)
    # Every part above was built with format_html, which escapes its arguments.
    return mark_safe(
        f'<svg class="fund-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}"'
        f' xmlns="http://www.w3.org/2000/svg">{body}</svg>'
    )


def bar_chart(*, title: str, labels: list[str], values: list[Decimal]) -> SafeString:
    top = _scale_max(values)
    parts = _frame(title, labels, top)
    step = PLOT_W / max(len(labels), 1)
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = PLOT_H * value / top
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" class="chart-bar"><title>{}：{}</title></rect>',
                _fmt(LEFT + step * i + step / 5),
                _fmt(TOP + PLOT_H - h),
                _fmt(step * 3 / 5),
                _fmt(h),
                label,
                f"{value}",
            )
        )
    return _svg(title, parts)


def line_chart(
    *, title: str, labels: list[str], series: list[tuple[str, str, list[Decimal | None]]]
) -> SafeString:
    top = _scale_max([v for _, _, values in series for v in values])
    parts = _frame(title, labels, top)
    step = PLOT_W / max(len(labels), 1)
    for n, (name, color, values) in enumerate(series):
        points = [
            (LEFT + step * i + step / 2, TOP + PLOT_H - PLOT_H * v / top, labels[i], v)
            for i, v in enumerate(values)
            if v is not None
        ]
        if points:
            parts.append(
                format_html(
                    '<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>',
                    color,
                    " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y, _, _ in points),
                )
            )
        for x, y, label, v in points:
            parts.append(
                format_html(
                    '<circle cx="{}" cy="{}" r="3" fill="{}"><title>{} {}：{}</title></circle>',
                    _fmt(x),
                    _fmt(y),
                    color,
                    label,
                    name,
                    f"{v}",
                )
            )
        parts.append(
            format_html(
                '<rect x="{}" y="6" width="10" height="10" fill="{}"/><text x="{}" y="15" class="chart-tick">{}</text>',
                _fmt(WIDTH - RIGHT - 150 + Decimal(80) * n),
                color,
                _fmt(WIDTH - RIGHT - 136 + Decimal(80) * n),
                name,
            )
        )
    return _svg(title, parts)
