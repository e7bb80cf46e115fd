"""A fund's books as rows of the workbook's layout: what the export writes, and what an
imported row is compared with when the record is already in the system.

Each `*_row` turns one record into a dict keyed by the layout's column keys, with the values
the reader gives for the same cells (choice codes, Decimals with their places, dates), so
that an exported workbook read back compares equal, row by row. Querysets are read with
`iterator()`, so the export's memory does not grow with the books.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import F, OuterRef, Q, QuerySet, Subquery

from banks.models import CooperationAgreement, Institution, Product
from enterprises.models import Enterprise, IPAsset
from fundmgr.ground.funds.models import Fund, LedgerEntry
from fundmgr.ground.funds.selectors import fund_balance
from loans.models import Claim, LoanFiling, Pledge, Recovery, StatusReport

CHUNK = 2000


def blank(value: Any) -> Any:
    """'' and None are the same empty cell."""
    return None if value == "" else value


def fund_row(fund: Fund, *, today: dt.date) -> dict[str, Any]:
    return {"code": fund.code, "name": fund.name, "as_of": today, "balance": fund_balance(fund=fund)}


def enterprise_row(e: Enterprise) -> dict[str, Any]:
    return {
        "uscc": e.uscc,
        "name": e.name,
        "region_code": e.region_code,
        "industry_code": e.industry_code,
        "registered_on": e.registered_on,
        "employees": e.employees,
        "annual_revenue": e.annual_revenue,
        "total_assets": e.total_assets,
        "size_class": blank(e.size_class),
        "legal_representative": blank(e.legal_representative),
        "contact_name": blank(e.contact_name),
        "contact_phone": blank(e.contact_phone),
        "credit_report_date": e.credit_report_date,
        "credit_record_clean": e.credit_record_clean,
        "status": e.status,
        "admitted_on": e.admitted_on,
        "admitted_until": e.admitted_until,
    }


def ip_row(a: IPAsset, *, uscc: str) -> dict[str, Any]:
    return {
        "enterprise_uscc": uscc,
        "kind": a.kind,
        "number": a.number,
        "title": a.title,
        "owner_name": blank(a.owner_name),
        "nice_class": a.nice_class,
        "filed_on": a.filed_on,
        "expires_on": a.expires_on,
        "status": a.status,
    }


def institution_row(i: Institution) -> dict[str, Any]:
    return {
        "code": i.code,
        "name": i.name,
        "kind": i.kind,
        "region_code": blank(i.region_code),
        "uscc": blank(i.uscc),
        "contact_name": blank(i.contact_name),
        "contact_phone": blank(i.contact_phone),
        "contact_email": blank(i.contact_email),
        "status": i.status,
    }


def agreement_row(a: CooperationAgreement, *, institution_code: str) -> dict[str, Any]:
    return {
        "institution_code": institution_code,
        "valid_from": a.valid_from,
        "signed_on": a.signed_on,
        "valid_until": a.valid_until,
        "fund_share": a.fund_share,
        "bank_share": a.bank_share,
        "insurer_share": a.insurer_share,
        "valuer_share": a.valuer_share,
        "quota": a.quota,
        "reserve_deposit": a.reserve_deposit,
        "document_ref": blank(a.document_ref),
        "filings_status": a.filings_status,
    }


def product_row(p: Product, *, institution_code: str) -> dict[str, Any]:
    return {
        "institution_code": institution_code,
        "code": p.code,
        "version": p.version,
        "name": p.name,
        "status": p.status,
        "accepted_ip_kinds": list(p.accepted_ip_kinds or []),
        "max_principal": p.max_principal,
        "max_term_months": p.max_term_months,
        "max_annual_rate": p.max_annual_rate,
        "max_pledge_rate": p.max_pledge_rate,
        "filed_on": p.filed_on,
        "withdrawn_on": p.withdrawn_on,
    }


def _latest_report():
    return StatusReport.objects.filter(filing=OuterRef("pk"), is_current=True).order_by("-as_of", "-id")


def loans_with_report(qs: QuerySet[LoanFiling]) -> QuerySet[LoanFiling]:
    """Filings with their latest current monthly report's figures annotated (report_*)."""
    latest = _latest_report()
    return qs.annotate(
        report_as_of=Subquery(latest.values("as_of")[:1]),
        report_overdue_principal=Subquery(latest.values("overdue_principal")[:1]),
        report_overdue_interest=Subquery(latest.values("overdue_interest")[:1]),
        report_days_overdue=Subquery(latest.values("days_overdue")[:1]),
        report_risk_class=Subquery(latest.values("risk_class")[:1]),
    )


