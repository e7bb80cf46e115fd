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
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django_fsm.admin import FSMAdminMixin

from fundmgr.ground.accounts.admin import WorkflowTransitionsMixin, work_queue_filter
from fundmgr.ground.accounts.workflow import history_html
from fundmgr.ground.lib import clock, workdays
from fundmgr.ground.lib.adminkit import (
    BusinessDateFilter,
    ChangePageMixin,
    CountedQueueFilter,
    ExactFirstSearchMixin,
    Figure,
    ServiceErrorsMixin,
    ShortNameFilter,
    WorkListMixin,
    date_display,
    region_filter,
    short_name_display,
)
from fundmgr.ground.lib.money import format_yuan

from ..models import (
    DueDiligence,
    FilingDocument,
    FilingStatus,
    LoanFiling,
    LoanStatus,
)
from ..rules.filings import COMMENT_REQUIRED_STEPS, check_label
from ..selectors.filings import due_diligence_progress, filing_fund_share
from ..selectors.queues import FILING_QUEUES
from ..services import filings as services
from .display import date_text, fund_short, html_table, institution_short, money_display, yuan_text

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


EnterpriseDistrictFilter = region_filter("enterprise__region_code", _("借款企业所在区县"))
CHECKLIST_CHOICES = {True: _("✔ 是"), False: _("✘ 否"), None: _("？ 待核实")}


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


# The change page, top to bottom: who and what, the loan's terms, what the automatic checks
# found, the pledges and documents, then (once accepted) the shares and servicing. Fields sit
# side by side where they are read together; long or settled sections start folded.
KEY_FACTS = [
    ("reference", "contract_no"),
    ("enterprise", "institution"),
    ("fund", "product"),
    ("status", "loan_status"),
    ("submitted_on", "due_diligence_due_on"),
]
LOAN_TERMS = [
    ("principal_yuan", "covered_principal_yuan"),
    ("pledge_type", "annual_rate"),
    ("disbursed_on", "matures_on"),
    "purpose",
]
ACCEPTANCE = [
    ("accepted_on", "policy_version"),
    ("fund_share", "bank_share", "insurer_share", "valuer_share"),
]
SERVICING = [
    ("outstanding_yuan", "covered_outstanding_yuan", "settled_on"),
    "servicing_panel",
    "warnings_panel",
]


