"""The workbook's layout, declared once: sheets, columns (Chinese headers with units), the
type and allowed values of each column, and what each means. The export, the empty template,
the 说明 sheet, the reader and the checks all read these declarations, so a column is
described in one place only.

A column marked `readonly` is written on export for the reader's information (a computed
figure such as the SME class or the covered balance) and ignored on import, where the system
computes it again.

Sheet names, headers, allowed values and notes are marked for translation: a workbook is
written in the language of the request (Chinese by default), and read in any of the system's
languages (`names`, `Col.headers`, `Col.choice_lookup`), so a Chinese workbook always reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from banks.models import FilingsStatus, Institution, Product
from enterprises.models import Enterprise, IPAsset, SizeClass
from fundmgr.ground.funds.models import EntryType, GovernmentLevel
from loans.models import (
    ClaimStatus,
    FilingStatus,
    LoanFiling,
    LoanStatus,
    Recovery,
    RecoveryStatus,
    RiskClass,
)

# Cell kinds: what a cell must hold and how the export formats it.
TEXT, INT, MONEY, SIGNED_MONEY, PERCENT, RATE, DATE, BOOL, CHOICE, CHOICES = (
    "text",
    "int",
    "money",
    "signed_money",
    "percent",
    "rate",
    "date",
    "bool",
    "choice",
    "choices",
)
DECIMAL_PLACES = {MONEY: 2, SIGNED_MONEY: 2, PERCENT: 2, RATE: 4}
KIND_LABELS = {
    TEXT: _("文本"),
    INT: _("整数"),
    MONEY: _("金额，元，最多两位小数"),
    SIGNED_MONEY: _("金额，元，最多两位小数，流入为正、流出为负"),
    PERCENT: _("百分比数值，0–100，最多两位小数（50 表示 50%）"),
    RATE: _("年利率百分比数值，最多四位小数（4.35 表示 4.35%）"),
    DATE: _("Excel 日期单元格（不能是文本）"),
    BOOL: _("是 / 否"),
    CHOICE: _("下列可选值之一"),
    CHOICES: _("下列可选值中的一个或多个，以“、”分隔"),
}
# How several values share one cell (CHOICES): written with the first, read with any of them.
LIST_SEPARATORS = "、,，;；"
YES, NO = _("是"), _("否")

# The documented size limit: more data rows than this in one sheet is refused.
MAX_ROWS_PER_SHEET = 1_000_000


def names(text) -> set[str]:
    """How a marked text may appear in a workbook: in any of the system's languages."""
    found = set()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            found.add(str(text))
    return found


@lru_cache(maxsize=1)
def _yes_no_words() -> tuple[frozenset[str], frozenset[str]]:
    return (
        frozenset({*names(YES), "Y", "y", "TRUE", "true", "True", "Yes", "yes"}),
        frozenset({*names(NO), "N", "n", "FALSE", "false", "False", "No", "no"}),
    )


def yes_no(text: str) -> bool | None:
    """A yes/no cell: 是/否 (in any language), Y/N, TRUE/FALSE; None for anything else."""
    yes, no = _yes_no_words()
    if text in yes:
        return True
    if text in no:
        return False
    return None


@dataclass(frozen=True)
class Col:
    key: str
    header: str
    kind: str = TEXT
    required: bool = False
    note: str = ""
    choices: Sequence[tuple[str, str]] = ()
    readonly: bool = False
    max_length: int | None = None
    width: int = 14

    def choice_labels(self) -> list[str]:
        return [str(label) for _value, label in self.choices]

    @cached_property
    def choice_lookup(self) -> dict[str, str]:
        """Label (in any of the system's languages) or value → value."""
        lookup = {}
        for value, label in self.choices:
            lookup.update(dict.fromkeys(names(label), value))
        lookup.update({value: value for value, _label in self.choices})
        return lookup

    @cached_property
    def headers(self) -> set[str]:
        """The header as it may appear: in any of the system's languages."""
        return names(self.header)

    def label_of(self, value: str | None) -> str:
        return next((str(label) for v, label in self.choices if v == value), value or "")