def loan_row(f: LoanFiling, *, institution_code: str, enterprise_uscc: str) -> dict[str, Any]:
    return {
        "institution_code": institution_code,
        "contract_no": f.contract_no,
        "reference": f.reference,
        # Loans filed here are not historical; those that came from the books were accepted
        # without a filing through the API (their first log entry says imported).
        "historical": getattr(f, "was_imported", False),
        "enterprise_uscc": enterprise_uscc,
        "principal": f.principal,
        "pledge_type": f.pledge_type,
        "covered_principal": f.covered_principal,
        "annual_rate": f.annual_rate,
        "disbursed_on": f.disbursed_on,
        "matures_on": f.matures_on,
        "purpose": blank(f.purpose),
        "status": f.status,
        "accepted_on": f.accepted_on,
        "loan_status": f.loan_status,
        "fund_share": f.fund_share,
        "bank_share": f.bank_share,
        "insurer_share": f.insurer_share,
        "valuer_share": f.valuer_share,
        "outstanding_principal": f.outstanding_principal,
        "covered_outstanding": f.covered_outstanding,
        "settled_on": f.settled_on,
        "report_as_of": getattr(f, "report_as_of", None),
        "overdue_principal": getattr(f, "report_overdue_principal", None),
        "overdue_interest": getattr(f, "report_overdue_interest", None),
        "days_overdue": getattr(f, "report_days_overdue", None),
        "risk_class": getattr(f, "report_risk_class", None),
        "product_code": f.product.code if f.product_id else None,
        "product_version": f.product.version if f.product_id else None,
    }


def pledge_row(
    p: Pledge, *, institution_code: str, contract_no: str, kind: str, number: str
) -> dict[str, Any]:
    return {
        "institution_code": institution_code,
        "contract_no": contract_no,
        "ip_kind": kind,
        "ip_number": number,
        "registration_no": p.registration_no,
        "registered_on": p.registered_on,
        "appraised_value": p.appraised_value,
        "released_on": p.released_on,
    }


def claim_row(c: Claim, *, institution_code: str, contract_no: str) -> dict[str, Any]:
    return {
        "reference": c.reference,
        "institution_code": institution_code,
        "contract_no": contract_no,
        "status": c.status,
        "trigger_date": c.trigger_date,
        "outstanding_principal": c.outstanding_principal,
        "recovered_before_claim": c.recovered_before_claim,
        "submitted_on": c.submitted_on,
        "loss_base": c.loss_base,
        "fund_share": c.fund_share,
        "claimable_amount": c.claimable_amount,
        "approved_amount": c.approved_amount,
        "approved_on": c.approved_on,
        "meeting_ref": blank(c.meeting_ref),
        "paid_amount": c.paid_amount,
        "paid_on": c.paid_on,
    }


def recovery_row(r: Recovery, *, claim_reference: str) -> dict[str, Any]:
    return {
        "claim_reference": claim_reference,
        "received_on": r.received_on,
        "gross_amount": r.gross_amount,
        "costs": r.costs,
        "source": r.source,
        "fund_amount": r.fund_amount,
        "due_on": r.due_on,
        "status": r.status,
        "returned_on": r.returned_on,
    }


def ledger_row(e: LedgerEntry, *, claim_reference: str | None) -> dict[str, Any]:
    return {
        "value_date": e.value_date,
        "entry_type": e.entry_type,
        "government_level": blank(e.government_level),
        "amount": e.amount,
        "reference": blank(e.reference),
        "claim_reference": claim_reference,
        "description": blank(e.description),
    }


# --- what the export reads ------------------------------------------------------------------------


def imported_filing_ids(fund: Fund) -> set[int]:
    """Filings of the fund whose history starts with an import (historical loans)."""
    from django.contrib.contenttypes.models import ContentType
    from django_fsm_log.models import StateLog

    from fundmgr.ground.accounts.imports import IMPORTED

    return set(
        StateLog.objects.filter(
            content_type=ContentType.objects.get_for_model(LoanFiling),
            transition=IMPORTED,
            object_id__in=LoanFiling.objects.filter(fund=fund).values("pk"),
        ).values_list("object_id", flat=True)
    )


