"""The caller's in-app notifications: list (newest first) and mark one read."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from fundmgr.ground.accounts.api import IdempotentMixin
from fundmgr.ground.accounts.permissions import IsAnyPrincipal
from fundmgr.ground.lib.api import ID_PATTERN

from .. import services
from ..models import Notification
from .serializers import NotificationSerializer


class NotificationFilter(filters.FilterSet):
    unread = filters.BooleanFilter(method="filter_unread", label=_("仅未读（true）或仅已读（false）"))
    event = filters.CharFilter(label=_("事件，例如 filing.accepted"))

    class Meta:
        model = Notification
        fields = ["unread", "event"]

    def filter_unread(self, queryset, name, value):
        return queryset if value is None else queryset.filter(read_at__isnull=value)


class NotificationViewSet(IdempotentMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """站内通知：调用者本人的通知，最新的在前；可标记为已读。"""

    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter
    permission_classes = [IsAnyPrincipal]  # regulators too: their own notices, nothing else
    lookup_value_regex = ID_PATTERN

    def get_queryset(self):
        return services.notification_list(user=self.request.user)

    @extend_schema(summary=_("我的通知"))
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary=_("标记通知为已读"),
        description=_("将调用者本人的一条通知标记为已读（重复标记保留首次阅读时间）；他人的通知返回 404。"),
        request=None,
        responses=NotificationSerializer,
    )
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        row = services.mark_read(notification_id=int(pk), user=request.user)
        return Response(NotificationSerializer(row).data)