@dataclass(frozen=True)
class Sheet:
    key: str
    name: str
    note: str
    columns: Sequence[Col]
    natural_key: Sequence[str] = field(default_factory=tuple)

    @cached_property
    def names(self) -> set[str]:
        """The sheet's name as it may appear: in any of the system's languages."""
        return names(self.name)

    def col(self, key: str) -> Col:
        return next(c for c in self.columns if c.key == key)

    @property
    def input_columns(self) -> list[Col]:
        return [c for c in self.columns if not c.readonly]


def _choices(text_choices, only: Sequence[str] | None = None) -> tuple[tuple[str, str], ...]:
    return tuple((value, label) for value, label in text_choices.choices if only is None or value in only)


FUND = Sheet(
    "fund",
    _("资金"),
    _(
        "本工作簿所属的资金（一行）。导入时按资金代码找到系统中已设立的资金；“台账余额”留空则不核对，"
        "填写则导入后资金台账余额须与之相等（到分）。"
    ),
    (
        Col("code", _("资金代码"), required=True, note=_("系统中资金的代码，例如 zhaoqing"), width=16),
        Col("name", _("资金名称"), readonly=True, width=34),
        Col("as_of", _("导出业务日期"), DATE, readonly=True, width=14),
        Col("balance", _("台账余额(元)"), SIGNED_MONEY, note=_("核对用：导入后台账余额应等于此数"), width=18),
    ),
    ("code",),
)

ENTERPRISES = Sheet(
    "enterprises",
    _("企业"),
    _("入库企业，以统一社会信用代码识别。系统中已有的企业可更新名称、区县、行业、规模指标、联系方式和征信；"
    "入库状态和日期只能通过审核流程改变。新企业以所填状态入库，状态为已入库、已暂停、已过期、已出库的，"
    "按入库日期当时的政策校验入库条件。"),
    (
        Col("uscc", _("统一社会信用代码"), required=True, note=_("18位，校验位按 GB 32100-2015 检查"), width=22),
        Col("name", _("企业名称"), required=True, max_length=200, width=34),
        Col("region_code", _("所在区县代码"), required=True, note=_("6位行政区划代码（GB/T 2260），须在本资金所在城市")),
        Col("industry_code", _("行业代码(GB/T 4754)"), required=True, note=_("例如 C3985，用于中小企业划型")),
        Col("registered_on", _("成立日期"), DATE, required=True),
        Col("employees", _("从业人员(人)"), INT),
        Col("annual_revenue", _("营业收入(元)"), MONEY, width=16),
        Col("total_assets", _("资产总额(元)"), MONEY, width=16),
        Col("size_class", _("企业规模"), CHOICE, choices=_choices(SizeClass), readonly=True, note=_("系统按工信部联企业〔2011〕300号计算")),
        Col("legal_representative", _("法定代表人"), max_length=64),
        Col("contact_name", _("联系人"), max_length=64),
        Col("contact_phone", _("联系电话"), max_length=32),
        Col("credit_report_date", _("征信报告日期"), DATE),
        Col("credit_record_clean", _("征信无不良记录"), BOOL),
        Col(
            "status",
            _("入库状态"),
            CHOICE,
            required=True,
            choices=_choices(Enterprise.Status),
            note=_("新企业可为：已提交、已入库、已暂停、已过期、已出库"),
        ),
        Col("admitted_on", _("入库日期"), DATE, note=_("已入库、已暂停、已过期、已出库的企业必填")),
        Col("admitted_until", _("入库有效期至"), DATE, note=_("留空按入库日期和政策的入库有效期计算")),
    ),
    ("uscc",),
)  # fmt: skip

