"""Loan filing endpoints for banks (file, correct, withdraw) and staff (transitions)."""

from __future__ import annotations

from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from fundmgr.ground.accounts.api import IdempotentMixin, TransitionRequestSerializer
from fundmgr.ground.accounts.principals import principal_from_request
from fundmgr.ground.accounts.workflow import with_state_entered_on
from fundmgr.ground.lib.api import ID_PATTERN
from fundmgr.ground.lib.errors import Forbidden

from .. import documents, selectors, services, servicing
from ..models import FilingStatus, LoanFiling, LoanStatus
from .serializers import (
    DocumentSerializer,
    DocumentUploadSerializer,
    FilingDetailSerializer,
    FilingInputSerializer,
    FilingPatchSerializer,
    FilingSerializer,
    SettleInputSerializer,
    StatusReportInputSerializer,
    StatusReportSerializer,
)


class FilingFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=FilingStatus.choices)
    loan_status = filters.ChoiceFilter(choices=LoanStatus.choices)
    fund = filters.CharFilter(field_name="fund__code")
    enterprise_uscc = filters.CharFilter(field_name="enterprise__uscc")
    contract_no = filters.CharFilter()

    class Meta:
        model = LoanFiling
        fields = ["status", "loan_status", "fund", "enterprise_uscc", "contract_no"]


class FilingViewSet(IdempotentMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
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

    def _render(self, filing: LoanFiling, status_code: int = 200) -> Response:
        filing = self.get_queryset().prefetch_related("documents").get(pk=filing.pk)
        data = FilingDetailSerializer(filing, context={"user": self.request.user}).data
        return Response(data, status=status_code)

    def _principal(self):
        return principal_from_request(self.request)

    def _filing(self, pk):
        return selectors.filing_get(principal=self._principal(), pk=pk)

    @extend_schema(summary="备案列表")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="备案详情", responses=FilingDetailSerializer)
    def retrieve(self, request, pk=None):
        return self._render(self._filing(pk))

    @extend_schema(
        summary="提交贷款备案（合作机构）",
        request=FilingInputSerializer,
        responses={201: FilingDetailSerializer},
    )
    def create(self, request):
        body = FilingInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        filing = services.filing_submit(principal=self._principal(), data=body.validated_data)
        return self._render(filing, status.HTTP_201_CREATED)

    @extend_schema(
        summary="修改退回的备案（合作机构）", request=FilingPatchSerializer, responses=FilingDetailSerializer
    )
    def partial_update(self, request, pk=None):
        filing = self._filing(pk)
        self._require_own(filing)
        body = FilingPatchSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        filing = services.filing_update(
            principal=self._principal(), filing_id=filing.pk, data=body.validated_data
        )
        return self._render(filing)

    def _require_own(self, filing: LoanFiling) -> None:
        if not self._principal().is_institution:
            raise Forbidden("institution_only", "仅提交备案的合作机构可以执行此操作")

    def _bank_step(self, pk, service) -> Response:
        """A bank's own step on its filing (resubmit, withdraw): scope, body, one service."""
        filing = self._filing(pk)
        self._require_own(filing)
        body = TransitionRequestSerializer(data=self.request.data)
        body.is_valid(raise_exception=True)
        filing = service(
            principal=self._principal(), filing_id=filing.pk, comment=body.validated_data["comment"]
        )
        return self._render(filing)

    @extend_schema(
        summary="补正后重新提交（合作机构）",
        request=TransitionRequestSerializer,
        responses=FilingDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def resubmit(self, request, pk=None):
        return self._bank_step(pk, services.filing_resubmit)

    @extend_schema(
        summary="撤回备案（合作机构，受理前）",
        request=TransitionRequestSerializer,
        responses=FilingDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        return self._bank_step(pk, services.filing_withdraw)

    @extend_schema(
        summary="执行状态操作（工作人员）",
        request=TransitionRequestSerializer,
        responses=FilingDetailSerializer,
        parameters=[
            OpenApiParameter(
                "transition", str, OpenApiParameter.PATH, description="start_due_diligence、accept 等"
            )
        ],
    )
    @action(detail=True, methods=["post"], url_path=r"transitions/(?P<transition>[a-z_]+)")
    def transition(self, request, pk=None, transition=None):
        filing = self._filing(pk)
        body = TransitionRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        filing = services.filing_transition(
            filing_id=filing.pk, name=transition, user=request.user, comment=body.validated_data["comment"]
        )
        return self._render(filing)

    @extend_schema(
        summary="上传备案材料（合作机构）",
        request={"multipart/form-data": DocumentUploadSerializer},
        responses={201: DocumentSerializer},
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser], url_path="documents")
    def documents(self, request, pk=None):
        filing = self._filing(pk)
        body = DocumentUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        document = documents.document_upload(
            principal=self._principal(),
            filing_id=filing.pk,
            kind=body.validated_data["kind"],
            upload=body.validated_data["file"],
        )
        return Response(DocumentSerializer(document).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"], summary="月度报告历史（含已更正的）", responses=StatusReportSerializer(many=True)
    )
    @extend_schema(
        methods=["POST"],
        summary="月度贷后报告（合作机构）",
        request=StatusReportInputSerializer,
        responses={201: StatusReportSerializer},
    )
    @action(detail=True, methods=["get", "post"], url_path="status-reports", pagination_class=None)
    def status_reports(self, request, pk=None):
        filing = self._filing(pk)
        if request.method == "GET":
            reports = filing.status_reports.order_by("as_of", "id")
            return Response(StatusReportSerializer(reports, many=True).data)
        body = StatusReportInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        report = servicing.status_report_submit(
            principal=self._principal(), filing_id=filing.pk, data=body.validated_data
        )
        return Response(StatusReportSerializer(report).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="贷款结清（合作机构）", request=SettleInputSerializer, responses=FilingDetailSerializer
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
