from django import forms
from django.utils.translation import gettext_lazy as _


class TransitionCommentForm(forms.Form):
    """The comment box every admin transition button opens."""

    comment = forms.CharField(
        label=_("意见"), widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=2000
    )
