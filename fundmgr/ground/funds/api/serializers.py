"""Fund API shapes (format only; figures come from selectors)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from rest_framework import serializers

from fundmgr.ground.lib.api import DateField, MoneyField, PercentField
from fundmgr.ground.lib.representation import PlainRepresentation

from ..models import LedgerEntry, PolicyVersion


class PolicySerializer(PlainRepresentation, serializers.ModelSerializer):
    fund_share = PercentField(
        source="max_fund_share", places=2, help_text=gettext_lazy("资金最高分担比例(%)")
    )
    leverage = serializers.DecimalField(
        max_digits=6, decimal_places=2, coerce_to_string=True, help_text=gettext_lazy("放大倍数")
    )
    max_enterprise_exposure = MoneyField(allow_null=True, help_text=gettext_lazy("单户企业贷款余额上限(元)"))
    max_loan_principal = MoneyField(allow_null=True)
    max_annual_rate = PercentField(allow_null=True)
    min_ip_share = PercentField(places=2, allow_null=True)
    per_loan_principal_cap = MoneyField(
        allow_null=True, help_text=gettext_lazy("单笔不良贷款计入损失基数的本金上限(元)")
    )
    per_enterprise_principal_cap = MoneyField(
        allow_null=True, help_text=gettext_lazy("单户企业累计计入损失基数的本金上限(元)")
    )
    per_loan_comp_cap = MoneyField(allow_null=True, help_text=gettext_lazy("单笔补偿金额上限(元)"))
    per_enterprise_comp_cap = MoneyField(
        allow_null=True, help_text=gettext_lazy("单户企业累计补偿金额上限(元)")
    )
    annual_comp_cap = MoneyField(allow_null=True)
    npl_suspend_threshold = PercentField(places=2)
    accepted_ip_kinds = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = PolicyVersion
        fields = [
            "effective_from",
            "document_ref",
            "fund_share",
            "leverage",
            "max_loan_principal",
            "max_enterprise_exposure",
            "max_term_months",
            "max_annual_rate",
            "accepted_ip_kinds",
            "combined_pledge_allowed",
            "min_ip_share",
            "requires_product_filing",
            "min_years_registered",
            "clean_credit_years",
            "sme_required",
            "legal_person_required",
            "admission_valid_months",
            "filing_deadline_working_days",
            "due_diligence_working_days",
            "claim_review_working_days",
            "committee_review_working_days",
            "payment_working_days",
            "recovery_return_working_days",
            "trigger_days_overdue",
            "risk_class_trigger",
            "claim_window_days",
            "loss_base",
            "per_loan_principal_cap",
            "per_enterprise_principal_cap",
            "per_loan_comp_cap",
            "per_enterprise_comp_cap",
            "annual_comp_cap",
            "npl_suspend_threshold",
            "run_off_months",
        ]


class FiguresSerializer(PlainRepresentation, serializers.Serializer):
    balance = MoneyField(help_text=gettext_lazy("台账余额(元)"))
    available_balance = MoneyField(help_text=gettext_lazy("可用余额(元)"))
    capital = MoneyField(help_text=gettext_lazy("出资总额(元)"))
    covered_outstanding = MoneyField(help_text=gettext_lazy("在保贷款担保覆盖余额(元)"))
    exposure = MoneyField(help_text=gettext_lazy("风险敞口 = 覆盖余额 × 资金分担比例(元)"))
    leverage = serializers.DecimalField(
        max_digits=10, decimal_places=2, allow_null=True, help_text=gettext_lazy("实际放大倍数")
    )
    leverage_limit = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)
    capacity = MoneyField(allow_null=True, help_text=gettext_lazy("可备案贷款容量 = 出资 × 放大倍数(元)"))
    headroom = serializers.CharField(allow_null=True, help_text=gettext_lazy("剩余容量(元)，可能为负"))


class FundSerializer(PlainRepresentation, serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    region_code = serializers.CharField()
    status = serializers.CharField()
    start_date = DateField()
    end_date = DateField(allow_null=True)
    manager = serializers.CharField(help_text=gettext_lazy("资金管理人"))
    policy = PolicySerializer(allow_null=True, help_text=gettext_lazy("当前生效的政策版本"))
    figures = FiguresSerializer()


class LedgerEntrySerializer(serializers.ModelSerializer):
    amount = serializers.SerializerMethodField(help_text=gettext_lazy("金额(元)，流入为正，流出为负"))

    class Meta:
        model = LedgerEntry
        fields = [
            "id",
            "value_date",
            "entry_type",
            "government_level",
            "amount",
            "description",
            "reference",
            "created_at",
        ]

    def get_amount(self, entry) -> str:
        return f"{entry.amount:.2f}"


class StatementSerializer(serializers.Serializer):
    fund = serializers.CharField(source="fund.code")
    date_from = DateField(allow_null=True)
    date_to = DateField(allow_null=True)
    opening_balance = serializers.SerializerMethodField()
    inflows = MoneyField()
    outflows = serializers.SerializerMethodField()
    closing_balance = serializers.SerializerMethodField()
    entries = LedgerEntrySerializer(many=True)

    def get_opening_balance(self, s) -> str:
        return f"{s.opening_balance:.2f}"

    def get_outflows(self, s) -> str:
        return f"{s.outflows:.2f}"

    def get_closing_balance(self, s) -> str:
        return f"{s.closing_balance:.2f}"