IP_RIGHTS = Sheet(
    "ip",
    _("知识产权"),
    _("企业的知识产权，以类型和号码识别；一项知识产权只能登记在一家企业名下。专利号码含校验位（如 202110123456.7），"
    "专利到期日留空时按申请日和法定期限计算。"),
    (
        Col("enterprise_uscc", _("企业统一社会信用代码"), required=True, note=_("须在“企业”表或系统中本资金的企业中"), width=22),
        Col("kind", _("类型"), CHOICE, required=True, choices=_choices(IPAsset.Kind)),
        Col("number", _("号码"), required=True, note=_("专利申请号、商标注册号、著作权登记号"), width=18),
        Col("title", _("名称"), required=True, max_length=200, width=28),
        Col("owner_name", _("权利人"), max_length=200, note=_("留空为企业名称"), width=28),
        Col("nice_class", _("尼斯分类"), INT, note=_("商标填写，1–45")),
        Col("filed_on", _("申请日"), DATE),
        Col("expires_on", _("到期日"), DATE, note=_("专利可留空（按申请日计算）")),
        Col("status", _("法律状态"), CHOICE, required=True, choices=_choices(IPAsset.Status)),
    ),
    ("kind", "number"),
)  # fmt: skip

INSTITUTIONS = Sheet(
    "institutions",
    _("合作机构"),
    _("与本资金合作的机构，以机构代码识别。系统中已有的机构可更新名称和联系方式；合作状态只能通过审核流程改变。"),
    (
        Col("code", _("机构代码"), required=True, note=_("字母、数字、连字符和下划线，2–64位"), width=18),
        Col("name", _("名称"), required=True, max_length=200, width=34),
        Col("kind", _("类型"), CHOICE, required=True, choices=_choices(Institution.Kind)),
        Col("region_code", _("行政区划代码"), note=_("6位数字")),
        Col("uscc", _("统一社会信用代码"), width=22),
        Col("contact_name", _("联系人"), max_length=64),
        Col("contact_phone", _("联系电话"), max_length=32),
        Col("contact_email", _("联系邮箱"), max_length=254, width=24),
        Col("status", _("合作状态"), CHOICE, required=True, choices=_choices(Institution.Status)),
    ),
    ("code",),
)  # fmt: skip

AGREEMENTS = Sheet(
    "agreements",
    _("合作协议"),
    _("合作机构与本资金的合作协议，以机构代码和生效日期识别。已签订的协议不能修改：条款变化请新增一份较晚生效的协议。"
    "各方分担比例合计须为100%，资金分担比例不得超过生效日当时政策的上限。"),
    (
        Col("institution_code", _("机构代码"), required=True, note=_("须在“合作机构”表或系统中"), width=18),
        Col("valid_from", _("生效日期"), DATE, required=True),
        Col("signed_on", _("签订日期"), DATE, required=True),
        Col("valid_until", _("到期日期"), DATE),
        Col("fund_share", _("资金分担比例(%)"), PERCENT, required=True),
        Col("bank_share", _("银行分担比例(%)"), PERCENT),
        Col("insurer_share", _("保险分担比例(%)"), PERCENT),
        Col("valuer_share", _("评估机构分担比例(%)"), PERCENT),
        Col("quota", _("合作额度(元)"), MONEY, width=16),
        Col("reserve_deposit", _("风险准备金存放(元)"), MONEY, width=16),
        Col("document_ref", _("协议编号"), max_length=100, width=18),
        Col("filings_status", _("备案状态"), CHOICE, choices=_choices(FilingsStatus), readonly=True),
    ),
    ("institution_code", "valid_from"),
)  # fmt: skip

