"""The forecast page's balance fan chart: inline SVG drawn on the server, in the dashboard's
frame and styles (fundmgr.top.reports.dashboard), with room below zero — the point of it."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from fundmgr.ground.lib.money import TEN_THOUSAND
from fundmgr.top.reports.dashboard import BOTTOM, HEIGHT, LEFT, PLOT_H, PLOT_W, RIGHT, TOP, WIDTH

ZERO_LINE = "#c0392b"
SERIES = (
    ("balance_p50", "P50", "#2f6fb0", ""),
    ("balance_p95", "P95", "#d68910", "6 3"),
    ("balance_p99", "P99", "#922b21", "2 3"),
)


def _f(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.1'), ROUND_HALF_UP)}"


def _wan(value: Decimal) -> Decimal:
    return (value / TEN_THOUSAND).quantize(Decimal("0.01"), ROUND_HALF_UP)


def fan_chart(*, title: str, start: Decimal, rows: list) -> SafeString:
    """Month-end balance (万元) at P50, P95 and P99 from today's balance, the band between
    P50 and P99 shaded, and the zero line."""
    labels = ["当前"] + [r.month for r in rows]
    series = {key: [_wan(start)] + [_wan(getattr(r, key)) for r in rows] for key, *_ in SERIES}
    values = [v for s in series.values() for v in s]
    top, bottom = max(max(values), Decimal(0)), min(min(values), Decimal(0))
    span = (top - bottom) or Decimal(1)
    step = PLOT_W / max(len(labels) - 1, 1)

    def x(i: int) -> Decimal:
        return LEFT + step * i

    def y(v: Decimal) -> Decimal:
        return TOP + PLOT_H * (top - v) / span

    parts = [format_html('<text x="{}" y="16" class="chart-title">{}</text>', _f(LEFT), title)]
    for fraction in (Decimal(0), Decimal("0.5"), Decimal(1)):
        v = bottom + span * fraction
        parts.append(
            format_html(
                '<text x="{}" y="{}" class="chart-tick" text-anchor="end">{}</text>'
                '<line x1="{}" y1="{}" x2="{}" y2="{}" class="chart-grid"/>',
                _f(LEFT - 6),
                _f(y(v) + 4),
                f"{v.quantize(Decimal('0.01'), ROUND_HALF_UP)}",
                _f(LEFT),
                _f(y(v)),
                _f(LEFT + PLOT_W),
                _f(y(v)),
            )
        )
    band = [(x(i), y(v)) for i, v in enumerate(series["balance_p50"])]
    band += [(x(i), y(v)) for i, v in reversed(list(enumerate(series["balance_p99"])))]
    parts.append(
        format_html(
            '<polygon points="{}" fill="#2f6fb0" fill-opacity="0.15" class="fan-band"/>',
            " ".join(f"{_f(a)},{_f(b)}" for a, b in band),
        )
    )
    parts.append(
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="1.5" class="zero-line"/>',
            _f(LEFT),
            _f(y(Decimal(0))),
            _f(LEFT + PLOT_W),
            _f(y(Decimal(0))),
            ZERO_LINE,
        )
    )
    for n, (key, name, color, dash) in enumerate(SERIES):
        points = [(x(i), y(v), labels[i], v) for i, v in enumerate(series[key])]
        parts.append(
            format_html(
                '<polyline fill="none" stroke="{}" stroke-width="2" stroke-dasharray="{}" points="{}"'
                ' data-series="{}"/>',
                color,
                dash,
                " ".join(f"{_f(a)},{_f(b)}" for a, b, _, _ in points),
                name,
            )
        )
        for a, b, label, v in points:
            parts.append(
                format_html(
                    '<circle cx="{}" cy="{}" r="2" fill="{}"><title>{} {}：{} 万元</title></circle>',
                    _f(a),
                    _f(b),
                    color,
                    label,
                    name,
                    f"{v}",
                )
            )
        parts.append(
            format_html(
                '<rect x="{}" y="6" width="10" height="10" fill="{}"/><text x="{}" y="15" class="chart-tick">{}</text>',
                _f(WIDTH - RIGHT - 170 + Decimal(56) * n),
                color,
                _f(WIDTH - RIGHT - 156 + Decimal(56) * n),
                name,
            )
        )
    for i, label in enumerate(labels):
        if i % 3:
            continue
        parts.append(
            format_html(
                '<text x="{}" y="{}" class="chart-tick" text-anchor="middle">{}</text>',
                _f(x(i)),
                _f(HEIGHT - BOTTOM + 24),
                label[2:] if label[0].isdigit() else label,
            )
        )
    body = "".join(str(p) for p in parts)
    # Every part above was built with format_html, which escapes its arguments.
    return mark_safe(
        f'<svg class="fund-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}"'
        f' xmlns="http://www.w3.org/2000/svg" id="fan-chart">{body}</svg>'
    )
