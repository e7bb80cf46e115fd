"""Bringing enterprises and their IP rights in from a fund's old books (台账导入).

The import of a whole workbook is one transaction, all or nothing, so these functions do not
open a durable transaction of their own (the public services do, and cannot nest): they run
inside the importer's. Each record arrives in the state the old books had it in; its history
starts with an `imported` entry (accounts.imports) dated when it entered that state.

The checks are the registration's own rules (enterprises.rules), applied as of the day the
enterprise was admitted: an enterprise admitted in 2021 is judged by the policy in force then.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fundmgr.ground.accounts.imports import (
    ImportedState,
    bulk_insert_with_history,
    bulk_update_with_history,
    log_imported,
)
from fundmgr.ground.lib.errors import AppError, Violation

from . import rules
from .errors import EnterprisesError
from .events import DISTRICT_CHANGED
from .models import Enterprise, IPAsset
from .sme import SMEResult, SMEThresholdError, classify_sme, threshold_rows_from_db, yuan_to_wan

# The states an enterprise has been admitted in (its admission date is a fact of the books).
ADMITTED_ONCE = (
    Enterprise.Status.ADMITTED,
    Enterprise.Status.SUSPENDED,
    Enterprise.Status.EXPIRED,
    Enterprise.Status.REMOVED,
)
# What a new enterprise may arrive in: an application waiting for review, or admitted once.
IMPORTABLE_STATUSES = (Enterprise.Status.SUBMITTED, *ADMITTED_ONCE)
# Fields an import may correct on an enterprise already registered.
UPDATABLE_FIELDS = rules.ENTERPRISE_DATA_FIELDS
IP_UPDATABLE_FIELDS = ("title", "owner_name", "nice_class", "filed_on", "expires_on", "status")


def sme_classifier(*, on: dt.date) -> Callable[..., SMEResult]:
    """Classify many enterprises against the standard in force on `on`, reading its table once.
    The callable raises AppError (sme_industry_code_*) for an unusable industry code."""
    rows = threshold_rows_from_db(as_of=on)

    def classify(
        *,
        industry_code: str,
        employees: int | None,
        annual_revenue: Decimal | None,
        total_assets: Decimal | None,
    ) -> SMEResult:
        try:
            return classify_sme(
                industry_code=industry_code,
                employees=employees,
                revenue_wan=None if annual_revenue is None else yuan_to_wan(annual_revenue),
                total_assets_wan=None if total_assets is None else yuan_to_wan(total_assets),
                rows=rows,
            )
        except SMEThresholdError as exc:
            raise AppError(
                EnterprisesError.SME_INDUSTRY_CODE_INVALID, str(exc), field="industry_code"
            ) from exc

    return classify


@dataclass(frozen=True)
class AdmissionFacts:
    uscc: str
    region_code: str
    registered_on: dt.date
    size_class: str
    size_missing: Sequence[str]
    credit_report_date: dt.date | None
    credit_record_clean: bool | None
    admitted_on: dt.date


def admission_violations(
    facts: AdmissionFacts,
    *,
    fund_region_code: str,
    policy,
    assets: Iterable[rules.IPFacts],
    today: dt.date,
) -> list[Violation]:
    """Why an enterprise could not have been admitted on `facts.admitted_on` under `policy` (the
    version in force that day): the review step's eligibility rules (`rules.evaluate`), as of
    that day. A right's legal status then is not in the books, so each counts as valid if it
    had not expired by then; the credit report may postdate the admission (a renewal), so it
    is checked against today. Findings still open (a figure or report missing) do not refuse:
    the reviewer of the time admitted with them, as the review step allows."""
    result = rules.evaluate(
        uscc=facts.uscc,
        region_code=facts.region_code,
        registered_on=facts.registered_on,
        size_class=facts.size_class,
        size_missing=facts.size_missing,
        credit_report_date=facts.credit_report_date,
        credit_record_clean=facts.credit_record_clean,
        assets=[rules.IPFacts(kind=a.kind, status="valid", expires_on=a.expires_on) for a in assets],
        fund_region_code=fund_region_code,
        policy=policy,
        today=facts.admitted_on,
        credit_checked_on=today,
    )
    return [Violation(f.code, f.message, f.field) for f in result.failed]


def enterprises_import_create(
    *, fund, rows: Sequence[dict[str, Any]], by, comment: str, today: dt.date
) -> list[Enterprise]:
    """Create enterprises in the states the books give (rows already checked), with their
    history (who imported them) and an `imported` entry dated on admission (or today for an
    application still waiting). Runs inside the importer's transaction."""
    enterprises = [
        Enterprise(fund=fund, **{k: v for k, v in row.items() if k != "row"}) for row in rows
    ]  # fmt: skip
    created = bulk_insert_with_history(enterprises, by=by, reason=comment)
    log_imported(
        [ImportedState(e, e.status, e.admitted_on or today) for e in created], by=by, comment=comment
    )
    return created


def enterprises_import_update(
    *, changes: Sequence[tuple[Enterprise, dict[str, Any]]], by, comment: str
) -> list[Enterprise]:
    """Correct enterprises' data from the books (fields in UPDATABLE_FIELDS, and the SME class
    that follows the figures). A changed district moves the fund's loans in the reports."""
    moved = {e.fund_id for e, values in changes if values.get("region_code", e.region_code) != e.region_code}
    updated = bulk_update_with_history(
        changes, allowed=(*UPDATABLE_FIELDS, "size_class", "size_basis"), by=by, reason=comment
    )
    for fund_id in sorted(moved):
        DISTRICT_CHANGED.publish(fund_id=fund_id, since=dt.date.min)
    return updated


def ip_assets_import_create(*, rows: Sequence[dict[str, Any]], by, comment: str) -> list[IPAsset]:
    """Create IP rights (rows already checked: numbers normalised, owner known, expiry set)."""
    assets = [IPAsset(**{k: v for k, v in row.items() if k != "row"}) for row in rows]
    return bulk_insert_with_history(assets, by=by, reason=comment)


def ip_assets_import_update(
    *, changes: Sequence[tuple[IPAsset, dict[str, Any]]], by, comment: str
) -> list[IPAsset]:
    """Correct IP rights' data from the books (fields in IP_UPDATABLE_FIELDS only)."""
    return bulk_update_with_history(changes, allowed=IP_UPDATABLE_FIELDS, by=by, reason=comment)
