"""Writes about partner institutions: registration, the cooperation lifecycle, agreements and
filed products. Each public function is one business command in one durable transaction."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from banks.errors import BanksError
from fundmgr.ground.accounts.errors import AccountsError
from fundmgr.ground.accounts.models import STAFF_ROLES
from fundmgr.ground.accounts.principals import principal_for
from fundmgr.ground.accounts.services import api_key_issue
from fundmgr.ground.accounts.workflow import require_public, run_transition, transition_label, why_not
from fundmgr.ground.lib import clock
from fundmgr.ground.lib.errors import (
    AppError,
    CommonError,
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    RuleViolations,
    Violation,
)
from fundmgr.ground.lib.i18n import recorded
from fundmgr.ground.lib.identifiers import validate_uscc

from . import rules
from .events import AGREEMENT_FILINGS_CHANGED, INSTITUTION_CHANGED
from .models import CooperationAgreement, FilingsStatus, Institution, Product
from .selectors import agreement_in_force, agreement_in_force_among, agreements_in_force


def _require_staff(user, action: str) -> None:
    """Master-data writes (registering institutions, agreements, products) are for officers
    and approvers (admin counts as both); the admin and any future API call alike."""
    if not principal_for(user).has_role("officer", "approver"):
        raise Forbidden(CommonError.PERMISSION_DENIED, _("您的角色无权%(action)s") % {"action": action})


def _explained(exc: Forbidden, *, model, pk, name: str, user) -> Forbidden:
    """A role or four-eyes refusal that says why and who may sign instead.

    Staff are told the rule and the people who may take the step now (`why_not`, the same
    sentence the admin shows); anyone else (a bank's system user) is only told it may not, so
    no staff names leave the house."""
    if getattr(user, "role", None) not in STAFF_ROLES:
        return Forbidden(exc.code, _("您无权执行“%(step)s”") % {"step": transition_label(model, name)})
    instance = model.objects.filter(pk=pk).first()
    reason = why_not(instance, name, user) if instance is not None else None
    return Forbidden(exc.code, reason or str(exc))


def _run_explained(*, model, pk, name: str, user, **kwargs):
    """`run_transition`, with role and four-eyes refusals explained (see `_explained`)."""
    try:
        return run_transition(model=model, pk=pk, name=name, user=user, **kwargs)
    except Forbidden as exc:
        if exc.code not in (AccountsError.FOUR_EYES_REQUIRED, AccountsError.TRANSITION_FORBIDDEN):
            raise
        raise _explained(exc, model=model, pk=pk, name=name, user=user) from exc


def _decimal(data: dict[str, Any], key: str, *, required: bool = False) -> Decimal | None:
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise AppError(FieldError.REQUIRED, _("请填写此项"), field=key, status=400)
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise AppError(BanksError.INVALID_NUMBER, _("数值格式错误"), field=key, status=400) from exc


def _date(data: dict[str, Any], key: str) -> dt.date | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise AppError(BanksError.INVALID_DATE, _("日期格式应为 YYYY-MM-DD"), field=key, status=400) from exc


# --- institutions -------------------------------------------------------------------------


def institution_create(*, data: dict[str, Any], by) -> Institution:
    """Register an applicant institution (status `applied`) and its organisation record.

    Refusals: permission_denied (403), invalid_code / invalid_uscc / invalid_region_code /
    required (400), institution_exists (409).
    """
    _require_staff(by, _("登记合作机构"))
    code = (data.get("code") or "").strip()
    name = (data.get("name") or "").strip()
    kind = data.get("kind") or Institution.Kind.BANK
    region_code = (data.get("region_code") or "").strip()
    uscc = (data.get("uscc") or "").strip()
    for bad in rules.check_institution(code=code, name=name, kind=kind, region_code=region_code, uscc=uscc):
        raise AppError(bad.code, bad.message, field=bad.field, status=400)
    uscc = validate_uscc(uscc) if uscc else ""

    from fundmgr.ground.accounts.services import institution_organization

    try:
        with transaction.atomic(durable=True):
            if Institution.objects.filter(code=code).exists():
                raise Conflict(BanksError.INSTITUTION_EXISTS, _("该机构代码已被使用"), field="code")
            institution = Institution(
                code=code,
                name=name,
                kind=kind,
                region_code=region_code,
                uscc=uscc,
                contact_name=(data.get("contact_name") or "").strip(),
                contact_phone=(data.get("contact_phone") or "").strip(),
                contact_email=(data.get("contact_email") or "").strip(),
            )
            institution._history_user = by  # simple_history: who registered it
            institution.save()
            institution_organization(institution=institution)
    except IntegrityError as exc:  # the same code registered concurrently
        raise Conflict(BanksError.INSTITUTION_EXISTS, _("该机构代码已被使用"), field="code") from exc
    return institution


def institution_transition(*, institution_id: int, name: str, user, comment: str = "") -> Institution:
    """Staff move an institution through its cooperation lifecycle (admin and API alike).

    Role and four-eyes rules come from the model's `step` declarations: `reinstate` is for an
    approver other than whoever suspended the partnership (403 four_eyes_required, the
    message naming who may sign instead). `suspend`, `reinstate` and `terminate` need a
    reason (400 comment_required); the suspension reason is kept on the record until
    `reinstate`. Terminating revokes every API key of the institution in the same
    transaction, so a bank that is no longer a partner cannot keep calling.
    """
    require_public(Institution, name)
    reason = (comment or "").strip()

    def prepare(institution: Institution) -> None:
        if name in rules.INSTITUTION_COMMENT_REQUIRED and not reason:
            raise AppError(CommonError.COMMENT_REQUIRED, _("请填写原因"), field="comment", status=400)
        if name == "suspend":
            institution.suspension_reason = reason[:300]
        elif name == "reinstate":
            institution.suspension_reason = ""
        elif name == "terminate":
            from fundmgr.ground.accounts.models import InstitutionAPIKey
            from fundmgr.ground.accounts.services import api_key_revoke

            for api_key in InstitutionAPIKey.objects.filter(institution=institution, revoked=False):
                api_key_revoke(api_key=api_key)

    def then(institution: Institution) -> None:
        if name in ("suspend", "reinstate", "terminate"):
            INSTITUTION_CHANGED.publish(institution=institution, transition=name)

    return _run_explained(
        model=Institution, pk=institution_id, name=name, user=user, comment=reason, prepare=prepare, then=then
    )


def institution_can_file(*, institution: Institution, fund, on: dt.date, agreements=None) -> list[Violation]:
    """Why `institution` may not file loans in `fund` on `on` (empty: it may). `agreements`:
    the institution's agreements in the fund, when the caller has already read them.

    Codes: institution_not_active (applied, under review, terminated), institution_suspended,
    no_agreement_in_force.
    """
    agreement = (
        agreement_in_force(institution=institution, fund=fund, on=on)
        if agreements is None
        else agreement_in_force_among(agreements, on=on)
    )
    return _filing_violations(institution, agreement)


def funds_open_for_filing(*, institution: Institution, on: dt.date) -> frozenset[int]:
    """The funds where `institution` may file loans on `on` (`institution_can_file` says
    nothing against it), in one query whatever the number of funds."""
    in_force = agreements_in_force(institution=institution, on=on)
    return frozenset(fund_id for fund_id, a in in_force.items() if not _filing_violations(institution, a))


def _filing_violations(institution: Institution, agreement: CooperationAgreement | None) -> list[Violation]:
    """The rule of `institution_can_file`, given the agreement in force (None: none is)."""
    violations = rules.check_can_file(status=institution.status, has_agreement_in_force=agreement is not None)
    if not violations and agreement.filings_suspended:
        violations.append(
            Violation(
                BanksError.INSTITUTION_SUSPENDED,
                _("贵机构在该资金的新增备案已暂停：%(reason)s")
                % {"reason": agreement.filings_suspension_reason},
                "fund",
            )
        )
    return violations


def agreement_suspend_filings(
    *,
    agreement_id: int,
    reason: str,
    on: dt.date,
    npl_ratio: Decimal | None = None,
    threshold: Decimal | None = None,
) -> CooperationAgreement | None:
    """Suspend an institution's new filings in one fund (existing loans stay covered): the
    system's step, taken when the bank's covered NPL ratio passes the policy threshold.

    `npl_ratio` and `threshold` (percent) are what the check measured; they are kept on the
    agreement with the date and reason, so the admin shows them without asking loans. Runs
    inside the caller's transaction. Returns the agreement if this call suspended it, None
    if it already was.
    """
    with transaction.atomic():
        agreement = CooperationAgreement.objects.select_for_update().get(pk=agreement_id)
        if agreement.filings_status != FilingsStatus.OPEN:
            return None
        agreement.filings_suspended_on = on
        agreement.filings_suspension_reason = reason[:300]
        agreement.filings_suspension_npl_ratio = npl_ratio
        agreement.filings_suspension_threshold = threshold
        agreement.suspend_filings(by=None, description=reason[:2000] or None)
        agreement._change_reason = reason[:100]
        agreement.save()
        return agreement


def agreement_filings_transition(
    *, agreement_id: int, name: str, user, comment: str = ""
) -> CooperationAgreement:
    """Staff lift a filing suspension, four-eyes (admin buttons; the same rules everywhere).

    `request_reinstatement` (officer or approver) asks for it; `approve_reinstatement` lifts
    the suspension and `refuse_reinstatement` keeps it, each by an approver other than the
    requester. Every step needs a reason (400 comment_required) and is logged (who, business
    date, comment). Refusals: unknown_transition (404), transition_not_allowed (409),
    transition_forbidden / four_eyes_required (403, saying who may sign instead).
    The bank and the people concerned are told (notifications subscribe to the event).
    """
    require_public(CooperationAgreement, name)
    reason = (comment or "").strip()

    def prepare(agreement: CooperationAgreement) -> None:
        if name in rules.AGREEMENT_COMMENT_REQUIRED and not reason:
            raise AppError(
                CommonError.COMMENT_REQUIRED,
                _("请填写意见（恢复备案的每一步都须说明理由）"),
                field="comment",
                status=400,
            )
        agreement._history_user = user
        agreement._change_reason = recorded(
            gettext_noop("%(step)s：%(reason)s"),
            step=transition_label(CooperationAgreement, name),
            reason=reason,
        )[:100]
        if name == "approve_reinstatement":
            agreement.filings_suspended_on = None
            agreement.filings_suspension_reason = ""
            agreement.filings_suspension_npl_ratio = None
            agreement.filings_suspension_threshold = None

    def then(agreement: CooperationAgreement) -> None:
        AGREEMENT_FILINGS_CHANGED.publish(agreement=agreement, transition=name)

    return _run_explained(
        model=CooperationAgreement,
        pk=agreement_id,
        name=name,
        user=user,
        comment=reason,
        prepare=prepare,
        then=then,
    )


# --- agreements ---------------------------------------------------------------------------


def agreement_terms(data: dict[str, Any]) -> rules.AgreementTerms:
    """The terms of an agreement from loosely typed input (admin form, API, import)."""
    signed_on = _date(data, "signed_on")
    valid_from = _date(data, "valid_from") or signed_on
    if valid_from is None:
        raise AppError(FieldError.REQUIRED, _("请填写生效日期"), field="valid_from", status=400)
    return rules.AgreementTerms(
        fund_share=_decimal(data, "fund_share", required=True),
        bank_share=_decimal(data, "bank_share") or Decimal("0.00"),
        insurer_share=_decimal(data, "insurer_share") or Decimal("0.00"),
        valuer_share=_decimal(data, "valuer_share") or Decimal("0.00"),
        valid_from=valid_from,
        valid_until=_date(data, "valid_until"),
        quota=_decimal(data, "quota"),
        reserve_deposit=_decimal(data, "reserve_deposit"),
    )


def agreement_check(*, fund, terms: rules.AgreementTerms) -> list[Violation]:
    """The agreement rules against the fund's policy in force on the agreement's start."""
    policy = fund.policy_in_force(terms.valid_from)
    return rules.check_agreement(terms, max_fund_share=policy.max_fund_share if policy else None)


def agreement_sign(*, institution: Institution, fund, data: dict[str, Any], by) -> CooperationAgreement:
    """Record a cooperation agreement between an institution and a fund.

    A later agreement supersedes an earlier one from its `valid_from` (loans keep the shares
    they were accepted under). Refusals: permission_denied (403), rule violations (422:
    shares_must_total_100, fund_share_exceeds_policy, no_policy_in_force,
    invalid_agreement_term, invalid_quota, invalid_reserve_deposit), institution_terminated
    and agreement_exists (409).
    """
    _require_staff(by, _("签订合作协议"))
    terms = agreement_terms(data)
    violations = agreement_check(fund=fund, terms=terms)
    if violations:
        raise RuleViolations(violations, code=BanksError.AGREEMENT_INVALID)
    signed_on = _date(data, "signed_on") or clock.today()
    try:
        with transaction.atomic(durable=True):
            # Lock the institution: an agreement must not slip in beside a termination.
            locked = Institution.objects.select_for_update().get(pk=institution.pk)
            if locked.status == Institution.Status.TERMINATED:
                raise Conflict(BanksError.INSTITUTION_TERMINATED, _("合作机构已终止合作，不能签订协议"))
            if CooperationAgreement.objects.filter(
                institution=locked, fund=fund, valid_from=terms.valid_from
            ).exists():
                raise Conflict(
                    BanksError.AGREEMENT_EXISTS, _("同一生效日期的合作协议已存在"), field="valid_from"
                )
            agreement = CooperationAgreement(
                institution=locked,
                fund=fund,
                fund_share=terms.fund_share,
                bank_share=terms.bank_share,
                insurer_share=terms.insurer_share,
                valuer_share=terms.valuer_share,
                quota=terms.quota,
                reserve_deposit=terms.reserve_deposit,
                signed_on=signed_on,
                valid_from=terms.valid_from,
                valid_until=terms.valid_until,
                document_ref=(data.get("document_ref") or "").strip(),
            )
            agreement._history_user = by
            agreement.save()
    except IntegrityError as exc:  # signed concurrently with the same start date
        raise Conflict(
            BanksError.AGREEMENT_EXISTS, _("同一生效日期的合作协议已存在"), field="valid_from"
        ) from exc
    return agreement


# --- products -----------------------------------------------------------------------------


def product_submit(*, institution: Institution, fund, data: dict[str, Any], by) -> Product:
    """Record a product an institution submits for filing (status `submitted`).

    Without `version` the next version of that product code is used. Refusals:
    permission_denied (403), required / invalid_ip_kind (400), product_exists (409).
    """
    _require_staff(by, _("登记备案产品"))
    code = (data.get("code") or "").strip()
    name = (data.get("name") or "").strip()
    kinds = list(data.get("accepted_ip_kinds") or [])
    for bad in rules.check_product(code=code, name=name, accepted_ip_kinds=kinds):
        raise AppError(bad.code, bad.message, field=bad.field, status=400)
    try:
        with transaction.atomic(durable=True):
            version = data.get("version")
            if not version:
                latest = (
                    Product.objects.filter(institution=institution, fund=fund, code=code)
                    .order_by("-version")
                    .values_list("version", flat=True)
                    .first()
                )
                version = (latest or 0) + 1
            elif Product.objects.filter(
                institution=institution, fund=fund, code=code, version=version
            ).exists():
                raise Conflict(BanksError.PRODUCT_EXISTS, _("该产品的此版本已存在"), field="version")
            product = Product(
                institution=institution,
                fund=fund,
                code=code,
                name=name,
                version=version,
                accepted_ip_kinds=kinds,
                max_principal=_decimal(data, "max_principal"),
                max_term_months=data.get("max_term_months") or None,
                max_annual_rate=_decimal(data, "max_annual_rate"),
                max_pledge_rate=_decimal(data, "max_pledge_rate"),
            )
            product._history_user = by
            product.save()
    except IntegrityError as exc:
        raise Conflict(BanksError.PRODUCT_EXISTS, _("该产品的此版本已存在"), field="version") from exc
    return product


def product_file(*, product_id: int, by, filed_on: dt.date | None = None) -> Product:
    """Accept a submitted product as filed (产品备案). The institution must be a partner of
    the product's fund with an agreement in force on the filing date; a suspended partner may
    still file products (suspension stops loan filings, not paperwork).

    Refusals: permission_denied (403), transition_not_allowed (409),
    institution_not_active / no_agreement_in_force (422).
    """
    _require_staff(by, _("办理产品备案"))
    filed_on = filed_on or clock.today()
    with transaction.atomic(durable=True):
        product = Product.objects.select_for_update().select_related("institution", "fund").get(pk=product_id)
        if product.status != Product.Status.SUBMITTED:
            raise Conflict(CommonError.TRANSITION_NOT_ALLOWED, _("只有已提交的产品可以备案"))
        violations = [
            v
            for v in institution_can_file(institution=product.institution, fund=product.fund, on=filed_on)
            if v.code != "institution_suspended"
        ]
        if violations:
            raise RuleViolations(violations, code=BanksError.PRODUCT_FILING_REFUSED)
        product.status = Product.Status.FILED
        product.filed_on = filed_on
        product._history_user = by
        product._change_reason = recorded(gettext_noop("产品备案"))
        product.save(update_fields=["status", "filed_on"])
    return product


def product_withdraw(*, product_id: int, by, comment: str = "") -> Product:
    """Withdraw a submitted or filed product: no new loans may name it from now on.

    Refusals: permission_denied (403), transition_not_allowed (409).
    """
    _require_staff(by, _("撤回备案产品"))
    with transaction.atomic(durable=True):
        product = Product.objects.select_for_update().get(pk=product_id)
        if product.status not in (Product.Status.SUBMITTED, Product.Status.FILED):
            raise Conflict(CommonError.TRANSITION_NOT_ALLOWED, _("该产品已撤回"))
        product.status = Product.Status.WITHDRAWN
        product.withdrawn_on = clock.today()
        product._history_user = by
        product._change_reason = (
            recorded(gettext_noop("撤回：%(reason)s"), reason=comment.strip())
            if comment.strip()
            else recorded(gettext_noop("撤回"))
        )[:100]
        product.save(update_fields=["status", "withdrawn_on"])
    return product


def institution_api_key_issue(*, institution_code: str, name: str = ""):
    """Issue an API key for the institution with this code (see accounts.services.api_key_issue)."""
    institution = Institution.objects.filter(code=institution_code).first()
    if institution is None:
        raise NotFound(
            _("合作机构 %(code)s 不存在") % {"code": institution_code}, code=BanksError.INSTITUTION_NOT_FOUND
        )
    return api_key_issue(institution=institution, name=name)
