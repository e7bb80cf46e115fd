"""The fund's kept loan figures (covered outstanding, exposure, live loans) follow every change
of its loans exactly: after each step they equal a full re-sum, and `GET /api/v1/funds/`
shows them without re-summing."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection

from fundmgr.ground.accounts.principals import principal_for
from fundmgr.ground.funds.models import Fund
from fundmgr.ground.lib.errors import AppError
from loans.models import FundBook, LoanFiling
from loans.selectors.filings import book_drift
from loans.services.book import book_resum
from loans.services.claims import claim_transition
from loans.services.filings import filing_transition
from loans.services.servicing import filing_settle, status_report_submit
from tests.loans.conftest import accept_distinct, approved_claim, make_non_performing


def kept(fund: Fund) -> tuple[Decimal, Decimal, int]:
    """The fund's kept figures; a fund no loan has touched yet has no row: zeros."""
    row = FundBook.objects.filter(fund=fund).first()
    return (
        (row.covered_outstanding, row.exposure_exact, row.live_loans)
        if row
        else (Decimal("0.00"), Decimal("0"), 0)
    )


def report(personas, filing: LoanFiling, *, outstanding: str, days: int = 0, risk: str = "normal"):
    return status_report_submit(
        principal=principal_for(personas.user("bank_a")),
        filing_id=filing.pk,
        data={
            "as_of": dt.date(2026, 11, 30),
            "outstanding_principal": Decimal(outstanding),
            "overdue_principal": Decimal("0.00") if not days else Decimal(outstanding),
            "overdue_interest": Decimal("0.00"),
            "days_overdue": days,
            "risk_class": risk,
        },
    )


def pay_claim(personas, filing: LoanFiling) -> None:
    claim = approved_claim(personas, filing, "M-1")
    claim_transition(claim_id=claim.pk, name="pay", user=personas.user("finance"))


def test_kept_figures_follow_every_change_of_the_loans(personas, business_date):
    fund = Fund.objects.get(code="zhaoqing")
    business_date("2026-11-21")
    before = kept(fund)
    a, b, c, d = accept_distinct(personas, 4)
    share = a.fund_share
    assert kept(fund) == (
        before[0] + Decimal("8000000.00"),
        before[1] + Decimal("8000000.00") * share / 100,
        before[2] + 4,
    )
    assert book_drift() == {}

    business_date("2026-12-03")
    report(personas, a, outstanding="1500000.00")  # repaid in part
    assert kept(fund)[0] == before[0] + Decimal("7500000.00")
    assert book_drift() == {}
    report(personas, b, outstanding="2000000.00", days=10, risk="substandard")  # non-performing: still counts
    assert kept(fund)[0] == before[0] + Decimal("7500000.00")
    filing_settle(
        principal=principal_for(personas.user("bank_a")), filing_id=c.pk, settled_on=dt.date(2026, 12, 2)
    )
    assert kept(fund)[2] == before[2] + 3
    assert book_drift() == {}
    pay_claim(personas, LoanFiling.objects.get(pk=b.pk))  # compensated: leaves the book
    assert book_drift() == {}
    filing_transition(filing_id=d.pk, name="void", user=personas.user("approver"), comment="虚假备案")
    assert book_drift() == {}
    assert kept(fund) == (
        before[0] + Decimal("1500000.00"),
        before[1] + Decimal("1500000.00") * share / 100,
        before[2] + 1,
    )
    # What the funds list shows is the kept figure, rounded to the fen once.
    row = next(
        f
        for f in personas.client("officer").get("/api/v1/funds/").json()["results"]
        if f["code"] == "zhaoqing"
    )
    assert Decimal(row["figures"]["covered_outstanding"]) == kept(fund)[0]
    assert Decimal(row["figures"]["exposure"]) == kept(fund)[1].quantize(Decimal("0.01"))


def test_a_refused_step_leaves_the_figures_alone(personas, business_date):
    fund = Fund.objects.get(code="zhaoqing")
    business_date("2026-11-21")
    (a,) = accept_distinct(personas, 1)
    figures = kept(fund)
    business_date("2026-12-03")
    with pytest.raises(AppError):  # more outstanding than the principal: refused, nothing written
        report(personas, a, outstanding="2500000.00")
    assert kept(fund) == figures


def test_resum_repairs_drift(personas, business_date):
    fund = Fund.objects.get(code="zhaoqing")
    business_date("2026-11-21")
    accept_distinct(personas, 2)
    FundBook.objects.filter(fund=fund).update(covered_outstanding=0, live_loans=0)
    assert set(book_drift()) == {fund.pk}
    book_resum()
    assert book_drift() == {}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_kept_figures_stay_exact_under_concurrent_changes(personas, settings):
    """Acceptances, reports, a settlement, a payout and a void at the same moment on one fund."""
    settings.FUNDMGR_BUSINESS_DATE = "2026-11-21"
    loans = accept_distinct(personas, 4, tag="C")
    fund = Fund.objects.get(code="zhaoqing")
    a, b, c, d = loans
    make_non_performing(personas, b)
    settings.FUNDMGR_BUSINESS_DATE = "2026-12-03"
    bank = principal_for(personas.user("bank_a"))
    claim = approved_claim(personas, b, "M-2")

    steps = [
        lambda: report(personas, a, outstanding="1200000.00"),
        lambda: claim_transition(claim_id=claim.pk, name="pay", user=personas.user("finance")),
        lambda: filing_settle(principal=bank, filing_id=c.pk, settled_on=dt.date(2026, 12, 2)),
        lambda: filing_transition(
            filing_id=d.pk, name="void", user=personas.user("approver"), comment="虚假备案"
        ),
    ]
    barrier = threading.Barrier(len(steps))
    errors: list[BaseException] = []

    def run(step) -> None:
        try:
            barrier.wait(timeout=10)
            step()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(s,)) for s in steps]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert book_drift() == {}
    assert kept(fund)[0] == Decimal("1200000.00") + sum(
        (
            f.covered_outstanding
            for f in LoanFiling.objects.filter(fund=fund)
            .exclude(pk__in=[x.pk for x in loans])
            .filter(
                status="accepted", loan_status__in=("performing", "overdue", "non_performing", "in_claim")
            )
        ),
        Decimal("0.00"),
    )


def test_the_kept_cells_follow_an_enterprise_to_its_corrected_district(personas, business_date):
    from enterprises.services import enterprise_district_corrected
    from loans.models import BookCell

    business_date("2026-11-21")
    (a,) = accept_distinct(personas, 1)
    enterprise = a.enterprise
    old = enterprise.region_code
    new = "441203" if old != "441203" else "441202"
    assert BookCell.objects.filter(
        fund=a.fund, region_code=old, institution=a.institution, loans__gt=0
    ).exists()
    type(enterprise).objects.filter(pk=enterprise.pk).update(region_code=new)
    enterprise.refresh_from_db()
    enterprise_district_corrected(enterprise=enterprise)
    assert book_drift() == {}
    assert BookCell.objects.get(
        fund=a.fund, region_code=new, institution=a.institution
    ).covered_outstanding >= Decimal("2000000.00")
