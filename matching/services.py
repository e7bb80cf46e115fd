"""Writes about financing needs, bank matching and outreach events. Each public function is one
business command in one durable transaction, except those marked as steps of a caller's
command (they run inside the caller's transaction).

How a need follows its loan: the loans app sits above this one, so it calls
`need_check_for_filing` when a filing names a need and `need_follow_filing` when that filing
is submitted, accepted, refused, withdrawn or voided, inside the loans command's own
transaction: the need and the filing change together or not at all. (An event published by
loans could not be heard here — a lower app subscribing to a higher one's event would have to
import it — and an event on the lib layer would only hide the same call behind a name.)
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import transaction

from banks.models import CooperationAgreement, Institution
from enterprises.errors import EnterprisesError
from enterprises.models import Enterprise, IPAsset
from fundmgr.ground.accounts.models import Role
from fundmgr.ground.accounts.principals import Principal, principal_for, require_institution
from fundmgr.ground.accounts.workflow import log_created, require_public, run_transition
from fundmgr.ground.funds.models import Fund
from fundmgr.ground.lib import clock, workdays
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
from fundmgr.ground.lib.identifiers import IdentifierError, normalize_patent_number
from fundmgr.ground.lib.money import quantize

from . import rules, selectors
from .errors import MatchingError
from .models import (
    FILEABLE_STATUSES,
    SEEKING_STATUSES,
    ConsentScope,
    EnterpriseHonour,
    EventSigning,
    FinancingNeed,
    HonourKind,
    MeetingKind,
    MeetingOutcome,
    NeedInterest,
    NeedMeeting,
    NeedPriority,
    NeedSource,
    NeedStatus,
    OutreachEvent,
    PriorityClass,
)

log = logging.getLogger(__name__)

# How a need born from an event signing is described when nothing else is known [D].
SIGNING_NEED_TERM_MONTHS = 12

# Steps whose reason is part of the record.
_COMMENT_REQUIRED = frozenset({"close", "withdraw"})


def _require_staff(principal: Principal, action: str) -> None:
    if not principal.has_role(Role.OFFICER, Role.APPROVER):
        raise Forbidden(CommonError.PERMISSION_DENIED, f"您的角色无权{action}")


def _required(value, field: str) -> None:
    if value in (None, ""):
        raise AppError(FieldError.REQUIRED, "请填写此项", field=field, status=400)


# --- priorities ------------------------------------------------------------------------------


def need_priorities_refresh(
    *,
    need_ids: Iterable[int] | None = None,
    enterprise_ids: Iterable[int] | None = None,
    today: dt.date | None = None,
) -> int:
    """Recompute the priority classes of needs still in play (open, in talks, filed): the given
    ones, those of the given enterprises, or all. The classes depend on the date (honours
    expire, rights age out of the window), so the nightly job runs it over all. A step of the
    caller's command when called inside one. Returns how many needs were computed."""
    today = today or clock.today()
    needs = FinancingNeed.objects.filter(status__in=FILEABLE_STATUSES)
    if need_ids is not None:
        needs = needs.filter(pk__in=list(need_ids))
    if enterprise_ids is not None:
        needs = needs.filter(enterprise_id__in=list(enterprise_ids))
    rows = list(needs.values_list("pk", "fund_id", "enterprise_id"))
    if not rows:
        return 0
    specs = selectors.class_specs_for(fund_ids={fund_id for _, fund_id, _ in rows})
    facts = selectors.enterprise_facts(enterprise_ids={e for _, _, e in rows})
    with transaction.atomic():
        NeedPriority.objects.filter(need_id__in=[pk for pk, _, _ in rows]).delete()
        new: list[NeedPriority] = []
        ranks: dict[int | None, list[int]] = {}
        for pk, fund_id, enterprise_id in rows:
            matches = rules.priority_classes(specs[fund_id], facts[enterprise_id], today)
            new += [NeedPriority(need_id=pk, priority_class_id=m.class_id, reason=m.reason) for m in matches]
            ranks.setdefault(matches[0].order if matches else None, []).append(pk)
        NeedPriority.objects.bulk_create(new)
        for rank, pks in ranks.items():
            FinancingNeed.objects.filter(pk__in=pks).update(priority_rank=rank, priorities_on=today)
    return len(rows)


