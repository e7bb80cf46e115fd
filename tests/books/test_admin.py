"""The upload page in the admin: upload → dry-run report → 确认导入 → imported; a faulty file
lists its errors and offers the annotated workbook; a file that is not a workbook gets an
answer, not a 500; a run still being worked on shows its progress."""

from __future__ import annotations

import io

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import load_workbook

from enterprises.models import Enterprise
from fundmgr.ground.accounts.models import User
from fundmgr.top.books.models import ImportRun
from fundmgr.top.books.services import progress_key
from loans.models import LoanFiling

from .conftest import edit, sample_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(new_fund, settings, tmp_path) -> Client:
    settings.MEDIA_ROOT = tmp_path / "media"
    user = User.objects.create_user(username="books-admin", password="x", role="admin", is_staff=True)
    client = Client()
    client.force_login(user)
    return client


def upload(client, path, capture) -> ImportRun:
    with capture(execute=True):
        response = client.post(
            "/admin/books/importrun/upload/", {"file": SimpleUploadedFile(path.name, path.read_bytes())}
        )
    assert response.status_code == 302
    run = ImportRun.objects.latest("pk")
    assert response["Location"] == f"/admin/books/importrun/{run.pk}/"
    return run


def test_upload_dry_run_then_confirm_imports_the_workbook(
    staff, tmp_path, django_capture_on_commit_callbacks
):
    page = staff.get("/admin/books/importrun/upload/").content.decode()
    assert "上传并校验" in page and "/admin/funds/fund/books/smp/" in page

    run = upload(staff, sample_file(tmp_path, loans=10), django_capture_on_commit_callbacks)

    run.refresh_from_db()
    assert run.status == "validated" and run.fund.code == "smp" and not LoanFiling.objects.exists()
    page = staff.get(f"/admin/books/importrun/{run.pk}/").content.decode()
    assert "状态：校验通过" in page and "确认导入" in page and 'http-equiv="refresh"' not in page
    assert '<tr><td>贷款</td><td class="num">10</td><td class="num">10</td>' in page

    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(f"/admin/books/importrun/{run.pk}/confirm/")
    assert response.status_code == 302

    run.refresh_from_db()
    assert run.status == "imported" and run.imported_by.username == "books-admin" and run.imported_at
    assert LoanFiling.objects.filter(fund=run.fund).count() == 10
    page = staff.get(f"/admin/books/importrun/{run.pk}/").content.decode()
    assert "状态：已导入" in page and "导入后资金台账余额" in page and "确认导入" not in page
    # Confirming again does nothing more.
    staff.post(f"/admin/books/importrun/{run.pk}/confirm/")
    assert LoanFiling.objects.count() == 10


def test_a_faulty_workbook_lists_its_errors_and_offers_the_annotated_copy(
    staff, tmp_path, django_capture_on_commit_callbacks
):
    path = sample_file(tmp_path)
    edit(path, lambda book: book["企业"].cell(3, 5, "2015-13-01"))
    run = upload(staff, path, django_capture_on_commit_callbacks)

    run.refresh_from_db()
    assert run.status == "invalid" and run.error_count == 1
    page = staff.get(f"/admin/books/importrun/{run.pk}/").content.decode()
    assert "校验未通过，未写入任何数据" in page and "确认导入" not in page
    assert (
        '<td>企业</td><td class="num">3</td><td>E 成立日期</td><td><code>cell_date_as_text</code></td>'
        in page
    )
    response = staff.get(f"/admin/books/importrun/{run.pk}/annotated/")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert "cell_date_as_text" in book["企业"]["E3"].comment.text
    # A run with errors cannot be confirmed.
    staff.post(f"/admin/books/importrun/{run.pk}/confirm/")
    run.refresh_from_db()
    assert run.status == "invalid" and not Enterprise.objects.filter(fund=run.fund).exists()


def test_a_file_that_is_not_a_workbook_gets_an_answer_not_a_500(
    staff, tmp_path, django_capture_on_commit_callbacks
):
    path = tmp_path / "books.xlsx"
    path.write_text("统一社会信用代码,企业名称\n", encoding="utf-8")
    run = upload(staff, path, django_capture_on_commit_callbacks)
    run.refresh_from_db()
    assert run.status == "invalid"
    page = staff.get(f"/admin/books/importrun/{run.pk}/")
    assert page.status_code == 200 and "workbook_not_xlsx" in page.content.decode()


def test_a_run_being_worked_on_shows_its_progress_and_refreshes(staff):
    run = ImportRun.objects.create(file_name="big.xlsx", uploaded_by=User.objects.get(username="books-admin"),
                                   status="validating")  # fmt: skip
    cache.set(progress_key(run.pk), {"sheet": "企业", "rows": 5000})
    page = staff.get(f"/admin/books/importrun/{run.pk}/").content.decode()
    assert '<meta http-equiv="refresh" content="2">' in page
    assert "正在校验，请稍候" in page and "已读到“企业”第 5000 行" in page


def test_with_a_broker_the_dry_run_and_the_import_are_handed_to_a_worker(
    staff, tmp_path, django_capture_on_commit_callbacks, monkeypatch
):
    """With a broker the page does not wait: the run is queued, the page refreshes while the
    worker reads, and the worker's task finishes it."""
    from celery import current_app

    from fundmgr.top.books import tasks

    queued: list[tuple[str, int]] = []
    for task in (tasks.import_run_validate, tasks.import_run_execute):
        monkeypatch.setattr(
            current_app.tasks[task.name],
            "delay",
            lambda run_id, name=task.name: queued.append((name, run_id)),
        )

    run = upload(staff, sample_file(tmp_path), django_capture_on_commit_callbacks)
    assert queued == [("books.import_run_validate", run.pk)]
    run.refresh_from_db()
    assert run.status == "uploaded"
    assert (
        '<meta http-equiv="refresh" content="2">'
        in staff.get(f"/admin/books/importrun/{run.pk}/").content.decode()
    )

    assert tasks.import_run_validate(run.pk) == "validated"  # the worker
    assert tasks.import_run_validate(run.pk) == "validated"  # a retried task changes nothing
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(f"/admin/books/importrun/{run.pk}/confirm/")
    assert queued[-1] == ("books.import_run_execute", run.pk)
    run.refresh_from_db()
    assert run.status == "importing" and not LoanFiling.objects.exists()
    assert tasks.import_run_execute(run.pk) == "imported"
    assert LoanFiling.objects.filter(fund=run.fund).count() == 8
