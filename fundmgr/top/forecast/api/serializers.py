"""The forecast endpoint's parameters and answer (shape and format only)."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from fundmgr.ground.lib.api import DateField, IntegerField, MoneyField
from fundmgr.top.reports.api.serializers import SignedMoneyField, TwoPlacesField

from .. import services
from ..models import MAX_DEFAULT_WITHIN_MONTHS, MAX_LARGEST_ENTERPRISES, MAX_ROLL_MULTIPLIER


class ForecastQuerySerializer(serializers.Serializer):
    months = IntegerField(
        min_value=services.MIN_MONTHS,
        max_value=services.MAX_MONTHS,
        default=services.DEFAULT_MONTHS,
        help_text=_("预测月数"),
    )
    paths = IntegerField(
        min_value=services.MIN_PATHS,
        max_value=services.MAX_PATHS,
        default=services.DEFAULT_PATHS,
        help_text=_("蒙特卡洛路径数"),
    )
    seed = IntegerField(
        min_value=0,
        max_value=2**32 - 1,
        default=services.DEFAULT_SEED,
        help_text=_("随机种子：相同参数与种子得到相同结果"),
    )
    scenario = serializers.CharField(
        max_length=60, required=False, help_text=_("本资金已保存的压力情景（编号或名称）；不传为基准预测")
    )
    default_rate = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=Decimal("100"),
        required=False,
        help_text=_("压力：未触发补偿条件的贷款中集中违约的比例（%），须与 default_within 同时给出"),
    )
    default_within = IntegerField(
        min_value=1,
        max_value=MAX_DEFAULT_WITHIN_MONTHS,
        required=False,
        help_text=_("压力：集中违约发生在多少个月内"),
    )
    roll_multiplier = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=MAX_ROLL_MULTIPLIER,
        required=False,
        help_text=_("压力：向更差风险分类迁徙的概率乘以该倍数"),
    )
    largest_enterprises = IntegerField(
        min_value=1,
        max_value=MAX_LARGEST_ENTERPRISES,
        required=False,
        help_text=_("压力：在保余额最大的 n 户企业立即违约"),
    )
    institution = serializers.SlugField(
        required=False, help_text=_("压力：该合作机构（代码）在本资金的全部贷款立即违约")
    )
    format = serializers.ChoiceField(choices=["json", "xlsx"], default="json", required=False)


class _FundRef(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class ScenarioSerializer(serializers.Serializer):
    name = serializers.CharField(allow_null=True, help_text=_("已保存情景的名称；临时组合为 null"))
    saved_id = serializers.IntegerField(allow_null=True)
    baseline = serializers.BooleanField(help_text=_("是否为基准预测（无压力条件）"))
    description = serializers.CharField()
    default_rate = serializers.CharField(allow_null=True, help_text=_("集中违约比例（%）"))
    default_within = serializers.IntegerField(allow_null=True)
    roll_multiplier = serializers.CharField(allow_null=True)
    largest_enterprises = serializers.IntegerField(allow_null=True)
    institution = serializers.CharField(allow_null=True, help_text=_("整体违约的合作机构名称"))


class BookSerializer(serializers.Serializer):
    live_loans = serializers.IntegerField(help_text=_("在保贷款笔数"))
    simulated = serializers.IntegerField(help_text=_("按迁徙率模拟的贷款（未触发补偿条件）"))
    past_trigger = serializers.IntegerField(help_text=_("已触发、尚在申请期内的不良贷款"))
    lapsed = serializers.IntegerField(help_text=_("已超过补偿申请期限的不良贷款"))
    in_claim = serializers.IntegerField(help_text=_("补偿申请办理中的贷款"))
    forced = serializers.IntegerField(help_text=_("压力情景下立即违约的贷款"))


class AssumptionsSerializer(serializers.Serializer):
    trigger = serializers.CharField(help_text=_("补偿触发条件"))
    claim_window_days = serializers.IntegerField(help_text=_("补偿申请期限（自然日）"))
    claim_lag_months = serializers.IntegerField(help_text=_("自触发至付款的月数"))
    claim_lag_source = serializers.CharField()
    recovery_rate = TwoPlacesField(allow_null=False, help_text=_("追偿返还率（%，占已代偿金额）"))
    recovery_delay_months = serializers.IntegerField()
    recovery_source = serializers.CharField()
    run_off_end = DateField(allow_null=True, help_text=_("清算过渡期结束日；之后不再支付补偿"))
    annual_cap = MoneyField(allow_null=True, help_text=_("年度补偿总额上限（元）"))
    enterprise_groups_capped = serializers.IntegerField(help_text=_("累计补偿上限可能生效的企业户数"))


class RollRowSerializer(serializers.Serializer):
    state = serializers.CharField(help_text=_("本月风险分类"))
    label = serializers.CharField()
    rates = serializers.ListField(
        child=TwoPlacesField(allow_null=False),
        help_text=_("次月为正常、关注、次级、可疑、损失、结清的概率（%）"),
    )
    counts = serializers.ListField(child=serializers.IntegerField(), help_text=_("对应的观测次数"))
    observations = serializers.IntegerField(help_text=_("该行观测次数"))
    source = serializers.ChoiceField(choices=["fund", "province", "prior"])
    source_label = serializers.CharField()


class MonthSerializer(serializers.Serializer):
    month = serializers.CharField(help_text=_("YYYY-MM；第一个月为当月"))
    expected_new_npl = TwoPlacesField(allow_null=False, help_text=_("预期新增达到补偿条件的贷款（笔）"))
    expected_new_npl_amount = MoneyField(help_text=_("其在保余额（元）"))
    expected_claims = MoneyField(help_text=_("解析期望的补偿支出（元，不含累计上限）"))
    mean_claims = MoneyField(help_text=_("蒙特卡洛均值（元，已适用各项上限）"))
    claims_p95 = MoneyField(help_text=_("当月补偿支出 P95（元）"))
    expected_recoveries = MoneyField()
    expected_balance = SignedMoneyField()
    balance_p50 = SignedMoneyField(help_text=_("月末余额 P50（元）"))
    balance_p95 = SignedMoneyField(help_text=_("月末余额：95% 的路径不低于该值（元）"))
    balance_p99 = SignedMoneyField()
    covered_outstanding = MoneyField(help_text=_("预期月末在保余额（元）"))
    exposure = MoneyField(help_text=_("预期月末风险敞口（元）"))
    leverage = TwoPlacesField(allow_null=True, help_text=_("在保余额 ÷ 出资总额"))


class ConcentrationRowSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    loans = serializers.IntegerField()
    covered_outstanding = MoneyField()
    expected_loss = MoneyField(help_text=_("预测期内的预期补偿（元）"))
    share = TwoPlacesField(allow_null=False, help_text=_("占资金预期损失的比例（%）"))


class ConcentrationSerializer(serializers.Serializer):
    enterprises = ConcentrationRowSerializer(many=True)
    institutions = ConcentrationRowSerializer(many=True)
    districts = ConcentrationRowSerializer(many=True)


class PercentilesMonthSerializer(serializers.Serializer):
    P50 = serializers.CharField(allow_null=True)
    P95 = serializers.CharField(allow_null=True)
    P99 = serializers.CharField(allow_null=True)


class TopUpSerializer(serializers.Serializer):
    P95 = MoneyField()
    P99 = MoneyField()


class PercentilesMoneySerializer(serializers.Serializer):
    P50 = MoneyField()
    P95 = MoneyField()
    P99 = MoneyField()


class ForecastSerializer(serializers.Serializer):
    fund = _FundRef()
    as_of = DateField(help_text=_("预测基准日（业务日期）"))
    months = serializers.IntegerField()
    paths = serializers.IntegerField()
    seed = serializers.IntegerField()
    scenario = ScenarioSerializer()
    balance = SignedMoneyField(help_text=_("当前资金余额（元）"))
    capital = MoneyField()
    covered_outstanding = MoneyField()
    exposure = MoneyField()
    book = BookSerializer()
    assumptions = AssumptionsSerializer()
    roll_rates = RollRowSerializer(many=True, help_text=_("本资金采用的月度迁徙率（观测不足的行注明来源）"))
    province_roll_rates = RollRowSerializer(many=True, help_text=_("全省（全部资金）的月度迁徙率"))
    rows = MonthSerializer(many=True)
    first_below_zero = PercentilesMonthSerializer(
        help_text=_("各分位下余额首次低于零的月份；null 为预测期内不低于零")
    )
    top_up = TopUpSerializer(help_text=_("使 95%/99% 的路径在预测期内余额始终不低于零所需补充的资金（元）"))
    expected_claims_total = MoneyField()
    claims_total = PercentilesMoneySerializer(help_text=_("预测期内补偿支出合计的分位数（元）"))
    all_default_now = MoneyField(
        allow_null=True,
        help_text=_("若未触发补偿条件的贷款全部立即违约，按补偿规则逐笔计算的应付合计（元，精确到分）"),
    )
    concentration = ConcentrationSerializer()
    notes = serializers.ListField(child=serializers.CharField())
    seconds = serializers.FloatField(help_text=_("计算耗时（秒）"))