# --- registering a need ------------------------------------------------------------------------


def _offered_assets(enterprise: Enterprise, numbers: list[str], today: dt.date) -> list[IPAsset]:
    """The enterprise's rights named by number (a patent number in any accepted spelling);
    422 for a right it does not hold or that is not valid."""
    assets = list(enterprise.ip_assets.all())
    by_number = {a.number.upper(): a for a in assets}
    found: list[IPAsset] = []
    violations: list[Violation] = []
    for index, raw in enumerate(numbers):
        text = str(raw or "").strip().upper()
        asset = by_number.get(text)
        if asset is None:
            try:
                asset = by_number.get(normalize_patent_number(text))
            except IdentifierError:
                asset = None
        if asset is None:
            violations.append(
                Violation(
                    MatchingError.OFFERED_IP_NOT_OWNED,
                    f"知识产权 {raw} 不在该企业名下",
                    f"offered_ip[{index}]",
                )
            )
        elif asset.status != IPAsset.Status.VALID or asset.expires_on <= today:
            violations.append(
                Violation(
                    MatchingError.OFFERED_IP_NOT_VALID, f"知识产权 {raw} 已失效或到期", f"offered_ip[{index}]"
                )
            )
        elif asset not in found:
            found.append(asset)
    if violations:
        codes = {v.code for v in violations}
        raise RuleViolations(violations, code=codes.pop() if len(codes) == 1 else CommonError.RULE_VIOLATION)
    return found


def need_register(*, principal: Principal, data: dict[str, Any]) -> FinancingNeed:
    """Register an admitted enterprise's financing need: by staff (admin) or by a partner
    bank on the enterprise's behalf (API). It is open for the policy's number of working days.

    Refusals: permission_denied (403: regulators, other staff roles), fund_not_available (422:
    the bank has no active agreement in the fund), need_enterprise_not_admitted,
    offered_ip_not_owned, offered_ip_not_valid (422), consent_date_invalid (400)."""
    if principal.is_staff_member:
        _require_staff(principal, "登记融资需求")
    elif not principal.is_institution:
        raise Forbidden(CommonError.PERMISSION_DENIED, "只有资金管理人和合作机构可以登记融资需求")
    today = clock.today()
    for key in ("fund", "enterprise_uscc", "amount", "term_months"):
        _required(data.get(key), key)
    fund = Fund.objects.filter(code=data["fund"]).first()
    if fund is None or (
        principal.is_institution
        and fund.pk not in selectors.funds_open_to(institution_id=principal.institution_id, on=today)
    ):
        raise AppError(
            EnterprisesError.FUND_NOT_AVAILABLE, "资金不存在或贵机构在该资金没有有效的合作协议", field="fund"
        )
    uscc = str(data["enterprise_uscc"]).strip().upper()
    enterprise = Enterprise.objects.filter(uscc=uscc, fund=fund).first()
    if (
        enterprise is None
        or enterprise.status != Enterprise.Status.ADMITTED
        or (enterprise.admitted_until is not None and enterprise.admitted_until < today)
    ):
        raise AppError(
            MatchingError.NEED_ENTERPRISE_NOT_ADMITTED,
            "该企业未在本资金入库或入库已失效",
            field="enterprise_uscc",
        )
    amount = quantize(data["amount"])
    if amount <= 0:
        raise AppError(CommonError.INVALID_MONEY, "融资金额须大于零", field="amount", status=400)
    consent_on = data.get("consent_on")
    if consent_on is not None and consent_on > today:
        raise AppError(
            MatchingError.CONSENT_DATE_INVALID, "同意共享日期不能晚于今天", field="consent_on", status=400
        )
    scope = data.get("consent_scope") or ConsentScope.BASIC
    if scope not in ConsentScope.values:
        raise AppError(FieldError.INVALID_CHOICE, "未知的共享范围", field="consent_scope", status=400)
    offered = _offered_assets(enterprise, list(data.get("offered_ip") or []), today)
    policy = selectors.policy_for(fund_id=fund.pk, on=today)
    with transaction.atomic(durable=True):
        need = FinancingNeed.objects.create(
            fund=fund,
            enterprise=enterprise,
            amount=amount,
            term_months=int(data["term_months"]),
            purpose=(data.get("purpose") or "")[:300],
            consent_on=consent_on,
            consent_scope=scope,
            source=NeedSource.INSTITUTION if principal.is_institution else NeedSource.STAFF,
            submitted_by_id=principal.institution_id if principal.is_institution else None,
            registered_on=today,
            expires_on=workdays.add_working_days(today, policy.need_valid_working_days),
            last_activity_on=today,
            created_by=principal.user,
        )
        need.offered_ip.set(offered)
        log_created(
            need,
            state=NeedStatus.OPEN,
            user=principal.user,
            comment="登记融资需求",
            transition_name="register",
        )
        need_priorities_refresh(need_ids=[need.pk], today=today)
    need.refresh_from_db()
    return need


