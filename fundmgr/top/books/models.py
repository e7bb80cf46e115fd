"""An upload of a fund's workbook: the file, its dry-run report, and the import if confirmed.

The model also carries the dedicated permission `books.import_workbook` (导入台账): staff
without it can neither upload nor import, whatever their role.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportRun(models.Model):
    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("已上传")
        VALIDATING = "validating", _("校验中")
        INVALID = "invalid", _("有错误")
        VALIDATED = "validated", _("校验通过")
        IMPORTING = "importing", _("导入中")
        IMPORTED = "imported", _("已导入")
        FAILED = "failed", _("导入未完成")

    file = models.FileField(_("工作簿"), upload_to="books/%Y/%m/")
    file_name = models.CharField(_("文件名"), max_length=255)
    fund = models.ForeignKey(
        "funds.Fund",
        verbose_name=_("资金"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.UPLOADED)
    report = models.JSONField(_("校验结果"), default=dict, blank=True)
    error_count = models.PositiveIntegerField(_("错误数"), default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("导入人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    imported_at = models.DateTimeField(_("导入时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("台账导入")
        verbose_name_plural = _("台账导入")
        ordering = ["-uploaded_at", "-id"]
        default_permissions = ("view",)
        permissions = [("import_workbook", _("导入台账"))]

    def __str__(self) -> str:
        return f"{self.file_name}（{self.get_status_display()}）"
