"""Report API shapes. The figures are computed by the services; these fix the format and
document it: money in 万元 or yuan as strings with two decimals, counts as integers."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from fundmgr.ground.lib.api import DateField, IntegerField, MoneyField

from ..models import ReportKind


@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^-?\d+\.\d{2}$",
        "example": "1.23",
        "description": _("金额（万元），两位小数，四舍五入"),
    }
)
class WanYuanField(serializers.Field):
    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value) -> str:
        return f"{Decimal(value):.2f}"


@extend_schema_field(
    {"type": "string", "pattern": r"^-?\d+\.\d{2}$", "example": "2.35", "description": _("两位小数的字符串")}
)
class TwoPlacesField(serializers.Field):
    """A ratio or multiple with two decimals, as a string (null when undefined)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_representation(self, value) -> str:
        return f"{Decimal(value):.2f}"


@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^-?\d+\.\d{2}$",
        "example": "4650000.00",
        "description": _("金额（元），两位小数的字符串"),
    }
)
class SignedMoneyField(serializers.Field):
    """Yuan with two decimals; may be negative (ledger movements, net outflows)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value) -> str:
        return f"{Decimal(value):.2f}"


# --- quarterly ---------------------------------------------------------------------------------


class QuarterlyQuerySerializer(serializers.Serializer):
    fund = serializers.SlugField(required=False, help_text=_("资金代码；不传则为调用者可查看的全部资金"))
    year = IntegerField(min_value=2000, max_value=2100, help_text=_("年份"))
    quarter = IntegerField(min_value=1, max_value=4, help_text=_("季度 1–4"))
    format = serializers.ChoiceField(choices=["json", "xlsx", "csv"], default="json", required=False)


class PeriodSerializer(serializers.Serializer):
    year = IntegerField()
    quarter = IntegerField()
    date_from = DateField(help_text=_("期间起（含）"))
    to = DateField(help_text=_("期间止（含）"))

    def get_fields(self):
        fields = super().get_fields()
        # "from" is a Python keyword: declared as date_from, published as "from".
        fields["from"] = fields.pop("date_from")
        return dict((k, fields[k]) for k in ("year", "quarter", "from", "to"))


class _Metrics(serializers.Serializer):
    amount_wan_yuan = WanYuanField(help_text=_("本期受理入池贷款金额（万元）"))
    projects = IntegerField(help_text=_("本期受理项目数（笔）"))
    rights = IntegerField(help_text=_("本期受理贷款质押的知识产权合计（件，各类）"))
    patent_amount_wan_yuan = WanYuanField(
        help_text=_("本期受理的质押了专利（任一类）的贷款金额（万元）；同时质押商标的贷款也计入商标金额")
    )
    patent_projects = IntegerField(help_text=_("本期受理的质押了专利的项目数（笔）"))
    trademark_amount_wan_yuan = WanYuanField(help_text=_("本期受理的质押了商标的贷款金额（万元）"))
    trademark_projects = IntegerField(help_text=_("本期受理的质押了商标的项目数（笔）"))
    patents = IntegerField(help_text=_("本期质押专利（件，发明+实用新型+外观设计）"))
    invention_patents = IntegerField()
    utility_models = IntegerField()
    design_patents = IntegerField()
    trademarks = IntegerField(help_text=_("本期质押商标（件）"))
    other_ip = IntegerField(help_text=_("本期质押其他知识产权（著作权、软件著作权、地理标志）"))
    enterprises = IntegerField(help_text=_("本期惠及企业（家，去重）"))
    new_enterprises = IntegerField(
        help_text=_("本期新入库企业（家）；按合作机构统计时为该机构代为申请的企业")
    )
    outstanding_wan_yuan = WanYuanField(help_text=_("期末在保余额（知识产权担保覆盖部分，万元）"))
    non_performing_loans = IntegerField(help_text=_("期末不良贷款（笔）"))
    non_performing_wan_yuan = WanYuanField(help_text=_("期末不良余额（万元）"))
    npl_ratio = TwoPlacesField(help_text=_("不良率（%），期末不良余额 ÷ 期末在保余额"))
    compensations = IntegerField(help_text=_("本期代偿（笔）"))
    compensation_paid_wan_yuan = WanYuanField(help_text=_("本期代偿金额（万元）"))
    recoveries_returned_wan_yuan = WanYuanField(help_text=_("本期追偿返还资金（万元）"))
    cumulative_amount_wan_yuan = WanYuanField(help_text=_("累计受理金额（万元）"))
    cumulative_projects = IntegerField()
    cumulative_patents = IntegerField()
    cumulative_trademarks = IntegerField()
    cumulative_other_ip = IntegerField()
    cumulative_enterprises = IntegerField(help_text=_("累计惠及企业（家，去重）"))
    cumulative_admitted_enterprises = IntegerField(help_text=_("截至期末累计入库企业（家）"))
    cumulative_compensations = IntegerField()
    cumulative_compensation_paid_wan_yuan = WanYuanField()
    cumulative_recoveries_returned_wan_yuan = WanYuanField()


class _FundIdentity(serializers.Serializer):
    rank = IntegerField(
        allow_null=True,
        help_text=_(
            "按本期受理金额排名，金额相同按项目数、再按知识产权件数；金额为零不排名、列于最后；合计行为 null"
        ),
    )
    fund = serializers.CharField(allow_null=True, help_text=_("资金代码（合计行为 null）"))
    fund_name = serializers.CharField(help_text=_("资金名称；合计行为“合计”"))


class _FundOnly(serializers.Serializer):
    fund_balance = SignedMoneyField(allow_null=True, help_text=_("期末资金余额（元）"))
    fund_balance_wan_yuan = WanYuanField(allow_null=True, help_text=_("期末资金余额（万元）"))
    leverage = TwoPlacesField(help_text=_("实际放大倍数 = 期末在保余额 ÷ 出资总额"))
    leverage_limit = TwoPlacesField(help_text=_("政策放大倍数上限"))


class _District(_FundIdentity):
    region_code = serializers.CharField(allow_null=True, help_text=_("区县代码（GB/T 2260，借款企业所在地）"))


class _Institution(_FundIdentity):
    institution = serializers.CharField(allow_null=True, help_text=_("合作机构代码"))
    institution_name = serializers.CharField(allow_null=True)


class _FundRegion(_FundIdentity):
    region_code = serializers.CharField(allow_null=True, help_text=_("资金所在行政区划代码"))


# Identity columns first, then the figures (DRF lists a base's fields before the class's).
class FundRowSerializer(_FundRegion, _Metrics, _FundOnly):
    pass


class DistrictRowSerializer(_District, _Metrics):
    pass


class InstitutionRowSerializer(_Institution, _Metrics):
    pass


class IpTableRowSerializer(serializers.Serializer):
    rank = IntegerField(
        allow_null=True,
        help_text=_("按金额排名，金额相同按项目数、再按权利数；金额为零不排名；合计行为 null"),
    )
    fund = serializers.CharField(allow_null=True)
    fund_name = serializers.CharField()
    region_code = serializers.CharField(allow_null=True)
    city = serializers.CharField(help_text=_("城市名称；合计行为“合计”"))
    amount_wan_yuan = WanYuanField(help_text=_("金额（万元）"))
    projects = IntegerField(help_text=_("项目数（笔）"))
    rights = IntegerField(help_text=_("质押的专利数或商标数（件）"))


class IpTableSerializer(serializers.Serializer):
    rows = IpTableRowSerializer(many=True)
    total = IpTableRowSerializer()


# --- outreach (投融对接、政策宣传) -----------------------------------------------------------------


class _OutreachIdentity(serializers.Serializer):
    fund = serializers.CharField(allow_null=True, help_text=_("资金代码（合计行为 null）"))
    fund_name = serializers.CharField(help_text=_("资金名称；合计行为“合计”"))
    region_code = serializers.CharField(allow_null=True, help_text=_("资金所在行政区划代码"))


class FunnelRowSerializer(_OutreachIdentity):
    needs = IntegerField(help_text=_("本期登记的融资需求（项）"))
    needs_amount_wan_yuan = WanYuanField(help_text=_("其需求金额（万元）"))
    needs_with_interest = IntegerField(help_text=_("其中截至期末有银行表达意向（或已报送备案）的（项）"))
    needs_filed = IntegerField(help_text=_("其中截至期末已有贷款报送备案的（项）"))
    needs_accepted = IntegerField(help_text=_("其中截至期末已有贷款受理入池的（项）"))
    accepted_amount_wan_yuan = WanYuanField(help_text=_("这些需求对应的受理入池贷款金额（万元）"))
    interest_rate = TwoPlacesField(help_text=_("意向率（%）= 有意向 ÷ 登记"))
    filed_rate = TwoPlacesField(help_text=_("备案转化率（%）= 已备案 ÷ 登记"))
    accepted_rate = TwoPlacesField(help_text=_("受理转化率（%）= 已受理 ÷ 登记"))
    amount_conversion_rate = TwoPlacesField(help_text=_("金额转化率（%）= 受理贷款金额 ÷ 需求金额"))


class EventRowSerializer(_OutreachIdentity):
    kind = serializers.CharField(
        allow_null=True,
        help_text=_(
            "matchmaking（银企对接会）、training（培训/大讲堂）、briefing（政策宣讲）；合计行为 null"
        ),
    )
    kind_label = serializers.CharField()
    events = IntegerField(help_text=_("本期举办的活动（场）"))
    enterprises = IntegerField(help_text=_("参加企业（家次）"))
    institutions = IntegerField(help_text=_("参加金融机构（家次）"))
    attendance = IntegerField(help_text=_("现场人数"))
    online_viewers = IntegerField(help_text=_("线上观看人次"))
    signings = IntegerField(help_text=_("现场签约（笔）"))
    signed_amount_wan_yuan = WanYuanField(help_text=_("签约意向金额（万元）"))
    realised_signings = IntegerField(
        help_text=_("截至期末已实现的签约（签约银行对该需求的贷款已受理入池）（笔）")
    )
    realised_amount_wan_yuan = WanYuanField(help_text=_("实现签约的受理贷款金额（万元）"))
    realisation_rate = TwoPlacesField(help_text=_("签约实现率（%）= 实现贷款金额 ÷ 签约意向金额"))


class OutreachTablesSerializer(serializers.Serializer):
    funnel = FunnelRowSerializer(many=True, help_text=_("投融对接漏斗：每个资金一行"))
    funnel_total = FunnelRowSerializer(help_text=_("合计行：各行之和（比率按合计数重新计算）"))
    events = EventRowSerializer(many=True, help_text=_("宣传与对接活动：每个资金、每类活动一行"))
    events_total = EventRowSerializer(help_text=_("合计行：各行之和（比率按合计数重新计算）"))


class OutreachQuerySerializer(serializers.Serializer):
    fund = serializers.SlugField(required=False, help_text=_("资金代码；不传则为调用者可查看的全部资金"))
    year = IntegerField(min_value=2000, max_value=2100, help_text=_("年份"))
    quarter = IntegerField(min_value=1, max_value=4, required=False, help_text=_("季度 1–4；不传则为全年"))
    format = serializers.ChoiceField(choices=["json", "xlsx", "csv"], default="json", required=False)


class OutreachPeriodSerializer(serializers.Serializer):
    year = IntegerField()
    quarter = IntegerField(allow_null=True, help_text=_("季度；全年报表为 null"))
    date_from = DateField(help_text=_("期间起（含）"))
    to = DateField(help_text=_("期间止（含）"))

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("date_from")
        return dict((k, fields[k]) for k in ("year", "quarter", "from", "to"))


class OutreachReportSerializer(OutreachTablesSerializer):
    period = OutreachPeriodSerializer()
    as_of = DateField(help_text=_("统计截至日（期间未结束时为今天）"))
    generated_at = serializers.DateTimeField()
    funds = serializers.ListField(child=serializers.CharField(), help_text=_("报表包含的资金"))


class QuarterlyReportSerializer(serializers.Serializer):
    period = PeriodSerializer()
    as_of = DateField(help_text=_("期末指标的截至日（期间未结束时为今天）"))
    generated_at = serializers.DateTimeField()
    funds = serializers.ListField(child=serializers.CharField(), help_text=_("报表包含的资金"))
    rows = FundRowSerializer(many=True, help_text=_("每个资金一行，按本期受理金额排名"))
    total = FundRowSerializer(help_text=_("合计行：各行之和（不良率、放大倍数按合计数重新计算）"))
    by_district = DistrictRowSerializer(many=True)
    by_district_total = DistrictRowSerializer()
    by_institution = InstitutionRowSerializer(many=True)
    by_institution_total = InstitutionRowSerializer()
    patent_table = IpTableSerializer(help_text=_("专利质押融资表（各资金排名，含合计）"))
    trademark_table = IpTableSerializer(help_text=_("商标质押融资表（各资金排名，含合计）"))
    outreach = OutreachTablesSerializer(
        help_text=_("投融对接漏斗与宣传对接活动（同 /api/v1/reports/outreach/）")
    )


class AnnualQuerySerializer(serializers.Serializer):
    fund = serializers.SlugField(required=False, help_text=_("资金代码；不传则为调用者可查看的全部资金"))
    year = IntegerField(min_value=2000, max_value=2100, help_text=_("年份"))
    format = serializers.ChoiceField(choices=["json", "xlsx", "csv"], default="json", required=False)


class YearPeriodSerializer(serializers.Serializer):
    year = IntegerField()
    date_from = DateField(help_text=_("期间起（含）：1月1日"))
    to = DateField(help_text=_("期间止（含）：12月31日"))

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("date_from")
        return dict((k, fields[k]) for k in ("year", "from", "to"))


class AnnualReportSerializer(QuarterlyReportSerializer):
    period = YearPeriodSerializer()


# --- monthly -----------------------------------------------------------------------------------


class MonthlyQuerySerializer(serializers.Serializer):
    fund = serializers.SlugField(help_text=_("资金代码"))
    year = IntegerField(min_value=2000, max_value=2100)
    month = IntegerField(min_value=1, max_value=12)
    institution = serializers.SlugField(required=False, help_text=_("合作机构代码：取该机构的月度对账单"))
    format = serializers.ChoiceField(choices=["json", "xlsx"], default="json", required=False)


class NamedSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class MonthPeriodSerializer(PeriodSerializer):
    quarter = None
    month = IntegerField()

    def get_fields(self):
        fields = serializers.Serializer.get_fields(self)
        fields["from"] = fields.pop("date_from")
        return dict((k, fields[k]) for k in ("year", "month", "from", "to"))


class _MonthlyFigures(serializers.Serializer):
    filings_received = IntegerField(help_text=_("本月收到备案（笔，不论结果）"))
    filings_received_amount = MoneyField()
    filings_accepted = IntegerField(help_text=_("本月受理入池（笔）"))
    filings_accepted_amount = MoneyField()
    covered_loans = IntegerField(help_text=_("月末在保贷款（笔）"))
    covered_outstanding = MoneyField(help_text=_("月末在保余额（元）"))
    overdue_loans = IntegerField()
    overdue_amount = MoneyField()
    non_performing_loans = IntegerField()
    non_performing_amount = MoneyField()
    npl_ratio = TwoPlacesField(help_text=_("不良率（%）"))
    claims_filed = IntegerField()
    claims_filed_amount = MoneyField()
    claims_approved = IntegerField()
    claims_approved_amount = MoneyField()
    claims_paid = IntegerField()
    claims_paid_amount = MoneyField()
    recoveries_returned = IntegerField()
    recoveries_returned_amount = MoneyField()
    exposure = MoneyField(help_text=_("月末风险敞口 = 在保余额 × 冻结的资金分担比例（元）"))


class MonthlySummarySerializer(_MonthlyFigures):
    capital = MoneyField(required=False, allow_null=True, help_text=_("出资总额（元，仅资金月报）"))
    leverage = TwoPlacesField(required=False)
    leverage_limit = TwoPlacesField(required=False)
    capacity = MoneyField(required=False, allow_null=True)


class LedgerMovementSerializer(serializers.Serializer):
    entry_type = serializers.CharField()
    label = serializers.CharField()
    amount = SignedMoneyField(help_text=_("本月该类分录合计（元），流出为负"))


class MonthlyLedgerSerializer(serializers.Serializer):
    opening_balance = SignedMoneyField()
    movements = LedgerMovementSerializer(many=True)
    inflows = SignedMoneyField()
    outflows = SignedMoneyField()
    closing_balance = SignedMoneyField()


class MonthlyInstitutionRowSerializer(_MonthlyFigures):
    institution = serializers.CharField()
    institution_name = serializers.CharField()


class StatementLoanSerializer(serializers.Serializer):
    reference = serializers.CharField()
    contract_no = serializers.CharField()
    enterprise = serializers.CharField()
    accepted_on = DateField()
    principal = MoneyField()
    covered_outstanding = MoneyField()
    loan_class = serializers.CharField(help_text=_("月末状态：正常、逾期、不良"))


class MonthlyForecastSerializer(serializers.Serializer):
    """The P95 figures of the fund's baseline forecast on the report's day (added to every
    fund report by fundmgr.top.forecast; the forecast endpoint gives the whole of it)."""

    as_of = DateField(help_text=_("预测基准日"))
    months = IntegerField(help_text=_("预测月数"))
    paths = IntegerField(help_text=_("蒙特卡洛路径数"))
    seed = IntegerField(help_text=_("随机种子"))
    expected_claims = MoneyField(help_text=_("预测期内预期补偿（元）"))
    claims_p95 = MoneyField(help_text=_("预测期内补偿支出合计的 P95（元）"))
    balance_p95_end = SignedMoneyField(help_text=_("预测期末余额：95% 的路径不低于该值（元，可为负）"))
    below_zero_p95 = serializers.CharField(
        allow_null=True, help_text=_("P95 余额首次低于零的月份（YYYY-MM）；null 为预测期内不低于零")
    )
    top_up_p95 = MoneyField(help_text=_("使 95% 的路径余额始终不低于零所需补充的资金（元）"))
    top_up_p99 = MoneyField(help_text=_("使 99% 的路径余额始终不低于零所需补充的资金（元）"))


class MonthlyReportSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[ReportKind.MONTHLY_FUND, ReportKind.MONTHLY_INSTITUTION])
    fund = NamedSerializer()
    institution = NamedSerializer(allow_null=True)
    period = MonthPeriodSerializer()
    as_of = DateField()
    generated_at = serializers.DateTimeField()
    summary = MonthlySummarySerializer()
    ledger = MonthlyLedgerSerializer(required=False, help_text=_("资金台账（仅资金月报）"))
    by_institution = MonthlyInstitutionRowSerializer(
        many=True, required=False, help_text=_("分机构（仅资金月报）")
    )
    loans = StatementLoanSerializer(many=True, required=False, help_text=_("月末在保贷款明细（仅对账单）"))
    forecast = MonthlyForecastSerializer(
        required=False, help_text=_("资金充足性预测的 P95 数据（仅资金月报；没有生效政策版本的资金无此项）")
    )
