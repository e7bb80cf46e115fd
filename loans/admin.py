"""Loan filings in the admin: work queues, review panels, transition buttons, the checklist.

Filings are written by the banks through the API, so every data field here is read-only.
Staff act in two ways only, both through `loans.services`: the transition buttons (start
due diligence, return, accept, reject, void) and the due-diligence checklist while the filing
is under due diligence. Servicing records (monthly reports, warnings) and documents are
read-only lists.

Compensation claims and recoveries follow the same pattern: the banks file them through the
API, staff only press the transition buttons (each runs `loans.claims`), and the change page
shows the computation, the committee's decision, the payment and the recoveries.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import admin
from django.db.models import Q
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django_fsm.admin import FSMAdminMixin

from fundmgr.ground.accounts.admin import StateAgeMixin
from fundmgr.ground.accounts.workflow import history_html
from fundmgr.ground.lib import clock, workdays
from fundmgr.ground.lib.adminkit import CountedQueueFilter, ServiceErrorsMixin, TransitionButtonsMixin
from fundmgr.ground.lib.errors import Conflict
from fundmgr.ground.lib.money import format_yuan

from . import claims, services
from .models import (
    Claim,
    ClaimStatus,
    DueDiligence,
    EarlyWarning,
    FilingDocument,
    FilingStatus,
    LoanFiling,
    LoanStatus,
    Recovery,
    RecoveryStatus,
    StatusReport,
)

CHECKLIST_ITEMS = (*DueDiligence.REQUIRED_ITEMS, "site_visit", "notes")
STATE_LABELS = {**dict(FilingStatus.choices), **dict(LoanStatus.choices)}
# History entries that are not transition methods (a filing is born `submitted`).
EXTRA_STEP_LABELS = {"submit": _("提交备案")}


def _yuan(value) -> str:
    return "—" if value is None else format_yuan(value)


def _date(value) -> str:
    return value.isoformat() if value else "—"


def _table(headers: list[str], row_format: str, rows) -> str:
    """A small read-only table for a change-page panel; '—' when there is nothing to show."""
    rows = list(rows)
    if not rows:
        return "—"
    return format_html(
        "<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>",
        format_html_join("", "<th>{}</th>", ((h,) for h in headers)),
        format_html_join("", row_format, rows),
    )


def _money_display(field: str, label):
    @admin.display(description=label, ordering=field)
    def show(self, obj) -> str:
        return _yuan(getattr(obj, field))

    return show


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by services (the bank's API, scheduled jobs): staff read them only."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# --- loan filings --------------------------------------------------------------------------


class FilingQueueFilter(CountedQueueFilter):
    """Work queues with their counts: filings waiting for staff, loans in trouble."""

    def queues(self):
        # The same horizon as the deadline notices (settings, in PRC working days).
        soon = workdays.add_working_days(clock.today(), settings.DEADLINE_WARNING_WORKING_DAYS)
        return {
            "submitted": (_("待尽调"), Q(status=FilingStatus.SUBMITTED)),
            "under_review": (_("尽调中/待受理"), Q(status=FilingStatus.UNDER_REVIEW)),
            "returned": (_("退回补正"), Q(status=FilingStatus.RETURNED)),
            "due_soon": (
                _("尽调即将超期"),
                Q(status=FilingStatus.UNDER_REVIEW, due_diligence_due_on__lte=soon),
            ),
            "overdue": (_("逾期"), Q(loan_status=LoanStatus.OVERDUE)),
            "non_performing": (_("不良"), Q(loan_status=LoanStatus.NON_PERFORMING)),
        }


class DistrictFilter(admin.AllValuesFieldListFilter):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = _("借款企业所在区县")


class ChecklistSelect(forms.NullBooleanSelect):
    """Yes / no / not yet checked, worded for a checklist."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = [("unknown", _("待核实")), ("true", _("是")), ("false", _("否"))]


class DueDiligenceForm(forms.ModelForm):
    class Meta:
        model = DueDiligence
        fields = list(CHECKLIST_ITEMS)
        widgets = {
            **{item: ChecklistSelect() for item in (*DueDiligence.REQUIRED_ITEMS, "site_visit")},
            "notes": forms.Textarea(attrs={"rows": 3, "cols": 60}),
        }


