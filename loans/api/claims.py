"""Compensation claim and recovery endpoints (api.md "Compensation claims")."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from fundmgr.ground.accounts.api import (
    HistoryEntrySerializer,
    IdempotentMixin,
    TransitionsMixin,
    transitions_schema,
)
from fundmgr.ground.accounts.errors import AccountsError
from fundmgr.ground.accounts.principals import principal_from_request
from fundmgr.ground.accounts.workflow import (
    available_transitions,
    history,
    preload_history,
    state_entered_on,
    with_state_entered_on,
)
from fundmgr.ground.lib.api import (
    ID_PATTERN,
    MAX_ID,
    DateField,
    IdField,
    IntegerField,
    MoneyField,
    PercentField,
)
from fundmgr.ground.lib.errors import NotFound

from ..models import Claim, ClaimStatus, LegalActionKind, Recovery
from ..rules.claims import CAP_STAGES
from ..selectors.claims import claims_visible_to
from ..services import claims, documents
from .documents import DocumentSerializer, DocumentUploadSerializer


class LegalActionSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=LegalActionKind.choices)
    case_no = serializers.CharField(max_length=100)
    filed_on = DateField()


class ClaimInputSerializer(serializers.Serializer):
    filing = IdField(help_text=gettext_lazy("贷款备案 id"))
    trigger_date = DateField(help_text=gettext_lazy("达到补偿条件的日期"))
    outstanding_principal = MoneyField(help_text=gettext_lazy("触发时贷款本金余额(元)"))
    recovered_before_claim = MoneyField(help_text=gettext_lazy("申请前已回收(元)"))
    legal_action = LegalActionSerializer(allow_null=True, required=False)
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class CapSerializer(serializers.Serializer):
    cap = serializers.CharField()
    stage = serializers.ChoiceField(
        choices=CAP_STAGES,
        help_text=gettext_lazy("loss_base：限制计入损失基数的本金（分担比例之前）；payment：限制补偿金额"),
    )
    label = serializers.CharField()
    limit = serializers.CharField(allow_null=True)
    applied = serializers.BooleanField()


class ClaimSerializer(serializers.ModelSerializer):
    filing = IntegerField(source="filing_id")
    fund = serializers.SlugRelatedField(slug_field="code", read_only=True)
    institution = serializers.SlugRelatedField(slug_field="code", read_only=True)
    outstanding_principal = MoneyField()
    recovered_before_claim = MoneyField()
    loss_base = MoneyField()
    fund_share = PercentField(places=2)
    computed_amount = MoneyField()
    claimable_amount = MoneyField()
    approved_amount = MoneyField(allow_null=True)
    paid_amount = MoneyField(allow_null=True)
    caps_applied = serializers.SerializerMethodField()
    computation = serializers.JSONField()
    available_transitions = serializers.SerializerMethodField()
    in_state_since = serializers.SerializerMethodField(help_text=gettext_lazy("进入当前状态的业务日期"))
    history = serializers.SerializerMethodField()

    class Meta:
        model = Claim
        fields = [
            "id",
            "reference",
            "filing",
            "fund",
            "institution",
            "status",
            "trigger_date",
            "outstanding_principal",
            "recovered_before_claim",
            "legal_action",
            "notes",
            "loss_base",
            "fund_share",
            "computed_amount",
            "caps_applied",
            "claimable_amount",
            "approved_amount",
            "approved_on",
            "paid_amount",
            "paid_on",
            "meeting_ref",
            "submitted_on",
            "in_state_since",
            "computation",
            "available_transitions",
            "history",
        ]
        read_only_fields = fields

    def get_caps_applied(self, obj) -> list[dict]:
        return CapSerializer(obj.computation.get("caps_applied", []), many=True).data

    def get_available_transitions(self, obj) -> list[str]:
        user = self.context.get("user")
        return available_transitions(obj, user) if user else []

    def get_in_state_since(self, obj) -> dt.date | None:
        return state_entered_on(obj)

    def get_history(self, obj) -> list[dict]:
        return HistoryEntrySerializer(history(obj), many=True).data


class ClaimTransitionSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    meeting_ref = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    approved_amount = MoneyField(required=False, allow_null=True, default=None)


class RecoveryInputSerializer(serializers.Serializer):
    received_on = DateField()
    gross_amount = MoneyField()
    costs = MoneyField()
    source = serializers.ChoiceField(choices=Recovery.Source.choices)


class RecoverySerializer(serializers.ModelSerializer):
    claim = IntegerField(source="claim_id")
    gross_amount = MoneyField()
    costs = MoneyField()
    fund_amount = MoneyField()
    available_transitions = serializers.SerializerMethodField()

    class Meta:
        model = Recovery
        fields = [
            "id",
            "claim",
            "received_on",
            "gross_amount",
            "costs",
            "source",
            "fund_amount",
            "due_on",
            "status",
            "returned_on",
            "reported_on",
            "available_transitions",
        ]
        read_only_fields = fields

    def get_available_transitions(self, obj) -> list[str]:
        from fundmgr.ground.accounts.workflow import available_transitions

        user = self.context.get("user")
        return available_transitions(obj, user) if user else []


class ClaimFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=ClaimStatus.choices)
    fund = filters.CharFilter(field_name="fund__code")
    filing = filters.NumberFilter(field_name="filing_id", min_value=1, max_value=MAX_ID)

    class Meta:
        model = Claim
        fields = ["status", "fund", "filing"]


@extend_schema_view(
    transition=transitions_schema(
        summary=gettext_lazy("执行状态操作（工作人员；resubmit 为合作机构）"),
        names=gettext_lazy("start_review、approve、pay 等"),
        request=ClaimTransitionSerializer,
        response=ClaimSerializer,
    )
)
class ClaimViewSet(IdempotentMixin, TransitionsMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """风险补偿申请：合作机构申请、报告追偿；工作人员审核、决委会审批、财务付款。"""

    serializer_class = ClaimSerializer
    filterset_class = ClaimFilter
    lookup_value_regex = ID_PATTERN

    def get_queryset(self):
        return with_state_entered_on(claims_visible_to(principal_from_request(self.request))).order_by(
            "-submitted_at", "-id"
        )

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "user": self.request.user}

    def paginate_queryset(self, queryset):
        # Each claim shows its history and the steps the caller may take (four-eyes reads
        # the history): the page's histories in one query, not one or two per claim.
        page = super().paginate_queryset(queryset)
        return None if page is None else preload_history(page)

    def _claim(self, pk) -> Claim:
        claim = self.get_queryset().filter(pk=pk).first()
        if claim is None:
            raise NotFound(_("补偿申请不存在或无权访问"))
        return claim

    transition_request_serializer = ClaimTransitionSerializer

    def transition_object(self, request, key):
        return self._claim(key)

    def transition_run(self, request, obj, name, data):
        if name == "resubmit":  # the bank's own step
            return claims.claim_resubmit(
                principal=principal_from_request(request), claim_id=obj.pk, comment=data["comment"]
            )
        return claims.claim_transition(claim_id=obj.pk, name=name, user=request.user, **data)

    def transition_render(self, request, obj):
        return self._render(obj)

    def _render(self, claim: Claim, code: int = 200) -> Response:
        return Response(
            ClaimSerializer(Claim.objects.get(pk=claim.pk), context=self.get_serializer_context()).data,
            status=code,
        )

    @extend_schema(summary=gettext_lazy("补偿申请详情"), responses=ClaimSerializer)
    def retrieve(self, request, pk=None):
        return self._render(self._claim(pk))

    @extend_schema(
        summary=gettext_lazy("提交补偿申请（合作机构）"),
        request=ClaimInputSerializer,
        responses={201: ClaimSerializer},
    )
    def create(self, request):
        body = ClaimInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        claim = claims.claim_submit(principal=principal_from_request(request), data=body.validated_data)
        return self._render(claim, status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"], summary=gettext_lazy("追偿回收列表"), responses=RecoverySerializer(many=True)
    )
    @extend_schema(
        methods=["POST"],
        summary=gettext_lazy("报告追偿回收（合作机构）"),
        request=RecoveryInputSerializer,
        responses={201: RecoverySerializer},
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def recoveries(self, request, pk=None):
        claim = self._claim(pk)
        principal = principal_from_request(request)
        if request.method == "GET":
            return Response(
                RecoverySerializer(
                    claim.recoveries.all(), many=True, context=self.get_serializer_context()
                ).data
            )
        body = RecoveryInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        recovery = claims.recovery_report(principal=principal, claim_id=claim.pk, data=body.validated_data)
        return Response(
            RecoverySerializer(recovery, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        summary=gettext_lazy("上传补偿申请材料（合作机构）"),
        request={"multipart/form-data": DocumentUploadSerializer},
        responses={201: DocumentSerializer},
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser], url_path="documents")
    def documents(self, request, pk=None):
        claim = self._claim(pk)
        body = DocumentUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        document = documents.document_upload(
            principal=principal_from_request(request),
            filing_id=claim.filing_id,
            claim_id=claim.pk,
            kind=body.validated_data["kind"],
            upload=body.validated_data["file"],
        )
        return Response(DocumentSerializer(document).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    transition=transitions_schema(
        summary=gettext_lazy("确认返还（财务）"),
        names="confirm_returned",
        request=ClaimTransitionSerializer,
        response=RecoverySerializer,
    )
)
class RecoveryViewSet(IdempotentMixin, TransitionsMixin, viewsets.GenericViewSet):
    """追偿返还：财务确认到账。"""

    serializer_class = RecoverySerializer
    lookup_value_regex = ID_PATTERN

    def get_queryset(self):
        visible = claims_visible_to(principal_from_request(self.request))
        return Recovery.objects.filter(claim__in=visible)

    transition_request_serializer = ClaimTransitionSerializer

    def _recovery(self, pk) -> Recovery:
        recovery = self.get_queryset().filter(pk=pk).first()
        if recovery is None:
            raise NotFound()
        return recovery

    @extend_schema(summary=gettext_lazy("追偿回收详情"), responses=RecoverySerializer)
    def retrieve(self, request, pk=None):
        return self.transition_render(request, self._recovery(pk))

    def transition_object(self, request, key):
        return self._recovery(key)

    def transition_run(self, request, obj, name, data):
        if name != "confirm_returned":
            raise NotFound(
                _("没有名为 %(name)s 的操作") % {"name": name}, code=AccountsError.UNKNOWN_TRANSITION
            )
        return claims.recovery_confirm_returned(
            recovery_id=obj.pk, user=request.user, comment=data["comment"]
        )

    def transition_render(self, request, obj):
        return Response(RecoverySerializer(obj, context={"user": request.user}).data)
