"""How the loans admin shows money, dates and tables, and the read-only base for rows
written by services."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from fundmgr.ground.lib.adminkit import ChangePageMixin, ReadOnlyAdminMixin, short_name_display
from fundmgr.ground.lib.adminkit import money_display as money_display  # re-exported for the admins
from fundmgr.ground.lib.money import format_yuan


def yuan_text(value) -> str:
    return "—" if value is None else format_yuan(value)


def date_text(value) -> str:
    return value.isoformat() if value else "—"


def html_table(headers: list[str], row_format: str, rows) -> str:
    """A small read-only table for a change-page panel; '—' when there is nothing to show."""
    rows = list(rows)
    if not rows:
        return "—"
    return format_html(
        "<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>",
        format_html_join("", "<th>{}</th>", ((h,) for h in headers)),
        format_html_join("", row_format, rows),
    )


def fund_short(path: str = "fund", label=None):
    """The fund by its short name (肇庆) in a list column; the full name on hover and in exports."""
    return short_name_display(path, label or _("资金"), short=lambda fund: fund.short_label)


def institution_short(path: str = "institution", label=None):
    """The institution by its short name (广东肇庆农商银行); the full name on hover and in exports."""
    return short_name_display(path, label or _("合作机构"), short=lambda inst: inst.short_name)


class ReadOnlyAdmin(ChangePageMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Rows written by services (the bank's API, scheduled jobs): staff read them only."""