@admin.register(LoanFiling)
class LoanFilingAdmin(
    WorkListMixin,
    ChangePageMixin,
    ExactFirstSearchMixin,
    WorkflowTransitionsMixin,
    ServiceErrorsMixin,
    FSMAdminMixin,
    admin.ModelAdmin,
):
    fsm_fields = ["status"]  # loan_status moves through servicing and claims, not buttons
    comment_required_steps = COMMENT_REQUIRED_STEPS
    # Key columns first (reference, borrower, amount, status, deadline), short names, so that
    # the list fits 1280 px beside the navigation (tests/browser/test_layout.py measures it).
    list_display = [
        "reference",
        "enterprise_name",
        "institution_name",
        "fund_name",
        "principal_yuan",
        "status",
        "loan_status",
        "due_on",
    ]
    # The submission date is in the exports, not on screen: at 1280 px it was clipped, and the
    # queues already order by the due-diligence deadline.
    export_fields = [*list_display, "submitted"]
    list_wrap = ("enterprise_name",)
    list_filter = [
        FilingQueueFilter,
        work_queue_filter(FILING_QUEUES),  # the start page's cards link here
        ("fund", ShortNameFilter),
        ("institution", ShortNameFilter),
        "status",
        "loan_status",
        EnterpriseDistrictFilter,
        ("submitted_on", BusinessDateFilter),
    ]
    search_fields = ["reference", "contract_no", "enterprise__name", "enterprise__uscc"]
    exact_search_fields = ("reference", "contract_no", "enterprise__uscc")
    list_select_related = ["fund", "institution", "enterprise"]
    inlines = [DueDiligenceInline]

    fund_name = fund_short()
    institution_name = institution_short()
    enterprise_name = short_name_display(
        "enterprise", _("借款企业"), short=lambda e: e.name, ordering="enterprise__name"
    )
    principal_yuan = money_display("principal", _("贷款本金(元)"))
    due_on = date_display("due_diligence_due_on", _("尽调截止日"))
    submitted = date_display("submitted_on", _("提交日期"))
    covered_principal_yuan = money_display("covered_principal", _("知识产权担保本金(元)"))
    outstanding_yuan = money_display("outstanding_principal", _("贷款余额(元)"))
    covered_outstanding_yuan = money_display("covered_outstanding", _("担保覆盖余额(元)"))

    # Every field and panel the page can show (each is read-only).
    fieldsets = [
        (None, {"fields": [*KEY_FACTS, "financing_need_link"]}),
        (_("贷款条件"), {"fields": LOAN_TERMS}),
        (_("自动校验"), {"fields": ["checks_panel"]}),
        (_("质押物与备案材料"), {"fields": ["pledges_panel", "documents_panel"]}),
        (_("尽调清单"), {"fields": ["due_diligence_panel"]}),
        (_("受理与风险分担（受理时确定）"), {"fields": ACCEPTANCE}),
        (_("贷后"), {"fields": SERVICING}),
        (_("状态记录"), {"fields": ["submitted_at", "transition_history"]}),
    ]

    def get_fieldsets(self, request, obj=None):
        if obj is None:  # pragma: no cover - filings are not added here
            return self.fieldsets
        checks = obj.checks or []
        failed = sum(1 for c in checks if not c.get("passed"))
        checks_title = (
            _("自动校验（%(n)s 项未通过）") % {"n": failed}
            if failed
            else _("自动校验（%(n)s 项全部通过）") % {"n": len(checks)}
        )
        fieldsets = [
            # The financing need the filing answers (投融对接), when the bank named one.
            (None, {"fields": [*KEY_FACTS, "financing_need_link"] if obj.financing_need_id else KEY_FACTS}),
            (_("贷款条件"), {"fields": LOAN_TERMS}),
            (checks_title, {"fields": ["checks_panel"], "classes": [] if failed else ["collapse"]}),
            (_("质押物与备案材料"), {"fields": ["pledges_panel", "documents_panel"]}),
        ]
        if not DueDiligenceInline.editable(request, obj):  # otherwise the form below
            fieldsets.append(
                (self._checklist_title(obj), {"fields": ["due_diligence_panel"], "classes": ["collapse"]})
            )
        if obj.status == FilingStatus.ACCEPTED:
            fieldsets += [
                (_("受理与风险分担（受理时确定）"), {"fields": ACCEPTANCE, "classes": ["collapse"]}),
                (_("贷后"), {"fields": SERVICING}),
            ]
        fieldsets.append(
            (_("状态记录"), {"fields": ["submitted_at", "transition_history"], "classes": ["collapse"]})
        )
        return fieldsets

    @staticmethod
    def _checklist_title(obj) -> str:
        record = getattr(obj, "due_diligence", None) if obj.pk else None
        if record is None:
            return _("尽调清单（尚未开始尽调）")
        confirmed = len(DueDiligence.REQUIRED_ITEMS) - len(record.missing_items)
        return _("尽调清单（已确认 %(done)s/%(all)s 项）") % {
            "done": confirmed,
            "all": len(DueDiligence.REQUIRED_ITEMS),
        }

    def get_readonly_fields(self, request, obj=None):
        # Everything on the page is read-only: the fieldsets list only fields and panels.
        return [
            name
            for _title, options in self.fieldsets
            for row in options["fields"]
            for name in (row if isinstance(row, tuple) else (row,))
        ]

    def get_inline_instances(self, request, obj=None):
        # The checklist form only while it can be filled in; otherwise its panel shows it.
        if not DueDiligenceInline.editable(request, obj):
            return []
        return super().get_inline_instances(request, obj)

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

    def transition_figures(self, request, obj, name: str) -> list[Figure]:
        """Who borrows from whom, how much, the fund's share of it, and the checklist."""
        share = filing_fund_share(obj, on=clock.today())
        figures = [
            Figure(_("借款企业"), obj.enterprise.name, obj.enterprise.uscc),
            Figure(_("合作机构"), obj.institution.name),
            Figure(_("资金"), obj.fund.name),
            Figure(_("贷款本金(元)"), format_yuan(obj.principal)),
            Figure(_("知识产权担保本金(元)"), format_yuan(obj.covered_principal)),
            Figure(
                _("资金分担比例"),
                "—" if share.percent is None else f"{share.percent}%",
                _("受理时已确定") if share.frozen else _("按现行合作协议，受理时确定"),
                warning=share.percent is None,
            ),
            Figure(
                _("资金承担的担保本金(元)"),
                "—" if share.amount is None else format_yuan(share.amount),
                _("知识产权担保本金 × 资金分担比例"),
            ),
        ]
        if obj.status in (FilingStatus.UNDER_REVIEW, FilingStatus.ACCEPTED) or name == "accept":
            figures.append(self._checklist_figure(obj, name))
        return figures

    @staticmethod
    def _checklist_figure(obj, name: str) -> Figure:
        progress = due_diligence_progress(obj)
        done = _("已确认 %(done)s/%(all)s 项") % {"done": progress.confirmed, "all": progress.total}
        if not progress.missing:
            return Figure(_("尽调清单"), done)
        value = format_html(
            "{}<br>{}",
            done,
            _("待确认：%(items)s") % {"items": "、".join(progress.missing)},
        )
        blocks = name == "accept"  # acceptance refuses an incomplete checklist
        return Figure(_("尽调清单"), value, _("全部确认后才能受理入池") if blocks else "", warning=blocks)

    # --- panels ---------------------------------------------------------------------------

    @admin.display(description=_("对应融资需求"))
    def financing_need_link(self, obj) -> str:
        need = obj.financing_need if obj.financing_need_id else None
        if need is None:
            return "—"
        text = _("需求 %(id)s：%(amount)s 元，%(term)s 个月，%(status)s") % {
            "id": need.pk,
            "amount": format_yuan(need.amount),
            "term": need.term_months,
            "status": need.get_status_display(),
        }
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:matching_financingneed_change", args=[need.pk]), text
        )

    @admin.display(description=_("自动校验结果"))
    def checks_panel(self, obj) -> str:
        # Failures first: they are what the reviewer must read.
        checks = sorted(obj.checks or [], key=lambda check: bool(check.get("passed")))
        return html_table(
            [_("项目"), _("结果"), _("说明")],
            '<tr><td>{}</td><td class="{}">{}</td><td>{}</td></tr>',
            (
                (
                    check_label(check.get("code", "")),
                    "fm-passed" if check.get("passed") else "fm-failed",
                    _("✔ 通过") if check.get("passed") else _("✘ 未通过"),
                    check.get("message", ""),
                )
                for check in checks
            ),
        )

    @admin.display(description=_("尽调清单"))
    def due_diligence_panel(self, obj) -> str:
        record = getattr(obj, "due_diligence", None) if obj.pk else None
        if record is None:
            return "—"
        rows = [
            (DueDiligence._meta.get_field(item).verbose_name, CHECKLIST_CHOICES[getattr(record, item)])
            for item in (*DueDiligence.REQUIRED_ITEMS, "site_visit")
        ]
        rows.append((_("尽调意见"), record.notes or "—"))
        rows.append((_("尽调人员"), str(record.officer) if record.officer_id else "—"))
        return html_table([_("项目"), _("结果")], "<tr><td>{}</td><td>{}</td></tr>", rows)

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
            '<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class="num">{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    p.ip_asset.number,
                    p.ip_asset.get_kind_display(),
                    p.registration_no,
                    date_text(p.registered_on),
                    yuan_text(p.appraised_value),
                    date_text(p.ip_asset.expires_on),
                    _("已解除（%(date)s）") % {"date": p.released_on.isoformat()}
                    if p.released_on
                    else _("未解除"),
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
            '<tr><td>{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td>'
            "<td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    r.as_of.strftime("%Y-%m"),
                    format_yuan(r.outstanding_principal),
                    format_yuan(r.overdue_principal),
                    r.days_overdue,
                    r.get_risk_class_display(),
                    r.get_loan_status_after_display(),
                    "" if r.is_current else _("已被更正（不再有效）"),
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
                    date_text(w.resolved_on) if w.resolved_on else _("未解除"),
                )
                for w in warnings
            ),
        )

    @admin.display(description=_("状态变更记录"))
    def transition_history(self, obj) -> str:
        return history_html(obj, step_labels=EXTRA_STEP_LABELS)
