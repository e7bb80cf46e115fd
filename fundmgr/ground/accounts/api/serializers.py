"""API pieces shared by every lifecycle: history entries and the transition request body."""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from rest_framework import serializers

from fundmgr.ground.lib.api import DateField

# "from" is a Python keyword but the contract's field name, hence the type() construction.
HistoryEntrySerializer = type(
    "HistoryEntrySerializer",
    (serializers.Serializer,),
    {
        "__doc__": "状态变更记录",
        "at": serializers.DateTimeField(help_text=gettext_lazy("记录时间（实际时间）")),
        "on": DateField(help_text=gettext_lazy("业务日期：规则、期限和报表据此计算")),
        "from": serializers.CharField(allow_null=True, help_text=gettext_lazy("原状态")),
        "to": serializers.CharField(help_text=gettext_lazy("新状态")),
        "transition": serializers.CharField(help_text=gettext_lazy("操作")),
        "by": serializers.CharField(
            help_text=gettext_lazy("执行人角色：officer/approver/committee/finance/institution/system")
        ),
        "comment": serializers.CharField(allow_blank=True, help_text=gettext_lazy("意见")),
    },
)


class TransitionRequestSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
