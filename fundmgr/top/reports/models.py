"""Stored reports: what was generated for a period, kept as it was sent.

A stored report is the figures (JSON) and the formatted workbook (XLSX bytes) of one kind,
fund, institution and period. The workbook lives in the database next to its figures rather
than in MEDIA_ROOT, so every web process on every host serves the same bytes and a report is
written in one transaction with its data.
"""

from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class ReportKind(models.TextChoices):
    MONTHLY_FUND = "monthly_fund", _("资金月报")
    MONTHLY_INSTITUTION = "monthly_institution", _("合作机构月度对账单")
    QUARTERLY = "quarterly", _("季度监管统计表")


class StoredReport(models.Model):
    kind = models.CharField(_("类型"), max_length=24, choices=ReportKind.choices)
    fund = models.ForeignKey(
        "funds.Fund", verbose_name=_("资金"), on_delete=models.PROTECT, related_name="stored_reports"
    )
    institution = models.ForeignKey(
        "banks.Institution",
        verbose_name=_("合作机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="stored_reports",
    )
    period_start = models.DateField(_("期间起"))
    period_end = models.DateField(_("期间止"))
    generated_at = models.DateTimeField(_("生成时间"))
    data = models.JSONField(_("报表数据"), encoder=DjangoJSONEncoder)
    # The monthly job keeps the figures (`data`) only: the workbook is rendered from them at the
    # first download and kept, so every later download is the same file
    # (`services.stored_report_workbook`). Quarterly reports are stored with theirs.
    xlsx = models.BinaryField(_("Excel 文件"), editable=False, null=True)

    class Meta:
        verbose_name = _("已生成报表")
        verbose_name_plural = _("已生成报表")
        ordering = ["-period_start", "kind", "fund", "institution"]
        indexes = [models.Index(fields=["fund", "kind", "period_start"], name="report_fund_kind_period_idx")]
        constraints = [
            # Two partial constraints instead of one: NULL institutions are distinct in a plain
            # UNIQUE, which would let a fund report be stored twice for the same period.
            models.UniqueConstraint(
                fields=["kind", "fund", "period_start"],
                condition=Q(institution__isnull=True),
                name="report_unique_fund_period",
            ),
            models.UniqueConstraint(
                fields=["kind", "fund", "institution", "period_start"],
                condition=Q(institution__isnull=False),
                name="report_unique_institution_period",
            ),
            models.CheckConstraint(
                name="report_institution_iff_statement",
                condition=(Q(kind="monthly_institution") & Q(institution__isnull=False))
                | (~Q(kind="monthly_institution") & Q(institution__isnull=True)),
            ),
            models.CheckConstraint(
                name="report_period_ordered", condition=Q(period_end__gte=F("period_start"))
            ),
        ]

    def __str__(self) -> str:
        who = f"{self.fund} {self.institution}" if self.institution_id else str(self.fund)
        return f"{self.get_kind_display()} {who} {self.period_start:%Y-%m}"

    @property
    def file_stem(self) -> str:
        """A download name without spaces: quarterly-zhaoqing-2026Q4, monthly-zhaoqing-zqrcb-2026-11."""
        if self.kind == ReportKind.QUARTERLY:
            quarter = (self.period_start.month - 1) // 3 + 1
            return f"quarterly-{self.fund.code}-{self.period_start.year}Q{quarter}"
        parts = ["monthly", self.fund.code]
        if self.institution_id:
            parts.append(self.institution.code)
        return "-".join([*parts, f"{self.period_start:%Y-%m}"])


class FigureSnapshot(models.Model):
    """A closed period's report figures for one fund and one group, kept so that reading the
    period again reads a few rows instead of the books.

    Written by the monthly job for the month just ended (and the quarter and year it closes);
    deleted, then written again, when a dated record inside the period is corrected later
    (a late or corrected monthly report, a settlement dated back, a voided filing: the loans
    app's `BOOK_CHANGED` event). A period without snapshots is computed from the books, so a
    missing snapshot is only slower, never wrong. A row is never updated (PostgreSQL refuses
    it): a reader may keep what it parsed of a row by its id and the time it was written.
    """

    fund = models.ForeignKey("funds.Fund", verbose_name=_("资金"), on_delete=models.CASCADE, related_name="+")
    period_start = models.DateField(_("期间起"))
    period_end = models.DateField(_("期间止"))
    dimension = models.CharField(_("维度"), max_length=16)  # fund | district | institution
    group = models.CharField(_("分组"), max_length=32, blank=True)  # '' | district code | institution id
    # The figures as compact JSON text (`Figures.to_json`, only those not zero), not jsonb:
    # nothing queries inside them, and a closed period of the province reads some 370 rows,
    # which jsonb would turn back into text on every read (most of the database's time there).
    figures = models.TextField(_("指标"))
    written_at = models.DateTimeField(_("写入时间"), auto_now=True)

    class Meta:
        verbose_name = _("期间指标快照")
        verbose_name_plural = _("期间指标快照")
        constraints = [
            models.UniqueConstraint(
                fields=["fund", "period_start", "period_end", "dimension", "group"],
                name="snapshot_unique_group",
            ),
            models.CheckConstraint(
                name="snapshot_period_ordered", condition=Q(period_end__gte=F("period_start"))
            ),
        ]
        indexes = [models.Index(fields=["fund", "period_end"], name="snapshot_fund_end_idx")]

    def __str__(self) -> str:
        return f"{self.fund_id} {self.period_start}..{self.period_end} {self.dimension} {self.group}"
