"""The books in the admin: a fund's workbook to download (from the fund list, and from the
upload page), and the upload page for staff holding 导入台账: upload → dry-run report (every
error, the counts per sheet, the annotated workbook) → 确认导入 → the import's report.

The pages translate and call the books services; the dry run and the import run as Celery
tasks when a broker is configured (the run page follows their progress), inline otherwise.
"""

from __future__ import annotations

import tempfile

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from fundmgr.ground.funds.admin import FundAdmin, FundView
from fundmgr.ground.funds.models import Fund
from fundmgr.ground.lib import clock
from fundmgr.ground.lib.errors import AppError

from . import services
from .models import ImportRun
from .report import BooksReport
from .workbook import XLSX_CONTENT_TYPE

# Errors listed on the page; the annotated workbook and its error sheet hold all of them.
ERRORS_ON_PAGE = 500
EXPORT_URL_NAME = "funds_fund_books"


def _spooled() -> tempfile.SpooledTemporaryFile:
    return tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024, suffix=".xlsx")


def _xlsx_response(handle, filename: str) -> FileResponse:
    handle.seek(0)
    return FileResponse(handle, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE)


def _staff_only(request) -> None:
    """The books name enterprises' figures and banks' loans: staff of the fund manager only
    (a regulator reads its city's reports, not the books' raw rows)."""
    if not getattr(request.user, "is_manager_staff", False):
        raise PermissionDenied


def fund_books_view(request, code: str, *, model_admin: admin.ModelAdmin):
    """The fund's books as a workbook (linked from the fund list)."""
    _staff_only(request)
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    fund = get_object_or_404(Fund, code=code)
    handle = _spooled()
    services.books_export(fund=fund, out=handle)
    name = gettext("%(code)s-台账-%(date)s.xlsx") % {"code": fund.code, "date": f"{clock.today():%Y%m%d}"}
    return _xlsx_response(handle, name)


# The download is mounted on the fund admin, which cannot import this app.
FundAdmin.fund_views.append(
    FundView(route="books", url_name=EXPORT_URL_NAME, label=_("台账工作簿"), view=fund_books_view)
)


class UploadForm(forms.Form):
    file = forms.FileField(label=_("台账工作簿(.xlsx)"))


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = ["uploaded_at", "file_name", "fund", "status", "error_count", "uploaded_by", "imported_at"]
    list_filter = ["status", "fund"]
    list_select_related = ["fund", "uploaded_by"]
    search_fields = ["file_name"]
    change_list_template = "admin/books/importrun_change_list.html"

    # Only staff holding 导入台账 see these pages at all.
    def has_module_permission(self, request) -> bool:
        return services.can_import(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return services.can_import(request.user)

    def has_add_permission(self, request) -> bool:
        return services.can_import(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("upload/", wrap(self.upload_view), name="books_importrun_upload"),
            path("template/", wrap(self.template_view), name="books_importrun_template"),
            path("<int:pk>/", wrap(self.run_view), name="books_importrun_run"),
            path("<int:pk>/confirm/", wrap(require_POST(self.confirm_view)), name="books_importrun_confirm"),
            path("<int:pk>/annotated/", wrap(self.annotated_view), name="books_importrun_annotated"),
            *super().get_urls(),
        ]

    def _require(self, request) -> None:
        if not services.can_import(request.user):
            raise PermissionDenied

    def _context(self, request, **extra):
        return {**self.admin_site.each_context(request), "opts": self.model._meta, **extra}

    # The stock add and change pages are this app's own: the upload page and the run's report.
    def add_view(self, request, form_url="", extra_context=None):
        return self.upload_view(request)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        try:
            pk = int(object_id)
        except ValueError:
            raise Http404 from None
        return self.run_view(request, pk)

    def upload_view(self, request):
        self._require(request)
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                run = services.import_run_create(upload=form.cleaned_data["file"], by=request.user)
            except AppError as exc:
                messages.error(request, exc.message)
            else:
                return HttpResponseRedirect(reverse("admin:books_importrun_run", args=[run.pk]))
        funds = [
            (fund, reverse(f"admin:{EXPORT_URL_NAME}", args=[fund.code]))
            for fund in Fund.objects.order_by("code")
        ]
        return TemplateResponse(
            request,
            "admin/books/upload.html",
            self._context(request, title=_("导入台账"), form=form, funds=funds),
        )

    def template_view(self, request):
        self._require(request)
        handle = _spooled()
        services.books_template(out=handle)
        return _xlsx_response(handle, gettext("台账导入模板.xlsx"))

    def run_view(self, request, pk: int):
        self._require(request)
        run = get_object_or_404(ImportRun, pk=pk)
        report = BooksReport.from_dict(run.report) if run.report else None
        busy = run.status in (
            ImportRun.Status.UPLOADED,
            ImportRun.Status.VALIDATING,
            ImportRun.Status.IMPORTING,
        )
        context = self._context(
            request,
            title=_("台账导入：%s") % run.file_name,
            run=run,
            report=report,
            busy=busy,
            progress=services.run_progress(run.pk) if busy else None,
            errors=report.errors[:ERRORS_ON_PAGE] if report else [],
            more_errors=(report.error_count - ERRORS_ON_PAGE)
            if report and report.error_count > ERRORS_ON_PAGE
            else 0,
            summary=report.summary_rows() if report else [],
            can_confirm=run.status == ImportRun.Status.VALIDATED and bool(run.file),
            purged=not run.file,
            retention_days=services.retention_days(),
        )
        return TemplateResponse(request, "admin/books/run.html", context)

    def confirm_view(self, request, pk: int):
        self._require(request)
        try:
            services.import_run_confirm(run_id=pk, by=request.user)
        except AppError as exc:
            messages.error(request, exc.message)
        return HttpResponseRedirect(reverse("admin:books_importrun_run", args=[pk]))

    def annotated_view(self, request, pk: int):
        self._require(request)
        run = get_object_or_404(ImportRun, pk=pk)
        if not run.report:
            raise PermissionDenied
        if not run.file:
            messages.error(request, gettext("上传的工作簿已按保留期限删除，无法生成标注错误的工作簿"))
            return HttpResponseRedirect(reverse("admin:books_importrun_run", args=[pk]))
        handle = _spooled()
        with run.file.open("rb") as source:
            services.books_annotate(file=source, report=BooksReport.from_dict(run.report), out=handle)
        stem = run.file_name.rsplit(".", 1)[0]
        return _xlsx_response(handle, gettext("%(name)s-错误标注.xlsx") % {"name": stem})