PRODUCTS = Sheet(
    "products",
    _("备案产品"),
    _("合作机构在本资金备案的贷款产品，以机构代码、产品代码和版本识别；贷款可注明所属产品。已有的产品不能通过导入修改："
      "条款变化请新增一个版本。已备案的产品须填写备案日期，备案时该机构须有生效的合作协议。"),
    (
        Col("institution_code", _("机构代码"), required=True, note=_("须在“合作机构”表或系统中"), width=18),
        Col("code", _("产品代码"), required=True, note=_("字母、数字、连字符和下划线，2–64位"), width=18),
        Col("version", _("版本"), INT, required=True, note=_("从1开始；条款变化时版本加1")),
        Col("name", _("产品名称"), required=True, max_length=200, width=28),
        Col("status", _("状态"), CHOICE, required=True, choices=_choices(Product.Status)),
        Col("accepted_ip_kinds", _("可质押知识产权类型"), CHOICES, choices=_choices(IPAsset.Kind), width=28),
        Col("max_principal", _("单户最高额度(元)"), MONEY, width=16),
        Col("max_term_months", _("最长期限(月)"), INT),
        Col("max_annual_rate", _("最高年利率(%)"), RATE),
        Col("max_pledge_rate", _("最高质押率(%)"), PERCENT),
        Col("filed_on", _("备案日期"), DATE, note=_("已备案和备案后撤回的产品必填")),
        Col("withdrawn_on", _("撤回日期"), DATE, note=_("已撤回的产品必填")),
    ),
    ("institution_code", "code", "version"),
)  # fmt: skip

LOANS = Sheet(
    "loans",
    _("贷款"),
    _("贷款备案，以机构代码和借款合同号识别。新贷款须为已受理入池的贷款，保留所填的受理日期、冻结的分担比例和贷款状态；"
    "标为历史贷款的不检查放款后备案期限，其余自动校验按受理日期当时的政策进行。系统中已有的贷款不能通过导入修改。"),
    (
        Col("institution_code", _("机构代码"), required=True, width=18),
        Col("contract_no", _("借款合同号"), required=True, max_length=100, width=20),
        Col("reference", _("备案编号"), note=_("留空由系统编号"), max_length=32, width=18),
        Col("historical", _("历史贷款"), BOOL, required=True, note=_("是：系统上线前发放的贷款，不检查备案期限")),
        Col("enterprise_uscc", _("借款企业统一社会信用代码"), required=True, width=22),
        Col("principal", _("贷款本金(元)"), MONEY, required=True, width=16),
        Col("pledge_type", _("质押方式"), CHOICE, required=True, choices=_choices(LoanFiling.PledgeType)),
        Col("covered_principal", _("知识产权担保本金(元)"), MONEY, note=_("纯知识产权质押可留空（等于贷款本金）"), width=16),
        Col("annual_rate", _("年利率(%)"), RATE, required=True),
        Col("disbursed_on", _("放款日"), DATE, required=True),
        Col("matures_on", _("到期日"), DATE, required=True),
        Col("purpose", _("用途"), max_length=300, width=20),
        Col("status", _("备案状态"), CHOICE, required=True, choices=_choices(FilingStatus), note=_("新贷款须为已受理入池")),
        Col("accepted_on", _("受理日期"), DATE),
        Col("loan_status", _("贷款状态"), CHOICE, choices=_choices(LoanStatus)),
        Col("fund_share", _("资金分担比例(%)"), PERCENT, note=_("受理时冻结的比例")),
        Col("bank_share", _("银行分担比例(%)"), PERCENT),
        Col("insurer_share", _("保险分担比例(%)"), PERCENT),
        Col("valuer_share", _("评估机构分担比例(%)"), PERCENT),
        Col("outstanding_principal", _("贷款余额(元)"), MONEY, width=16),
        Col("covered_outstanding", _("担保覆盖余额(元)"), MONEY, readonly=True, width=16),
        Col("settled_on", _("结清日期"), DATE),
        Col("report_as_of", _("最近月报月末"), DATE, note=_("最近一次月度报告的月末日期；无月报留空")),
        Col("overdue_principal", _("逾期本金(元)"), MONEY, width=16),
        Col("overdue_interest", _("逾期利息(元)"), MONEY, width=16),
        Col("days_overdue", _("逾期天数(天)"), INT),
        Col("risk_class", _("五级分类"), CHOICE, choices=_choices(RiskClass)),
        Col("product_code", _("产品代码"), note=_("贷款所属的备案产品（“备案产品”表或系统中该机构的产品）；政策要求产品备案的须填写"), width=18),
        Col("product_version", _("产品版本"), INT, note=_("留空为该产品代码受理日当时已备案的最新版本")),
    ),
    ("institution_code", "contract_no"),
)  # fmt: skip

