"""Fund endpoints: list, detail with policy and live figures, ledger statement."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from fundmgr.ground.accounts.principals import principal_from_request
from fundmgr.ground.funds.errors import FundsError
from fundmgr.ground.lib import clock
from fundmgr.ground.lib.api import DateField
from fundmgr.ground.lib.errors import AppError

from .. import selectors
from .serializers import FundSerializer, StatementSerializer


def _fund_payload(funds: list[selectors.ListedFund]) -> list[dict]:
    out = []
    for fund in funds:
        f = fund.figures
        out.append(
            {
                "code": fund.code,
                "name": fund.name,
                "region_code": fund.region_code,
                "status": fund.status,
                "start_date": fund.start_date,
                "end_date": fund.end_date,
                "manager": fund.manager_name,
                "policy": f.policy,
                "figures": {
                    "balance": f.balance,
                    "available_balance": f.available_balance,
                    "capital": f.capital,
                    "covered_outstanding": f.covered_outstanding,
                    "exposure": f.exposure,
                    "leverage": f.leverage,
                    "leverage_limit": f.leverage_limit,
                    "capacity": f.capacity,
                    "headroom": None if f.headroom is None else f"{f.headroom:.2f}",
                },
            }
        )
    return out


class _DateParams(serializers.Serializer):
    date_from = DateField(required=False, allow_null=True, default=None)
    to = DateField(required=False, allow_null=True, default=None)


class FundViewSet(viewsets.GenericViewSet):
    """补偿资金：列表、详情（含当前政策和实时指标）、台账对账单。"""

    serializer_class = FundSerializer
    lookup_field = "code"
    lookup_value_regex = r"[-a-z0-9_]+"

    def get_queryset(self):
        return selectors.funds_visible_to(principal_from_request(self.request)).order_by("code")

    @extend_schema(summary=gettext_lazy("资金列表"), responses=FundSerializer(many=True))
    def list(self, request):
        # A few dozen funds at most (one per city): read at once, so the page needs no COUNT.
        funds = selectors.funds_with_figures(principal=principal_from_request(request), on=clock.today())
        data = FundSerializer(_fund_payload(self.paginate_queryset(funds)), many=True).data
        return self.get_paginated_response(data)

    @extend_schema(summary=gettext_lazy("资金详情"), responses=FundSerializer)
    def retrieve(self, request, code=None):
        fund = selectors.fund_with_figures(
            principal=principal_from_request(request), on=clock.today(), code=code
        )
        return Response(FundSerializer(_fund_payload([fund])[0]).data)

    @extend_schema(
        summary=gettext_lazy("资金台账对账单（工作人员与本市监管部门；合作机构请查看 position/）"),
        parameters=[
            OpenApiParameter("from", dt.date, description=gettext_lazy("起始日期(含)")),
            OpenApiParameter("to", dt.date, description=gettext_lazy("截止日期(含)")),
        ],
        responses=StatementSerializer,
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def ledger(self, request, code=None):
        params = _DateParams(
            data={"date_from": request.query_params.get("from"), "to": request.query_params.get("to")}
        )
        params.is_valid(raise_exception=True)
        date_from, date_to = params.validated_data["date_from"], params.validated_data["to"]
        if date_from and date_to and date_from > date_to:
            raise AppError(FundsError.INVALID_PERIOD, _("起始日期不能晚于截止日期"), field="from", status=400)
        principal = principal_from_request(request)
        fund = selectors.fund_get(principal=principal, code=code)
        selectors.require_ledger_reader(principal)
        statement = selectors.ledger_statement(fund=fund, date_from=date_from, date_to=date_to)
        return Response(StatementSerializer(statement).data)