# --- matching --------------------------------------------------------------------------------


def _start_talks(need: FinancingNeed, user, why: str) -> None:
    if need.status == NeedStatus.OPEN:
        need.start_talks(by=user, description=why)


def need_interest_record(*, principal: Principal, need_id: int, comment: str = "") -> NeedInterest:
    """A bank says it wants to talk about a need it can see; the need is then in talks.
    Refusals: institution_only (403), need_not_open (409: filed, closed, withdrawn, expired),
    interest_exists (409: said already)."""
    require_institution(principal, "对接意向由合作机构通过接口提交")
    comment = (comment or "").strip()
    today = clock.today()
    with transaction.atomic(durable=True):
        visible = selectors.needs_visible_to(principal, on=today).filter(pk=need_id)
        need = FinancingNeed.objects.select_for_update().filter(pk__in=visible.values("pk")).first()
        if need is None:
            raise NotFound("融资需求不存在或无权访问")
        if need.status not in SEEKING_STATUSES:
            raise Conflict(MatchingError.NEED_NOT_OPEN, "该融资需求已不在对接中")
        if NeedInterest.objects.filter(need=need, institution_id=principal.institution_id).exists():
            raise Conflict(MatchingError.INTEREST_EXISTS, "贵机构已表达过对接意向")
        interest = NeedInterest.objects.create(
            need=need,
            institution_id=principal.institution_id,
            expressed_on=today,
            comment=comment[:2000],
            by=principal.user,
        )
        institution = Institution.objects.get(pk=principal.institution_id)
        _start_talks(need, principal.user, f"{institution.name}表达对接意向")
        need.last_activity_on = today
        need.save()
    return interest


def need_meeting_record(*, need_id: int, user, data: dict[str, Any]) -> NeedMeeting:
    """Staff record a meeting about a need (with a bank or not) and its outcome; an open
    need is then in talks."""
    _require_staff(principal_for(user), "记录对接情况")
    today = clock.today()
    held_on = data.get("held_on") or today
    if held_on > today:
        raise AppError(
            MatchingError.MEETING_DATE_INVALID, "对接日期不能晚于今天", field="held_on", status=400
        )
    with transaction.atomic(durable=True):
        need = FinancingNeed.objects.select_for_update().filter(pk=need_id).first()
        if need is None:
            raise NotFound("融资需求不存在")
        if need.status not in FILEABLE_STATUSES:
            raise Conflict(MatchingError.NEED_NOT_OPEN, "该融资需求已结束，不能再记录对接")
        meeting = NeedMeeting.objects.create(
            need=need,
            institution=data.get("institution"),
            held_on=held_on,
            kind=data.get("kind") or MeetingKind.MEETING,
            outcome=data.get("outcome") or MeetingOutcome.CONTINUING,
            notes=(data.get("notes") or "")[:2000],
            recorded_by=user,
        )
        _start_talks(need, user, "工作人员记录对接情况")
        need.last_activity_on = today
        need.save()
    return meeting


