"""The fund's loan book figures, kept as loans change instead of re-summed on every read.

One row per fund: the covered outstanding of its live covered loans and the exposure (the
fund's frozen share of it). Every service that changes a loan's contribution (acceptance,
a monthly report, settlement, payout, voiding) adds the difference in the same transaction,
holding this row's lock; acceptance takes the lock before checking the fund's capacity, so
two acceptances never both fit into the last of it. `loans.services.book.book_resum`
rebuilds the rows from the loans (after a bulk load) and `book_drift` compares them.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from .filings import MONEY


class FundBook(models.Model):
    fund = models.OneToOneField(
        "funds.Fund", verbose_name=_("资金"), on_delete=models.CASCADE, primary_key=True, related_name="book"
    )
    covered_outstanding = models.DecimalField(_("在保担保覆盖余额(元)"), default=0, **MONEY)
    # Σ covered outstanding × fund share ÷ 100, unrounded: two places × two places ÷ 100 is
    # exact at six; rounded to the fen only when read, like the re-sum it replaces.
    exposure_exact = models.DecimalField(
        _("资金风险敞口(元，未舍入)"), max_digits=24, decimal_places=6, default=0
    )
    live_loans = models.PositiveIntegerField(_("在保贷款笔数"), default=0)

    class Meta:
        verbose_name = _("资金在保余额")
        verbose_name_plural = _("资金在保余额")

    def __str__(self) -> str:
        return f"{self.fund_id}: {self.covered_outstanding}"


class BookCell(models.Model):
    """The same kept figures, per district and bank within the fund, by the loans' class: what
    the reports read for today's book instead of summing every loan."""

    fund = models.ForeignKey("funds.Fund", verbose_name=_("资金"), on_delete=models.CASCADE, related_name="+")
    region_code = models.CharField(_("行政区划代码"), max_length=6)
    institution = models.ForeignKey(
        "banks.Institution", verbose_name=_("合作机构"), on_delete=models.CASCADE, related_name="+"
    )
    loans = models.IntegerField(_("在保贷款笔数"), default=0)
    covered_outstanding = models.DecimalField(_("担保覆盖余额(元)"), default=0, **MONEY)
    exposure_exact = models.DecimalField(
        _("资金风险敞口(元，未舍入)"), max_digits=24, decimal_places=6, default=0
    )
    overdue_loans = models.IntegerField(_("逾期笔数"), default=0)
    overdue_amount = models.DecimalField(_("逾期覆盖余额(元)"), default=0, **MONEY)
    npl_loans = models.IntegerField(_("不良笔数"), default=0)
    npl_amount = models.DecimalField(_("不良覆盖余额(元)"), default=0, **MONEY)

    class Meta:
        verbose_name = _("在保余额分组")
        verbose_name_plural = _("在保余额分组")
        constraints = [
            models.UniqueConstraint(fields=["fund", "region_code", "institution"], name="book_cell_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.fund_id}/{self.region_code}/{self.institution_id}: {self.covered_outstanding}"
