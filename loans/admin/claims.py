"""Compensation claims and recoveries in the admin.

The banks file them through the API; staff only press the transition buttons (each runs
`loans.services.claims`), and the change page shows the computation, the committee's
decision, the payment and the recoveries.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.db.models import Q
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_fsm.admin import FSMAdminMixin

from fundmgr.ground.accounts.admin import StateAgeMixin, WorkflowTransitionsMixin, work_queue_filter
from fundmgr.ground.accounts.workflow import history_html
from fundmgr.ground.funds.selectors import fund_balance
from fundmgr.ground.lib import clock
from fundmgr.ground.lib.adminkit import (
    ChangePageMixin,
    CountedQueueFilter,
    ExactFirstSearchMixin,
    Figure,
    ServiceErrorsMixin,
    ShortNameFilter,
    WorkListMixin,
    date_display,
    short_name_display,
)
from fundmgr.ground.lib.errors import CommonError, Conflict
from fundmgr.ground.lib.money import format_yuan

from ..models import (
    Claim,
    ClaimStatus,
    LegalActionKind,
    Recovery,
)
from ..rules.claims import CAP_LABELS, COMMENT_REQUIRED_STEPS, RECOMPUTED_AT_STEPS
from ..selectors.claims import recoveries_overdue_q, recoveries_return_due_q
from ..selectors.queues import CLAIM_QUEUES, RECOVERY_QUEUES
from ..services import claims
from .display import date_text, fund_short, html_table, institution_short, money_display
from .filings import LoanFilingAdmin

LEGAL_ACTION_KINDS = dict(LegalActionKind.choices)
# The change page of a claim or recovery saves nothing: only the transition buttons act.
NO_SAVE_BUTTONS = {"show_save": False, "show_save_and_continue": False}


class ClaimQueueFilter(CountedQueueFilter):
    def queues(self) -> dict:
        return {
            "submitted": (_("待初审"), Q(status=ClaimStatus.SUBMITTED)),
            "initial_review": (_("初审中/待复核"), Q(status=ClaimStatus.INITIAL_REVIEW)),
            "committee": (
                _("待决委会"),
                Q(status__in=(ClaimStatus.RECOMMENDED, ClaimStatus.COMMITTEE_REVIEW)),
            ),
            "approved": (_("待付款"), Q(status=ClaimStatus.APPROVED)),
            "in_recovery": (_("追偿中"), Q(status=ClaimStatus.IN_RECOVERY)),
        }


class RecoveryQueueFilter(CountedQueueFilter):
    def queues(self) -> dict:
        today = clock.today()
        return {
            "return_due": (_("待返还"), recoveries_return_due_q(today)),
            "overdue": (_("逾期未返还"), recoveries_overdue_q(today)),
        }


class WorkflowRecordAdmin(
    WorkListMixin,
    ChangePageMixin,
    StateAgeMixin,
    WorkflowTransitionsMixin,
    ServiceErrorsMixin,
    FSMAdminMixin,
    admin.ModelAdmin,
):
    """Records filed through the API and moved only by the transition buttons: every field is
    read-only, the change page has no save buttons, nothing is added or deleted here."""

    fsm_fields = ["status"]
    fieldsets: list = []

    def get_readonly_fields(self, request, obj=None):
        return flatten_fieldsets(self.fieldsets)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        pass  # nothing is edited on the page; the buttons run the services

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return super().change_view(request, object_id, form_url, {**NO_SAVE_BUTTONS, **(extra_context or {})})

    def refuse_hidden_transition(self, obj, name: str) -> None:
        """Steps taken by the bank or by the system have no button; refuse them here too."""
        if not self.is_fsm_transition_visible(
            self._get_fsm_transition_by_name(obj=obj, transition_name=name)
        ):
            raise Conflict(CommonError.TRANSITION_NOT_ALLOWED, gettext("此操作不能在管理后台执行"))

    @admin.display(description=_("状态变更记录"))
    def transition_history(self, obj) -> str:
        return history_html(obj)


def _money_text(value) -> str:
    return "—" if value in (None, "") else format_yuan(value)


def computation_table(c: dict) -> str:
    """A claim's computation (`rules.claims.Computation.as_dict()`, as stored on the claim) as
    staff read it: every step, each cap with its remaining room and whether it bit."""
    if not c:
        return "—"
    ratio = (Decimal(c["covered_ratio"]) * 100).quantize(Decimal("0.01"))

    def cap_rows(stage: str) -> list:
        rows = []
        for cap in c.get("caps", []):
            if cap.get("stage", "payment") != stage:
                continue
            label = CAP_LABELS.get(cap.get("cap"), cap["label"])  # in the reader's language
            if cap.get("limit") is None:
                rows.append((_("上限：%(label)s") % {"label": label}, _("未设置"), _("不适用")))
            else:
                effect = _("起作用：金额降至此额度") if cap.get("applied") else _("未起作用")
                rows.append(
                    (
                        _("上限：%(label)s（剩余额度）") % {"label": label},
                        _money_text(cap["limit"]),
                        effect,
                    )
                )
        return rows

    rows = [
        (_("触发时贷款本金余额(元)"), _money_text(c["outstanding_principal"]), _("银行申报")),
        (_("申请前已回收(元)"), _money_text(c["recovered_before_claim"]), _("银行申报")),
        (_("担保覆盖比例"), f"{ratio}%", _("知识产权担保本金 ÷ 贷款本金")),
    ]
    if "covered_loss" in c:  # computations stored before the principal caps existed have none
        rows.append(
            (
                _("担保部分损失(元)"),
                _money_text(c["covered_loss"]),
                _("（本金余额 − 申请前已回收）× 担保覆盖比例"),
            )
        )
    rows += cap_rows("loss_base")
    rows += [
        (_("损失基数(元)"), _money_text(c["loss_base"]), _("担保部分损失，经计入本金上限后")),
        (_("资金分担比例"), f"{c['fund_share']}%", _("受理入池时确定")),
        (_("按比例计算金额(元)"), _money_text(c["computed_amount"]), _("损失基数 × 资金分担比例")),
    ]
    rows += cap_rows("payment")
    rows.append(
        (
            format_html("<strong>{}</strong>", _("可补偿金额(元)")),
            format_html("<strong>{}</strong>", _money_text(c["claimable_amount"])),
            _("按比例计算金额依次经各项上限后的结果"),
        )
    )
    return html_table(
        [_("步骤"), _("金额/比例"), _("说明")],
        "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
        rows,
    )


@admin.register(Claim)
class ClaimAdmin(ExactFirstSearchMixin, WorkflowRecordAdmin):
    list_display = [
        "reference",
        "enterprise",
        "institution_name",
        "fund_name",
        "claimable_yuan",
        "approved_yuan",
        "status",
        "submitted",
        "days_in_state",
    ]
    list_wrap = ("enterprise", "institution_name")
    list_filter = [
        ClaimQueueFilter,
        work_queue_filter(CLAIM_QUEUES),  # the start page's cards link here
        ("fund", ShortNameFilter),
        ("institution", ShortNameFilter),
        "status",
    ]
    comment_required_steps = COMMENT_REQUIRED_STEPS
    search_fields = ["reference", "filing__reference", "filing__enterprise__name", "filing__enterprise__uscc"]
    exact_search_fields = (
        "reference",
        "filing__reference",
        "filing__contract_no",
        "filing__enterprise__uscc",
    )
    list_select_related = ["filing__enterprise", "fund", "institution"]

    fund_name = fund_short()
    institution_name = institution_short()
    submitted = date_display("submitted_on", _("提交日期"))
    outstanding_yuan = money_display("outstanding_principal", _("触发时贷款本金余额(元)"))
    recovered_before_yuan = money_display("recovered_before_claim", _("申请前已回收(元)"))
    claimable_yuan = money_display("claimable_amount", _("可补偿金额(元)"))
    approved_yuan = money_display("approved_amount", _("批准金额(元)"))
    paid_yuan = money_display("paid_amount", _("已付金额(元)"))
    # A claim's documents are filed with its loan; the same panel shows those of the claim.
    documents_panel = LoanFilingAdmin.documents_panel
    _document_link = staticmethod(LoanFilingAdmin._document_link)

    fieldsets = [
        (
            None,
            {
                "fields": [
                    ("reference", "filing"),
                    ("fund", "institution"),
                    ("status", "in_state_since", "days_in_state"),
                    ("submitted_on", "submitted_at"),
                ]
            },
        ),
        (
            _("申请内容"),
            {
                "fields": [
                    ("trigger_date", "outstanding_yuan", "recovered_before_yuan"),
                    "legal_action_panel",
                    "notes",
                ]
            },
        ),
        (_("补偿金额计算"), {"fields": ["computation_panel"]}),
        (_("申请材料"), {"fields": ["documents_panel"]}),
        (_("决策委员会决定"), {"fields": [("meeting_ref", "approved_yuan", "approved_on")]}),
        (_("付款"), {"fields": [("paid_yuan", "paid_on"), "ledger_panel"]}),
        (_("追偿回收"), {"fields": ["recoveries_panel"]}),
        (_("状态记录"), {"fields": ["transition_history"], "classes": ["collapse"]}),
    ]

    def get_fieldsets(self, request, obj=None):
        """The steps the claim has reached: no empty committee, payment or recovery sections."""
        hidden = set()
        if obj is None or not (obj.meeting_ref or obj.approved_on):
            hidden.add("meeting_ref")
        if obj is None or obj.paid_on is None:
            hidden |= {"paid_yuan", "recoveries_panel"}
        return [
            (title, options)
            for title, options in self.fieldsets
            if not hidden.intersection(flatten_fieldsets([(title, options)]))
        ]

    enterprise = short_name_display(
        "filing__enterprise", _("借款企业"), short=lambda e: e.name, ordering="filing__enterprise__name"
    )

    def run_transition(self, request, obj, name: str, comment: str, data: dict):
        self.refuse_hidden_transition(obj, name)
        claims.claim_transition(
            claim_id=obj.pk,
            name=name,
            user=request.user,
            comment=comment,
            meeting_ref=data.get("meeting_ref") or "",
            approved_amount=data.get("approved_amount"),
        )

    def transition_figures(self, request, obj, name: str) -> list[Figure]:
        """The loan and the bank, the claimable amount with its computation (computed again,
        as the service will, at the steps that recompute it), the decision and the payment."""
        today = clock.today()
        figures = [
            Figure(_("借款企业"), obj.filing.enterprise.name, obj.filing.reference),
            Figure(_("合作机构"), obj.institution.name),
            Figure(_("资金"), obj.fund.name),
        ]
        if name in RECOMPUTED_AT_STEPS:
            computation = claims.claim_recomputed(obj, today=today).as_dict()
            note = _("按今天（%(date)s）的余额和各项上限重新计算，“%(step)s”时按此记录") % {
                "date": today.isoformat(),
                "step": self.get_fsm_label(self._get_fsm_transition_by_name(obj=obj, transition_name=name)),
            }
            if Decimal(computation["claimable_amount"]) != obj.claimable_amount:
                note += _("（上次计算为 %(amount)s 元）") % {"amount": format_yuan(obj.claimable_amount)}
        else:
            computation, note = obj.computation or {}, ""
        claimable = computation.get("claimable_amount", obj.claimable_amount)
        figures += [
            Figure(_("可补偿金额(元)"), format_html("<strong>{}</strong>", _money_text(claimable)), note),
            Figure(_("计算过程"), computation_table(computation), wide=True),
        ]
        if obj.approved_amount is not None:
            figures.append(
                Figure(
                    _("批准金额(元)"),
                    format_html("<strong>{}</strong>", format_yuan(obj.approved_amount)),
                    _("会议纪要 %(ref)s，%(date)s 批准")
                    % {"ref": obj.meeting_ref or "—", "date": date_text(obj.approved_on)},
                )
            )
        if name == "pay":
            figures.append(
                Figure(
                    _("资金台账余额(元)"),
                    format_yuan(fund_balance(fund=obj.fund)),
                    _("付款记入资金台账（代偿支出 %(amount)s 元）")
                    % {"amount": _money_text(obj.approved_amount)},
                )
            )
        if obj.paid_amount is not None:
            figures.append(Figure(_("已付金额(元)"), format_yuan(obj.paid_amount), date_text(obj.paid_on)))
        return figures

    # --- panels ---------------------------------------------------------------------------

    @admin.display(description=_("法律行动"))
    def legal_action_panel(self, obj) -> str:
        action = obj.legal_action or {}
        if not action:
            return "—"
        return format_html(
            gettext("{kind}，案号 {case_no}，立案日期 {filed_on}"),
            kind=LEGAL_ACTION_KINDS.get(action.get("kind"), action.get("kind") or "—"),
            case_no=action.get("case_no") or "—",
            filed_on=action.get("filed_on") or "—",
        )

    @admin.display(description=_("计算过程"))
    def computation_panel(self, obj) -> str:
        return computation_table(obj.computation or {})

    @admin.display(description=_("资金台账分录"))
    def ledger_panel(self, obj) -> str:
        entries = obj.ledger_entries.order_by("value_date", "id") if obj.pk else []
        return html_table(
            [_("分录号"), _("记账日期"), _("类型"), _("金额(元)"), _("摘要")],
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    format_html(
                        '<a href="{}">#{}</a>', reverse("admin:funds_ledgerentry_change", args=[e.pk]), e.pk
                    ),
                    date_text(e.value_date),
                    e.get_entry_type_display(),
                    format_yuan(e.amount),
                    e.description,
                )
                for e in entries
            ),
        )

    @admin.display(description=_("追偿回收"))
    def recoveries_panel(self, obj) -> str:
        recoveries = obj.recoveries.order_by("received_on", "id") if obj.pk else []
        return html_table(
            [
                _("回收日期"),
                _("回收总额(元)"),
                _("追偿费用(元)"),
                _("来源"),
                _("应返还资金(元)"),
                _("返还截止日"),
                _("状态"),
                _("返还日期"),
            ],
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    format_html(
                        '<a href="{}">{}</a>',
                        reverse("admin:loans_recovery_change", args=[r.pk]),
                        date_text(r.received_on),
                    ),
                    format_yuan(r.gross_amount),
                    format_yuan(r.costs),
                    r.get_source_display(),
                    format_yuan(r.fund_amount),
                    date_text(r.due_on),
                    r.get_status_display(),
                    date_text(r.returned_on),
                )
                for r in recoveries
            ),
        )


@admin.register(Recovery)
class RecoveryAdmin(WorkflowRecordAdmin):
    list_display = [
        "claim",
        "enterprise",
        "received",
        "gross_yuan",
        "fund_yuan",
        "status",
        "due",
        "returned",
        "days_in_state",
    ]
    list_wrap = ("enterprise",)
    list_filter = [
        RecoveryQueueFilter,
        work_queue_filter(RECOVERY_QUEUES),  # the start page's cards link here
        "status",
        ("claim__fund", ShortNameFilter),
        "source",
    ]
    search_fields = ["claim__reference", "claim__filing__reference", "claim__filing__enterprise__name"]
    list_select_related = ["claim__filing__enterprise"]

    enterprise = short_name_display(
        "claim__filing__enterprise",
        _("借款企业"),
        short=lambda e: e.name,
        ordering="claim__filing__enterprise__name",
    )
    received = date_display("received_on", _("回收日期"))
    due = date_display("due_on", _("返还截止日"))
    returned = date_display("returned_on", _("返还日期"))

    gross_yuan = money_display("gross_amount", _("回收总额(元)"))
    costs_yuan = money_display("costs", _("追偿费用(元)"))
    fund_yuan = money_display("fund_amount", _("应返还资金(元)"))

    fieldsets = [
        (
            None,
            {
                "fields": [
                    ("claim", "status"),
                    ("in_state_since", "days_in_state"),
                    ("reported_on", "reported_at"),
                ]
            },
        ),
        (
            _("回收与返还"),
            {
                "fields": [
                    ("received_on", "source"),
                    ("gross_yuan", "costs_yuan", "fund_yuan"),
                    ("due_on", "returned_on"),
                ]
            },
        ),
        (_("状态记录"), {"fields": ["transition_history"], "classes": ["collapse"]}),
    ]

    def run_transition(self, request, obj, name: str, comment: str, data: dict):
        if name != "confirm_returned":  # the only step staff take on a recovery
            raise Conflict(CommonError.TRANSITION_NOT_ALLOWED, gettext("此操作不能在管理后台执行"))
        claims.recovery_confirm_returned(recovery_id=obj.pk, user=request.user, comment=comment)

    def transition_figures(self, request, obj, name: str) -> list[Figure]:
        """What the bank recovered, its costs, and the fund's part it owes, by when."""
        claim = obj.claim
        late = obj.due_on is not None and obj.due_on < clock.today()
        return [
            Figure(
                _("补偿申请"),
                claim.reference,
                _("已付 %(amount)s 元") % {"amount": _money_text(claim.paid_amount)},
            ),
            Figure(_("借款企业"), claim.filing.enterprise.name),
            Figure(_("合作机构"), claim.institution.name),
            Figure(_("回收日期"), date_text(obj.received_on), obj.get_source_display()),
            Figure(_("回收总额(元)"), format_yuan(obj.gross_amount)),
            Figure(_("追偿费用(元)"), format_yuan(obj.costs)),
            Figure(_("应返还资金(元)"), format_html("<strong>{}</strong>", format_yuan(obj.fund_amount))),
            Figure(_("返还截止日"), date_text(obj.due_on), _("已逾期") if late else "", warning=late),
        ]
