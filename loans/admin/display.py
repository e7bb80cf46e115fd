"""How the loans admin shows money, dates and tables, and the read-only base for rows
written by services."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html, format_html_join

from fundmgr.ground.lib.adminkit import ReadOnlyAdminMixin
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


def money_display(field: str, label):
    @admin.display(description=label, ordering=field)
    def show(self, obj) -> str:
        return yuan_text(getattr(obj, field))

    return show


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Rows written by services (the bank's API, scheduled jobs): staff read them only."""
