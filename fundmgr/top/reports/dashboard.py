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
from django.utils.translation import gettext as _

from fundmgr.ground.funds.models import Fund
from fundmgr.ground.funds.selectors import fund_figures_one
from fundmgr.ground.lib import clock
from fundmgr.ground.lib.money import HUNDRED, ZERO, format_wan, format_yuan, to_wan_yuan

from . import selectors, services
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
        "title": _("%(fund)s · 资金看板") % {"fund": fund.name},
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

    def wan(label: str, amount) -> tuple[str, str, str]:
        """A card in 万元 (it reads faster), the exact yuan on hover."""
        if amount is None:
            return label, "—", ""
        return label, format_wan(amount), _("%(amount)s 元") % {"amount": format_yuan(amount)}

    def plain(label: str, value) -> tuple[str, str, str]:
        return label, "—" if value is None else f"{value}", ""

    return {
        "outreach": outreach,
        "fund": fund,
        "today": today,
        "cards": [
            wan(_("台账余额(万元)"), live.balance),
            wan(_("出资总额(万元)"), live.capital),
            wan(_("在保余额(万元)"), live.covered_outstanding),
            wan(_("风险敞口(万元)"), live.exposure),
            plain(_("实际放大倍数"), leverage),
            plain(_("放大倍数上限"), limit),
            wan(_("剩余备案容量(万元)"), live.headroom),
            plain(_("不良率(%)"), this_month.npl_ratio),
            wan(_("不良余额(万元)"), this_month.non_performing_amount),
            wan(_("逾期余额(万元)"), this_month.overdue_amount),
            (
                _("本月受理(笔/万元)"),
                f"{this_month.accepted} / {format_wan(this_month.accepted_amount)}",
                _("%(amount)s 元") % {"amount": format_yuan(this_month.accepted_amount)},
            ),
            wan(_("累计代偿(万元)"), live.compensation_paid),
            wan(_("累计追偿返还(万元)"), live.recoveries_returned),
        ],
        "leverage_gauge": gauge,
        "leverage_used": "" if gauge is None else _("已使用政策上限的 %(gauge)s%%") % {"gauge": gauge},
        "pipeline": [(s.label, s.count, format_wan(s.amount), format_yuan(s.amount)) for s in pipeline],
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
            title=_("每月受理金额（万元）"),
            labels=labels,
            values=[to_wan_yuan(p.accepted_amount) for p in trend],
        ),
        "book_chart": line_chart(
            title=_("月末在保余额与资金余额（万元）"),
            labels=labels,
            series=[
                (_("在保余额"), "#2f6fb0", [to_wan_yuan(p.covered_outstanding) for p in trend]),
                (_("资金余额"), "#3c9a5f", [to_wan_yuan(p.balance) for p in trend]),
            ],
        ),
        "npl_chart": line_chart(
            title=_("月末不良率（%）"),
            labels=labels,
            series=[(_("不良率"), "#c0392b", [p.npl_ratio for p in trend])],
        ),
        "quarterly_xlsx": f"{reverse('v1:report-quarterly')}?fund={fund.code}&year={today.year}&quarter={quarter}&format=xlsx",
        "stored_reports": reverse("admin:reports_storedreport_changelist") + f"?fund__id__exact={fund.pk}",
    }


# --- outreach: the matching funnel and the events of the running quarter -------------------------