PLEDGES = Sheet(
    "pledges",
    _("质押物"),
    _("贷款质押的知识产权及其质押登记，以贷款（机构代码、借款合同号）和知识产权（类型、号码）识别。"
    "一项知识产权同一时间只能质押给一笔在保贷款；已结清贷款的质押物留空解除日期时按结清日期解除。"),
    (
        Col("institution_code", _("机构代码"), required=True, width=18),
        Col("contract_no", _("借款合同号"), required=True, width=20),
        Col("ip_kind", _("知识产权类型"), CHOICE, required=True, choices=_choices(IPAsset.Kind)),
        Col("ip_number", _("知识产权号码"), required=True, width=18),
        Col("registration_no", _("质押登记号"), required=True, max_length=32, width=18),
        Col("registered_on", _("质押登记日"), DATE, required=True),
        Col("appraised_value", _("评估价值(元)"), MONEY, width=16),
        Col("released_on", _("解除质押日"), DATE),
    ),
    ("institution_code", "contract_no", "ip_kind", "ip_number"),
)  # fmt: skip

CLAIMS = Sheet(
    "claims",
    _("补偿申请"),
    _("已代偿的补偿申请，以申请编号识别。新申请须为追偿中、已结案或已核销；批准金额不得超过按贷款冻结比例和政策上限"
    "计算的可补偿金额，“资金台账”表须有同一申请编号、合计等于已付金额的代偿支出。"),
    (
        Col("reference", _("申请编号"), required=True, max_length=32, width=20),
        Col("institution_code", _("机构代码"), required=True, width=18),
        Col("contract_no", _("借款合同号"), required=True, width=20),
        Col("status", _("状态"), CHOICE, required=True, choices=_choices(ClaimStatus), note=_("新申请可为：追偿中、已结案、已核销")),
        Col("trigger_date", _("触发日"), DATE, required=True),
        Col("outstanding_principal", _("触发时贷款本金余额(元)"), MONEY, required=True, width=16),
        Col("recovered_before_claim", _("申请前已回收(元)"), MONEY, width=16),
        Col("submitted_on", _("提交日期"), DATE, required=True),
        Col("loss_base", _("损失基数(元)"), MONEY, readonly=True, width=16),
        Col("fund_share", _("资金分担比例(%)"), PERCENT, readonly=True),
        Col("claimable_amount", _("可补偿金额(元)"), MONEY, readonly=True, width=16),
        Col("approved_amount", _("批准金额(元)"), MONEY, width=16),
        Col("approved_on", _("批准日期"), DATE),
        Col("meeting_ref", _("会议纪要编号"), max_length=100, width=18),
        Col("paid_amount", _("已付金额(元)"), MONEY, width=16),
        Col("paid_on", _("付款日期"), DATE),
    ),
    ("reference",),
)  # fmt: skip

