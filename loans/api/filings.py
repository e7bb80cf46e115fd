"""Loan filing endpoints: banks file, correct, withdraw and settle; staff take the transitions.
Field names are the contract in shared/spec/api.md."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from enterprises.models import IPAsset
from fundmgr.ground.accounts.api import (
    HistoryEntrySerializer,
    IdempotentMixin,
    TransitionRequestSerializer,
    TransitionsMixin,
    transitions_schema,
)
from fundmgr.ground.accounts.principals import principal_from_request
from fundmgr.ground.accounts.workflow import (
    available_transitions,
    history,
    state_entered_on,
    with_state_entered_on,
)
from fundmgr.ground.lib.api import ID_PATTERN, DateField, IdField, MoneyField, PercentField
from fundmgr.ground.lib.plaininput import PlainValidation
from fundmgr.ground.lib.representation import PlainRepresentation

from ..models import FilingStatus, LoanFiling, LoanStatus, Pledge
from ..selectors import filings as selectors
from ..services import filings as services
from ..services import servicing
from .documents import DocumentSerializer, FilingDocumentActions
from .servicing import FilingServicingActions, SettleInputSerializer


class PledgeInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=IPAsset.Kind.choices)
    number = serializers.CharField(
        max_length=64, help_text=gettext_lazy("专利为含校验位的申请号，如 202110123456.7")
    )
    registration_no = serializers.CharField(
        max_length=64, allow_blank=True, help_text=gettext_lazy("质押登记号，如 Y2022440000123")
    )
    registered_on = DateField(allow_null=True, help_text=gettext_lazy("质押登记生效日"))
    appraised_value = MoneyField(required=False, allow_null=True, help_text=gettext_lazy("评估价值(元)"))


class FilingInputSerializer(PlainValidation, serializers.Serializer):
    """贷款备案（合作机构提交）。"""

    fund = serializers.SlugField()
    enterprise_uscc = serializers.CharField(max_length=32)
    contract_no = serializers.CharField(max_length=100)
    product = serializers.SlugField(required=False, allow_blank=True, allow_null=True)
    principal = MoneyField(positive=True)
    pledge_type = serializers.ChoiceField(choices=LoanFiling.PledgeType.choices)
    covered_principal = MoneyField(required=False, allow_null=True)
    annual_rate = PercentField()
    disbursed_on = DateField()
    matures_on = DateField()
    purpose = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    pledges = PledgeInputSerializer(many=True, allow_empty=False)
    financing_need = IdField(
        required=False,
        allow_null=True,
        default=None,
        help_text=gettext_lazy("本笔贷款对应的融资需求 id（投融对接），可不填"),
    )


class FilingPatchSerializer(serializers.Serializer):
    """退回补正后修改备案（仅在 returned 状态）。"""

    contract_no = serializers.CharField(max_length=100, required=False)
    principal = MoneyField(positive=True, required=False)
    pledge_type = serializers.ChoiceField(choices=LoanFiling.PledgeType.choices, required=False)
    covered_principal = MoneyField(required=False, allow_null=True)
    annual_rate = PercentField(required=False)
    disbursed_on = DateField(required=False)
    matures_on = DateField(required=False)
    purpose = serializers.CharField(max_length=300, required=False, allow_blank=True)
    pledges = PledgeInputSerializer(many=True, allow_empty=False, required=False)


class PledgeSerializer(PlainRepresentation, serializers.ModelSerializer):
    kind = serializers.CharField(source="ip_asset.kind")
    number = serializers.CharField(source="ip_asset.number")
    expires_on = DateField(source="ip_asset.expires_on")
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


class CheckSerializer(PlainRepresentation, serializers.Serializer):
    code = serializers.CharField()
    passed = serializers.BooleanField()
    message = serializers.CharField()
    field = serializers.CharField(allow_null=True)


class FilingSerializer(PlainRepresentation, serializers.ModelSerializer):
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
    policy_effective_from = DateField(source="policy_version.effective_from", allow_null=True, default=None)
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
            "financing_need",
            "checks",
            "pledges",
        ]
        read_only_fields = fields

    def get_product(self, obj) -> str | None:
        return obj.product.code if obj.product_id else None


class FilingDetailSerializer(FilingSerializer):
    documents = DocumentSerializer(many=True)
    available_transitions = serializers.SerializerMethodField()
    in_state_since = serializers.SerializerMethodField(help_text=gettext_lazy("进入当前备案状态的业务日期"))
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


class FilingFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=FilingStatus.choices)
    loan_status = filters.ChoiceFilter(choices=LoanStatus.choices)
    fund = filters.CharFilter(field_name="fund__code")
    enterprise_uscc = filters.CharFilter(field_name="enterprise__uscc")
    contract_no = filters.CharFilter()

    class Meta:
        model = LoanFiling
        fields = ["status", "loan_status", "fund", "enterprise_uscc", "contract_no"]


@extend_schema_view(
    transition=transitions_schema(
        summary=gettext_lazy("执行状态操作（工作人员）"),
        names=gettext_lazy("start_due_diligence、accept 等"),
        response=FilingDetailSerializer,
    )
)
class FilingViewSet(
    FilingDocumentActions,
    FilingServicingActions,
    IdempotentMixin,
    TransitionsMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """贷款备案：合作机构提交、补正、撤回；工作人员尽调与受理。"""

    serializer_class = FilingSerializer
    filterset_class = FilingFilter
    lookup_value_regex = ID_PATTERN

    def get_queryset(self):
        return (
            with_state_entered_on(selectors.filings_visible_to(principal_from_request(self.request)))
            .select_related("policy_version")
            .prefetch_related("pledges__ip_asset")
            .order_by("-submitted_at", "-id")
        )

    def transition_object(self, request, key):
        return self._filing(key)

    def transition_run(self, request, obj, name, data):
        return services.filing_transition(
            filing_id=obj.pk, name=name, user=request.user, comment=data["comment"]
        )

    def transition_render(self, request, obj):
        return self._render(obj)

    def _render(self, filing: LoanFiling, status_code: int = 200) -> Response:
        filing = self.get_queryset().prefetch_related("documents").get(pk=filing.pk)
        data = FilingDetailSerializer(filing, context={"user": self.request.user}).data
        return Response(data, status=status_code)

    def _principal(self):
        return principal_from_request(self.request)

    def _filing(self, pk):
        return selectors.filing_get(principal=self._principal(), pk=pk)

    @extend_schema(summary=gettext_lazy("备案列表"))
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary=gettext_lazy("备案详情"), responses=FilingDetailSerializer)
    def retrieve(self, request, pk=None):
        return self._render(self._filing(pk))

    @extend_schema(
        summary=gettext_lazy("提交贷款备案（合作机构）"),
        request=FilingInputSerializer,
        responses={201: FilingDetailSerializer},
    )
    def create(self, request):
        body = FilingInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        filing = services.filing_submit(principal=self._principal(), data=body.validated_data)
        # Shown as the service wrote it (pledges and documents in hand): no second read.
        data = FilingDetailSerializer(filing, context={"user": request.user}).data
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=gettext_lazy("修改退回的备案（合作机构）"),
        request=FilingPatchSerializer,
        responses=FilingDetailSerializer,
    )
    def partial_update(self, request, pk=None):
        filing = self._filing(pk)
        body = FilingPatchSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        filing = services.filing_update(
            principal=self._principal(), filing_id=filing.pk, data=body.validated_data
        )
        return self._render(filing)

    def _bank_step(self, pk, service) -> Response:
        """A bank's own step on its filing (resubmit, withdraw): scope, body, one service."""
        filing = self._filing(pk)
        body = TransitionRequestSerializer(data=self.request.data)
        body.is_valid(raise_exception=True)
        filing = service(
            principal=self._principal(), filing_id=filing.pk, comment=body.validated_data["comment"]
        )
        return self._render(filing)

    @extend_schema(
        summary=gettext_lazy("补正后重新提交（合作机构）"),
        request=TransitionRequestSerializer,
        responses=FilingDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def resubmit(self, request, pk=None):
        return self._bank_step(pk, services.filing_resubmit)

    @extend_schema(
        summary=gettext_lazy("撤回备案（合作机构，受理前）"),
        request=TransitionRequestSerializer,
        responses=FilingDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        return self._bank_step(pk, services.filing_withdraw)

    @extend_schema(
        summary=gettext_lazy("贷款结清（合作机构）"),
        request=SettleInputSerializer,
        responses=FilingDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def settle(self, request, pk=None):
        filing = self._filing(pk)
        body = SettleInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        filing = servicing.filing_settle(
            principal=self._principal(), filing_id=filing.pk, settled_on=body.validated_data["settled_on"]
        )
        return self._render(filing)
