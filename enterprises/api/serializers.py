"""Enterprise API shapes. Field names are the contract in shared/spec/api.md."""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from rest_framework import serializers

from fundmgr.ground.accounts.api import HistoryEntrySerializer
from fundmgr.ground.lib.api import DateField, IntegerField, MoneyField
from fundmgr.ground.lib.representation import PlainRepresentation

from .. import rules
from ..models import Enterprise, IPAsset


class IPAssetInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=IPAsset.Kind.choices, help_text=gettext_lazy("知识产权类型"))
    number = serializers.CharField(
        max_length=64, help_text=gettext_lazy("号码；专利为含校验位的申请号，如 202110123456.7")
    )
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    owner_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    nice_class = IntegerField(min_value=1, max_value=45, required=False, allow_null=True)
    filed_on = DateField(required=False, allow_null=True)
    expires_on = DateField(
        required=False, allow_null=True, help_text=gettext_lazy("到期日；专利可省略，按申请日和法定期限计算")
    )


class EnterpriseApplicationSerializer(serializers.Serializer):
    """入库申请（合作机构代企业提交）。"""

    uscc = serializers.CharField(max_length=32, help_text=gettext_lazy("统一社会信用代码（18位）"))
    name = serializers.CharField(max_length=200)
    fund = serializers.SlugField(help_text=gettext_lazy("资金代码，如 zhaoqing"))
    registered_on = DateField()
    region_code = serializers.RegexField(
        r"^\d{6}$", help_text=gettext_lazy("所在区县行政区划代码（GB/T 2260）")
    )
    industry_code = serializers.RegexField(
        r"^[A-Ta-t]?\d{2,4}$", help_text=gettext_lazy("国民经济行业代码（GB/T 4754），如 C3985")
    )
    employees = IntegerField(min_value=0, max_value=10_000_000)
    annual_revenue = MoneyField(help_text=gettext_lazy("上年营业收入(元)"))
    total_assets = MoneyField(help_text=gettext_lazy("资产总额(元)"))
    legal_representative = serializers.CharField(max_length=64)
    contact_name = serializers.CharField(max_length=64)
    contact_phone = serializers.RegexField(r"^[0-9+\- ]{6,20}$")
    credit_report_date = DateField(required=False, allow_null=True)
    credit_record_clean = serializers.BooleanField(required=False, allow_null=True, default=None)
    ip_assets = IPAssetInputSerializer(many=True, allow_empty=False)


class IPAssetSerializer(PlainRepresentation, serializers.ModelSerializer):
    class Meta:
        model = IPAsset
        fields = ["kind", "number", "title", "owner_name", "nice_class", "filed_on", "expires_on", "status"]


class FindingSerializer(PlainRepresentation, serializers.Serializer):
    code = serializers.CharField()
    status = serializers.ChoiceField(choices=[rules.PASSED, rules.FAILED, rules.OPEN])
    message = serializers.CharField()
    field = serializers.CharField(allow_null=True)


class EnterpriseSerializer(PlainRepresentation, serializers.ModelSerializer):
    fund = serializers.SlugRelatedField(slug_field="code", read_only=True)
    ip_assets = IPAssetSerializer(many=True, read_only=True)
    annual_revenue = MoneyField(read_only=True, allow_null=True)
    total_assets = MoneyField(read_only=True, allow_null=True)

    def to_representation(self, instance):
        """Only the fields the caller may read (enterprises.rules.fields_visible), in lists
        and details alike."""
        data = super().to_representation(instance)
        principal = self.context.get("principal")
        if principal is None:
            return data
        visible = rules.fields_visible(
            is_institution=principal.is_institution,
            institution_id=principal.institution_id,
            submitted_by_id=instance.submitted_by_id,
        )
        return data if visible is None else {k: v for k, v in data.items() if k in visible}

    class Meta:
        model = Enterprise
        fields = [
            "uscc",
            "name",
            "fund",
            "status",
            "size_class",
            "admitted_on",
            "admitted_until",
            "region_code",
            "industry_code",
            "registered_on",
            "employees",
            "annual_revenue",
            "total_assets",
            "credit_report_date",
            "credit_record_clean",
            "ip_assets",
        ]
        read_only_fields = fields


class EnterpriseDetailSerializer(EnterpriseSerializer):
    """One enterprise with its lifecycle: what the caller may do now, and its history (not in
    lists, where it would cost a query per row)."""

    available_transitions = serializers.SerializerMethodField()
    history = serializers.SerializerMethodField()

    class Meta(EnterpriseSerializer.Meta):
        fields = [*EnterpriseSerializer.Meta.fields, "available_transitions", "history"]
        read_only_fields = fields

    def get_available_transitions(self, obj) -> list[str]:
        from fundmgr.ground.accounts.workflow import available_transitions

        user = self.context.get("user")
        return available_transitions(obj, user) if user else []

    def get_history(self, obj) -> list[dict]:
        from fundmgr.ground.accounts.workflow import history

        return HistoryEntrySerializer(history(obj), many=True).data


class EnterpriseStaffDetailSerializer(EnterpriseDetailSerializer):
    eligibility = serializers.SerializerMethodField()

    class Meta(EnterpriseDetailSerializer.Meta):
        fields = [*EnterpriseDetailSerializer.Meta.fields, "eligibility"]
        read_only_fields = fields

    def get_eligibility(self, obj) -> list[dict]:
        from ..selectors import enterprise_eligibility

        if obj.status not in (obj.Status.SUBMITTED, obj.Status.UNDER_REVIEW, obj.Status.ADMITTED):
            return []
        return FindingSerializer([f.as_dict() for f in enterprise_eligibility(obj).findings], many=True).data
