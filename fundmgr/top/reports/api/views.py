"""Report endpoints: the quarterly and annual regulator tables and the stored monthly reports.

`?format=xlsx|csv` chooses a file instead of JSON. DRF would read `format` as its own
renderer switch and answer 404 for a renderer it does not have, so these views always
negotiate JSON (errors stay problem+json) and return files themselves.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from fundmgr.ground.accounts.permissions import IsPrincipal, IsStaffOrRegulator
from fundmgr.ground.accounts.principals import principal_from_request

from .. import exporters, services
from .serializers import (
    AnnualQuerySerializer,
    AnnualReportSerializer,
    MonthlyQuerySerializer,
    MonthlyReportSerializer,
    OutreachQuerySerializer,
    OutreachReportSerializer,
    QuarterlyQuerySerializer,
    QuarterlyReportSerializer,
)

_PROBLEM = OpenApiResponse(description="application/problem+json")


def _file(content: bytes, *, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _table_responses(serializer) -> dict:
    """The answers of a regulator-table endpoint: JSON, XLSX or CSV, or a problem."""
    return {
        (200, "application/json"): serializer,
        (200, exporters.XLSX_CONTENT_TYPE): OpenApiTypes.BINARY,
        (200, "text/csv"): OpenApiTypes.STR,
        **dict.fromkeys((400, 401, 403, 404), _PROBLEM),
    }


def _table_response(report: dict, *, fmt: str, stem: str, serializer) -> HttpResponse | Response:
    """A regulator table as JSON, or as an XLSX or CSV download."""
    if fmt in ("xlsx", "csv"):
        content, content_type = exporters.table_file(report, fmt)
        return _file(content, content_type=content_type, filename=f"{stem}.{fmt}")
    return Response(serializer(report).data)


class ReportViewSet(viewsets.GenericViewSet):
    """报表：季度监管统计表（监管部门、管理人）与月度报告、合作机构对账单。"""

    serializer_class = QuarterlyReportSerializer
    pagination_class = None

    def perform_content_negotiation(self, request, force=False):
        renderer = JSONRenderer()
        return renderer, renderer.media_type

    @extend_schema(
        summary=_("季度监管统计表"),
        description=_(
            "按资金、按区县、按合作机构统计：本期受理金额（万元，两位小数，四舍五入）、项目数、"
            "质押专利/商标/其他知识产权件数、惠及企业与新入库企业、期末在保余额、不良余额与不良率、"
            "代偿与追偿返还、资金余额与放大倍数，以及累计数。不传 fund 时返回调用者可查看的全部资金，"
            "按本期受理金额排名并附合计行（各行之和）。合作机构无权查看（403）；"
            "其他城市的资金为 404。"
        ),
        parameters=[
            OpenApiParameter("fund", str, description=_("资金代码，例如 zhaoqing")),
            OpenApiParameter("year", int, required=True, description=_("年份")),
            OpenApiParameter("quarter", int, required=True, description=_("季度 1–4")),
            OpenApiParameter("format", str, enum=["json", "xlsx", "csv"], description=_("默认 json")),
        ],
        responses=_table_responses(QuarterlyReportSerializer),
    )
    @action(detail=False, methods=["get"], permission_classes=[IsPrincipal, IsStaffOrRegulator])
    def quarterly(self, request):
        params = QuarterlyQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        q = params.validated_data
        report = services.quarterly_report(
            principal=principal_from_request(request),
            fund_code=q.get("fund"),
            year=q["year"],
            quarter=q["quarter"],
        )
        stem = f"quarterly-{q.get('fund') or 'all'}-{q['year']}Q{q['quarter']}"
        return _table_response(report, fmt=q["format"], stem=stem, serializer=QuarterlyReportSerializer)

    @extend_schema(
        summary=_("年度监管统计表"),
        description=_(
            "与季度统计表相同的行结构，统计期间为公历年度（1月1日至12月31日；年度未结束时期末指标截至今天）。"
            "含专利质押融资表和商标质押融资表：质押任一类专利的贷款计入专利表，质押商标的计入商标表，"
            "两者都质押的分别计入两表、在总金额中只计一次。排名按金额，金额相同按项目数、再按权利数；"
            "金额为零的不排名，列于最后。合作机构无权查看（403）；其他城市的资金为 404。"
        ),
        parameters=[
            OpenApiParameter("fund", str, description=_("资金代码，例如 zhaoqing")),
            OpenApiParameter("year", int, required=True, description=_("年份")),
            OpenApiParameter("format", str, enum=["json", "xlsx", "csv"], description=_("默认 json")),
        ],
        responses=_table_responses(AnnualReportSerializer),
    )
    @action(detail=False, methods=["get"], permission_classes=[IsPrincipal, IsStaffOrRegulator])
    def annual(self, request):
        params = AnnualQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        q = params.validated_data
        report = services.annual_report(
            principal=principal_from_request(request), fund_code=q.get("fund"), year=q["year"]
        )
        stem = f"annual-{q.get('fund') or 'all'}-{q['year']}"
        return _table_response(report, fmt=q["format"], stem=stem, serializer=AnnualReportSerializer)

    @extend_schema(
        summary=_("投融对接与政策宣传统计"),
        description=_(
            "按资金统计本期（季度，不传 quarter 为全年）登记的融资需求及其截至期末达到的环节：登记（项、金额）、"
            "银行表达意向、报送备案、受理入池（项、金额，万元）与转化率；以及本期举办的银企对接会、培训/大讲堂、"
            "政策宣讲：场次、参加企业与机构、现场与线上人数、现场签约（笔、意向金额）及已实现的受理贷款。"
            "合计行为各行之和。监管部门只能查看所辖资金的汇总；合作机构无权查看（403）；其他城市的资金为 404。"
        ),
        parameters=[
            OpenApiParameter("fund", str, description=_("资金代码，例如 zhaoqing")),
            OpenApiParameter("year", int, required=True, description=_("年份")),
            OpenApiParameter("quarter", int, description=_("季度 1–4；不传则为全年")),
            OpenApiParameter("format", str, enum=["json", "xlsx", "csv"], description=_("默认 json")),
        ],
        responses=_table_responses(OutreachReportSerializer),
    )
    @action(detail=False, methods=["get"], permission_classes=[IsPrincipal, IsStaffOrRegulator])
    def outreach(self, request):
        params = OutreachQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        q = params.validated_data
        report = services.outreach_report(
            principal=principal_from_request(request),
            fund_code=q.get("fund"),
            year=q["year"],
            quarter=q.get("quarter"),
        )
        stem = f"outreach-{q.get('fund') or 'all'}-{q['year']}" + (
            f"Q{q['quarter']}" if q.get("quarter") else ""
        )
        if q["format"] in ("xlsx", "csv"):
            content, content_type = exporters.outreach_file(report, q["format"])
            return _file(content, content_type=content_type, filename=f"{stem}.{q['format']}")
        return Response(OutreachReportSerializer(report).data)

    @extend_schema(
        summary=_("月度报告（已生成）"),
        description=_(
            "每月1日生成的上月资金月报；传 institution 时为该合作机构的月度对账单。"
            "管理人与该资金的监管部门可查看全部；合作机构只能查看本机构的对账单。尚未生成时为 404 "
            "（code: report_not_generated）。"
        ),
        parameters=[
            OpenApiParameter("fund", str, required=True, description=_("资金代码")),
            OpenApiParameter("year", int, required=True),
            OpenApiParameter("month", int, required=True, description=_("月份 1–12")),
            OpenApiParameter("institution", str, description=_("合作机构代码")),
            OpenApiParameter("format", str, enum=["json", "xlsx"], description=_("默认 json")),
        ],
        responses={
            (200, "application/json"): MonthlyReportSerializer,
            (200, exporters.XLSX_CONTENT_TYPE): OpenApiTypes.BINARY,
            400: _PROBLEM,
            401: _PROBLEM,
            403: _PROBLEM,
            404: _PROBLEM,
        },
    )
    @action(detail=False, methods=["get"])
    def monthly(self, request):
        params = MonthlyQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        q = params.validated_data
        report = services.monthly_report_get(
            principal=principal_from_request(request),
            fund_code=q["fund"],
            year=q["year"],
            month=q["month"],
            institution_code=q.get("institution"),
        )
        if q["format"] == "xlsx":
            return _file(
                services.stored_report_workbook(report=report),
                content_type=exporters.XLSX_CONTENT_TYPE,
                filename=f"{report.file_stem}.xlsx",
            )
        return Response(report.data)
