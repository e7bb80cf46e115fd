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

from dateutil.relativedelta import relativedelta

from fundmgr.ground.accounts.imports import ImportedState, bulk_insert_with_history, log_imported
from fundmgr.ground.lib.errors import AppError, Violation
from fundmgr.ground.lib.identifiers import PATENT_KINDS, patent_term_expiry

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
# Fields an import may correct on an enterprise already registered (its lifecycle state and
# admission dates change only through the review steps).
UPDATABLE_FIELDS = (
    "name",
    "region_code",
    "industry_code",
    "registered_on",
    "employees",
    "annual_revenue",
    "total_assets",
    "legal_representative",
    "contact_name",
    "contact_phone",
    "credit_report_date",
    "credit_record_clean",
)
IP_UPDATABLE_FIELDS = ("title", "owner_name", "nice_class", "filed_on", "expires_on", "status")


def admission_until(admitted_on: dt.date, months: int) -> dt.date:
    """The last day of an admission that starts on `admitted_on` (as the review step sets it)."""
    return admitted_on + relativedelta(months=months) - dt.timedelta(days=1)


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


def ip_expiry(kind: str, filed_on: dt.date | None, expires_on: dt.date | None) -> dt.date | None:
    """The expiry as given, or a patent's from its filing date and legal term."""
    if expires_on is None and kind in PATENT_KINDS and filed_on is not None:
        return patent_term_expiry(kind, filed_on)
    return expires_on


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
    version in force that day): the review step's eligibility checks, each as of that day. A
    right's legal status then is not in the books, so each counts as valid if it had not expired
    by then; the credit report may postdate the admission (a renewal), so it is checked against
    today. Findings still open (a figure or report missing) do not refuse: the reviewer of the
    time admitted with them, as the review step allows."""
    on = facts.admitted_on
    findings = [
        rules.check_registration_place(region_code=facts.region_code, fund_region_code=fund_region_code),
        rules.check_registration_age(registered_on=facts.registered_on, min_years=policy.min_years_registered, today=on),
        rules.check_legal_person(uscc=facts.uscc, required=policy.legal_person_required),
        rules.check_size(size_class=facts.size_class, missing=facts.size_missing, required=policy.sme_required),
        rules.check_credit(
            credit_report_date=facts.credit_report_date,
            credit_record_clean=facts.credit_record_clean,
            clean_years=policy.clean_credit_years,
            today=today,
        ),
        rules.check_ip(
            assets=[rules.IPFacts(kind=a.kind, status="valid", expires_on=a.expires_on) for a in assets],
            accepted_kinds=policy.accepted_ip_kinds,
            today=on,
        ),
    ]  # fmt: skip
    return [Violation(f.code, f.message, f.field) for f in findings if f.status == rules.FAILED]


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


def enterprise_import_update(
    *, enterprise: Enterprise, changes: dict[str, Any], by, comment: str
) -> Enterprise:
    """Correct an enterprise's data from the books (fields in UPDATABLE_FIELDS only); its SME
    class follows its figures. A changed district moves its loans in the reports."""
    unknown = set(changes) - set(UPDATABLE_FIELDS) - {"size_class", "size_basis"}
    if unknown:
        raise ValueError(f"not updatable by import: {sorted(unknown)}")
    district_changed = "region_code" in changes and changes["region_code"] != enterprise.region_code
    for key, value in changes.items():
        setattr(enterprise, key, value)
    enterprise._history_user = by
    enterprise._change_reason = comment[:100]
    enterprise.save()
    if district_changed:
        DISTRICT_CHANGED.publish(fund_id=enterprise.fund_id, since=dt.date.min)
    return enterprise


def ip_assets_import_create(*, rows: Sequence[dict[str, Any]], by, comment: str) -> list[IPAsset]:
    """Create IP rights (rows already checked: numbers normalised, owner known, expiry set)."""
    assets = [IPAsset(**{k: v for k, v in row.items() if k != "row"}) for row in rows]
    return bulk_insert_with_history(assets, by=by, reason=comment)


def ip_asset_import_update(*, asset: IPAsset, changes: dict[str, Any], by, comment: str) -> IPAsset:
    unknown = set(changes) - set(IP_UPDATABLE_FIELDS)
    if unknown:
        raise ValueError(f"not updatable by import: {sorted(unknown)}")
    for key, value in changes.items():
        setattr(asset, key, value)
    asset._history_user = by
    asset._change_reason = comment[:100]
    asset.save()
    return asset
