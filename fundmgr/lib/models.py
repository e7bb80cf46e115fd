"""Reference data shared by every app."""

from __future__ import annotations

from django.db import models


class WorkdayOverride(models.Model):
    """One day whose working status differs from (or is missing in) the holidays library.

    Used to enter each year's State Council arrangement (放假安排通知) before the library
    ships it, or to correct the library. Takes precedence over the library.
    """

    date = models.DateField("日期", unique=True)
    is_working_day = models.BooleanField(
        "是否工作日", help_text="勾选：当天上班（如调休补班）；不勾选：当天休息（如法定节假日）"
    )
    note = models.CharField("依据/说明", max_length=200, blank=True, help_text="例如：2027年国务院办公厅通知")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "工作日调整"
        verbose_name_plural = "工作日调整"
        ordering = ["date"]

    def __str__(self) -> str:
        status = "上班" if self.is_working_day else "休息"
        return f"{self.date:%Y-%m-%d} {status}"
