"""Enterprise endpoints: a bank's application, reads scoped by principal, staff transitions."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from fundmgr.ground.accounts.api import IdempotentMixin, TransitionsMixin, transitions_schema
from fundmgr.ground.accounts.principals import principal_from_request, require_institution

from .. import selectors, services
from ..models import Enterprise
from .serializers import (
    EnterpriseApplicationSerializer,
    EnterpriseDetailSerializer,
    EnterpriseSerializer,
    EnterpriseStaffDetailSerializer,
)


class EnterpriseFilter(filters.FilterSet):
    fund = filters.CharFilter(field_name="fund__code")
    status = filters.ChoiceFilter(choices=Enterprise.Status.choices)
    region_code = filters.CharFilter()

    class Meta:
        model = Enterprise
        fields = ["fund", "status", "region_code"]


@extend_schema_view(
    transition=transitions_schema(
        summary=gettext_lazy("执行状态操作（工作人员）"),
        names=gettext_lazy("操作名称，如 start_review、admit"),
        response=EnterpriseDetailSerializer,
    )
)
class EnterpriseViewSet(IdempotentMixin, TransitionsMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """企业入库：合作机构代企业申请、查询；工作人员审核操作。"""

    lookup_field = "uscc"
    lookup_value_regex = r"[0-9A-Za-z]{18}"
    filterset_class = EnterpriseFilter
    serializer_class = EnterpriseSerializer

    def get_queryset(self):
        return (
            selectors.enterprises_visible_to(principal_from_request(self.request))
            .prefetch_related("ip_assets")
            .order_by("fund__code", "uscc")
        )

    def get_serializer_context(self):
        return {
            **super().get_serializer_context(),
            "user": self.request.user,
            "principal": principal_from_request(self.request),
        }

    def transition_object(self, request, key):
        return selectors.enterprise_get(principal=principal_from_request(request), uscc=key)

    def transition_run(self, request, obj, name, data):
        return services.enterprise_transition(
            enterprise_id=obj.pk, name=name, user=request.user, comment=data["comment"]
        )

    def transition_render(self, request, obj):
        return self._render(obj)

    def _render(self, enterprise: Enterprise, *, status_code: int = 200) -> Response:
        principal = principal_from_request(self.request)
        serializer_class = (
            EnterpriseStaffDetailSerializer if principal.is_staff_member else EnterpriseDetailSerializer
        )
        data = serializer_class(enterprise, context=self.get_serializer_context()).data
        return Response(data, status=status_code)

    @extend_schema(summary=gettext_lazy("企业列表"))
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary=gettext_lazy("企业详情（工作人员另见条件审查结果 eligibility）"),
        responses=EnterpriseStaffDetailSerializer,
    )
    def retrieve(self, request, uscc=None):
        return self._render(selectors.enterprise_get(principal=principal_from_request(request), uscc=uscc))

    @extend_schema(
        summary=gettext_lazy("提交企业入库申请（合作机构）"),
        request=EnterpriseApplicationSerializer,
        responses={201: EnterpriseDetailSerializer},
    )
    def create(self, request):
        principal = principal_from_request(request)
        require_institution(principal, _("入库申请由合作机构通过接口提交；工作人员请使用管理后台"))
        body = EnterpriseApplicationSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        enterprise = services.enterprise_apply(principal=principal, data=body.validated_data)
        return self._render(enterprise, status_code=status.HTTP_201_CREATED)