def institutions_of(fund: Fund) -> QuerySet[Institution]:
    return (
        Institution.objects.filter(Q(agreements__fund=fund) | Q(filings__fund=fund))
        .distinct()
        .order_by("code")
    )


def books_rows(fund: Fund, *, today: dt.date) -> dict[str, Iterable[dict[str, Any]]]:
    """Every sheet's rows for `fund`, as lazy iterators (the export streams them)."""

    def enterprises() -> Iterator[dict[str, Any]]:
        for e in Enterprise.objects.filter(fund=fund).order_by("uscc").iterator(CHUNK):
            yield enterprise_row(e)

    def ip() -> Iterator[dict[str, Any]]:
        qs = (
            IPAsset.objects.filter(enterprise__fund=fund)
            .annotate(uscc=F("enterprise__uscc"))
            .order_by("enterprise__uscc", "kind", "number")
        )
        for a in qs.iterator(CHUNK):
            yield ip_row(a, uscc=a.uscc)

    def institutions() -> Iterator[dict[str, Any]]:
        for i in institutions_of(fund).iterator(CHUNK):
            yield institution_row(i)

    def agreements() -> Iterator[dict[str, Any]]:
        qs = CooperationAgreement.objects.filter(fund=fund).select_related("institution")
        for a in qs.order_by("institution__code", "valid_from").iterator(CHUNK):
            yield agreement_row(a, institution_code=a.institution.code)

    def products() -> Iterator[dict[str, Any]]:
        qs = Product.objects.filter(fund=fund).annotate(inst_code=F("institution__code"))
        for p in qs.order_by("institution__code", "code", "version").iterator(CHUNK):
            yield product_row(p, institution_code=p.inst_code)

    def loans() -> Iterator[dict[str, Any]]:
        imported = imported_filing_ids(fund)
        qs = (
            loans_with_report(LoanFiling.objects.filter(fund=fund))
            .annotate(inst_code=F("institution__code"), uscc=F("enterprise__uscc"))
            .select_related("product")
        )
        for f in qs.order_by("institution__code", "contract_no").iterator(CHUNK):
            f.was_imported = f.pk in imported
            yield loan_row(f, institution_code=f.inst_code, enterprise_uscc=f.uscc)

    def pledges() -> Iterator[dict[str, Any]]:
        qs = Pledge.objects.filter(filing__fund=fund).values_list(
            "filing__institution__code",
            "filing__contract_no",
            "ip_asset__kind",
            "ip_asset__number",
            "registration_no",
            "registered_on",
            "appraised_value",
            "released_on",
        )
        for row in qs.order_by("filing__institution__code", "filing__contract_no", "id").iterator(CHUNK):
            code, contract, kind, number, reg_no, reg_on, value, released = row
            yield {
                "institution_code": code,
                "contract_no": contract,
                "ip_kind": kind,
                "ip_number": number,
                "registration_no": reg_no,
                "registered_on": reg_on,
                "appraised_value": value,
                "released_on": released,
            }

    def claims() -> Iterator[dict[str, Any]]:
        qs = Claim.objects.filter(fund=fund).select_related("institution", "filing")
        for c in qs.order_by("reference").iterator(CHUNK):
            yield claim_row(c, institution_code=c.institution.code, contract_no=c.filing.contract_no)

    def recoveries() -> Iterator[dict[str, Any]]:
        qs = Recovery.objects.filter(claim__fund=fund).select_related("claim")
        for r in qs.order_by("claim__reference", "received_on", "id").iterator(CHUNK):
            yield recovery_row(r, claim_reference=r.claim.reference)

    def ledger() -> Iterator[dict[str, Any]]:
        qs = LedgerEntry.objects.filter(fund=fund).select_related("claim")
        for e in qs.order_by("value_date", "id").iterator(CHUNK):
            yield ledger_row(e, claim_reference=e.claim.reference if e.claim_id else None)

    return {
        "fund": [fund_row(fund, today=today)],
        "enterprises": enterprises(),
        "ip": ip(),
        "institutions": institutions(),
        "agreements": agreements(),
        "products": products(),
        "loans": loans(),
        "pledges": pledges(),
        "claims": claims(),
        "recoveries": recoveries(),
        "ledger": ledger(),
    }
