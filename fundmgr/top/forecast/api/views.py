"""`GET /api/v1/funds/{code}/forecast/`: will the fund last? Staff and the city's regulators."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from fundmgr.ground.accounts.permissions import IsPrincipal
from fundmgr.ground.accounts.principals import principal_from_request
from fundmgr.top.reports.exporters import XLSX_CONTENT_TYPE

from .. import exporters, services
from .serializers import ForecastQuerySerializer, ForecastSerializer

_PROBLEM = OpenApiResponse(description="application/problem+json")
_STRESS = ("default_rate", "default_within", "roll_multiplier", "largest_enterprises")


class ForecastReaders(BasePermission):
    """The forecast's own rule of who reads it (`services.require_reader`, as the admin page):
    a bank is refused with forecast_readers_only, before its parameters are looked at."""

    def has_permission(self, request, view) -> bool:
        services.require_reader(principal_from_request(request))
        return True


class ForecastView(APIView):
    """资金充足性预测：违约预测、压力测试与补充资金测算。"""

    permission_classes = [IsPrincipal, ForecastReaders]

    def perform_content_negotiation(self, request, force=False):
        # `format` chooses a file here, not a renderer: errors stay problem+json.
        renderer = JSONRenderer()
        return renderer, renderer.media_type

    @extend_schema(
        summary=_("资金充足性预测（工作人员与本市监管部门）"),
        description=_(
            "按本资金历史月度报告估计风险分类迁徙率（观测不足的行采用全省数据并注明），对每笔在保贷款"
            "模拟违约月份，经补偿规则（损失基数、冻结的分担比例、各项上限、申请期限）计算补偿，"
            "按本资金的追偿返还率与时滞计入返还，给出逐月余额的 P50/P95/P99、余额首次低于零的月份、"
            "P95/P99 需补充的资金、在保余额与放大倍数路径、按企业/机构/区县的预期损失集中度，以及解析期望。"
            "可叠加压力条件：集中违约（default_rate + default_within）、迁徙率倍数、最大 n 户企业违约、"
            "某机构整体违约，或引用已保存的情景（scenario）。相同参数与 seed 得到相同结果。"
            "合作机构无权查看（403，forecast_readers_only）；其他城市的资金为 404；参数越界为 400；"
            "资金没有生效的政策版本为 409（forecast_no_policy）。format=xlsx 下载 Excel。"
        ),
        parameters=[ForecastQuerySerializer],
        responses={
            (200, "application/json"): ForecastSerializer,
            (200, XLSX_CONTENT_TYPE): OpenApiTypes.BINARY,
            **dict.fromkeys((400, 401, 403, 404, 409), _PROBLEM),
        },
    )
    def get(self, request, code: str):
        params = ForecastQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        q = params.validated_data
        result = services.forecast_for(
            principal=principal_from_request(request),
            code=code,
            months=q["months"],
            paths=q["paths"],
            seed=q["seed"],
            saved=q.get("scenario"),
            institution_code=q.get("institution"),
            **{key: q.get(key) for key in _STRESS},
        )
        if q["format"] == "xlsx":
            response = HttpResponse(exporters.forecast_xlsx(result), content_type=XLSX_CONTENT_TYPE)
            response["Content-Disposition"] = (
                f'attachment; filename="forecast-{result.fund_code}-{result.as_of}.xlsx"'
            )
            return response
        return Response(ForecastSerializer(exporters.as_data(result)).data)
