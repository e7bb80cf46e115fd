"""Bringing partner institutions and their cooperation agreements in from a fund's old books.

Runs inside the importer's single transaction (no durable block of its own, see
enterprises.imports). Institutions arrive in their cooperation state with an `imported`
history entry; agreements are checked by the same rules as `agreement_sign` (shares total
100, the fund's share within the policy in force on the agreement's start).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from fundmgr.ground.accounts.imports import ImportedState, bulk_insert_with_history, log_imported
from fundmgr.ground.accounts.services import institution_organization
from fundmgr.ground.lib.errors import Violation
from fundmgr.ground.lib.identifiers import IdentifierError, validate_uscc

from . import rules
from .errors import BanksError
from .models import CooperationAgreement, Institution
from .services import _CODE_RE, _REGION_RE

# Fields an import may correct on an institution already registered; its cooperation state
# changes only through its lifecycle steps.
UPDATABLE_FIELDS = ("name", "kind", "region_code", "uscc", "contact_name", "contact_phone", "contact_email")


def institution_row_violations(data: dict[str, Any]) -> tuple[dict[str, Any], list[Violation]]:
    """The institution's fields as `institution_create` accepts them (code, region, USCC
    normalised) and the reasons it would refuse them."""
    violations: list[Violation] = []
    cleaned = dict(data)
    code = (data.get("code") or "").strip()
    if not _CODE_RE.match(code):
        violations.append(
            Violation(BanksError.INVALID_CODE, "机构代码只能包含字母、数字、连字符和下划线（2–64位）", "code")
        )
    region = (data.get("region_code") or "").strip()
    if region and not _REGION_RE.match(region):
        violations.append(Violation(BanksError.INVALID_REGION_CODE, "行政区划代码应为6位数字", "region_code"))
    uscc = (data.get("uscc") or "").strip()
    if uscc:
        try:
            cleaned["uscc"] = validate_uscc(uscc)
        except IdentifierError as exc:
            violations.append(Violation(exc.code, exc.message, "uscc"))
    if data.get("kind") not in Institution.Kind.values:
        violations.append(Violation(BanksError.INVALID_KIND, "未知的机构类型", "kind"))
    return cleaned, violations


def agreement_violations(terms: rules.AgreementTerms, *, policy) -> list[Violation]:
    """`agreement_sign`'s rules, against the policy in force on the agreement's start."""
    return rules.check_agreement(terms, max_fund_share=policy.max_fund_share if policy else None)


def institutions_import_create(
    *, rows: Sequence[dict[str, Any]], by, comment: str, today: dt.date
) -> list[Institution]:
    """Create institutions in their cooperation state, each with its organisation record."""
    institutions = [Institution(**row) for row in rows]
    created = bulk_insert_with_history(institutions, by=by, reason=comment)
    for institution in created:
        institution_organization(institution=institution)
    log_imported([ImportedState(i, i.status, today) for i in created], by=by, comment=comment)
    return created


def institution_import_update(
    *, institution: Institution, changes: dict[str, Any], by, comment: str
) -> Institution:
    unknown = set(changes) - set(UPDATABLE_FIELDS)
    if unknown:
        raise ValueError(f"not updatable by import: {sorted(unknown)}")
    for key, value in changes.items():
        setattr(institution, key, value)
    institution._history_user = by
    institution._change_reason = comment[:100]
    institution.save()
    return institution


def agreements_import_create(
    *, fund, rows: Sequence[dict[str, Any]], by, comment: str
) -> list[CooperationAgreement]:
    """Record agreements (rows already checked; each names its `institution`)."""
    agreements = [CooperationAgreement(fund=fund, **row) for row in rows]
    return bulk_insert_with_history(agreements, by=by, reason=comment)