class DueDiligenceInline(admin.StackedInline):
    """The checklist: editable by officers and approvers while the filing is under due
    diligence, read-only otherwise. Saved by `LoanFilingAdmin.save_formset` via the service."""

    model = DueDiligence
    form = DueDiligenceForm
    fields = [*CHECKLIST_ITEMS, "officer", "updated_at"]
    readonly_fields = ["officer", "updated_at"]
    max_num = 1
    can_delete = False
    verbose_name = _("尽调清单")
    verbose_name_plural = _("尽调清单（尽调中的备案可填写；受理前须全部确认）")

    @staticmethod
    def editable(request, filing) -> bool:
        return (
            filing is not None
            and filing.status == FilingStatus.UNDER_REVIEW
            and request.user.has_perm("loans.change_loanfiling")
        )

    def get_extra(self, request, obj=None, **kwargs) -> int:
        # A one-to-one inline always allows one row, so the blank row is offered only to
        # someone who may fill it in (before due diligence starts the row does not exist).
        return 1 if self.has_add_permission(request, obj) else 0

    def has_add_permission(self, request, obj=None) -> bool:
        return self.editable(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return self.editable(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(LoanFiling)
class LoanFilingAdmin(TransitionButtonsMixin, ServiceErrorsMixin, FSMAdminMixin, admin.ModelAdmin):
    fsm_fields = ["status"]  # loan_status moves through servicing and claims, not buttons
    list_display = [
        "reference",
        "fund",
        "institution",
        "enterprise",
        "principal_yuan",
        "status",
        "loan_status",
        "submitted_on",
        "due_diligence_due_on",
    ]
    list_filter = [
        FilingQueueFilter,
        "fund",
        "institution",
        "status",
        "loan_status",
        ("enterprise__region_code", DistrictFilter),
        ("submitted_on", admin.DateFieldListFilter),
    ]
    search_fields = ["reference", "contract_no", "enterprise__name", "enterprise__uscc"]
    list_select_related = ["fund", "institution", "enterprise"]
    inlines = [DueDiligenceInline]

    principal_yuan = _money_display("principal", _("贷款本金(元)"))
    covered_principal_yuan = _money_display("covered_principal", _("知识产权担保本金(元)"))
    outstanding_yuan = _money_display("outstanding_principal", _("贷款余额(元)"))
    covered_outstanding_yuan = _money_display("covered_outstanding", _("担保覆盖余额(元)"))

    fieldsets = [
        (
            None,
            {
                "fields": [
                    "reference",
                    "fund",
                    "institution",
                    "product",
                    "enterprise",
                    "status",
                    "loan_status",
                ]
            },
        ),
        (
            _("贷款条件"),
            {
                "fields": [
                    "contract_no",
                    "principal_yuan",
                    "pledge_type",
                    "covered_principal_yuan",
                    "annual_rate",
                    "disbursed_on",
                    "matures_on",
                    "purpose",
                ]
            },
        ),
        (_("自动校验"), {"fields": ["checks_panel"]}),
        (_("质押物"), {"fields": ["pledges_panel"]}),
        (_("备案材料"), {"fields": ["documents_panel"]}),
        (_("尽调期限"), {"fields": ["submitted_at", "submitted_on", "due_diligence_due_on"]}),
        (
            _("受理与风险分担（受理时确定）"),
            {
                "fields": [
                    "accepted_on",
                    "policy_version",
                    "fund_share",
                    "bank_share",
                    "insurer_share",
                    "valuer_share",
                ]
            },
        ),
        (
            _("贷后"),
            {
                "fields": [
                    "outstanding_yuan",
                    "covered_outstanding_yuan",
                    "settled_on",
                    "servicing_panel",
                    "warnings_panel",
                ]
            },
        ),
        (_("状态记录"), {"fields": ["transition_history"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        # Everything on the page is read-only: the fieldsets list only fields and panels.
        return [name for _title, options in self.fieldsets for name in options["fields"]]

    def has_add_permission(self, request) -> bool:
        return False  # filings arrive from the banks through the API

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        pass  # no field of the filing is edited here; see save_formset for the checklist

    def save_formset(self, request, form, formset, change):
        if formset.model is not DueDiligence:  # pragma: no cover - the only inline
            super().save_formset(request, form, formset, change)
            return
        filing = form.instance
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        if not DueDiligenceInline.editable(request, filing):
            return  # shown read-only: nothing was submitted for saving
        for row in formset.forms:
            items = {name: row.cleaned_data[name] for name in row.changed_data if name in CHECKLIST_ITEMS}
            if not items:
                continue
            record = services.due_diligence_record(filing_id=filing.pk, user=request.user, items=items)
            formset.changed_objects.append((record, list(items)))

    def run_transition(self, request, obj, name: str, comment: str, data: dict):
        services.filing_transition(filing_id=obj.pk, name=name, user=request.user, comment=comment)

    # --- panels ---------------------------------------------------------------------------

    @admin.display(description=_("自动校验结果"))
    def checks_panel(self, obj) -> str:
        return _table(
            [_("项目"), _("结果"), _("说明")],
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            (
                (
                    check.get("code", ""),
                    "✔ 通过" if check.get("passed") else "✘ 未通过",
                    check.get("message", ""),
                )
                for check in (obj.checks or [])
            ),
        )

    @admin.display(description=_("质押物"))
    def pledges_panel(self, obj) -> str:
        pledges = obj.pledges.select_related("ip_asset").order_by("id") if obj.pk else []
        return _table(
            [
                _("权利号"),
                _("类型"),
                _("质押登记号"),
                _("登记日"),
                _("评估价值(元)"),
                _("权利到期日"),
                _("解除质押"),
            ],
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    p.ip_asset.number,
                    p.ip_asset.get_kind_display(),
                    p.registration_no,
                    _date(p.registered_on),
                    _yuan(p.appraised_value),
                    _date(p.ip_asset.expires_on),
                    f"已解除（{p.released_on.isoformat()}）" if p.released_on else "未解除",
                )
                for p in pledges
            ),
        )

    @admin.display(description=_("备案材料"))
    def documents_panel(self, obj) -> str:
        documents = obj.documents.order_by("uploaded_at", "id") if obj.pk else []
        return _table(
            [_("类型"), _("原文件名"), _("大小"), _("SHA-256"), _("上传时间")],
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
            (
                (
                    d.get_kind_display(),
                    self._document_link(d),
                    filesizeformat(d.size),
                    d.sha256[:12],
                    timezone.localtime(d.uploaded_at).strftime("%Y-%m-%d %H:%M"),
                )
                for d in documents
            ),
        )

    @staticmethod
    def _document_link(document: FilingDocument) -> str:
        try:
            url = document.file.url
        except (ValueError, NotImplementedError):
            return document.original_name
        return format_html('<a href="{}">{}</a>', url, document.original_name)

    @admin.display(description=_("月度报告（按月份）"))
    def servicing_panel(self, obj) -> str:
        reports = obj.status_reports.order_by("as_of", "id") if obj.pk else []
        return _table(
            [
                _("月份"),
                _("贷款余额(元)"),
                _("逾期本金(元)"),
                _("逾期天数"),
                _("五级分类"),
                _("报告后状态"),
                _("备注"),
            ],
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    r.as_of.strftime("%Y-%m"),
                    format_yuan(r.outstanding_principal),
                    format_yuan(r.overdue_principal),
                    r.days_overdue,
                    r.get_risk_class_display(),
                    r.get_loan_status_after_display(),
                    "" if r.is_current else "已被更正（不再有效）",
                )
                for r in reports
            ),
        )

    @admin.display(description=_("预警"))
    def warnings_panel(self, obj) -> str:
        warnings = obj.warnings.order_by("-raised_on", "id") if obj.pk else []
        return _table(
            [_("预警日期"), _("类型"), _("对象"), _("内容"), _("解除日期")],
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    _date(w.raised_on),
                    w.get_kind_display(),
                    w.subject,
                    w.message,
                    _date(w.resolved_on) if w.resolved_on else "未解除",
                )
                for w in warnings
            ),
        )

    @admin.display(description=_("状态变更记录"))
    def transition_history(self, obj) -> str:
        return history_html(obj, step_labels=EXTRA_STEP_LABELS)


