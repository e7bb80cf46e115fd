"""A need's first history entry is named as people read it, not by its code."""

from django.utils import translation

from fundmgr.ground.accounts.workflow import transition_label
from matching.models import FinancingNeed


def test_a_need_registered_is_named_in_either_language():
    with translation.override("zh-hans"):
        assert transition_label(FinancingNeed, "register") == "登记"
    with translation.override("en"):
        assert transition_label(FinancingNeed, "register") == "Register"
