"""Institution API shapes (format only). Field names are the contract in shared/spec/api.md."""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from fundmgr.ground.accounts.api import HistoryEntrySerializer
from fundmgr.ground.lib.api import MoneyField, PercentField

from ..models import CooperationAgreement, FilingsStatus, Institution


class InstitutionKindField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=Institution.Kind.choices, **kwargs)


class InstitutionKindFieldSchema(OpenApiSerializerFieldExtension):
    """`kind` is also the IP-kind field's name elsewhere in the API; drf-spectacular would
    give the institution's choice set a hash-suffixed name. A named component keeps the
    document stable without a project-wide setting."""

    target_class = InstitutionKindField

    def map_serializer_field(self, auto_schema, direction):
        component = ResolvedComponent(
            name="InstitutionKindEnum",
            type=ResolvedComponent.SCHEMA,
            object="InstitutionKindEnum",
            schema={
                "type": "string",
                "enum": list(Institution.Kind.values),
                "description": "；".join(f"`{k}` {label}" for k, label in Institution.Kind.choices),
            },
        )
        auto_schema.registry.register_on_missing(component)
        return component.ref


class AgreementSerializer(serializers.ModelSerializer):
    """合作协议：各方风险分担比例、合作额度与期限。"""

    fund = serializers.SlugRelatedField(slug_field="code", read_only=True, help_text=gettext_lazy("资金代码"))
    fund_share = PercentField(places=2, help_text=gettext_lazy("资金分担比例(%)"))
    bank_share = PercentField(places=2, help_text=gettext_lazy("银行分担比例(%)"))
    insurer_share = PercentField(places=2, help_text=gettext_lazy("保险机构分担比例(%)"))
    valuer_share = PercentField(places=2, help_text=gettext_lazy("评估机构分担比例(%)"))
    quota = MoneyField(allow_null=True, help_text=gettext_lazy("合作额度(元)"))
    filings_status = serializers.ChoiceField(
        choices=FilingsStatus.choices,
        read_only=True,
        help_text=gettext_lazy(
            "新增备案状态：`open` 正常；`suspended` 暂停备案；`reinstatement_requested` 已申请恢复、待复核（仍暂停）"
        ),
    )
    filings_suspended_on = serializers.DateField(
        read_only=True, allow_null=True, help_text=gettext_lazy("暂停新增备案的日期（未暂停为 null）")
    )
    filings_suspension_reason = serializers.CharField(
        read_only=True, help_text=gettext_lazy("暂停新增备案的原因")
    )

    class Meta:
        model = CooperationAgreement
        fields = [
            "fund",
            "fund_share",
            "bank_share",
            "insurer_share",
            "valuer_share",
            "quota",
            "signed_on",
            "valid_from",
            "valid_until",
            "filings_status",
            "filings_suspended_on",
            "filings_suspension_reason",
        ]
        read_only_fields = fields


class InstitutionSerializer(serializers.ModelSerializer):
    """合作机构。"""

    kind = InstitutionKindField(read_only=True, help_text=gettext_lazy("机构类型"))
    agreements = AgreementSerializer(source="visible_agreements", many=True, read_only=True)

    class Meta:
        model = Institution
        fields = ["code", "name", "kind", "status", "region_code", "agreements"]
        read_only_fields = fields


class InstitutionDetailSerializer(InstitutionSerializer):
    """合作机构详情：含暂停原因、当前可执行的操作和状态变更记录。"""

    available_transitions = serializers.SerializerMethodField(
        help_text=gettext_lazy("调用者当前可执行的操作")
    )
    history = serializers.SerializerMethodField(help_text=gettext_lazy("状态变更记录"))

    class Meta(InstitutionSerializer.Meta):
        fields = [*InstitutionSerializer.Meta.fields, "suspension_reason", "available_transitions", "history"]
        read_only_fields = fields

    def get_available_transitions(self, obj) -> list[str]:
        from fundmgr.ground.accounts.workflow import available_transitions

        user = self.context.get("user")
        return available_transitions(obj, user) if user else []

    @extend_schema_field(HistoryEntrySerializer(many=True))
    def get_history(self, obj) -> list[dict]:
        from fundmgr.ground.accounts.workflow import history

        return HistoryEntrySerializer(history(obj), many=True).data
