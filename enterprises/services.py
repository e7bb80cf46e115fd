"""Writes about enterprises: applications, the registration lifecycle, credit records, expiry."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext, gettext_noop

from enterprises.errors import EnterprisesError
from fundmgr.ground.accounts.principals import Principal
from fundmgr.ground.accounts.workflow import require_public, run_transition
from fundmgr.ground.lib import clock
from fundmgr.ground.lib.errors import AppError, CommonError, Conflict, RuleViolations, Violation
from fundmgr.ground.lib.i18n import recorded
from fundmgr.ground.lib.identifiers import (
    IdentifierError,
    validate_ip_number,
    validate_uscc,
)

from . import rules
from .events import DISTRICT_CHANGED
from .models import Enterprise, IPAsset
from .selectors import enterprise_eligibility, enterprise_size
from .sme import SMEThreshold, load_threshold_rows

log = logging.getLogger(__name__)


def sme_thresholds_load_default() -> int:
    """Load the bundled 2011 SME thresholds if they are missing (idempotent).

    Migration 0003 loads them on a new database; this restores them where a database was
    emptied (a flushed test database, a restored dump without reference data).
    Returns the number of rows created.
    """
    created = 0
    with transaction.atomic():
        for row in load_threshold_rows():
            _, was_created = SMEThreshold.objects.get_or_create(
                standard=row["standard"],
                industry=row["industry"],
                defaults={k: row[k] for k in ("name", "gbt4754_prefixes", "rule", "effective_from")},
            )
            created += was_created
    return created


def _bad_request(violations: list[Violation]) -> AppError:
    codes = {v.code for v in violations}
    code = codes.pop() if len(codes) == 1 else "validation_failed"
    return AppError(code, "；".join(v.message for v in violations), status=400, errors=violations)


def _clean_ip_assets(items: list[dict[str, Any]], *, today: dt.date) -> list[dict[str, Any]]:
    """Validate each IP right's number for its kind; fill a patent's expiry from its term."""
    violations: list[Violation] = []
    cleaned: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for index, item in enumerate(items):
        path = f"ip_assets[{index}]"
        kind = item.get("kind")
        try:
            number = validate_ip_number(kind, item.get("number", ""), today=today)
        except IdentifierError as exc:
            violations.append(Violation(exc.code, exc.message, f"{path}.number"))
            continue
        if (kind, number) in seen:
            violations.append(
                Violation(
                    EnterprisesError.DUPLICATE_IP_ASSET, gettext("同一知识产权重复填写"), f"{path}.number"
                )
            )
            continue
        seen.add((kind, number))
        expires_on, refused = rules.ip_asset_expiry(
            kind=kind, filed_on=item.get("filed_on"), expires_on=item.get("expires_on")
        )
        if refused:
            violations += [Violation(v.code, v.message, f"{path}.{v.field}") for v in refused]
            continue
        cleaned.append({**item, "number": number, "expires_on": expires_on})
    if violations:
        raise _bad_request(violations)
    return cleaned


def _ip_taken(assets: list[dict[str, Any]], *, exclude_enterprise: int | None = None) -> None:
    """An IP right belongs to one enterprise in the register."""
    for index, item in enumerate(assets):
        taken = IPAsset.objects.filter(kind=item["kind"], number=item["number"])
        if exclude_enterprise:
            taken = taken.exclude(enterprise_id=exclude_enterprise)
        if taken.exists():
            raise Conflict(
                EnterprisesError.IP_ALREADY_REGISTERED,
                gettext("知识产权 %(number)s 已登记在其他企业名下") % {"number": item["number"]},
                field=f"ip_assets[{index}].number",
            )


def enterprise_apply(*, principal: Principal, data: dict[str, Any]) -> Enterprise:
    """An institution (API) or an officer (admin/import) submits an enterprise's application.

    Refusals: invalid_uscc / invalid_patent_number (400), enterprise_exists (409),
    fund_not_available (422). The application is stored as `submitted`, with its SME class
    computed; eligibility is evaluated at review, where the reviewer sees every finding.
    """
    from fundmgr.ground.funds.models import Fund

    today = clock.today()
    try:
        uscc = validate_uscc(data.get("uscc", ""))
    except IdentifierError as exc:
        raise AppError(exc.code, exc.message, field="uscc", status=400) from exc
    assets = _clean_ip_assets(list(data.get("ip_assets") or []), today=today)

    fund = Fund.objects.filter(code=data.get("fund")).first()
    if principal.is_institution:
        cooperates = (
            fund is not None and fund.agreements.filter(institution_id=principal.institution_id).exists()
        )
        if not cooperates:
            raise AppError(
                EnterprisesError.FUND_NOT_AVAILABLE, gettext("贵机构未与该资金签订合作协议"), field="fund"
            )
    elif not principal.has_role("officer", "approver"):
        raise AppError(CommonError.PERMISSION_DENIED, gettext("无权提交入库申请"), status=403)
    if fund is None:
        raise AppError(EnterprisesError.FUND_NOT_AVAILABLE, gettext("资金不存在"), field="fund")
    if fund.status != fund.Status.ACTIVE:
        raise AppError(EnterprisesError.FUND_NOT_ACTIVE, gettext("该资金当前不接受入库申请"), field="fund")

    fields = {k: data.get(k) for k in rules.ENTERPRISE_DATA_FIELDS if k in data}
    try:
        with transaction.atomic(durable=True):
            if Enterprise.objects.filter(uscc=uscc).exists():
                raise Conflict(
                    EnterprisesError.ENTERPRISE_EXISTS,
                    gettext("该统一社会信用代码的企业已登记"),
                    field="uscc",
                )
            _ip_taken(assets)
            enterprise = Enterprise(
                uscc=uscc,
                fund=fund,
                submitted_by_id=principal.institution_id,
                **{k: v for k, v in fields.items() if v is not None or k == "credit_record_clean"},
            )
            size = enterprise_size(enterprise, on=today)
            enterprise.size_class, enterprise.size_basis = size.size_class, size.basis[:300]
            enterprise.save()
            IPAsset.objects.bulk_create(
                [
                    IPAsset(
                        enterprise=enterprise,
                        kind=a["kind"],
                        number=a["number"],
                        title=a.get("title") or a["number"],
                        owner_name=a.get("owner_name") or enterprise.name,
                        nice_class=a.get("nice_class"),
                        filed_on=a.get("filed_on"),
                        expires_on=a["expires_on"],
                    )
                    for a in assets
                ]
            )
            enterprise.submit(by=principal.user, description=recorded(gettext_noop("提交入库申请")))
            enterprise.save()
    except IntegrityError as exc:  # a concurrent application for the same USCC or IP
        raise Conflict(
            EnterprisesError.ENTERPRISE_EXISTS, gettext("该企业或其知识产权已由其他申请登记"), field="uscc"
        ) from exc
    return enterprise


def _admission_until(start: dt.date, months: int) -> dt.date:
    return rules.admission_until(start, months)


def _require_eligible(enterprise: Enterprise, today: dt.date) -> None:
    result = enterprise_eligibility(enterprise, on=today)
    if result.failed:
        raise RuleViolations(
            [Violation(f.code, f.message, f.field) for f in result.failed],
            code=EnterprisesError.ELIGIBILITY_FAILED,
            message=gettext("不符合入库条件：%(reasons)s")
            % {"reasons": "；".join(str(f.message) for f in result.failed)},
        )


def enterprise_transition(*, enterprise_id: int, name: str, user, comment: str = "") -> Enterprise:
    """Staff move an enterprise through its lifecycle (admin buttons and the API alike)."""
    require_public(Enterprise, name)
    today = clock.today()

    def prepare(enterprise: Enterprise) -> None:
        policy = enterprise.fund.policy_in_force(today)
        if name in ("start_review", "renew"):
            size = enterprise_size(enterprise, on=today)
            enterprise.size_class, enterprise.size_basis = size.size_class, size.basis[:300]
        if name in rules.ELIGIBILITY_CHECKED_AT_STEPS:
            _require_eligible(enterprise, today)
            if policy is None:
                raise AppError(
                    EnterprisesError.NO_POLICY_IN_FORCE, gettext("该资金没有生效的政策版本"), status=409
                )
            enterprise.admitted_on = today
            enterprise.admitted_until = _admission_until(today, policy.admission_valid_months)
        if name == "reinstate" and enterprise.admitted_until and enterprise.admitted_until < today:
            raise Conflict(
                EnterprisesError.ADMISSION_EXPIRED,
                gettext("入库有效期已过，请办理延续"),
                field="admitted_until",
            )
        if name in rules.COMMENT_REQUIRED_STEPS and not comment.strip():
            raise AppError(CommonError.COMMENT_REQUIRED, gettext("请填写原因"), field="comment", status=400)

    return run_transition(
        model=Enterprise, pk=enterprise_id, name=name, user=user, comment=comment, prepare=prepare
    )


def enterprise_record_credit(
    *, enterprise_id: int, user, credit_report_date: dt.date, credit_record_clean: bool
) -> Enterprise:
    """The officer records the PBOC credit check made during review."""
    if credit_report_date > clock.today():
        raise AppError(
            EnterprisesError.CREDIT_REPORT_DATE_INVALID,
            gettext("征信报告日期不能晚于今天"),
            field="credit_report_date",
            status=400,
        )
    with transaction.atomic(durable=True):
        enterprise = Enterprise.objects.select_for_update().get(pk=enterprise_id)
        if enterprise.status not in (
            Enterprise.Status.SUBMITTED,
            Enterprise.Status.UNDER_REVIEW,
            Enterprise.Status.ADMITTED,
        ):
            raise Conflict(CommonError.TRANSITION_NOT_ALLOWED, gettext("当前状态下不能记录征信"))
        enterprise.credit_report_date = credit_report_date
        enterprise.credit_record_clean = credit_record_clean
        enterprise._change_reason = recorded(
            gettext_noop("记录征信（%(username)s）"), username=getattr(user, "username", "")
        )
        enterprise.save(update_fields=["credit_report_date", "credit_record_clean", "updated_at"])
    return enterprise


def enterprise_refresh_size(*, enterprise_id: int) -> Enterprise:
    """Recompute the SME class after the figures were edited (admin, import)."""
    with transaction.atomic():
        enterprise = Enterprise.objects.select_for_update().get(pk=enterprise_id)
        size = enterprise_size(enterprise)
        if (enterprise.size_class, enterprise.size_basis) != (size.size_class, size.basis[:300]):
            enterprise.size_class, enterprise.size_basis = size.size_class, size.basis[:300]
            enterprise.save(update_fields=["size_class", "size_basis", "updated_at"])
    return enterprise


def enterprise_expire_due(*, today: dt.date | None = None) -> int:
    """Scheduled: admitted enterprises whose admission period has ended become `expired`."""
    today = today or clock.today()
    count = 0
    for pk in Enterprise.objects.filter(
        status=Enterprise.Status.ADMITTED, admitted_until__lt=today
    ).values_list("pk", flat=True):
        try:
            run_transition(
                model=Enterprise,
                pk=pk,
                name="expire",
                user=None,
                comment=recorded(gettext_noop("入库有效期届满")),
                system=True,
            )
            count += 1
        except AppError:  # changed meanwhile (renewed, suspended): nothing to do
            log.info("enterprise %s not expired: state changed", pk)
    return count


def enterprise_district_corrected(*, enterprise: Enterprise) -> None:
    """Staff corrected the enterprise's district: its loans count in another district in every
    period, so figures kept for past periods (reports) are no longer right."""
    DISTRICT_CHANGED.publish(fund_id=enterprise.fund_id, since=dt.date.min)
