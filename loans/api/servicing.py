"""Servicing endpoints on a filing: the monthly status reports (settlement is a filing step,
in filings.py). Shapes and the action."""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from fundmgr.ground.lib.api import DateField, IdField, IntegerField, MoneyField

from ..models import RiskClass
from ..services import servicing


class StatusReportInputSerializer(serializers.Serializer):
    """月度贷后报告。"""

    as_of = DateField(help_text=gettext_lazy("报告所属月份的月末日期，如 2026-11-30"))
    outstanding_principal = MoneyField()
    overdue_principal = MoneyField()
    overdue_interest = MoneyField()
    days_overdue = IntegerField(min_value=0, max_value=100000)
    risk_class = serializers.ChoiceField(choices=RiskClass.choices)
    supersedes = IdField(required=False, allow_null=True, help_text=gettext_lazy("更正时填写被更正报告的 id"))


class StatusReportSerializer(serializers.Serializer):
    id = IntegerField()
    as_of = DateField()
    outstanding_principal = MoneyField()
    overdue_principal = MoneyField()
    overdue_interest = MoneyField()
    days_overdue = IntegerField()
    risk_class = serializers.CharField()
    supersedes = IntegerField(source="supersedes_id", allow_null=True)
    is_current = serializers.BooleanField()
    loan_status_after = serializers.CharField()
    reported_on = DateField(help_text=gettext_lazy("报送的业务日期"))
    reported_at = serializers.DateTimeField(help_text=gettext_lazy("记录时间（实际时间）"))


class SettleInputSerializer(serializers.Serializer):
    settled_on = DateField()


class FilingServicingActions:
    """The status-reports action of the filing endpoints (mixed into FilingViewSet)."""

    @extend_schema(
        methods=["GET"],
        summary=gettext_lazy("月度报告历史（含已更正的）"),
        responses=StatusReportSerializer(many=True),
    )
    @extend_schema(
        methods=["POST"],
        summary=gettext_lazy("月度贷后报告（合作机构）"),
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
