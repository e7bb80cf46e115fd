from django import forms
from django.utils.translation import gettext_lazy as _


class ApproveClaimForm(forms.Form):
    """The committee's decision: meeting reference, and a lower amount if it so decides."""

    meeting_ref = forms.CharField(label=_("会议纪要编号"), max_length=100)
    approved_amount = forms.DecimalField(
        label=_("批准金额(元)"),
        max_digits=18,
        decimal_places=2,
        required=False,
        min_value=0,
        help_text=_("留空则按可补偿金额批准；只能低于或等于可补偿金额"),
    )
    comment = forms.CharField(
        label=_("意见"), widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=2000
    )
