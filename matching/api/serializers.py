"""Financing-need API shapes (shared/spec/api.md, "Additions"). What a bank may read of a need
another party registered depends on the enterprise's consent (`rules.hidden_fields`): those
fields are left out of its answers, so the document marks them optional."""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from rest_framework import serializers

from fundmgr.ground.accounts.api import HistoryEntrySerializer
from fundmgr.ground.accounts.workflow import available_transitions, history
from fundmgr.ground.lib.api import DateField, IntegerField, MoneyField
from fundmgr.ground.lib.regions import region_name

from .. import rules
from ..models import ConsentScope, NeedStatus


class NeedInputSerializer(serializers.Serializer):
    """融资需求登记（合作机构代企业提交）。"""

    enterprise_uscc = serializers.CharField(
        max_length=32, help_text=gettext_lazy("企业统一社会信用代码（须已在该资金入库）")
    )
    fund = serializers.SlugField(help_text=gettext_lazy("资金代码，如 zhaoqing"))
    amount = MoneyField(positive=True, help_text=gettext_lazy("融资金额（元）"))
    term_months = IntegerField(min_value=1, max_value=360, help_text=gettext_lazy("期限（月）"))
    purpose = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    offered_ip = serializers.ListField(
        child=serializers.CharField(max_length=64),
        required=False,
        default=list,
        max_length=50,
        help_text=gettext_lazy("拟质押的知识产权号码（须为该企业名下的有效权利）"),
    )
    consent_on = DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text=gettext_lazy("企业同意向合作银行共享信息的日期；不填表示未同意"),
    )
    consent_scope = serializers.ChoiceField(
        choices=ConsentScope.choices,
        required=False,
        default=ConsentScope.BASIC,
        help_text=gettext_lazy("共享范围"),
    )


class InterestInputSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class PrioritySerializer(serializers.Serializer):
    code = serializers.CharField(source="priority_class.code")
    label = serializers.CharField(source="priority_class.label")
    order = IntegerField(source="priority_class.order", help_text=gettext_lazy("优先顺序，1 为最优先"))
    reason = serializers.CharField(help_text=gettext_lazy("依据"))


class OfferedIPSerializer(serializers.Serializer):
    kind = serializers.CharField()
    number = serializers.CharField()
    title = serializers.CharField()
    expires_on = DateField()


class InterestSerializer(serializers.Serializer):
    institution = serializers.CharField(source="institution.code")
    institution_name = serializers.CharField(source="institution.name")
    expressed_on = DateField()
    comment = serializers.CharField(allow_blank=True)


class NeedSerializer(serializers.Serializer):
    """融资需求。其他机构登记的需求，合作银行只能看到企业同意共享的内容。"""

    id = IntegerField()
    fund = serializers.CharField(source="fund.code")
    enterprise_uscc = serializers.CharField(source="enterprise.uscc")
    enterprise_name = serializers.CharField(source="enterprise.name")
    region_code = serializers.CharField(
        source="enterprise.region_code", help_text=gettext_lazy("企业所在区县代码")
    )
    district = serializers.SerializerMethodField(help_text=gettext_lazy("企业所在区县"))
    industry_code = serializers.CharField(source="enterprise.industry_code")
    amount = MoneyField(help_text=gettext_lazy("融资金额（元）"))
    term_months = IntegerField()
    purpose = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=NeedStatus.choices)
    registered_on = DateField()
    expires_on = DateField()
    priority_rank = IntegerField(
        allow_null=True, help_text=gettext_lazy("所属优先分类中最优先者的顺序；不属于任何分类为 null")
    )
    priority_classes = PrioritySerializer(
        source="priorities.all", many=True, help_text=gettext_lazy("所属优先对接分类及依据")
    )
    interested = serializers.BooleanField(help_text=gettext_lazy("调用机构是否已表达对接意向"))
    interest_count = IntegerField(help_text=gettext_lazy("已表达意向的机构数"))
    # Only what the consent covers (rules.hidden_fields): optional in the document.
    size_class = serializers.CharField(source="enterprise.size_class", required=False)
    employees = IntegerField(source="enterprise.employees", required=False, allow_null=True)
    annual_revenue = MoneyField(source="enterprise.annual_revenue", required=False, allow_null=True)
    total_assets = MoneyField(source="enterprise.total_assets", required=False, allow_null=True)
    offered_ip = OfferedIPSerializer(many=True, required=False, help_text=gettext_lazy("拟质押知识产权"))
    contact_name = serializers.CharField(source="enterprise.contact_name", required=False)
    contact_phone = serializers.CharField(source="enterprise.contact_phone", required=False)
    # The registering bank and staff only.
    consent_on = DateField(required=False, allow_null=True)
    consent_scope = serializers.ChoiceField(choices=ConsentScope.choices, required=False)
    source = serializers.CharField(required=False, help_text=gettext_lazy("staff、institution 或 event"))
    submitted_by = serializers.CharField(
        source="submitted_by.code",
        required=False,
        allow_null=True,
        help_text=gettext_lazy("代为登记的合作机构代码"),
    )

    def get_district(self, obj) -> str:
        return region_name(obj.enterprise.region_code)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        principal = self.context.get("principal")
        if principal is None:
            return data
        hidden = rules.hidden_fields(
            is_staff=principal.is_staff_member,
            is_submitter=principal.is_institution and instance.submitted_by_id == principal.institution_id,
            consent_scope=instance.consent_scope,
        )
        return {k: v for k, v in data.items() if k not in hidden}


class NeedDetailSerializer(NeedSerializer):
    """融资需求详情：另含意向机构（工作人员可见全部，合作机构只见本机构）、可执行操作和状态记录。"""

    interests = serializers.SerializerMethodField()
    available_transitions = serializers.SerializerMethodField()
    history = serializers.SerializerMethodField()

    def get_interests(self, obj) -> list[dict]:
        return InterestSerializer(self.context.get("interests", []), many=True).data

    def get_available_transitions(self, obj) -> list[str]:
        user = self.context.get("user")
        return available_transitions(obj, user) if user else []

    def get_history(self, obj) -> list[dict]:
        return HistoryEntrySerializer(history(obj), many=True).data


class InterestCreatedSerializer(InterestSerializer):
    need = IntegerField(source="need_id")
    need_status = serializers.ChoiceField(source="need.status", choices=NeedStatus.choices)
