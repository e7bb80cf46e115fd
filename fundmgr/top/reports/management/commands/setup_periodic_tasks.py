"""Write the Celery beat schedule (django-celery-beat) from code.

Running it again changes nothing: tasks are matched by name and crontabs reused. An
administrator's decision to disable a task in the admin is kept; the schedule and the task
path are brought back to what the code says.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.translation import gettext_lazy, gettext_noop
from django_celery_beat.models import CrontabSchedule, PeriodicTask

TIMEZONE = "Asia/Shanghai"


@dataclass(frozen=True)
class Job:
    name: str
    task: str
    minute: str
    hour: str
    day_of_month: str = "*"
    month_of_year: str = "*"
    description: str = ""  # stored in the beat schedule: Chinese, catalogued (gettext_noop)


# Times are Asia/Shanghai. Expiry first after midnight, so an admission that ended
# yesterday is closed before the day's filings; scans before office hours; reports on the
# 1st for the month (and quarter) that just ended.
JOBS: tuple[Job, ...] = (
    Job(
        "admissions-expire-daily",
        "enterprises.enterprise_expire_due",
        "10",
        "0",
        description=gettext_noop("入库有效期届满的企业转为已过期"),
    ),
    Job(
        "needs-expire-daily",
        "matching.needs_expire_due",
        "20",
        "0",
        description=gettext_noop("有效期内未备案的融资需求转为已过期"),
    ),
    Job(
        "idempotency-purge-daily",
        "lib.idempotency_purge_expired",
        "30",
        "2",
        description=gettext_noop("清理过期的幂等键记录"),
    ),
    Job(
        "books-uploads-purge-daily",
        "books.import_runs_purge",
        "45",
        "2",
        description=gettext_noop("删除超过保留期限的台账导入上传文件（导入记录和校验结果保留）"),
    ),
    Job(
        "recoveries-overdue-daily",
        "loans.recoveries_mark_overdue",
        "0",
        "6",
        description=gettext_noop("追偿款逾期未返还的标记为逾期"),
    ),
    Job(
        "loans-warnings-daily",
        "loans.warnings_scan",
        "30",
        "6",
        description=gettext_noop("贷后预警扫描（质押物到期、月报缺报、尽调超期）"),
    ),
    Job(
        "notifications-resend-stuck",
        "notifications.email_resend_stuck",
        "*/10",
        "*",
        description=gettext_noop("重新投递未发出的通知邮件（工作进程重启后丢失的任务）"),
    ),
    Job(
        "deadlines-scan-daily",
        "notifications.deadline_scan",
        "0",
        "7",
        description=gettext_noop("期限临近和超期提醒"),
    ),
    Job(
        "needs-untouched-daily",
        "notifications.needs_untouched_scan",
        "15",
        "7",
        description=gettext_noop("提醒工作人员长时间无进展的融资需求"),
    ),
    Job(
        "needs-digest-daily",
        "notifications.needs_digest",
        "0",
        "8",
        description=gettext_noop("向合作银行推送前一日新增的可对接融资需求（每日汇总）"),
    ),
    Job(
        "reports-monthly",
        "reports.monthly_reports_generate_all",
        "0",
        "1",
        day_of_month="1",
        description=gettext_noop("每月1日生成上月资金月报和合作机构对账单"),
    ),
    Job(
        "reports-snapshots-nightly",
        "reports.snapshots_refresh",
        "0",
        "3",
        description=gettext_noop("保存已结束期间（月、季、年）的报表指标快照"),
    ),
    Job(
        "needs-priorities-nightly",
        "matching.priorities_refresh",
        "30",
        "3",
        description=gettext_noop("重新计算在办融资需求的优先对接分类（荣誉到期、专利超出年限）"),
    ),
    Job(
        "reports-quarterly",
        "reports.quarterly_reports_store_all",
        "30",
        "1",
        day_of_month="1",
        month_of_year="1,4,7,10",
        description=gettext_noop("每季度结束后归档季度监管统计表"),
    ),
)


class Command(BaseCommand):
    help = gettext_lazy("写入定时任务计划（django-celery-beat），可重复执行")

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            for job in JOBS:
                crontab, _ = CrontabSchedule.objects.get_or_create(
                    minute=job.minute,
                    hour=job.hour,
                    day_of_week="*",
                    day_of_month=job.day_of_month,
                    month_of_year=job.month_of_year,
                    timezone=TIMEZONE,
                )
                task, created = PeriodicTask.objects.get_or_create(
                    name=job.name,
                    defaults={"task": job.task, "crontab": crontab, "description": job.description},
                )
                changed = [
                    attr
                    for attr, value in (
                        ("task", job.task),
                        ("crontab", crontab),
                        ("description", job.description),
                    )
                    if getattr(task, attr) != value
                ]
                for attr in changed:
                    setattr(task, attr, getattr(job, attr) if attr != "crontab" else crontab)
                if changed:
                    # Only a real change is saved: saving bumps beat's change counter.
                    task.interval = task.solar = task.clocked = None
                    task.save()
                state = "created" if created else ("updated" if changed else "unchanged")
                self.stdout.write(f"{job.name}: {job.task} [{state}]")
