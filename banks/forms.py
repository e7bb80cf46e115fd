"""Forms of the partner institutions' admin steps."""

from django import forms
from django.utils.translation import gettext_lazy as _


class ReasonForm(forms.Form):
    """The comment box of a step whose reason is part of the record (requesting, approving or
    refusing a reinstatement): required here, and required again by the service."""

    comment = forms.CharField(
        label=_("意见"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=True,
        max_length=2000,
        help_text=_("必填：将记入状态变更记录，并告知相关人员。"),
    )
