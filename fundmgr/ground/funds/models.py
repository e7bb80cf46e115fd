"""Funds, their effective-dated policy, and the append-only ledger.

Money is `DecimalField(18, 2)` in yuan. The ledger stores signed amounts: inflows positive,
outflows negative, so the balance is the plain sum of entries and nothing else needs to be
kept in step. The database refuses entries of the wrong sign (CHECK), and on PostgreSQL it
refuses UPDATE/DELETE on the ledger and any insert that would take a fund below zero
(triggers in migration 0002). Services lock the fund row before posting an outflow.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from fundmgr.ground.lib.identifiers import IP_KINDS
from fundmgr.ground.lib.money import format_yuan
from fundmgr.ground.lib.regions import city_short_name

MONEY = {"max_digits": 18, "decimal_places": 2}
PERCENT = {"max_digits": 5, "decimal_places": 2, "validators": [MinValueValidator(0), MaxValueValidator(100)]}


class AppendOnlyError(Exception):
    """Raised when code tries to change or remove a ledger entry."""


class Fund(ConcurrentTransitionMixin, models.Model):
    class Status(models.TextChoices):
        SETUP = "setup", _("筹建中")
        ACTIVE = "active", _("运行中")
        EXPIRED = "expired", _("已到期")
        RUN_OFF = "run_off", _("清算过渡期")
        LIQUIDATED = "liquidated", _("已清算")

    code = models.SlugField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    short_name = models.CharField(
        _("简称"),
        max_length=16,
        blank=True,
        help_text=_("列表、筛选和看板中使用，例如 肇庆；留空时使用所在城市名"),
    )
    reference_prefix = models.CharField(
        _("编号前缀"), max_length=4, help_text=_("备案编号前缀，例如 ZQ 表示 ZQ-2026-000123")
    )
    region_code = models.CharField(_("行政区划代码"), max_length=6, help_text=_("GB/T 2260，例如 441200"))
    manager = models.ForeignKey(
        "accounts.Organization",
        verbose_name=_("资金管理人"),
        on_delete=models.PROTECT,
        related_name="managed_funds",
        limit_choices_to={"kind": "manager"},
    )
    status = FSMField(_("状态"), max_length=16, choices=Status.choices, default=Status.SETUP, protected=True)
    start_date = models.DateField(_("设立日期"))
    end_date = models.DateField(_("到期日"), null=True, blank=True)
    note = models.TextField(_("备注"), blank=True)

    class Meta:
        verbose_name = _("补偿资金")
        verbose_name_plural = _("补偿资金")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                name="fund_end_after_start",
                condition=Q(end_date__isnull=True) | Q(end_date__gt=models.F("start_date")),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def short_label(self) -> str:
        """The name staff use in narrow lists (肇庆): the fund's short name, else its city's
        name without 市, else the full name."""
        return self.short_name or city_short_name(self.region_code) or self.name

    # Transitions: state changes and their guards only. Services call them.
    @transition(field=status, source=Status.SETUP, target=Status.ACTIVE)
    def activate(self, *, by=None, description=None) -> None:
        pass

    @transition(field=status, source=Status.ACTIVE, target=Status.EXPIRED)
    def expire(self, *, by=None, description=None) -> None:
        pass

    @transition(field=status, source=Status.EXPIRED, target=Status.RUN_OFF)
    def start_run_off(self, *, by=None, description=None) -> None:
        pass

    @transition(field=status, source=[Status.EXPIRED, Status.RUN_OFF], target=Status.LIQUIDATED)
    def liquidate(self, *, by=None, description=None) -> None:
        pass

    def policy_in_force(self, on: dt.date) -> PolicyVersion | None:
        """The policy version in force on business date `on` (None before the first)."""
        return self.policy_versions.filter(effective_from__lte=on).order_by("-effective_from").first()


class TriggerRiskClass(models.TextChoices):
    SUBSTANDARD = "substandard", _("次级及以下")
    DOUBTFUL = "doubtful", _("可疑及以下")
    LOSS = "loss", _("损失")


class PolicyVersion(models.Model):
    """Every rule number a fund sets (domain-rules §11), effective from a date.

    A version in force is never edited: policy changes add a new version, and loans keep
    the version they were accepted under. Defaults are the prototype defaults of §11 [D];
    GDEE replaces them with each city's measure and agreements.
    """

    class LossBase(models.TextChoices):
        COVERED_PRINCIPAL = "covered_principal", _("担保覆盖本金")

    fund = models.ForeignKey(
        Fund, verbose_name=_("资金"), on_delete=models.PROTECT, related_name="policy_versions"
    )
    effective_from = models.DateField(_("生效日期"))
    document_ref = models.CharField(
        _("依据文件"), max_length=200, blank=True, help_text=_("例如 肇市监规字[2020]1号")
    )

    # Risk sharing and capacity
    max_fund_share = models.DecimalField(_("资金最高分担比例(%)"), default=Decimal("50.00"), **PERCENT)
    leverage = models.DecimalField(
        _("放大倍数"),
        max_digits=6,
        decimal_places=2,
        default=Decimal("10"),
        validators=[MinValueValidator(0)],
    )
    # Loan limits
    max_loan_principal = models.DecimalField(_("单笔贷款上限(元)"), null=True, blank=True, **MONEY)
    max_enterprise_exposure = models.DecimalField(
        _("单户企业贷款余额上限(元)"), null=True, blank=True, **MONEY
    )
    max_term_months = models.PositiveSmallIntegerField(_("最长期限(月)"), default=36)
    max_annual_rate = models.DecimalField(
        _("最高年利率(%)"),
        max_digits=7,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    accepted_ip_kinds = models.JSONField(_("可质押知识产权类型"), default=list)
    combined_pledge_allowed = models.BooleanField(_("允许组合质押"), default=True)
    min_ip_share = models.DecimalField(
        _("组合质押知识产权最低占比(%)"), null=True, blank=True, max_digits=5, decimal_places=2
    )
    requires_product_filing = models.BooleanField(_("须产品备案"), default=False)
    # Enterprise eligibility
    min_years_registered = models.PositiveSmallIntegerField(_("注册最短年限"), default=1)
    clean_credit_years = models.PositiveSmallIntegerField(_("无不良信用年限"), default=3)
    sme_required = models.BooleanField(_("须为中小微企业"), default=True)
    legal_person_required = models.BooleanField(_("须为企业法人"), default=True)
    admission_valid_months = models.PositiveSmallIntegerField(_("入库有效期(月)"), default=36)
    # Deadlines
    filing_deadline_working_days = models.PositiveSmallIntegerField(_("放款后备案期限(工作日)"), default=10)
    due_diligence_working_days = models.PositiveSmallIntegerField(_("尽调期限(工作日)"), default=10)
    claim_review_working_days = models.PositiveSmallIntegerField(_("补偿初审期限(工作日)"), default=10)
    committee_review_working_days = models.PositiveSmallIntegerField(_("决委会审议期限(工作日)"), default=15)
    payment_working_days = models.PositiveSmallIntegerField(_("付款期限(工作日)"), default=10)
    recovery_return_working_days = models.PositiveSmallIntegerField(_("追偿款返还期限(工作日)"), default=10)
    status_report_due_working_days = models.PositiveSmallIntegerField(
        _("月度报告报送期限(次月第N个工作日)"), default=10
    )
    # Compensation
    trigger_days_overdue = models.PositiveSmallIntegerField(_("触发补偿的逾期天数"), default=90)
    risk_class_trigger = models.CharField(
        _("触发补偿的风险分类"),
        max_length=16,
        choices=TriggerRiskClass.choices,
        blank=True,
        default="substandard",
    )
    claim_window_days = models.PositiveSmallIntegerField(_("补偿申请期限(自然日)"), default=180)
    loss_base = models.CharField(
        _("损失计算基数"), max_length=32, choices=LossBase.choices, default=LossBase.COVERED_PRINCIPAL
    )
    # Caps on the principal that enters the loss base, before the fund share is applied
    # (Guangzhou 2023: a bad loan counts up to 10,000,000; 20,000,000 per enterprise).
    per_loan_principal_cap = models.DecimalField(
        _("单笔不良贷款计入本金上限(元)"), null=True, blank=True, **MONEY
    )
    per_enterprise_principal_cap = models.DecimalField(
        _("单户企业累计计入本金上限(元)"), null=True, blank=True, **MONEY
    )
    # Caps on what the fund pays, after the share.
    per_loan_comp_cap = models.DecimalField(_("单笔补偿上限(元)"), null=True, blank=True, **MONEY)
    per_enterprise_comp_cap = models.DecimalField(
        _("单户企业累计补偿上限(元)"), null=True, blank=True, **MONEY
    )
    annual_comp_cap = models.DecimalField(_("年度补偿总额上限(元)"), null=True, blank=True, **MONEY)
    # Suspension of institutions
    npl_suspend_threshold = models.DecimalField(
        _("暂停备案的不良率阈值(%)"), default=Decimal("5.00"), **PERCENT
    )
    run_off_months = models.PositiveSmallIntegerField(_("到期后补偿过渡期(月)"), default=24)

    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("创建人"), null=True, blank=True, on_delete=models.PROTECT
    )

    class Meta:
        verbose_name = _("政策版本")
        verbose_name_plural = _("政策版本")
        ordering = ["fund", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["fund", "effective_from"], name="policy_one_version_per_day"),
            models.CheckConstraint(
                name="policy_share_range", condition=Q(max_fund_share__gte=0, max_fund_share__lte=100)
            ),
            models.CheckConstraint(name="policy_leverage_nonneg", condition=Q(leverage__gte=0)),
        ]

    def __str__(self) -> str:
        # 肇庆 · 肇市监规字[2020]1号 · 2020-11-01起施行
        source = self.document_ref or _("政策版本")
        return gettext("%(fund)s · %(source)s · %(date)s起施行") % {
            "fund": self.fund.short_label,
            "source": source,
            "date": self.effective_from.isoformat(),
        }

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        unknown = [k for k in (self.accepted_ip_kinds or []) if k not in IP_KINDS]
        if unknown:
            raise ValidationError({"accepted_ip_kinds": _("未知的知识产权类型：%s") % ", ".join(unknown)})


class GovernmentLevel(models.TextChoices):
    CENTRAL = "central", _("中央")
    PROVINCE = "province", _("省级")
    CITY = "city", _("市级")
    DISTRICT = "district", _("区县级")
    TOWN = "town", _("镇街级")
    MANAGER = "manager", _("管理人")
    OTHER = "other", _("其他")


class EntryType(models.TextChoices):
    CONTRIBUTION = "contribution", _("出资")
    INTEREST = "interest", _("利息")
    COMPENSATION_PAID = "compensation_paid", _("代偿支出")
    RECOVERY_RETURNED = "recovery_returned", _("追偿返还")
    FEE = "fee", _("费用")
    ADJUSTMENT = "adjustment", _("调整")
    REFUND = "refund", _("清算返还")


INFLOW_TYPES = (EntryType.CONTRIBUTION, EntryType.INTEREST, EntryType.RECOVERY_RETURNED)
OUTFLOW_TYPES = (EntryType.COMPENSATION_PAID, EntryType.FEE, EntryType.REFUND)


class LedgerEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError(gettext("资金台账只能追加，不能修改"))

    def delete(self):
        raise AppendOnlyError(gettext("资金台账只能追加，不能删除"))


class LedgerEntry(models.Model):
    fund = models.ForeignKey(
        Fund, verbose_name=_("资金"), on_delete=models.PROTECT, related_name="ledger_entries"
    )
    entry_type = models.CharField(_("类型"), max_length=24, choices=EntryType.choices)
    government_level = models.CharField(
        _("出资层级"), max_length=16, choices=GovernmentLevel.choices, blank=True
    )
    amount = models.DecimalField(_("金额(元)"), help_text=_("流入为正，流出为负"), **MONEY)
    value_date = models.DateField(_("记账日期"))
    description = models.CharField(_("摘要"), max_length=300, blank=True)
    reference = models.CharField(_("业务编号"), max_length=64, blank=True, db_index=True)
    claim = models.ForeignKey(
        "loans.Claim",
        verbose_name=_("补偿申请"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
        help_text=_("代偿支出和追偿返还对应的补偿申请"),
    )
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("录入人"), null=True, blank=True, on_delete=models.PROTECT
    )

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("台账分录")
        verbose_name_plural = _("资金台账")
        ordering = ["fund", "value_date", "id"]
        indexes = [models.Index(fields=["fund", "value_date"], name="ledger_fund_date_idx")]
        constraints = [
            models.CheckConstraint(
                name="ledger_amount_sign_by_type",
                condition=(Q(entry_type__in=INFLOW_TYPES, amount__gt=0))
                | (Q(entry_type__in=OUTFLOW_TYPES, amount__lt=0))
                | (Q(entry_type=EntryType.ADJUSTMENT) & ~Q(amount=0)),
            ),
            models.CheckConstraint(
                name="ledger_claim_movements_name_their_claim",
                condition=~Q(entry_type__in=(EntryType.COMPENSATION_PAID, EntryType.RECOVERY_RETURNED))
                | Q(claim__isnull=False),
            ),
            models.CheckConstraint(
                name="ledger_contribution_has_level",
                condition=~Q(entry_type=EntryType.CONTRIBUTION) | ~Q(government_level=""),
            ),
        ]

    def __str__(self) -> str:
        # 出资（省级） · 肇庆 · 2020-11-30 · 2,500,000.00 — what the entry is, not its key
        kind = str(self.get_entry_type_display())
        if self.government_level:
            kind = f"{kind}（{self.get_government_level_display()}）"
        parts = [kind, self.fund.short_label]
        if self.claim_id is not None:
            parts.append(self.claim.reference)
        parts += [self.value_date.isoformat(), format_yuan(self.amount)]
        return " · ".join(parts)

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise AppendOnlyError(gettext("资金台账只能追加，不能修改"))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(gettext("资金台账只能追加，不能删除"))
