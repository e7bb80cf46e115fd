"""Loan filings in the admin: work queues, review panels, transition buttons, the checklist.

Filings are written by the banks through the API, so every data field here is read-only.
Staff act in two ways only, both through `loans.services.filings`: the transition buttons
(start due diligence, return, accept, reject, void) and the due-diligence checklist while the
filing is under due diligence.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Q
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django_fsm.admin import FSMAdminMixin

from fundmgr.ground.accounts.workflow import history_html
from fundmgr.ground.lib import clock, workdays
from fundmgr.ground.lib.adminkit import (
    CountedQueueFilter,
    ExactFirstSearchMixin,
    ServiceErrorsMixin,
    TransitionButtonsMixin,
)
from fundmgr.ground.lib.money import format_yuan

from ..models import (
    DueDiligence,
    FilingDocument,
    FilingStatus,
    LoanFiling,
    LoanStatus,
)
from ..services import filings as services
from .display import date_text, html_table, money_display, yuan_text

CHECKLIST_ITEMS = (*DueDiligence.REQUIRED_ITEMS, "site_visit", "notes")
STATE_LABELS = {**dict(FilingStatus.choices), **dict(LoanStatus.choices)}
# History entries that are not transition methods (a filing is born `submitted`).
EXTRA_STEP_LABELS = {"submit": _("提交备案")}


# --- loan filings --------------------------------------------------------------------------


class FilingQueueFilter(CountedQueueFilter):
    """Work queues with their counts: filings waiting for staff, loans in trouble."""

    def queues(self):
        soon = workdays.due_soon_horizon(clock.today())  # the deadline notices' horizon
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
class LoanFilingAdmin(
    ExactFirstSearchMixin, TransitionButtonsMixin, ServiceErrorsMixin, FSMAdminMixin, admin.ModelAdmin
):
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
    exact_search_fields = ("reference", "contract_no", "enterprise__uscc")
    list_select_related = ["fund", "institution", "enterprise"]
    inlines = [DueDiligenceInline]

    principal_yuan = money_display("principal", _("贷款本金(元)"))
    covered_principal_yuan = money_display("covered_principal", _("知识产权担保本金(元)"))
    outstanding_yuan = money_display("outstanding_principal", _("贷款余额(元)"))
    covered_outstanding_yuan = money_display("covered_outstanding", _("担保覆盖余额(元)"))

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
        return html_table(
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
        return html_table(
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
                    date_text(p.registered_on),
                    yuan_text(p.appraised_value),
                    date_text(p.ip_asset.expires_on),
                    f"已解除（{p.released_on.isoformat()}）" if p.released_on else "未解除",
                )
                for p in pledges
            ),
        )

    @admin.display(description=_("备案材料"))
    def documents_panel(self, obj) -> str:
        documents = obj.documents.order_by("uploaded_at", "id") if obj.pk else []
        return html_table(
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
        return html_table(
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
        return html_table(
            [_("预警日期"), _("类型"), _("对象"), _("内容"), _("解除日期")],
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    date_text(w.raised_on),
                    w.get_kind_display(),
                    w.subject,
                    w.message,
                    date_text(w.resolved_on) if w.resolved_on else "未解除",
                )
                for w in warnings
            ),
        )

    @admin.display(description=_("状态变更记录"))
    def transition_history(self, obj) -> str:
        return history_html(obj, step_labels=EXTRA_STEP_LABELS)
