"""Servicing (贷后): the banks' monthly status reports and the early warnings on covered loans."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from fundmgr.ground.lib import clock

from .filings import MONEY, LoanFiling, LoanStatus


class RiskClass(models.TextChoices):
    NORMAL = "normal", _("正常")
    SPECIAL_MENTION = "special_mention", _("关注")
    SUBSTANDARD = "substandard", _("次级")
    DOUBTFUL = "doubtful", _("可疑")
    LOSS = "loss", _("损失")


RISK_ORDER = [
    RiskClass.NORMAL,
    RiskClass.SPECIAL_MENTION,
    RiskClass.SUBSTANDARD,
    RiskClass.DOUBTFUL,
    RiskClass.LOSS,
]


class StatusReport(models.Model):
    """A bank's monthly report on one covered loan. Corrections supersede, never overwrite,
    so the delinquency history stays whole."""

    filing = models.ForeignKey(
        LoanFiling, verbose_name=_("贷款"), on_delete=models.PROTECT, related_name="status_reports"
    )
    as_of = models.DateField(_("报告月末"))
    outstanding_principal = models.DecimalField(_("贷款余额(元)"), **MONEY)
    overdue_principal = models.DecimalField(_("逾期本金(元)"), **MONEY)
    overdue_interest = models.DecimalField(_("逾期利息(元)"), **MONEY)
    days_overdue = models.PositiveIntegerField(_("逾期天数"))
    risk_class = models.CharField(_("五级分类"), max_length=16, choices=RiskClass.choices)
    supersedes = models.OneToOneField(
        "self",
        verbose_name=_("更正的报告"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
    )
    is_current = models.BooleanField(_("有效"), default=True)
    loan_status_after = models.CharField(_("报告后贷款状态"), max_length=16, choices=LoanStatus.choices)
    reported_on = models.DateField(_("报送业务日期"), default=clock.today)
    reported_at = models.DateTimeField(_("报送时间"), auto_now_add=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("报送人"), null=True, on_delete=models.PROTECT
    )

    class Meta:
        verbose_name = _("月度报告")
        verbose_name_plural = _("月度报告")
        ordering = ["filing", "as_of", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["filing", "as_of"],
                condition=Q(is_current=True),
                name="status_report_one_current_per_month",
            ),
            models.CheckConstraint(
                name="status_report_amounts_nonneg",
                condition=Q(outstanding_principal__gte=0, overdue_principal__gte=0, overdue_interest__gte=0),
            ),
            models.CheckConstraint(
                name="status_report_overdue_within_outstanding",
                condition=Q(overdue_principal__lte=F("outstanding_principal")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.filing} {self.as_of:%Y-%m}"


class EarlyWarning(models.Model):
    """An early warning on a covered loan, raised once per kind and subject, shown to staff
    and notified to the bank."""

    class Kind(models.TextChoices):
        IP_EXPIRES_BEFORE_MATURITY = "ip_expires_before_maturity", _("质押知识产权早于贷款到期")
        IP_LAPSED = "ip_lapsed", _("质押知识产权失效")
        MONTHLY_REPORT_MISSING = "monthly_report_missing", _("未报送月度报告")
        DUE_DILIGENCE_DEADLINE = "due_diligence_deadline", _("尽调即将超期")

    filing = models.ForeignKey(
        LoanFiling, verbose_name=_("贷款"), on_delete=models.CASCADE, related_name="warnings"
    )
    kind = models.CharField(_("类型"), max_length=40, choices=Kind.choices)
    subject = models.CharField(_("对象"), max_length=64, help_text=_("例如知识产权号码或报告月份"))
    message = models.CharField(_("内容"), max_length=300)
    raised_on = models.DateField(_("预警日期"))
    resolved_on = models.DateField(_("解除日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("预警")
        verbose_name_plural = _("预警")
        ordering = ["-raised_on"]
        constraints = [
            models.UniqueConstraint(fields=["filing", "kind", "subject"], name="warning_once_per_subject"),
        ]

    def __str__(self) -> str:
        return self.message