def need_transition(*, need_id: int, name: str, user, comment: str = "") -> FinancingNeed:
    """Staff close, withdraw or renew a need (admin buttons); a bank may withdraw the needs it
    registered. `close` and `withdraw` need a reason; `renew` opens an expired need for the
    policy's number of working days again."""
    require_public(FinancingNeed, name)
    today = clock.today()
    principal = principal_for(user)

    def prepare(need: FinancingNeed) -> None:
        if principal.is_institution and need.submitted_by_id != principal.institution_id:
            raise Forbidden(CommonError.PERMISSION_DENIED, "只能撤回贵机构代为登记的需求")
        if name in _COMMENT_REQUIRED and not comment.strip():
            raise AppError(CommonError.COMMENT_REQUIRED, "请填写原因", field="comment", status=400)
        if name == "renew":
            policy = selectors.policy_for(fund_id=need.fund_id, on=today)
            need.expires_on = workdays.add_working_days(today, policy.need_valid_working_days)
        need.last_activity_on = today

    return run_transition(
        model=FinancingNeed, pk=need_id, name=name, user=user, comment=comment, prepare=prepare
    )


def needs_expire_due(*, today: dt.date | None = None) -> int:
    """Scheduled: needs still open past their validity become `expired`."""
    today = today or clock.today()
    count = 0
    for pk in FinancingNeed.objects.filter(status__in=SEEKING_STATUSES, expires_on__lt=today).values_list(
        "pk", flat=True
    ):
        try:
            run_transition(
                model=FinancingNeed,
                pk=pk,
                name="expire",
                user=None,
                comment="有效期内未报送贷款备案",
                system=True,
            )
            count += 1
        except AppError:  # changed meanwhile (filed, withdrawn): nothing to do
            log.info("need %s not expired: state changed", pk)
    return count


# --- the loans app's calls: a filing that names a need -------------------------------------------


def need_check_for_filing(
    *, principal: Principal, need_id: int, fund_id: int, enterprise_id: int | None
) -> None:
    """Before a bank's filing naming `need_id` is stored: the need must be one the bank can
    see, of the same enterprise and fund, and still open to a filing. 422
    financing_need_invalid otherwise (nothing is stored)."""
    need = selectors.needs_visible_to(principal).filter(pk=need_id).first()
    problem = None
    if need is None:
        problem = "融资需求不存在或贵机构无权查看"
    elif need.fund_id != fund_id or need.enterprise_id != enterprise_id:
        problem = "融资需求与备案的资金或借款企业不一致"
    elif need.status not in FILEABLE_STATUSES:
        problem = "该融资需求已结束（已满足、撤回或过期）"
    if problem:
        raise RuleViolations(
            [Violation(MatchingError.FINANCING_NEED_INVALID, problem, "financing_need")],
            code=MatchingError.FINANCING_NEED_INVALID,
        )


FILING_EVENTS = ("submitted", "accepted", "withdrawn", "rejected", "voided")