# --- servicing and documents (read-only) ---------------------------------------------------


@admin.register(StatusReport)
class StatusReportAdmin(ReadOnlyAdmin):
    list_display = [
        "filing",
        "as_of",
        "outstanding_yuan",
        "overdue_yuan",
        "days_overdue",
        "risk_class",
        "loan_status_after",
        "is_current",
        "reported_on",
    ]
    list_filter = ["filing__fund", "risk_class", "loan_status_after", "is_current", "filing__institution"]
    search_fields = ["filing__reference", "filing__contract_no", "filing__enterprise__name"]
    list_select_related = ["filing"]
    date_hierarchy = "as_of"

    outstanding_yuan = _money_display("outstanding_principal", _("贷款余额(元)"))
    overdue_yuan = _money_display("overdue_principal", _("逾期本金(元)"))


class ResolvedFilter(admin.SimpleListFilter):
    title = _("是否解除")
    parameter_name = "resolved"

    def lookups(self, request, model_admin):
        return [("no", _("未解除")), ("yes", _("已解除"))]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(resolved_on__isnull=True)
        if self.value() == "yes":
            return queryset.filter(resolved_on__isnull=False)
        return queryset


@admin.register(EarlyWarning)
class EarlyWarningAdmin(ReadOnlyAdmin):
    list_display = ["raised_on", "kind", "filing", "subject", "message", "resolved_on"]
    list_filter = [ResolvedFilter, "kind", "filing__fund", "filing__institution"]
    search_fields = ["filing__reference", "subject", "message", "filing__enterprise__name"]
    list_select_related = ["filing"]
    date_hierarchy = "raised_on"


