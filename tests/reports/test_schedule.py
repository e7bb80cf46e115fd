"""The beat schedule is written from code (`setup_periodic_tasks`), idempotently, and the
scheduled jobs do their work once per period."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from enterprises.models import Enterprise
from fundmgr.celery import app
from fundmgr.top.reports.management.commands.setup_periodic_tasks import JOBS

pytestmark = pytest.mark.django_db

EXPECTED = {
    # name: (task, minute, hour, day_of_month, month_of_year)
    "admissions-expire-daily": ("enterprises.enterprise_expire_due", "10", "0", "*", "*"),
    "idempotency-purge-daily": ("lib.idempotency_purge_expired", "30", "2", "*", "*"),
    "books-uploads-purge-daily": ("books.import_runs_purge", "45", "2", "*", "*"),
    "recoveries-overdue-daily": ("loans.recoveries_mark_overdue", "0", "6", "*", "*"),
    "loans-warnings-daily": ("loans.warnings_scan", "30", "6", "*", "*"),
    "notifications-resend-stuck": ("notifications.email_resend_stuck", "*/10", "*", "*", "*"),
    "deadlines-scan-daily": ("notifications.deadline_scan", "0", "7", "*", "*"),
    "reports-monthly": ("reports.monthly_reports_generate_all", "0", "1", "1", "*"),
    "reports-snapshots-nightly": ("reports.snapshots_refresh", "0", "3", "*", "*"),
    "reports-quarterly": ("reports.quarterly_reports_store_all", "30", "1", "1", "1,4,7,10"),
    "needs-expire-daily": ("matching.needs_expire_due", "20", "0", "*", "*"),
    "needs-untouched-daily": ("notifications.needs_untouched_scan", "15", "7", "*", "*"),
    "needs-digest-daily": ("notifications.needs_digest", "0", "8", "*", "*"),
    "needs-priorities-nightly": ("matching.priorities_refresh", "30", "3", "*", "*"),
}


def schedule() -> dict[str, tuple]:
    return {
        t.name: (
            t.task,
            t.crontab.minute,
            t.crontab.hour,
            t.crontab.day_of_month,
            t.crontab.month_of_year,
        )
        for t in PeriodicTask.objects.select_related("crontab")
    }


def rows() -> list[tuple]:
    return sorted(
        PeriodicTask.objects.values_list(
            "id", "name", "task", "crontab_id", "enabled", "last_run_at", "total_run_count"
        )
    )


def test_written_once_and_unchanged_when_run_again():
    out = StringIO()
    call_command("setup_periodic_tasks", stdout=out)
    assert schedule() == EXPECTED
    assert all(
        str(t.crontab.timezone) == "Asia/Shanghai" for t in PeriodicTask.objects.select_related("crontab")
    )
    assert "reports-monthly: reports.monthly_reports_generate_all [created]" in out.getvalue()
    before, crontabs = rows(), sorted(CrontabSchedule.objects.values_list("id", flat=True))
    stamps = sorted(PeriodicTask.objects.values_list("date_changed", flat=True))

    again = StringIO()
    call_command("setup_periodic_tasks", stdout=again)
    assert rows() == before
    assert sorted(CrontabSchedule.objects.values_list("id", flat=True)) == crontabs
    assert sorted(PeriodicTask.objects.values_list("date_changed", flat=True)) == stamps
    assert again.getvalue().count("[unchanged]") == len(EXPECTED)


def test_code_wins_on_schedule_the_admin_wins_on_enabled():
    call_command("setup_periodic_tasks", stdout=StringIO())
    task = PeriodicTask.objects.get(name="reports-monthly")
    task.crontab = CrontabSchedule.objects.create(minute="5", hour="5", timezone="Asia/Shanghai")
    task.enabled = False  # an administrator paused it
    task.save()
    call_command("setup_periodic_tasks", stdout=StringIO())
    task.refresh_from_db()
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_month) == ("0", "1", "1")
    assert task.enabled is False


def test_every_scheduled_task_is_registered_with_celery():
    app.loader.import_default_modules()
    registered = set(app.tasks)
    scheduled = {job.task for job in JOBS}
    assert scheduled <= registered, scheduled - registered


def test_admission_expiry_is_idempotent(demo, business_date):
    from enterprises.tasks import enterprise_expire_due

    business_date("2027-12-01")  # the demo admissions run to 2027-11-30
    admitted = Enterprise.objects.filter(status="admitted").count()
    assert admitted > 0
    assert enterprise_expire_due.delay().get() == admitted
    assert enterprise_expire_due.delay().get() == 0
    assert not Enterprise.objects.filter(status="admitted", admitted_until__lt=dt.date(2027, 12, 1)).exists()


def test_recoveries_overdue_scan(personas, business_date):
    from loans.models import Recovery
    from loans.tasks import recoveries_mark_overdue as recoveries_overdue_task
    from tests.reports import build_dataset

    ds = build_dataset(personas, business_date, until="2026-12-15")
    personas.client("bank_b").post(
        f"/api/v1/claims/{ds.claim.pk}/recoveries/",
        {"received_on": "2026-12-15", "gross_amount": "20000.00", "costs": "0.00", "source": "guarantor"},
        format="json",
    )
    due = Recovery.objects.get(status="return_due")
    business_date((due.due_on + dt.timedelta(days=1)).isoformat())
    assert recoveries_overdue_task.delay().get() == 1
    assert recoveries_overdue_task.delay().get() == 0
    assert Recovery.objects.get(pk=due.pk).status == "overdue"


def test_quarterly_archive_after_quarter_end_is_idempotent(demo, business_date):
    from fundmgr.top.reports.models import StoredReport
    from fundmgr.top.reports.tasks import quarterly_reports_store_all

    business_date("2027-01-01")
    assert quarterly_reports_store_all.delay().get() == 4  # Q4 2026, one per fund
    first = sorted(StoredReport.objects.values_list("id", "fund__code", "period_start", "generated_at"))
    assert {(code, start) for _, code, start, _ in first} == {
        (code, dt.date(2026, 10, 1)) for code in ("foshan", "shantou", "shaoguan", "zhaoqing")
    }
    assert quarterly_reports_store_all.delay().get() == 4
    assert (
        sorted(StoredReport.objects.values_list("id", "fund__code", "period_start", "generated_at")) == first
    )
    zhaoqing = StoredReport.objects.get(fund__code="zhaoqing")
    assert zhaoqing.data["total"]["fund_balance_wan_yuan"] == "500.00"
    assert zhaoqing.file_stem == "quarterly-zhaoqing-2026Q4"
