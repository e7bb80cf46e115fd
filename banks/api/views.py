"""Institution endpoints: reads scoped by principal, and staff lifecycle transitions."""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.response import Response

from fundmgr.ground.accounts.api import TransitionsMixin, transitions_schema
from fundmgr.ground.accounts.principals import principal_from_request

from .. import selectors, services
from ..models import Institution
from .serializers import InstitutionDetailSerializer, InstitutionSerializer


class InstitutionFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=Institution.Status.choices)
    kind = filters.ChoiceFilter(choices=Institution.Kind.choices)

    class Meta:
        model = Institution
        fields = ["status", "kind"]


@extend_schema_view(
    transition=transitions_schema(
        summary=gettext_lazy("执行合作状态操作（工作人员）"),
        names=gettext_lazy("操作名称：start_review、activate、suspend、reinstate、terminate"),
        response=InstitutionDetailSerializer,
    )
)
class InstitutionViewSet(TransitionsMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """合作机构：查询（机构只能看到自己）；工作人员执行合作状态操作。"""

    lookup_field = "code"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    filterset_class = InstitutionFilter
    serializer_class = InstitutionSerializer

    def get_queryset(self):
        principal = principal_from_request(self.request)
        return selectors.with_visible_agreements(
            selectors.institutions_visible_to(principal), principal
        ).order_by("code")

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "user": self.request.user}

    def transition_object(self, request, key):
        return selectors.institution_get(principal=principal_from_request(request), code=key)

    def transition_run(self, request, obj, name, data):
        services.institution_transition(
            institution_id=obj.pk, name=name, user=request.user, comment=data["comment"]
        )
        return obj

    def transition_render(self, request, obj):
        # Re-read through the selector: the response shows what this caller may see.
        return self._detail(
            selectors.institution_get(principal=principal_from_request(request), code=obj.code)
        )

    def _detail(self, institution: Institution) -> Response:
        return Response(InstitutionDetailSerializer(institution, context=self.get_serializer_context()).data)

    @extend_schema(summary=gettext_lazy("合作机构列表"))
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary=gettext_lazy("合作机构详情"), responses=InstitutionDetailSerializer)
    def retrieve(self, request, code=None):
        return self._detail(selectors.institution_get(principal=principal_from_request(request), code=code))
