"""The books round trip: export a fund's workbook, dry-run an uploaded one, import it.

`books_import` is one durable transaction: every sheet is checked and written through the
owning apps' import services inside it, and any error anywhere rolls all of it back. The
admin's upload page works on an `ImportRun` (the stored file and its reports), so that a
large file can be checked and imported by a Celery worker while the page shows progress.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import IO

from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fundmgr.ground.funds.models import Fund
from fundmgr.ground.lib import clock, rawsql
from fundmgr.ground.lib.errors import AppError, Conflict, Forbidden, NotFound

from . import selectors
from .checks import BooksCheck, ImportRefused
from .errors import BooksError
from .models import ImportRun
from .reader import BadWorkbook, WorkbookReader
from .report import BookError, BooksReport
from .workbook import write_annotated, write_books

log = logging.getLogger(__name__)

IMPORT_PERMISSION = "books.import_workbook"
Progress = Callable[[str, int], None]


def can_import(user) -> bool:
    """Staff holding the dedicated permission 导入台账 (the system administrator holds every
    permission); regulators and banks never, whatever they are granted."""
    return bool(
        user is not None
        and user.is_active
        and getattr(user, "is_manager_staff", False)
        and user.has_perm(IMPORT_PERMISSION)
    )


def _require_import_permission(user) -> None:
    if not can_import(user):
        raise Forbidden(BooksError.IMPORT_PERMISSION_REQUIRED, _("导入台账须有“导入台账”权限"))


# --- export ------------------------------------------------------------------------------------


def books_export(*, fund: Fund, out: str | IO[bytes], progress: Progress | None = None) -> dict[str, int]:
    """Write `fund`'s books as of today in the workbook layout; returns rows per sheet. A fund
    with no records gives the empty template (its 资金 row filled in)."""
    return write_books(out, selectors.books_rows(fund, today=clock.today()), progress=progress)


def books_template(*, out: str | IO[bytes]) -> None:
    """The empty workbook: the 说明 sheet and every sheet's headers."""
    write_books(out, {})


# --- dry run and import ------------------------------------------------------------------------------


def _unreadable(exc: BadWorkbook, file_name: str) -> BooksReport:
    report = BooksReport(file_name=file_name)
    report.add(BookError("", None, None, "", exc.code, exc.message))
    return report


def books_validate(
    *, file: str | IO[bytes], file_name: str = "", progress: Progress | None = None
) -> BooksReport:
    """The dry run: every sheet, row and cell checked against the rules and the system as it
    is; nothing written. `report.ok` when the workbook may be imported."""
    try:
        reader = WorkbookReader(file)
    except BadWorkbook as exc:
        return _unreadable(exc, file_name)
    try:
        return BooksCheck(reader, today=clock.today(), file_name=file_name, progress=progress).run()
    finally:
        reader.close()


def books_import(
    *, file: str | IO[bytes], by, file_name: str = "", progress: Progress | None = None
) -> BooksReport:
    """Import the workbook: all of it in one transaction, or nothing. Returns the report;
    `report.imported` says whether anything was written (not when any row failed).
    Refusals: import_permission_required (403) when `by` lacks 导入台账."""
    _require_import_permission(by)
    try:
        reader = WorkbookReader(file)
    except BadWorkbook as exc:
        return _unreadable(exc, file_name)
    try:
        with transaction.atomic(durable=True):
            # Tens of thousands of rows in one transaction: the foreign keys PostgreSQL checks
            # at commit are checked with plans sized on the tables as they then are.
            rawsql.plan_afresh()
            return BooksCheck(
                reader, today=clock.today(), by=by, write=True, file_name=file_name, progress=progress
            ).run()
    except ImportRefused as refused:
        return refused.report
    finally:
        reader.close()


def books_annotate(*, file: str | IO[bytes], report: BooksReport, out: str | IO[bytes]) -> None:
    """The uploaded workbook with its faulty cells filled red and commented, and the error list."""
    write_annotated(file, out, [e.as_dict() for e in report.errors])


# --- import runs (the admin's upload page and the tasks) --------------------------------------------


def progress_key(run_id: int) -> str:
    return f"books:run:{run_id}:progress"


def run_progress(run_id: int) -> dict | None:
    """What a worker last said about the run: {"sheet": 企业, "rows": 5000}."""
    return cache.get(progress_key(run_id))


def _progress_for(run_id: int) -> Progress:
    def say(sheet: str, rows: int) -> None:
        cache.set(progress_key(run_id), {"sheet": sheet, "rows": rows}, timeout=3600)

    return say


def _enqueue(task_name: str, run_id: int) -> None:
    """Hand the run to a worker once committed (Celery runs it at once when there is no
    broker). The task is found by name: tasks sit beside the admin, above this module."""
    from celery import current_app

    def send() -> None:
        try:
            current_app.tasks[task_name].delay(run_id)
        except Exception:  # the broker is down: do it here rather than leave the run waiting
            log.exception("could not enqueue %s for import %s; running it now", task_name, run_id)
            {
                "books.import_run_validate": import_run_validate,
                "books.import_run_execute": import_run_execute,
            }[task_name](run_id=run_id)

    transaction.on_commit(send)


def import_run_create(*, upload: UploadedFile, by) -> ImportRun:
    """Store an uploaded workbook and start its dry run (a worker's task when a broker is
    configured). Refusals: import_permission_required (403)."""
    _require_import_permission(by)
    with transaction.atomic(durable=True):
        run = ImportRun(file_name=(upload.name or "workbook.xlsx")[:255], uploaded_by=by)
        run.file.save(run.file_name, upload, save=False)
        run.save()
        _enqueue("books.import_run_validate", run.pk)
    return run


