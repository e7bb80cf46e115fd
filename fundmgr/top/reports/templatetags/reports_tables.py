"""Cells of a report table on an admin page, formatted as people read them: 万元 and ratios
with thousands separators and two places, counts as integers, text as it is."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

from fundmgr.ground.lib.regions import region_name
from fundmgr.top.reports import exporters

register = template.Library()


def cell_text(value, kind: str) -> str:
    if value is None or value == "":
        return "—"
    if kind == exporters.REGION:
        return region_name(str(value))
    if kind == exporters.DATE:
        return value.isoformat() if hasattr(value, "isoformat") else str(value)
    if kind == exporters.INT:
        return f"{int(value):,}"
    if kind in (exporters.WAN, exporters.YUAN, exporters.PERCENT, exporters.MULTIPLE):
        return f"{Decimal(value):,.2f}"
    return str(value)


@register.simple_tag
def cell(row: dict, column: exporters.Column, total: bool = False):
    value = _("合计") if total and column.key == "rank" else row.get(column.key)
    css = "" if column.kind in (exporters.TEXT, exporters.REGION, exporters.DATE) else "num"
    return format_html('<td class="{}">{}</td>', css, cell_text(value, column.kind))
