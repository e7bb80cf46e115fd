"""`GET /api/v1/funds/{code}/position/`: a bank's own position in a fund (quota used, exposure,
non-performing), which banks read instead of the fund's ledger statement."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from banks.models import Institution
from banks.selectors import agreement_in_force
from fundmgr.ground.accounts.principals import principal_from_request, require_institution
from fundmgr.ground.funds.selectors import fund_get
from fundmgr.ground.lib import clock
from fundmgr.ground.lib.api import DateField, MoneyField
from fundmgr.ground.lib.money import quantize

from ..selectors.filings import covered_totals_by_institution
from ..selectors.servicing import npl_ratio


class PositionSerializer(serializers.Serializer):
    fund = serializers.CharField()
    institution = serializers.CharField()
    on = DateField(help_text=gettext_lazy("业务日期"))
    quota = MoneyField(allow_null=True, help_text=gettext_lazy("合作额度（元）；未约定为 null"))
    covered_outstanding = MoneyField(
        help_text=gettext_lazy("在保余额：本机构在该资金的在保贷款知识产权担保部分（元）")
    )
    quota_available = MoneyField(allow_null=True, help_text=gettext_lazy("剩余额度（元）"))
    exposure = MoneyField(help_text=gettext_lazy("资金风险敞口：在保余额 × 资金分担比例（元）"))
    non_performing = MoneyField(help_text=gettext_lazy("其中不良（元）"))
    npl_ratio = serializers.CharField(allow_null=True, help_text=gettext_lazy("不良率（%）"))
    filings_suspended = serializers.BooleanField(help_text=gettext_lazy("是否已被暂停新增备案"))


class PositionView(APIView):
    """合作机构在某资金中的头寸：额度使用、风险敞口、不良。"""

    @extend_schema(summary=gettext_lazy("本机构在该资金的头寸（合作机构）"), responses=PositionSerializer)
    def get(self, request, code: str):
        principal = principal_from_request(request)
        require_institution(
            principal, gettext("头寸为合作机构本机构的数据；工作人员与监管部门请查看资金台账")
        )
        fund = fund_get(principal=principal, code=code)
        today = clock.today()
        institution = Institution.objects.get(pk=principal.institution_id)
        agreement = agreement_in_force(institution=institution, fund=fund, on=today)
        covered, exposure = covered_totals_by_institution(fund_id=fund.pk, institution_id=institution.pk)
        _, npl, ratio = npl_ratio(institution_id=institution.pk, fund_id=fund.pk)
        quota = agreement.quota if agreement is not None else None
        body = {
            "fund": fund.code,
            "institution": institution.code,
            "on": today,
            "quota": quota,
            "covered_outstanding": covered,
            "quota_available": None if quota is None else quantize(max(quota - covered, Decimal("0"))),
            "exposure": exposure,
            "non_performing": npl,
            "npl_ratio": None if ratio is None else f"{ratio:.2f}",
            "filings_suspended": bool(agreement is not None and agreement.filings_suspended_on is not None),
        }
        return Response(PositionSerializer(body).data)
