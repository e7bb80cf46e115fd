"""Bringing partner institutions, their cooperation agreements and their filed products in
from a fund's old books.

Runs inside the importer's single transaction (no durable block of its own, see
enterprises.imports). Institutions arrive in their cooperation state with an `imported`
history entry, products in theirs with their filing dates. The checks are the services' own rules (banks.rules): an institution's
identity as `institution_create` checks it, an agreement's shares as `agreement_sign` checks
them (against the policy in force on its start), a product as `product_submit` checks it and,
once filed, as `product_file` does (a partner with an agreement in force on the filing date).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from fundmgr.ground.accounts.imports import (
    ImportedState,
    bulk_insert_with_history,
    bulk_update_with_history,
    institution_organizations_create,
    log_imported,
)
from fundmgr.ground.lib.errors import Violation
from fundmgr.ground.lib.identifiers import validate_uscc

from . import rules
from .models import CooperationAgreement, Institution, Product

# Fields an import may correct on an institution already registered; its cooperation state
# changes only through its lifecycle steps.
UPDATABLE_FIELDS = ("name", "kind", "region_code", "uscc", "contact_name", "contact_phone", "contact_email")
# The states a product may arrive in; a filed product says when, a withdrawn one since when.
IMPORTABLE_PRODUCT_STATUSES = (Product.Status.SUBMITTED, Product.Status.FILED, Product.Status.WITHDRAWN)


def institution_row_violations(data: dict[str, Any]) -> tuple[dict[str, Any], list[Violation]]:
    """The institution's fields as `institution_create` takes them (text stripped, the USCC
    normalised) and the reasons its rules refuse them."""
    cleaned = {k: (v.strip() if isinstance(v, str) else v) for k, v in data.items()}
    violations = rules.check_institution(
        code=cleaned.get("code") or "",
        name=cleaned.get("name") or "",
        kind=cleaned.get("kind") or "",
        region_code=cleaned.get("region_code") or "",
        uscc=cleaned.get("uscc") or "",
    )
    if cleaned.get("uscc") and not any(v.field == "uscc" for v in violations):
        cleaned["uscc"] = validate_uscc(cleaned["uscc"])
    return cleaned, violations


def product_filing_violations(*, institution_status: str, has_agreement_in_force: bool) -> list[Violation]:
    """`product_file`'s rule for a product filed in the old books: the institution cooperated
    with the fund (an agreement in force on the filing date). A suspended partner may file
    products, and a partner suspended or terminated since was active when it filed."""
    if institution_status in ("suspended", "terminated"):
        institution_status = "active"
    return rules.check_can_file(status=institution_status, has_agreement_in_force=has_agreement_in_force)


def institutions_import_create(
    *, rows: Sequence[dict[str, Any]], by, comment: str, today: dt.date
) -> list[Institution]:
    """Create institutions in their cooperation state, each with its organisation record."""
    institutions = [Institution(**row) for row in rows]
    created = bulk_insert_with_history(institutions, by=by, reason=comment)
    institution_organizations_create(created)
    log_imported([ImportedState(i, i.status, today) for i in created], by=by, comment=comment)
    return created


def institutions_import_update(
    *, changes: Sequence[tuple[Institution, dict[str, Any]]], by, comment: str
) -> list[Institution]:
    """Correct institutions' data from the books (fields in UPDATABLE_FIELDS only)."""
    return bulk_update_with_history(changes, allowed=UPDATABLE_FIELDS, by=by, reason=comment)


def agreements_import_create(
    *, fund, rows: Sequence[dict[str, Any]], by, comment: str
) -> list[CooperationAgreement]:
    """Record agreements (rows already checked; each names its `institution`)."""
    agreements = [CooperationAgreement(fund=fund, **row) for row in rows]
    return bulk_insert_with_history(agreements, by=by, reason=comment)


def products_import_create(*, fund, rows: Sequence[dict[str, Any]], by, comment: str) -> list[Product]:
    """Record products in the state the books give (rows already checked; each names its
    `institution`); their change history says who imported them. A product's state is not a
    lifecycle with a transition log: its filing and withdrawal dates are on the record."""
    products = [Product(fund=fund, **row) for row in rows]
    return bulk_insert_with_history(products, by=by, reason=comment)
