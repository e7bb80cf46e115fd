"""Documents filed with a loan or its claim (借款合同、质押登记通知书 …), stored by content hash."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .filings import LoanFiling


class DocumentKind(models.TextChoices):
    LOAN_CONTRACT = "loan_contract", _("借款合同")
    PLEDGE_CONTRACT = "pledge_contract", _("质押合同")
    PLEDGE_REGISTRATION_NOTICE = "pledge_registration_notice", _("质押登记通知书")
    VALUATION_REPORT = "valuation_report", _("评估报告")
    DISBURSEMENT_VOUCHER = "disbursement_voucher", _("放款凭证")
    CLAIM_APPLICATION = "claim_application", _("补偿申请表")
    OVERDUE_EVIDENCE = "overdue_evidence", _("逾期及风险分类证明")
    COLLECTION_RECORDS = "collection_records", _("催收记录")
    LEGAL_DOCUMENTS = "legal_documents", _("诉讼、仲裁或执行文书")
    LOSS_COMPUTATION = "loss_computation", _("损失计算表")
    WRITE_OFF_FILE = "write_off_file", _("核销材料")
    OTHER = "other", _("其他")


def _document_path(instance, filename: str) -> str:
    # The stored name is the checksum: never the client's file name, which is not trusted.
    return f"filings/{instance.filing_id}/{instance.sha256}.{instance.extension}"


class FilingDocument(models.Model):
    filing = models.ForeignKey(
        LoanFiling, verbose_name=_("备案"), on_delete=models.PROTECT, related_name="documents"
    )
    claim = models.ForeignKey(
        "loans.Claim",
        verbose_name=_("补偿申请"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="documents",
        help_text=_("补偿申请的材料同时归档在其贷款备案下"),
    )
    kind = models.CharField(_("类型"), max_length=32, choices=DocumentKind.choices)
    file = models.FileField(_("文件"), upload_to=_document_path, max_length=300)
    original_name = models.CharField(_("原文件名"), max_length=255)
    content_type = models.CharField(_("文件类型"), max_length=64)
    extension = models.CharField(max_length=8)
    size = models.PositiveIntegerField(_("大小(字节)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), null=True, on_delete=models.PROTECT
    )

    class Meta:
        verbose_name = _("备案材料")
        verbose_name_plural = _("备案材料")
        ordering = ["filing", "uploaded_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.original_name}"