def outreach_section(*, fund: Fund, today) -> dict:
    """The fund's funnel (needs registered this quarter, each at the furthest step it reached)
    and its events this quarter: the outreach report's own rows (`services.outreach_tables`),
    so the page and the report always agree. Amounts in 万元, as the report gives them."""
    quarter = (today.month - 1) // 3 + 1
    start = today.replace(month=3 * (quarter - 1) + 1, day=1)
    tables = services.outreach_tables(funds=[fund], period=Period.clipped(start, today, today))
    funnel = tables["funnel"][0]

    def rate(value) -> str:
        return "—" if value is None else f"{value}%"

    def wan(value) -> str:
        return f"{value:,.2f}"

    steps = [
        (
            _("登记融资需求"),
            funnel["needs"],
            wan(funnel["needs_amount_wan_yuan"]),
            "100.00%" if funnel["needs"] else "—",
        ),
        (_("银行表达意向"), funnel["needs_with_interest"], "", rate(funnel["interest_rate"])),
        (_("报送贷款备案"), funnel["needs_filed"], "", rate(funnel["filed_rate"])),
        (
            _("受理入池"),
            funnel["needs_accepted"],
            wan(funnel["accepted_amount_wan_yuan"]),
            rate(funnel["accepted_rate"]),
        ),
    ]
    kinds = [
        {
            "label": row["kind_label"],
            "events": row["events"],
            "participants": f"{row['enterprises']} / {row['institutions']}",
            "people": f"{row['attendance']} / {row['online_viewers']}",
            "signings": row["signings"],
            "signed": wan(row["signed_amount_wan_yuan"]),
            "realised": f"{row['realised_signings']} / {wan(row['realised_amount_wan_yuan'])}",
            "rate": rate(row["realisation_rate"]),
        }
        for row in tables["events"]
    ]
    return {
        "title": _("%(year)s年第%(quarter)s季度") % {"year": today.year, "quarter": quarter},
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
        parts += _series(n, len(series), name=name, color=color, points=points)
    return _svg(title, parts)


def _series(
    n: int, count: int, *, name: str, color: str, points: list, dash: str = "", radius: int = 3
) -> list:
    """The n-th of `count` series: its line through `points` ((x, y, label, value) each), a dot
    on each point with its value on hover, and its key in the legend, top right."""
    parts = []
    if points:
        parts.append(
            format_html(
                '<polyline fill="none" stroke="{}" stroke-width="2"{} points="{}" data-series="{}"/>',
                color,
                format_html(' stroke-dasharray="{}"', dash) if dash else "",
                " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y, _, _ in points),
                name,
            )
        )
    for x, y, label, v in points:
        parts.append(
            format_html(
                '<circle cx="{}" cy="{}" r="{}" fill="{}"><title>{} {}：{}</title></circle>',
                _fmt(x),
                _fmt(y),
                radius,
                color,
                label,
                name,
                f"{v}",
            )
        )
    key = WIDTH - RIGHT + 10 - Decimal(80) * (count - n)
    parts.append(
        format_html(
            '<rect x="{}" y="6" width="10" height="10" fill="{}"/><text x="{}" y="15" class="chart-tick">{}</text>',
            _fmt(key),
            color,
            _fmt(key + 14),
            name,
        )
    )
    return parts


def fan_chart(
    *, title: str, labels: list[str], series: list[tuple[str, str, str, list[Decimal]]], band: tuple[int, int]
) -> SafeString:
    """Lines that may go below zero — (name, colour, dash pattern, values) each, one value per
    label — with the area between two of them shaded (`band`: their indexes) and the zero
    line drawn in red: the forecast's balance fan (P50 / P95 / P99 from today's balance)."""
    values = [v for *_, line in series for v in line]
    top, bottom = max(max(values, default=ZERO), ZERO), min(min(values, default=ZERO), ZERO)
    span = (top - bottom) or Decimal(1)
    step = PLOT_W / max(len(labels) - 1, 1)

    def x(i: int) -> Decimal:
        return LEFT + step * i

    def y(v: Decimal) -> Decimal:
        return TOP + PLOT_H * (top - v) / span

    parts = [format_html('<text x="{}" y="16" class="chart-title">{}</text>', _fmt(LEFT), title)]
    for fraction in (Decimal(0), Decimal("0.5"), Decimal(1)):
        v = bottom + span * fraction
        parts.append(
            format_html(
                '<text x="{}" y="{}" class="chart-tick" text-anchor="end">{}</text>'
                '<line x1="{}" y1="{}" x2="{}" y2="{}" class="chart-grid"/>',
                _fmt(LEFT - 6),
                _fmt(y(v) + 4),
                f"{v.quantize(Decimal('0.01'), ROUND_HALF_UP)}",
                _fmt(LEFT),
                _fmt(y(v)),
                _fmt(LEFT + PLOT_W),
                _fmt(y(v)),
            )
        )
    upper, lower = (series[k][-1] for k in band)
    outline = [(x(i), y(v)) for i, v in enumerate(upper)]
    outline += [(x(i), y(v)) for i, v in reversed(list(enumerate(lower)))]
    parts.append(
        format_html(
            '<polygon points="{}" fill="#2f6fb0" fill-opacity="0.15" class="fan-band"/>',
            " ".join(f"{_fmt(a)},{_fmt(b)}" for a, b in outline),
        )
    )
    parts.append(
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#c0392b" stroke-width="1.5" class="zero-line"/>',
            _fmt(LEFT),
            _fmt(y(ZERO)),
            _fmt(LEFT + PLOT_W),
            _fmt(y(ZERO)),
        )
    )
    for n, (name, color, dash, line) in enumerate(series):
        points = [(x(i), y(v), labels[i], v) for i, v in enumerate(line)]
        parts += _series(n, len(series), name=name, color=color, points=points, dash=dash, radius=2)
    for i, label in enumerate(labels):
        if i % 3 == 0:
            parts.append(
                format_html(
                    '<text x="{}" y="{}" class="chart-tick" text-anchor="middle">{}</text>',
                    _fmt(x(i)),
                    _fmt(HEIGHT - BOTTOM + 24),
                    label[2:] if label[:1].isdigit() else label,  # 2026-11 → 26-11
                )
            )
    return _svg(title, parts)