@admin.register(FilingDocument)
class FilingDocumentAdmin(ReadOnlyAdmin):
    list_display = ["filing", "kind", "original_name", "size_display", "sha256_prefix", "uploaded_at"]
    list_filter = ["kind", "filing__fund"]
    search_fields = ["filing__reference", "original_name", "sha256"]
    list_select_related = ["filing"]

    @admin.display(description=_("大小"), ordering="size")
    def size_display(self, obj) -> str:
        return filesizeformat(obj.size)

    @admin.display(description=_("SHA-256"))
    def sha256_prefix(self, obj) -> str:
        return obj.sha256[:12]


# --- compensation claims and recoveries -----------------------------------------------------

LEGAL_ACTION_KINDS = {
    "lawsuit": _("诉讼"),
    "arbitration": _("仲裁"),
    "enforcement": _("强制执行"),
    "other": _("其他"),
}
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
            "return_due": (_("待返还"), Q(status=RecoveryStatus.RETURN_DUE, due_on__gte=today)),
            # Past the due date, whether or not the nightly job has marked it yet.
            "overdue": (
                _("逾期未返还"),
                Q(status=RecoveryStatus.OVERDUE) | Q(status=RecoveryStatus.RETURN_DUE, due_on__lt=today),
            ),
        }


class WorkflowRecordAdmin(
    StateAgeMixin, TransitionButtonsMixin, ServiceErrorsMixin, FSMAdminMixin, admin.ModelAdmin
):
    """Records filed through the API and moved only by the transition buttons: every field is
    read-only, the change page has no save buttons, nothing is added or deleted here."""

    fsm_fields = ["status"]
    fieldsets: list = []

    def get_readonly_fields(self, request, obj=None):
        return [name for _title, options in self.fieldsets for name in options["fields"]]

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
            raise Conflict("transition_not_allowed", "此操作不能在管理后台执行")

    @admin.display(description=_("状态变更记录"))
    def transition_history(self, obj) -> str:
        return history_html(obj)


def _money_text(value) -> str:
    return "—" if value in (None, "") else format_yuan(value)


