"""Financing-need endpoints (投融对接): a bank registers a need on an enterprise's behalf,
lists the needs it may match (ordered by priority), reads one, and says it is interested.
Regulators read only the aggregates of their city (GET /api/v1/reports/outreach/)."""

from __future__ import annotations

from django.utils.translation import gettext, gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from fundmgr.ground.accounts.api import IdempotentMixin
from fundmgr.ground.accounts.permissions import IsPrincipal
from fundmgr.ground.accounts.principals import principal_from_request, require_institution
from fundmgr.ground.lib.api import ID_PATTERN

from .. import selectors, services
from ..models import FinancingNeed, NeedStatus
from .serializers import (
    InterestCreatedSerializer,
    InterestInputSerializer,
    NeedDetailSerializer,
    NeedInputSerializer,
    NeedSerializer,
)


class NotRegulator(BasePermission):
    """Regulators read the outreach aggregates of their city, never single needs."""

    message = gettext_lazy("监管部门只能查看所辖资金的对接汇总统计（/api/v1/reports/outreach/）")

    def has_permission(self, request, view) -> bool:
        return not principal_from_request(request).is_regulator


class NeedFilter(filters.FilterSet):
    fund = filters.CharFilter(field_name="fund__code", help_text=gettext_lazy("资金代码"))
    district = filters.CharFilter(
        field_name="enterprise__region_code", help_text=gettext_lazy("企业所在区县代码（6位）")
    )
    min_amount = filters.NumberFilter(
        field_name="amount",
        lookup_expr="gte",
        max_digits=18,
        decimal_places=2,
        help_text=gettext_lazy("融资金额不低于（元）"),
    )
    priority = filters.CharFilter(
        method="filter_priority", help_text=gettext_lazy("优先对接分类代码，如 recent_patents")
    )
    status = filters.ChoiceFilter(choices=NeedStatus.choices)

    class Meta:
        model = FinancingNeed
        fields = ["fund", "district", "min_amount", "priority", "status"]

    def filter_priority(self, queryset, name, value):
        return selectors.with_priority(queryset, value) if value else queryset


class FinancingNeedViewSet(IdempotentMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """融资需求（投融对接）：合作机构代企业登记、查看可对接的需求并表达意向；工作人员查看全部。"""

    serializer_class = NeedSerializer
    filterset_class = NeedFilter
    lookup_value_regex = ID_PATTERN
    permission_classes = [IsPrincipal, NotRegulator]

    def _principal(self):
        return principal_from_request(self.request)

    def get_queryset(self):
        principal = self._principal()
        return selectors.for_reading(selectors.needs_visible_to(principal), principal)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "principal": self._principal()}

    def _render(self, need, status_code: int = 200) -> Response:
        principal = self._principal()
        need = selectors.need_get(principal=principal, pk=need.pk)
        context = {
            "principal": principal,
            "user": self.request.user,
            "interests": selectors.interests_visible(need, principal),
        }
        return Response(NeedDetailSerializer(need, context=context).data, status=status_code)

    @extend_schema(
        summary=gettext_lazy("融资需求列表"),
        description=gettext_lazy(
            "合作机构：在其有有效合作协议的资金中、已同意共享信息的入库企业尚在对接中的需求，"
            "以及本机构登记或表达过意向的需求；按优先对接分类排序（最优先者在前，未分类的在后），"
            "同一分类内新登记的在前。只显示企业同意共享的内容。监管部门请使用 /api/v1/reports/outreach/（403）。"
        ),
        parameters=[
            OpenApiParameter(
                "min_amount", str, description=gettext_lazy("融资金额不低于（元），如 1000000.00")
            )
        ],
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary=gettext_lazy("融资需求详情"), responses=NeedDetailSerializer)
    def retrieve(self, request, pk=None):
        return self._render(selectors.need_get(principal=self._principal(), pk=pk))

    @extend_schema(
        summary=gettext_lazy("登记融资需求（合作机构代企业提交）"),
        request=NeedInputSerializer,
        responses={201: NeedDetailSerializer},
    )
    def create(self, request):
        principal = self._principal()
        require_institution(
            principal, gettext("融资需求由合作机构通过接口代企业登记；工作人员请使用管理后台")
        )
        body = NeedInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        need = services.need_register(principal=principal, data=body.validated_data)
        return self._render(need, status.HTTP_201_CREATED)

    @extend_schema(
        summary=gettext_lazy("表达对接意向（合作机构）"),
        request=InterestInputSerializer,
        responses={201: InterestCreatedSerializer},
    )
    @action(detail=True, methods=["post"])
    def interest(self, request, pk=None):
        principal = self._principal()
        require_institution(principal, gettext("对接意向由合作机构提交；工作人员请在管理后台记录对接情况"))
        need = selectors.need_get(principal=principal, pk=pk)
        body = InterestInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        interest = services.need_interest_record(
            principal=principal, need_id=need.pk, comment=body.validated_data["comment"]
        )
        return Response(InterestCreatedSerializer(interest).data, status=status.HTTP_201_CREATED)