def need_follow_filing(
    *,
    need_id: int,
    institution_id: int,
    reference: str,
    event: str,
    on: dt.date,
    user,
    other_live_filings: bool = False,
    other_accepted_filings: bool = False,
) -> FinancingNeed | None:
    """The need a filing names follows that filing (a step of the loans command, in its
    transaction): submitted → filed (and the filing bank counts as interested, so the need
    stays its own to read); accepted → closed (met); refused, withdrawn → back in
    talks unless another live filing still names it; voided after acceptance → back in talks
    unless another accepted one does. `other_*` are what the loans app knows of the need's
    other filings. Every move is logged with the filing's reference."""
    if event not in FILING_EVENTS:
        raise ValueError(f"unknown filing event {event!r}")
    need = FinancingNeed.objects.select_for_update().filter(pk=need_id).first()
    if need is None:
        return None
    status = need.status
    if event == "submitted":
        NeedInterest.objects.get_or_create(
            need=need,
            institution_id=institution_id,
            defaults={"expressed_on": on, "comment": f"报送贷款备案 {reference}", "by": user},
        )
    if event == "submitted" and status in SEEKING_STATUSES:
        need.mark_filed(by=user, description=f"贷款备案 {reference} 已报送")
    elif event == "accepted" and status == NeedStatus.FILED:
        need.close_financed(by=user, description=f"贷款备案 {reference} 已受理入池")
    elif event in ("withdrawn", "rejected") and status == NeedStatus.FILED and not other_live_filings:
        outcome = "已撤回" if event == "withdrawn" else "未获受理"
        need.unfile(by=user, description=f"贷款备案 {reference} {outcome}")
    elif (
        event == "voided"
        and status == NeedStatus.CLOSED
        and not (other_accepted_filings or other_live_filings)
    ):
        need.reopen(by=user, description=f"贷款备案 {reference} 已作废")
    elif event == "voided" and status == NeedStatus.FILED and not other_live_filings:
        need.unfile(by=user, description=f"贷款备案 {reference} 已作废")
    need.last_activity_on = max(need.last_activity_on, on)
    need.save()
    return need


# --- honours ---------------------------------------------------------------------------------


def honour_save(*, honour: EnterpriseHonour, by) -> EnterpriseHonour:
    """Record or correct an enterprise's honour (admin); the priority classes of the
    enterprise's needs are computed again at once."""
    _require_staff(principal_for(by), "登记企业荣誉")
    if honour.kind not in HonourKind.values:
        raise AppError(FieldError.INVALID_CHOICE, "未知的荣誉类别", field="kind", status=400)
    if honour.valid_until is not None and honour.valid_until < honour.granted_on:
        raise AppError(
            MatchingError.HONOUR_DATES_INVALID, "有效期不能早于认定日期", field="valid_until", status=400
        )
    with transaction.atomic(durable=True):
        if honour.pk is None:
            honour.recorded_by = by
        honour.save()
        need_priorities_refresh(enterprise_ids=[honour.enterprise_id])
    return honour


def priority_class_save(*, priority_class: PriorityClass, by) -> PriorityClass:
    """Add or change a priority class (system administrators and approvers); every need in
    play is classified again under it."""
    if not principal_for(by).has_role(Role.APPROVER):
        raise Forbidden(CommonError.PERMISSION_DENIED, "您的角色无权修改优先对接分类")
    errors = rules.parameter_errors(
        priority_class.rule, priority_class.parameters, honour_kinds=HonourKind.values
    )
    if errors:
        raise AppError(
            MatchingError.PRIORITY_PARAMETERS_INVALID, "；".join(errors), field="parameters", status=400
        )
    with transaction.atomic(durable=True):
        priority_class.save()
        need_priorities_refresh()
    return priority_class


# --- events and signings ---------------------------------------------------------------------


def event_save(*, event: OutreachEvent, by) -> OutreachEvent:
    """Record or correct an event (the participants are saved with it by the admin form)."""
    _require_staff(principal_for(by), "登记宣传与对接活动")
    if not event.place.strip() and not event.online:
        raise AppError(
            MatchingError.EVENT_PLACE_REQUIRED, "请填写活动地点，或勾选线上举办", field="place", status=400
        )
    with transaction.atomic(durable=True):
        if event.pk is None:
            event.created_by = by
        event.save()
    return event