@admin.register(Claim)
class ClaimAdmin(WorkflowRecordAdmin):
    list_display = [
        "reference",
        "filing",
        "enterprise",
        "fund",
        "institution",
        "claimable_yuan",
        "approved_yuan",
        "status",
        "submitted_on",
        "days_in_state",
    ]
    list_filter = [ClaimQueueFilter, "fund", "institution", "status"]
    search_fields = ["reference", "filing__reference", "filing__enterprise__name", "filing__enterprise__uscc"]
    list_select_related = ["filing__enterprise", "fund", "institution"]

    outstanding_yuan = _money_display("outstanding_principal", _("触发时贷款本金余额(元)"))
    recovered_before_yuan = _money_display("recovered_before_claim", _("申请前已回收(元)"))
    claimable_yuan = _money_display("claimable_amount", _("可补偿金额(元)"))
    approved_yuan = _money_display("approved_amount", _("批准金额(元)"))
    paid_yuan = _money_display("paid_amount", _("已付金额(元)"))
    # A claim's documents are filed with its loan; the same panel shows those of the claim.
    documents_panel = LoanFilingAdmin.documents_panel
    _document_link = staticmethod(LoanFilingAdmin._document_link)

    fieldsets = [
        (
            None,
            {
                "fields": [
                    "reference",
                    "filing",
                    "fund",
                    "institution",
                    "status",
                    "in_state_since",
                    "days_in_state",
                    "submitted_on",
                    "submitted_at",
                ]
            },
        ),
        (
            _("申请内容"),
            {
                "fields": [
                    "trigger_date",
                    "outstanding_yuan",
                    "recovered_before_yuan",
                    "legal_action_panel",
                    "notes",
                ]
            },
        ),
        (_("补偿金额计算"), {"fields": ["computation_panel"]}),
        (_("申请材料"), {"fields": ["documents_panel"]}),
        (_("决策委员会决定"), {"fields": ["meeting_ref", "approved_yuan", "approved_on"]}),
        (_("付款"), {"fields": ["paid_yuan", "paid_on", "ledger_panel"]}),
        (_("追偿回收"), {"fields": ["recoveries_panel"]}),
        (_("状态记录"), {"fields": ["transition_history"]}),
    ]

    @admin.display(description=_("借款企业"), ordering="filing__enterprise__name")
    def enterprise(self, obj):
        return obj.filing.enterprise

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

    # --- panels ---------------------------------------------------------------------------

    @admin.display(description=_("法律行动"))
    def legal_action_panel(self, obj) -> str:
        action = obj.legal_action or {}
        if not action:
            return "—"
        return format_html(
            "{}，案号 {}，立案日期 {}",
            LEGAL_ACTION_KINDS.get(action.get("kind"), action.get("kind") or "—"),
            action.get("case_no") or "—",
            action.get("filed_on") or "—",
        )

    @admin.display(description=_("计算过程"))
    def computation_panel(self, obj) -> str:
        c = obj.computation or {}
        if not c:
            return "—"
        ratio = (Decimal(c["covered_ratio"]) * 100).quantize(Decimal("0.01"))

        def cap_rows(stage: str) -> list:
            rows = []
            for cap in c.get("caps", []):
                if cap.get("stage", "payment") != stage:
                    continue
                if cap.get("limit") is None:
                    rows.append((_("上限：%(label)s") % {"label": cap["label"]}, _("未设置"), _("不适用")))
                else:
                    effect = _("起作用：金额降至此额度") if cap.get("applied") else _("未起作用")
                    rows.append(
                        (
                            _("上限：%(label)s（剩余额度）") % {"label": cap["label"]},
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
        return _table(
            [_("步骤"), _("金额/比例"), _("说明")], "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", rows
        )

    @admin.display(description=_("资金台账分录"))
    def ledger_panel(self, obj) -> str:
        entries = obj.ledger_entries.order_by("value_date", "id") if obj.pk else []
        return _table(
            [_("分录号"), _("记账日期"), _("类型"), _("金额(元)"), _("摘要")],
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    format_html(
                        '<a href="{}">#{}</a>', reverse("admin:funds_ledgerentry_change", args=[e.pk]), e.pk
                    ),
                    _date(e.value_date),
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
        return _table(
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
                        _date(r.received_on),
                    ),
                    format_yuan(r.gross_amount),
                    format_yuan(r.costs),
                    r.get_source_display(),
                    format_yuan(r.fund_amount),
                    _date(r.due_on),
                    r.get_status_display(),
                    _date(r.returned_on),
                )
                for r in recoveries
            ),
        )


@admin.register(Recovery)
class RecoveryAdmin(WorkflowRecordAdmin):
    list_display = [
        "claim",
        "received_on",
        "gross_yuan",
        "costs_yuan",
        "source",
        "fund_yuan",
        "due_on",
        "status",
        "returned_on",
        "days_in_state",
    ]
    list_filter = [RecoveryQueueFilter, "status", "claim__fund", "source"]
    search_fields = ["claim__reference", "claim__filing__reference", "claim__filing__enterprise__name"]
    list_select_related = ["claim"]

    gross_yuan = _money_display("gross_amount", _("回收总额(元)"))
    costs_yuan = _money_display("costs", _("追偿费用(元)"))
    fund_yuan = _money_display("fund_amount", _("应返还资金(元)"))

    fieldsets = [
        (
            None,
            {"fields": ["claim", "status", "in_state_since", "days_in_state", "reported_on", "reported_at"]},
        ),
        (
            _("回收与返还"),
            {
                "fields": [
                    "received_on",
                    "source",
                    "gross_yuan",
                    "costs_yuan",
                    "fund_yuan",
                    "due_on",
                    "returned_on",
                ]
            },
        ),
        (_("状态记录"), {"fields": ["transition_history"]}),
    ]

    def run_transition(self, request, obj, name: str, comment: str, data: dict):
        if name != "confirm_returned":  # the only step staff take on a recovery
            raise Conflict("transition_not_allowed", "此操作不能在管理后台执行")
        claims.recovery_confirm_returned(recovery_id=obj.pk, user=request.user, comment=comment)
