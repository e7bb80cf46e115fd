"""What a monthly status report must meet (domain-rules §7): pure checks over its figures,
shared by `status_report_submit` and the books import of a loan's latest report."""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal

from django.utils.translation import gettext as _

from fundmgr.ground.lib import workdays
from fundmgr.ground.lib.errors import Violation
from loans.errors import LoansError


def _month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def report_due_on(month_end: dt.date, working_days: int) -> dt.date:
    """The last day a bank may send its report for the month ending `month_end`: the fund
    policy's N-th working day of the next month (`status_report_due_working_days`)."""
    return workdays.add_working_days(month_end, working_days)


def check_report(
    *,
    as_of: dt.date,
    days_overdue: int,
    outstanding: Decimal,
    overdue_principal: Decimal,
    principal: Decimal,
    disbursed_on: dt.date,
    today: dt.date,
) -> list[Violation]:
    """A month that has ended, at or after the disbursement month; days overdue that fit in
    the loan's life so far; a balance within the principal; overdue principal within it."""
    violations: list[Violation] = []
    if as_of != _month_end(as_of):
        violations.append(
            Violation(LoansError.AS_OF_NOT_MONTH_END, _("报告日期须为月末日期，例如 2026-11-30"), "as_of")
        )
    elif as_of >= today:
        violations.append(
            Violation(
                LoansError.REPORT_PERIOD_NOT_ENDED,
                _("%(month)s 尚未结束，不能报送该月报告") % {"month": f"{as_of:%Y-%m}"},
                "as_of",
            )
        )
    elif as_of < _month_end(disbursed_on):
        violations.append(
            Violation(
                LoansError.REPORT_BEFORE_DISBURSEMENT,
                _("报告月份早于放款月份（放款日 %(date)s）") % {"date": disbursed_on.isoformat()},
                "as_of",
            )
        )
    elif days_overdue > (as_of - disbursed_on).days:
        violations.append(
            Violation(
                LoansError.DAYS_OVERDUE_IMPOSSIBLE,
                _("逾期天数不能超过放款日至报告日的天数（%(days)s天）")
                % {"days": (as_of - disbursed_on).days},
                "days_overdue",
            )
        )
    if outstanding > principal:
        violations.append(
            Violation(
                LoansError.OUTSTANDING_EXCEEDS_PRINCIPAL,
                _("贷款余额不能超过贷款本金 %(principal)s 元") % {"principal": principal},
                "outstanding_principal",
            )
        )
    if overdue_principal > outstanding:
        violations.append(
            Violation(
                LoansError.OVERDUE_EXCEEDS_OUTSTANDING, _("逾期本金不能超过贷款余额"), "overdue_principal"
            )
        )
    return violations
