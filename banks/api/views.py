"""Institution endpoints: reads scoped by principal, and staff lifecycle transitions."""

from __future__ import annotations

from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from fundmgr.ground.accounts.api import TransitionRequestSerializer
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


class InstitutionViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
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

    def _detail(self, institution: Institution) -> Response:
        return Response(InstitutionDetailSerializer(institution, context=self.get_serializer_context()).data)

    @extend_schema(summary="合作机构列表")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="合作机构详情", responses=InstitutionDetailSerializer)
    def retrieve(self, request, code=None):
        return self._detail(selectors.institution_get(principal=principal_from_request(request), code=code))

    @extend_schema(
        summary="执行合作状态操作（工作人员）",
        request=TransitionRequestSerializer,
        responses=InstitutionDetailSerializer,
        parameters=[
            OpenApiParameter(
                "transition",
                str,
                OpenApiParameter.PATH,
                description="操作名称：start_review、activate、suspend、reinstate、terminate",
            )
        ],
    )
    @action(detail=True, methods=["post"], url_path=r"transitions/(?P<transition>[a-z_]+)")
    def transition(self, request, code=None, transition=None):
        principal = principal_from_request(request)
        institution = selectors.institution_get(principal=principal, code=code)
        body = TransitionRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.institution_transition(
            institution_id=institution.pk,
            name=transition,
            user=request.user,
            comment=body.validated_data["comment"],
        )
        # Re-read through the selector: the response shows what this caller may see.
        return self._detail(selectors.institution_get(principal=principal, code=code))
