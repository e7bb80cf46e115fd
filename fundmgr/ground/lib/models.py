"""Reference data shared by every app."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class WorkdayOverride(models.Model):
    """One day whose working status differs from (or is missing in) the holidays library.

    Used to enter each year's State Council arrangement (放假安排通知) before the library
    ships it, or to correct the library. Takes precedence over the library.
    """

    date = models.DateField(_("日期"), unique=True)
    is_working_day = models.BooleanField(
        _("是否工作日"), help_text=_("勾选：当天上班（如调休补班）；不勾选：当天休息（如法定节假日）")
    )
    note = models.CharField(
        _("依据/说明"), max_length=200, blank=True, help_text=_("例如：2027年国务院办公厅通知")
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("工作日调整")
        verbose_name_plural = _("工作日调整")
        ordering = ["date"]

    def __str__(self) -> str:
        status = gettext("上班") if self.is_working_day else gettext("休息")
        return f"{self.date:%Y-%m-%d} {status}"


class IdempotencyRecord(models.Model):
    """The first response to a POST sent with an `Idempotency-Key`, replayed for retries.

    A row is inserted with `status_code` null before the view runs; the unique constraint on
    (scope, key, method, path) is what makes two concurrent duplicates run the view only once.
    `status_code` and the body are filled in when the view answers 2xx/4xx; on 5xx the row is
    deleted so the client may retry — unless `acted_at` says the request's work was committed
    (it is set inside the request's own business transaction): then the row keeps an answer
    saying so, and a retry never does the work twice. See `fundmgr.ground.lib.idempotency`.
    """

    scope = models.CharField(_("调用方范围"), max_length=100, help_text=_("inst:<机构ID> 或 user:<用户ID>"))
    key = models.CharField(_("幂等键"), max_length=255)
    method = models.CharField(_("请求方法"), max_length=10)
    path = models.CharField(_("请求路径"), max_length=300)
    request_hash = models.CharField(_("请求内容摘要"), max_length=64, help_text=_("规范化请求体的 SHA-256"))
    status_code = models.PositiveSmallIntegerField(
        _("响应状态码"), null=True, blank=True, help_text=_("为空表示处理中")
    )
    response_body = models.BinaryField(_("响应内容"), default=b"", blank=True)
    response_content_type = models.CharField(_("响应内容类型"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    acted_at = models.DateTimeField(
        _("业务提交时间"),
        null=True,
        blank=True,
        help_text=_("请求的业务写入已提交（与业务写入同一事务记录）"),
    )

    class Meta:
        verbose_name = _("幂等请求记录")
        verbose_name_plural = _("幂等请求记录")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "key", "method", "path"], name="lib_idempotency_record_unique_key"
            )
        ]
        indexes = [models.Index(fields=["created_at"], name="lib_idem_created_at_idx")]

    def __str__(self) -> str:
        return f"{self.scope} {self.method} {self.path} [{self.key}]"

    @property
    def is_completed(self) -> bool:
        return self.status_code is not None


def prime_related(instance: models.Model, **related: list) -> None:
    """Fill `instance`'s prefetch cache for to-many relations whose rows the caller already
    holds (just written, say): `instance.<name>.all()` then answers from them, as after
    `prefetch_related(<name>)`, without a query."""
    cache = instance.__dict__.setdefault("_prefetched_objects_cache", {})
    for name, rows in related.items():
        queryset = getattr(instance, name).all()
        queryset._result_cache = list(rows)
        queryset._prefetch_done = True
        cache[name] = queryset
