"""Bringing historical loans, their pledges, claims paid and recoveries in from a fund's old
books (台账导入).

A historical loan keeps what the books say it had: its acceptance date, the shares frozen
then (whatever the agreement says today), the policy version in force then, its state and its
latest monthly report. It is judged by the same automatic checks as a filing (loans.rules),
as of the day it was accepted and under the policy of that day, except the filing deadline,
which old books could not have met here; a loan naming a filed product is judged by that
product's terms as it stood then. Limits that depend on the whole book at a moment (the
enterprise's exposure, the fund's capacity) are checked on the book as it stands after the
import, since the balances between old monthly reports are not in the books. A claim's amount
is the claim rules' computation with every cap, on its approval day; a recovery's part for the
fund, the recovery rules' proportion (both loans.rules.claims, checked by the books import).

Everything runs inside the importer's single transaction (no durable block of its own; the
public services open theirs and cannot nest): all of the books, or nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q, Sum
from django.db.models.functions import Coalesce

from banks.rules import check_can_file
from fundmgr.ground.accounts.imports import ImportedState, bulk_insert, log_imported
from fundmgr.ground.lib import workdays
from fundmgr.ground.lib.errors import Violation
from fundmgr.ground.lib.money import ZERO, quantize
from loans.errors import LoansError

from ..events import BOOK_CHANGED
from ..models import (
    Claim,
    FilingStatus,
    LoanFiling,
    LoanStatus,
    Pledge,
    Recovery,
    ReferenceCounter,
    StatusReport,
)
from ..rules import filings as rules
from ..selectors.filings import live_filings
from .book import book_resum
from .servicing import target_loan_status

# The states a historical loan may arrive in (accepted loans only: the others never were
# covered). A loan in claim arrives with its paid claim, so compensated or closed.
IMPORTABLE_LOAN_STATUSES = (
    LoanStatus.PERFORMING,
    LoanStatus.OVERDUE,
    LoanStatus.NON_PERFORMING,
    LoanStatus.SETTLED,
    LoanStatus.COMPENSATED,
    LoanStatus.CLOSED,
)
REPORTED_LOAN_STATUSES = (LoanStatus.PERFORMING, LoanStatus.OVERDUE, LoanStatus.NON_PERFORMING)
# Claims from the books are claims the fund has paid.
IMPORTABLE_CLAIM_STATUSES = ("in_recovery", "closed", "written_off")
IMPORTABLE_RECOVERY_STATUSES = ("return_due", "returned")
# The one automatic check a loan marked historical is spared.
SPARED_FOR_HISTORICAL = frozenset({LoansError.FILING_DEADLINE_PASSED})


@dataclass(frozen=True, slots=True)
class ProductTerms:
    """The filed product a historical loan names, as it stood when the loan was judged."""

    filed: bool  # filed (and not withdrawn) on the day the loan is judged
    max_term_months: int | None
    max_annual_rate: Decimal | None


@dataclass(frozen=True, slots=True)
class LoanTerms:
    principal: Decimal
    covered_principal: Decimal | None
    pledge_type: str
    annual_rate: Decimal
    disbursed_on: dt.date
    matures_on: dt.date


def _facts(
    *,
    terms: LoanTerms,
    policy,
    judged_on: dt.date,
    fund_active: bool,
    enterprise_admitted: bool,
    institution_violations: list[Violation],
    product: ProductTerms | None = None,
    pledges: Sequence[rules.PledgeFacts] = (),
) -> rules.FilingFacts:
    return rules.FilingFacts(
        today=judged_on,
        fund_active=fund_active,
        enterprise_admitted=enterprise_admitted,
        institution_violations=institution_violations,
        requires_product_filing=policy.requires_product_filing,
        product_filed=product is not None and product.filed,
        principal=terms.principal,
        covered_principal=terms.covered_principal,
        pledge_type=terms.pledge_type,
        combined_pledge_allowed=policy.combined_pledge_allowed,
        min_ip_share=policy.min_ip_share,
        annual_rate=terms.annual_rate,
        max_annual_rate=policy.max_annual_rate,
        disbursed_on=terms.disbursed_on,
        matures_on=terms.matures_on,
        max_term_months=policy.max_term_months,
        filing_deadline=workdays.add_working_days(terms.disbursed_on, policy.filing_deadline_working_days),
        deadline_working_days=policy.filing_deadline_working_days,
        # Checked on the whole book after the import (rules.check_enterprise_exposure and
        # rules.check_fund_capacity, by the books import), not per loan.
        enterprise_live_exposure=ZERO,
        max_enterprise_exposure=None,
        fund_covered_outstanding=ZERO,
        fund_capacity=None,
        accepted_ip_kinds=policy.accepted_ip_kinds,
        pledges=list(pledges),
        product_max_term_months=product.max_term_months if product else None,
        product_max_annual_rate=product.max_annual_rate if product else None,
    )


def institution_violations(*, status: str, has_agreement_in_force: bool, historical: bool) -> list[Violation]:
    """`banks.rules.check_can_file` for an imported loan. A historical loan was filed while
    the institution cooperated; it may have been suspended or terminated since."""
    if historical and status in ("active", "suspended", "terminated"):
        status = "active"
    return check_can_file(status=status, has_agreement_in_force=has_agreement_in_force)


def filing_checks(
    *,
    terms: LoanTerms,
    policy,
    judged_on: dt.date,
    historical: bool,
    fund_active: bool,
    enterprise_admitted: bool,
    institution_violations: list[Violation],
    product: ProductTerms | None = None,
) -> list[rules.Check]:
    """The filing's automatic checks that fail, as of `judged_on` (the acceptance date for a
    historical loan, today for one filed now) under `policy` (the version in force then)."""
    checks = rules.check_filing(
        _facts(
            terms=terms,
            policy=policy,
            judged_on=judged_on,
            fund_active=fund_active,
            enterprise_admitted=enterprise_admitted,
            institution_violations=institution_violations,
            product=product,
        )
    )
    return [c for c in checks if not c.passed and not (historical and c.code in SPARED_FOR_HISTORICAL)]


def pledge_checks(
    *, terms: LoanTerms, policy, judged_on: dt.date, pledge: rules.PledgeFacts
) -> list[rules.Check]:
    """The per-pledge checks (kind accepted, owned by the borrower, valid, lasting to maturity,
    not pledged to another live loan, registered) that fail, as of `judged_on`."""
    facts = _facts(
        terms=terms,
        policy=policy,
        judged_on=judged_on,
        fund_active=True,
        enterprise_admitted=True,
        institution_violations=[],
        pledges=[pledge],
    )
    return [c for c in rules.check_pledges(facts) if not c.passed]


@dataclass(frozen=True)
class ReportFacts:
    as_of: dt.date
    overdue_principal: Decimal
    overdue_interest: Decimal
    days_overdue: int
    risk_class: str


def expected_loan_status(*, policy, report: ReportFacts | None) -> str:
    """The status the latest monthly report gives a covered loan under its policy (performing
    without a report), as servicing would have moved it."""
    if report is None:
        return LoanStatus.PERFORMING
    return target_loan_status(
        policy=policy,
        days_overdue=report.days_overdue,
        risk_class=report.risk_class,
        overdue_principal=report.overdue_principal,
        overdue_interest=report.overdue_interest,
    )


def covered_outstanding(*, outstanding: Decimal, covered_principal: Decimal, principal: Decimal) -> Decimal:
    """The IP-covered part of the balance, as servicing keeps it."""
    return quantize(outstanding * covered_principal / principal)


# --- the book after the import ------------------------------------------------------------------


def live_exposure_by_enterprise(
    enterprise_ids: Iterable[int], *, exclude: Iterable[int] = ()
) -> dict[int, Decimal]:
    """`selectors.enterprise_live_exposure` for many enterprises in one query: pending filings
    at their principal, accepted loans at their outstanding balance (`exclude`: filings not
    to count, e.g. the ones being imported)."""
    rows = (
        live_filings()
        .filter(enterprise_id__in=list(enterprise_ids))
        .exclude(pk__in=list(exclude))
        .values("enterprise_id")
        .annotate(
            pending=Coalesce(Sum("principal", filter=~Q(status=FilingStatus.ACCEPTED)), ZERO),
            accepted=Coalesce(Sum("outstanding_principal", filter=Q(status=FilingStatus.ACCEPTED)), ZERO),
        )
    )
    return {r["enterprise_id"]: r["pending"] + r["accepted"] for r in rows}


# --- claims and recoveries ----------------------------------------------------------------------


def recovery_due_on(*, received_on: dt.date, policy) -> dt.date:
    return workdays.add_working_days(received_on, policy.recovery_return_working_days)


# --- writing ------------------------------------------------------------------------------------

_REFERENCE = re.compile(r"^(?P<prefix>[A-Z]{1,4})-(?P<year>\d{4})-(?P<n>\d{6})$")


def _reserve_references(fund, rows: Sequence[dict[str, Any]]) -> None:
    """Number the loans without a reference, per year of acceptance, from the fund's counters;
    a reference given in the fund's own pattern moves its year's counter past it, so that the
    filings of that year filed later never take it."""
    given: dict[int, int] = {}
    for row in rows:
        match = _REFERENCE.match(row.get("reference") or "")
        if match and match["prefix"] == fund.reference_prefix:
            year = int(match["year"])
            given[year] = max(given.get(year, 0), int(match["n"]))
    wanted = Counter(row["accepted_on"].year for row in rows if not row.get("reference"))
    numbers: dict[int, Iterable[int]] = {}
    for year in sorted(set(given) | set(wanted)):
        ReferenceCounter.objects.get_or_create(fund=fund, year=year)
        counter = ReferenceCounter.objects.select_for_update().get(fund=fund, year=year)
        start = max(counter.last, given.get(year, 0))
        counter.last = start + wanted.get(year, 0)
        counter.save(update_fields=["last"])
        numbers[year] = iter(range(start + 1, counter.last + 1))
    for row in rows:
        if not row.get("reference"):
            year = row["accepted_on"].year
            row["reference"] = f"{fund.reference_prefix}-{year}-{next(numbers[year]):06d}"


def filings_import_create(
    *, fund, rows: Sequence[dict[str, Any]], by, comment: str, today: dt.date
) -> list[LoanFiling]:
    """Create historical loans (rows already checked). Each row holds the filing's fields, an
    optional `report` (ReportFacts: its latest monthly report) and `loan_status_on` (since when
    it is in its loan state). The history of both lifecycles starts with `imported`."""
    rows = [dict(r) for r in rows]
    _reserve_references(fund, rows)
    filings = []
    for row in rows:
        fields = {k: v for k, v in row.items() if k not in ("report", "loan_status_on")}
        filings.append(LoanFiling(fund=fund, submitted_on=row["accepted_on"], **fields))
    filings = bulk_insert(filings)
    reports = [
        StatusReport(
            filing=filing,
            as_of=row["report"].as_of,
            outstanding_principal=filing.outstanding_principal,
            overdue_principal=row["report"].overdue_principal,
            overdue_interest=row["report"].overdue_interest,
            days_overdue=row["report"].days_overdue,
            risk_class=row["report"].risk_class,
            loan_status_after=filing.loan_status,
            reported_on=today,
            reported_by=by,
        )
        for filing, row in zip(filings, rows, strict=True)
        if row.get("report") is not None
    ]
    bulk_insert(reports)
    log_imported(
        [ImportedState(f, f.status, f.accepted_on) for f in filings]
        + [
            ImportedState(f, f.loan_status, row["loan_status_on"])
            for f, row in zip(filings, rows, strict=True)
        ],
        by=by,
        comment=comment,
    )
    return filings


def pledges_import_create(*, rows: Sequence[dict[str, Any]]) -> list[Pledge]:
    return bulk_insert([Pledge(**row) for row in rows])


def claims_import_create(*, rows: Sequence[dict[str, Any]], by, comment: str) -> list[Claim]:
    """Create paid claims (rows already checked, amounts computed)."""
    claims = [Claim(**row) for row in rows]
    claims = bulk_insert(claims)
    log_imported([ImportedState(c, c.status, c.paid_on) for c in claims], by=by, comment=comment)
    return claims


def recoveries_import_create(
    *, rows: Sequence[dict[str, Any]], by, comment: str, today: dt.date
) -> list[Recovery]:
    """Record recoveries (rows already checked, the fund's part as the rules compute it)."""
    recoveries = bulk_insert([Recovery(reported_on=today, **row) for row in rows])
    log_imported(
        [ImportedState(r, r.status, r.returned_on or r.received_on) for r in recoveries],
        by=by,
        comment=comment,
    )
    return recoveries


def book_import_finish(*, fund, since: dt.date | None, loans_added: bool) -> None:
    """After the import: the fund's kept figures are summed again from its loans (when loans
    came in), and every kept report figure since the earliest imported date is dropped."""
    if loans_added:
        book_resum(fund_ids=[fund.pk])
    if since is not None:
        BOOK_CHANGED.publish(fund_id=fund.pk, since=since)
