"""Loan filing API shapes. Field names are the contract in shared/spec/api.md."""

from __future__ import annotations

import datetime as dt

from rest_framework import serializers

from enterprises.models import IPAsset
from fundmgr.ground.accounts.api import HistoryEntrySerializer
from fundmgr.ground.accounts.workflow import available_transitions, history, state_entered_on
from fundmgr.ground.lib.api import IdField, MoneyField, PercentField

from ..models import DocumentKind, FilingDocument, LoanFiling, Pledge


class PledgeInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=IPAsset.Kind.choices)
    number = serializers.CharField(max_length=64, help_text="专利为含校验位的申请号，如 202110123456.7")
    registration_no = serializers.CharField(
        max_length=64, allow_blank=True, help_text="质押登记号，如 Y2022440000123"
    )
    registered_on = serializers.DateField(allow_null=True, help_text="质押登记生效日")
    appraised_value = MoneyField(required=False, allow_null=True, help_text="评估价值(元)")


class FilingInputSerializer(serializers.Serializer):
    """贷款备案（合作机构提交）。"""

    fund = serializers.SlugField()
    enterprise_uscc = serializers.CharField(max_length=32)
    contract_no = serializers.CharField(max_length=100)
    product = serializers.SlugField(required=False, allow_blank=True, allow_null=True)
    principal = MoneyField()
    pledge_type = serializers.ChoiceField(choices=LoanFiling.PledgeType.choices)
    covered_principal = MoneyField(required=False, allow_null=True)
    annual_rate = PercentField()
    disbursed_on = serializers.DateField()
    matures_on = serializers.DateField()
    purpose = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    pledges = PledgeInputSerializer(many=True, allow_empty=False)

    def validate_principal(self, value):
        if value <= 0:
            raise serializers.ValidationError("贷款本金须大于零", code="invalid_money")
        return value


class FilingPatchSerializer(serializers.Serializer):
    """退回补正后修改备案（仅在 returned 状态）。"""

    contract_no = serializers.CharField(max_length=100, required=False)
    principal = MoneyField(required=False)
    pledge_type = serializers.ChoiceField(choices=LoanFiling.PledgeType.choices, required=False)
    covered_principal = MoneyField(required=False, allow_null=True)
    annual_rate = PercentField(required=False)
    disbursed_on = serializers.DateField(required=False)
    matures_on = serializers.DateField(required=False)
    purpose = serializers.CharField(max_length=300, required=False, allow_blank=True)
    pledges = PledgeInputSerializer(many=True, allow_empty=False, required=False)

    def validate_principal(self, value):
        if value <= 0:
            raise serializers.ValidationError("贷款本金须大于零", code="invalid_money")
        return value


class PledgeSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(source="ip_asset.kind")
    number = serializers.CharField(source="ip_asset.number")
    expires_on = serializers.DateField(source="ip_asset.expires_on")
    appraised_value = MoneyField(allow_null=True)

    class Meta:
        model = Pledge
        fields = [
            "kind",
            "number",
            "registration_no",
            "registered_on",
            "appraised_value",
            "expires_on",
            "released_on",
        ]


class CheckSerializer(serializers.Serializer):
    code = serializers.CharField()
    passed = serializers.BooleanField()
    message = serializers.CharField()
    field = serializers.CharField(allow_null=True)


class DocumentSerializer(serializers.ModelSerializer):
    class Meta:
        model = FilingDocument
        fields = ["id", "kind", "original_name", "content_type", "size", "sha256", "uploaded_at"]


class FilingSerializer(serializers.ModelSerializer):
    fund = serializers.SlugRelatedField(slug_field="code", read_only=True)
    institution = serializers.SlugRelatedField(slug_field="code", read_only=True)
    enterprise_uscc = serializers.CharField(source="enterprise.uscc", read_only=True)
    product = serializers.SerializerMethodField()
    principal = MoneyField()
    covered_principal = MoneyField()
    outstanding_principal = MoneyField()
    covered_outstanding = MoneyField()
    annual_rate = PercentField()
    fund_share = PercentField(places=2, allow_null=True)
    bank_share = PercentField(places=2, allow_null=True)
    policy_effective_from = serializers.DateField(
        source="policy_version.effective_from", allow_null=True, default=None
    )
    checks = CheckSerializer(many=True)
    pledges = PledgeSerializer(many=True)

    class Meta:
        model = LoanFiling
        fields = [
            "id",
            "reference",
            "fund",
            "institution",
            "enterprise_uscc",
            "contract_no",
            "product",
            "principal",
            "pledge_type",
            "covered_principal",
            "annual_rate",
            "disbursed_on",
            "matures_on",
            "purpose",
            "status",
            "loan_status",
            "submitted_on",
            "due_diligence_due_on",
            "accepted_on",
            "policy_effective_from",
            "fund_share",
            "bank_share",
            "outstanding_principal",
            "covered_outstanding",
            "settled_on",
            "checks",
            "pledges",
        ]
        read_only_fields = fields

    def get_product(self, obj) -> str | None:
        return obj.product.code if obj.product_id else None


class FilingDetailSerializer(FilingSerializer):
    documents = DocumentSerializer(many=True)
    available_transitions = serializers.SerializerMethodField()
    in_state_since = serializers.SerializerMethodField(help_text="进入当前备案状态的业务日期")
    history = serializers.SerializerMethodField()

    class Meta(FilingSerializer.Meta):
        fields = [
            *FilingSerializer.Meta.fields,
            "documents",
            "available_transitions",
            "in_state_since",
            "history",
        ]
        read_only_fields = fields

    def get_available_transitions(self, obj) -> list[str]:
        user = self.context.get("user")
        return available_transitions(obj, user) if user else []

    def get_in_state_since(self, obj) -> dt.date | None:
        return state_entered_on(obj)

    def get_history(self, obj) -> list[dict]:
        return HistoryEntrySerializer(history(obj), many=True).data


class StatusReportInputSerializer(serializers.Serializer):
    """月度贷后报告。"""

    as_of = serializers.DateField(help_text="报告所属月份的月末日期，如 2026-11-30")
    outstanding_principal = MoneyField()
    overdue_principal = MoneyField()
    overdue_interest = MoneyField()
    days_overdue = serializers.IntegerField(min_value=0, max_value=100000)
    risk_class = serializers.ChoiceField(
        choices=["normal", "special_mention", "substandard", "doubtful", "loss"]
    )
    supersedes = IdField(required=False, allow_null=True, help_text="更正时填写被更正报告的 id")


class StatusReportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    as_of = serializers.DateField()
    outstanding_principal = MoneyField()
    overdue_principal = MoneyField()
    overdue_interest = MoneyField()
    days_overdue = serializers.IntegerField()
    risk_class = serializers.CharField()
    supersedes = serializers.IntegerField(source="supersedes_id", allow_null=True)
    is_current = serializers.BooleanField()
    loan_status_after = serializers.CharField()
    reported_on = serializers.DateField(help_text="报送的业务日期")
    reported_at = serializers.DateTimeField(help_text="记录时间（实际时间）")


class SettleInputSerializer(serializers.Serializer):
    settled_on = serializers.DateField()


class DocumentUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    file = serializers.FileField(
        allow_empty_file=True, help_text="PDF、JPEG、PNG 或 OFD，最大 20 MB；按内容识别类型"
    )