def _institution_in_fund(institution: Institution, fund_id: int, on: dt.date) -> bool:
    return CooperationAgreement.objects.filter(
        institution=institution, fund_id=fund_id, valid_from__lte=on
    ).exists()


def signing_record(
    *,
    event: OutreachEvent,
    institution: Institution,
    enterprise: Enterprise,
    intended_amount: Decimal,
    by,
    financing_need: FinancingNeed | None = None,
    notes: str = "",
) -> EventSigning:
    """A bank and an enterprise signed at an event. The signing names a financing need of the
    enterprise in the event's fund: the one given, else its latest need still in play, else a
    new one made from the signing (source `event`, the intended amount, registered on the
    event's date). The bank's interest in that need is recorded and the need is in talks; both
    parties are counted among the event's participants. The bank's filing naming that need
    realises the signing."""
    _require_staff(principal_for(by), "登记现场签约")
    today = clock.today()
    amount = quantize(intended_amount)
    if amount <= 0:
        raise AppError(CommonError.INVALID_MONEY, "意向金额须大于零", field="intended_amount", status=400)
    if enterprise.fund_id != event.fund_id:
        raise AppError(
            MatchingError.SIGNING_ENTERPRISE_OUTSIDE_FUND,
            "签约企业不属于该活动所在城市的资金",
            field="enterprise",
        )
    if not _institution_in_fund(institution, event.fund_id, max(event.held_on, today)):
        raise AppError(
            MatchingError.SIGNING_INSTITUTION_NOT_IN_FUND,
            "签约机构未与该资金签订合作协议",
            field="institution",
        )
    if financing_need is not None and (
        financing_need.enterprise_id != enterprise.pk
        or financing_need.fund_id != event.fund_id
        or financing_need.status not in FILEABLE_STATUSES
    ):
        raise AppError(
            MatchingError.FINANCING_NEED_INVALID, "所选融资需求不属于该企业或已结束", field="financing_need"
        )
    with transaction.atomic(durable=True):
        need = financing_need
        if need is None:
            need = (
                FinancingNeed.objects.filter(
                    enterprise=enterprise, fund_id=event.fund_id, status__in=FILEABLE_STATUSES
                )
                .order_by("-registered_on", "-id")
                .first()
            )
        if need is None:
            policy = selectors.policy_for(fund_id=event.fund_id, on=today)
            registered = min(event.held_on, today)
            need = FinancingNeed.objects.create(
                fund_id=event.fund_id,
                enterprise=enterprise,
                amount=amount,
                term_months=SIGNING_NEED_TERM_MONTHS,
                purpose=f"{event.title}现场签约"[:300],
                source=NeedSource.EVENT,
                registered_on=registered,
                expires_on=workdays.add_working_days(registered, policy.need_valid_working_days),
                last_activity_on=today,
                created_by=by,
            )
            log_created(
                need,
                state=NeedStatus.OPEN,
                user=by,
                comment=f"{event.title}现场签约",
                transition_name="register",
            )
            need_priorities_refresh(need_ids=[need.pk], today=today)
        need = FinancingNeed.objects.select_for_update().get(pk=need.pk)
        NeedInterest.objects.get_or_create(
            need=need,
            institution=institution,
            defaults={
                "expressed_on": min(event.held_on, today),
                "comment": f"{event.title}现场签约",
                "by": by,
            },
        )
        _start_talks(need, by, f"{institution.name}在{event.title}现场签约")
        need.last_activity_on = today
        need.save()
        signing = EventSigning.objects.create(
            event=event,
            institution=institution,
            enterprise=enterprise,
            intended_amount=amount,
            financing_need=need,
            notes=(notes or "")[:300],
            recorded_by=by,
        )
        event.enterprises.add(enterprise)
        event.institutions.add(institution)
    return signing
