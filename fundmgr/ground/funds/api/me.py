"""`GET /api/v1/me/`: who the caller is, and the funds in its scope.

Useful to clients (which key or token is this, what may it see) and the cheapest
authenticated request, which the benchmarks measure every other path against."""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from fundmgr.ground.accounts.principals import principal_from_request
from fundmgr.ground.accounts.services import SYSTEM_USER_PREFIX

from ..selectors import funds_visible_to


class MeSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=["person", "institution"],
        help_text=gettext_lazy("person：个人用户；institution：合作机构系统（API 密钥）"),
    )
    username = serializers.CharField(
        allow_null=True, help_text=gettext_lazy("个人用户的用户名（机构为 null）")
    )
    institution = serializers.CharField(
        allow_null=True, help_text=gettext_lazy("合作机构代码（个人为其所属机构，或 null）")
    )
    role = serializers.CharField(
        help_text=gettext_lazy("角色：officer/approver/committee/finance/admin/regulator/institution")
    )
    funds = serializers.ListField(child=serializers.CharField(), help_text=gettext_lazy("可查看的资金代码"))


class MeView(APIView):
    """当前调用者：身份、角色与可查看的资金。"""

    @extend_schema(summary=gettext_lazy("当前调用者"), responses=MeSerializer)
    def get(self, request):
        principal = principal_from_request(request)
        user = principal.user
        organization = getattr(user, "organization", None)
        institution = getattr(organization, "institution", None) if principal.institution_id else None
        system = principal.is_institution and user.username.startswith(SYSTEM_USER_PREFIX)
        body = {
            "kind": "institution" if system else "person",
            "username": None if system else user.get_username(),
            "institution": institution.code if institution is not None else None,
            "role": principal.role,
            "funds": list(funds_visible_to(principal).order_by("code").values_list("code", flat=True)),
        }
        return Response(MeSerializer(body).data)
