"""Uploaded workbooks are kept BOOKS_UPLOAD_RETENTION_DAYS (30 by default) and then deleted by
a daily task (or `purge_book_uploads`): the import record and its report stay, the file goes,
and a run whose file is gone can no longer be confirmed."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from fundmgr.ground.accounts.models import User
from fundmgr.ground.lib.errors import Conflict
from fundmgr.top.books.models import ImportRun
from fundmgr.top.books.services import import_run_confirm, import_run_create, import_runs_purge
from fundmgr.top.books.tasks import import_runs_purge as purge_task

from .conftest import sample_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user(new_fund, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return User.objects.create_user(username="books-admin", password="x", role="admin", is_staff=True)


def upload(path, by, capture, *, days_ago: int) -> ImportRun:
    with capture(execute=True):
        run = import_run_create(upload=SimpleUploadedFile(path.name, path.read_bytes()), by=by)
    ImportRun.objects.filter(pk=run.pk).update(uploaded_at=timezone.now() - dt.timedelta(days=days_ago))
    run.refresh_from_db()
    return run


def test_workbooks_past_the_retention_are_deleted_and_their_reports_kept(
    admin_user, tmp_path, django_capture_on_commit_callbacks
):
    path = sample_file(tmp_path)
    old = upload(path, admin_user, django_capture_on_commit_callbacks, days_ago=31)
    recent = upload(path, admin_user, django_capture_on_commit_callbacks, days_ago=29)
    stored, storage = old.file.name, old.file.storage
    assert old.status == "validated" and storage.exists(stored)

    assert import_runs_purge() == 1

    old.refresh_from_db()
    recent.refresh_from_db()
    assert not old.file and not storage.exists(stored)
    assert old.report["summary"]["loans"]["new"] == 8 and old.status == "validated"  # the report stays
    assert recent.file and recent.file.storage.exists(recent.file.name)
    assert import_runs_purge() == 0  # nothing left to do

    # A run whose workbook is gone cannot be imported any more; the page says why.
    with pytest.raises(Conflict) as refused:
        import_run_confirm(run_id=old.pk, by=admin_user)
    assert refused.value.code == "import_not_validated" and "保留期限" in refused.value.message
    client = Client()
    client.force_login(admin_user)
    page = client.get(f"/admin/books/importrun/{old.pk}/").content.decode()
    assert "已在保留期（30 天）满后删除" in page and "确认导入" not in page
    assert client.get(f"/admin/books/importrun/{old.pk}/annotated/").status_code == 302


def test_the_retention_is_a_setting_and_runs_being_worked_on_keep_their_file(
    admin_user, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.BOOKS_UPLOAD_RETENTION_DAYS = 10
    path = sample_file(tmp_path)
    done = upload(path, admin_user, django_capture_on_commit_callbacks, days_ago=11)
    busy = upload(path, admin_user, django_capture_on_commit_callbacks, days_ago=11)
    ImportRun.objects.filter(pk=busy.pk).update(status=ImportRun.Status.IMPORTING)

    assert purge_task.delay().get() == 1  # the scheduled task (eager without a broker)

    done.refresh_from_db()
    busy.refresh_from_db()
    assert not done.file and busy.file.storage.exists(busy.file.name)


def test_the_command_purges_with_its_own_number_of_days(
    admin_user, tmp_path, django_capture_on_commit_callbacks
):
    path = sample_file(tmp_path)
    run = upload(path, admin_user, django_capture_on_commit_callbacks, days_ago=3)
    out = StringIO()

    call_command("purge_book_uploads", "--days", "2", stdout=out)

    run.refresh_from_db()
    assert not run.file
    assert "Deleted 1 uploaded workbook(s) older than 2 day(s)." in out.getvalue()
    with pytest.raises(Exception, match="must not be negative"):
        call_command("purge_book_uploads", "--days", "-1", stdout=StringIO())