def _claim(run_id: int, *, source: tuple[str, ...], target: str) -> bool:
    """Move the run from one of `source` to `target` unless someone else did (a retried task)."""
    return bool(ImportRun.objects.filter(pk=run_id, status__in=source).update(status=target))


def import_run_validate(*, run_id: int) -> ImportRun | None:
    """The dry run of a stored upload; keeps the report on the run."""
    if not _claim(run_id, source=(ImportRun.Status.UPLOADED,), target=ImportRun.Status.VALIDATING):
        return ImportRun.objects.filter(pk=run_id).first()  # done already (a retried task), or gone
    run = ImportRun.objects.get(pk=run_id)
    try:
        with run.file.open("rb") as handle:
            report = books_validate(file=handle, file_name=run.file_name, progress=_progress_for(run_id))
    except Exception:
        log.exception("dry run of import %s failed", run_id)
        report = BooksReport(file_name=run.file_name)
        report.add(
            BookError("", None, None, "", BooksError.NOT_XLSX, _("读取工作簿时出错，请检查文件后重新上传"))
        )
    _store(run, report, ImportRun.Status.VALIDATED if report.ok else ImportRun.Status.INVALID)
    return run


def import_run_confirm(*, run_id: int, by) -> ImportRun:
    """“确认导入”: a clean dry run is queued for import. Refusals: import_permission_required
    (403), not_found (404), import_not_validated (409: not a clean dry run, already done, or
    its file deleted after the retention period)."""
    _require_import_permission(by)
    if not ImportRun.objects.filter(pk=run_id).exists():
        raise NotFound(_("导入记录不存在"))
    with transaction.atomic(durable=True):
        if ImportRun.objects.filter(pk=run_id, file="").exists():
            raise Conflict(BooksError.NOT_VALIDATED, _("上传的工作簿已按保留期限删除，请重新上传"))
        if not _claim(run_id, source=(ImportRun.Status.VALIDATED,), target=ImportRun.Status.IMPORTING):
            raise Conflict(BooksError.NOT_VALIDATED, _("只有校验通过、尚未导入的工作簿可以确认导入"))
        ImportRun.objects.filter(pk=run_id).update(imported_by=by)
        _enqueue("books.import_run_execute", run_id)
    return ImportRun.objects.get(pk=run_id)


def import_run_execute(*, run_id: int) -> ImportRun | None:
    """Import a confirmed run (the worker's part of “确认导入”); keeps the report on the run."""
    run = ImportRun.objects.select_related("imported_by").filter(pk=run_id).first()
    if run is None or run.status != ImportRun.Status.IMPORTING:
        return run  # done already (a retried task), or gone
    try:
        with run.file.open("rb") as handle:
            report = books_import(
                file=handle, by=run.imported_by, file_name=run.file_name, progress=_progress_for(run_id)
            )
    except AppError as exc:
        report = BooksReport(file_name=run.file_name)
        report.add(BookError("", None, None, "", exc.code, exc.message))
    except Exception:  # rolled back: say so on the page rather than leave it "importing"
        log.exception("import %s failed", run_id)
        report = BooksReport(file_name=run.file_name)
        report.add(
            BookError(
                "",
                None,
                None,
                "",
                BooksError.IMPORT_FAILED,
                _("导入时发生系统错误，未写入任何数据，请联系系统管理员"),
            )
        )
    if report.imported:
        run.imported_at = timezone.now()
        _store(run, report, ImportRun.Status.IMPORTED, extra=["imported_at"])
    else:
        _store(run, report, ImportRun.Status.FAILED)
    return run


def retention_days() -> int:
    """How many days an uploaded workbook is kept (setting BOOKS_UPLOAD_RETENTION_DAYS, 30)."""
    return settings.BOOKS_UPLOAD_RETENTION_DAYS


def import_runs_purge(*, days: int | None = None, now: dt.datetime | None = None) -> int:
    """Delete the workbooks uploaded more than `days` ago (default: the retention setting);
    the runs stay, with their reports (who uploaded and imported what, and what was found),
    and can no longer be confirmed. Runs still being checked or imported keep their file.
    Returns how many files were deleted. Scheduled daily; also `purge_book_uploads`."""
    days = retention_days() if days is None else days
    if days < 0:
        raise ValueError(f"the retention must not be negative: {days}")
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    busy = (ImportRun.Status.VALIDATING, ImportRun.Status.IMPORTING)
    purged = 0
    for run in ImportRun.objects.filter(uploaded_at__lt=cutoff).exclude(file="").exclude(status__in=busy):
        name = run.file.name
        # The row first: a file left behind by a failed delete is harmless, a row pointing
        # at a missing file is not.
        if ImportRun.objects.filter(pk=run.pk, file=name).exclude(status__in=busy).update(file=""):
            run.file.storage.delete(name)
            purged += 1
    return purged


def _store(run: ImportRun, report: BooksReport, status: str, extra: list[str] | None = None) -> None:
    run.report = report.as_dict()
    run.error_count = report.error_count
    run.status = status
    if report.fund_code:
        run.fund = Fund.objects.filter(code=report.fund_code).first()
    run.save(update_fields=["report", "error_count", "status", "fund", *(extra or [])])
    cache.delete(progress_key(run.pk))