RECOVERIES = Sheet(
    "recoveries",
    _("追偿回收"),
    _("代偿后银行追回的款项和应返还资金的部分，以申请编号、回收日期、回收总额和来源识别。已返还的，“资金台账”表须有"
    "同一申请编号、合计相等的追偿返还。"),
    (
        Col("claim_reference", _("申请编号"), required=True, width=20),
        Col("received_on", _("回收日期"), DATE, required=True),
        Col("gross_amount", _("回收总额(元)"), MONEY, required=True, width=16),
        Col("costs", _("追偿费用(元)"), MONEY, width=16),
        Col("source", _("来源"), CHOICE, required=True, choices=_choices(Recovery.Source)),
        Col("fund_amount", _("应返还资金(元)"), MONEY, required=True, width=16),
        Col("due_on", _("返还截止日"), DATE, note=_("留空按政策的返还期限计算")),
        Col("status", _("状态"), CHOICE, required=True, choices=_choices(RecoveryStatus), note=_("新记录可为：待返还、已返还")),
        Col("returned_on", _("返还日期"), DATE),
    ),
    ("claim_reference", "received_on", "gross_amount", "source"),
)  # fmt: skip

LEDGER = Sheet(
    "ledger",
    _("资金台账"),
    _("资金台账分录（出资、利息、代偿支出、追偿返还、费用、调整、清算返还），只能追加：与系统中已有分录"
    "（日期、类型、层级、金额、业务编号、补偿申请编号均相同）一一对应的行视为未变，其余为新增。按记账日期顺序，"
    "余额任何一天都不得为负。"),
    (
        Col("value_date", _("记账日期"), DATE, required=True),
        Col("entry_type", _("类型"), CHOICE, required=True, choices=_choices(EntryType)),
        Col("government_level", _("出资层级"), CHOICE, choices=_choices(GovernmentLevel), note=_("出资必填")),
        Col("amount", _("金额(元)"), SIGNED_MONEY, required=True, width=18),
        Col("reference", _("业务编号"), max_length=64, width=22),
        Col("claim_reference", _("补偿申请编号"), note=_("代偿支出和追偿返还必填"), width=20),
        Col("description", _("摘要"), max_length=300, note=_("不参与核对"), width=34),
    ),
    ("value_date", "entry_type", "government_level", "amount", "reference", "claim_reference"),
)  # fmt: skip

# In the order they are read and written: every sheet refers only to sheets before it.
SHEETS: tuple[Sheet, ...] = (
    FUND,
    ENTERPRISES,
    IP_RIGHTS,
    INSTITUTIONS,
    AGREEMENTS,
    PRODUCTS,
    LOANS,
    PLEDGES,
    CLAIMS,
    RECOVERIES,
    LEDGER,
)
SHEETS_BY_KEY = {s.key: s for s in SHEETS}
HELP_SHEET_NAME = _("说明")
HELP_HEADERS = (_("工作表"), _("列名"), _("必填"), _("格式"), _("可选值"), _("说明"))


def help_rows() -> list[tuple[str, str, str, str, str, str]]:
    """The 说明 sheet: one row per sheet (what it holds) and one per column, in the active
    language."""
    rows: list[tuple[str, str, str, str, str, str]] = [
        (
            str(_("全部")),
            "",
            "",
            "",
            "",
            str(
                _(
                    "每张工作表第一行为表头（列的顺序可调整），每表最多 %(rows)s 行数据；"
                    "数值和日期须为数值、日期单元格，不能是文本、公式或合并单元格。导入先逐行校验，"
                    "全部通过才在一个事务中全部写入；同一工作簿重复导入不会重复写入。"
                )
            )
            % {"rows": f"{MAX_ROWS_PER_SHEET:,}"},
        )
    ]
    for sheet in SHEETS:
        rows.append((str(sheet.name), "", "", "", "", str(sheet.note)))
        for col in sheet.columns:
            required = str(_("只读")) if col.readonly else (str(YES) if col.required else "")
            if col.choices:
                allowed = "、".join(col.choice_labels())
            else:
                allowed = f"{YES}、{NO}" if col.kind == BOOL else ""
            rows.append(
                (
                    str(sheet.name),
                    str(col.header),
                    required,
                    str(KIND_LABELS[col.kind]),
                    allowed,
                    str(col.note),
                )
            )
    return rows
