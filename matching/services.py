"""Writes about financing needs, bank matching and outreach events. Each public function is one
business command in one durable transaction, except those marked as steps of a caller's
command (they run inside the caller's transaction).

How a need follows its loan: the loans app sits above this one, so it calls
`need_check_for_filing` when a filing names a need and `need_follow_filing` when that filing
is submitted, accepted, refused, withdrawn or voided, inside the loans command's own
transaction: the need and the filing change together or not at all. (An event published by
loans could not be heard here — a lower app subscribing to a higher one's event would have to
import it — and an event on the lib layer would only hide the same call behind a name.)

Messages answered to people are in their language; what is recorded (transition comments, a
need's history, interest comments, a need made from a signing) is in the default language
(`fundmgr.ground.lib.i18n.recorded`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from banks.models import CooperationAgreement, Institution
from enterprises.errors import EnterprisesError
from enterprises.models import Enterprise, IPAsset
from fundmgr.ground.accounts.models import Role
from fundmgr.ground.accounts.principals import Principal, principal_for, require_institution
from fundmgr.ground.accounts.workflow import log_created, require_public, run_transition
from fundmgr.ground.funds.errors import FundsError
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
from fundmgr.ground.lib.i18n import recorded
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
    MatchingPolicy,
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

# Steps whose reason is part of the record.


def _require_staff(principal: Principal, action: str) -> None:
    """Officers and approvers only; `action` (translated) says what was refused."""
    if not principal.has_role(Role.OFFICER, Role.APPROVER):
        raise Forbidden(CommonError.PERMISSION_DENIED, _("您的角色无权%(action)s") % {"action": action})


def _required(value, field: str) -> None:
    if value in (None, ""):
        raise AppError(FieldError.REQUIRED, _("请填写此项"), field=field, status=400)


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
    specs = selectors.class_specs_for(fund_ids={fund_id for _pk, fund_id, _e in rows})
    facts = selectors.enterprise_facts(enterprise_ids={e for _pk, _f, e in rows})
    with transaction.atomic():
        NeedPriority.objects.filter(need_id__in=[pk for pk, _f, _e in rows]).delete()
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
                    _("知识产权 %(number)s 不在该企业名下") % {"number": raw},
                    f"offered_ip[{index}]",
                )
            )
        elif asset.status != IPAsset.Status.VALID or asset.expires_on <= today:
            violations.append(
                Violation(
                    MatchingError.OFFERED_IP_NOT_VALID,
                    _("知识产权 %(number)s 已失效或到期") % {"number": raw},
                    f"offered_ip[{index}]",
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
        _require_staff(principal, _("登记融资需求"))
    elif not principal.is_institution:
        raise Forbidden(CommonError.PERMISSION_DENIED, _("只有资金管理人和合作机构可以登记融资需求"))
    today = clock.today()
    for key in ("fund", "enterprise_uscc", "amount", "term_months"):
        _required(data.get(key), key)
    fund = Fund.objects.filter(code=data["fund"]).first()
    if fund is None or (
        principal.is_institution
        and fund.pk not in selectors.funds_open_to(institution_id=principal.institution_id, on=today)
    ):
        raise AppError(
            EnterprisesError.FUND_NOT_AVAILABLE,
            _("资金不存在或贵机构在该资金没有有效的合作协议"),
            field="fund",
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
            _("该企业未在本资金入库或入库已失效"),
            field="enterprise_uscc",
        )
    amount = quantize(data["amount"])
    if amount <= 0:
        raise AppError(CommonError.INVALID_MONEY, _("融资金额须大于零"), field="amount", status=400)
    consent_on, scope = _consent(data, today)
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
            comment=recorded(gettext_noop("登记融资需求")),
            transition_name="register",
        )
        need_priorities_refresh(need_ids=[need.pk], today=today)
    need.refresh_from_db()
    return need


def _consent(data: dict[str, Any], today: dt.date) -> tuple[dt.date | None, str]:
    """The enterprise's consent to share as given: its date (never later than today; none when
    not given or withdrawn) and its scope (basic when not said)."""
    consent_on = data.get("consent_on")
    if consent_on is not None and consent_on > today:
        raise AppError(
            MatchingError.CONSENT_DATE_INVALID, _("同意共享日期不能晚于今天"), field="consent_on", status=400
        )
    scope = data.get("consent_scope") or ConsentScope.BASIC
    if scope not in ConsentScope.values:
        raise AppError(FieldError.INVALID_CHOICE, _("未知的共享范围"), field="consent_scope", status=400)
    return consent_on, scope


def need_update(*, need_id: int, user, data: dict[str, Any]) -> FinancingNeed:
    """Staff correct what the enterprise said of a need (admin): its purpose, and its consent
    to share with partner banks (the date, or none when withdrawn, and the scope). A consent
    given later makes the need visible to the banks, and new to them in the next digest; a
    consent withdrawn hides it. The amount, term and rights offered are the need itself: a
    different need is registered anew. Logged in the need's history with who and what.

    Refusals: permission_denied (403), consent_date_invalid (400), invalid_choice (400)."""
    _require_staff(principal_for(user), _("修改融资需求"))
    today = clock.today()
    consent_on, scope = _consent(data, today)
    with transaction.atomic(durable=True):
        need = FinancingNeed.objects.select_for_update().filter(pk=need_id).first()
        if need is None:
            raise NotFound(_("融资需求不存在"))
        # Only what `data` holds is changed (a key left out keeps its value).
        if "consent_on" not in data:
            consent_on = need.consent_on
        if "consent_scope" not in data:
            scope = need.consent_scope
        changed = []
        if "purpose" in data and (data["purpose"] or "")[:300] != need.purpose:
            need.purpose = (data["purpose"] or "")[:300]
            changed.append(recorded(gettext_noop("用途")))
        if consent_on != need.consent_on or scope != need.consent_scope:
            need.consent_on, need.consent_scope = consent_on, scope
            changed.append(
                recorded(gettext_noop("同意共享")) if consent_on else recorded(gettext_noop("撤回同意共享"))
            )
        if not changed:
            return need
        need._history_user = user
        need._change_reason = recorded(gettext_noop("修改%(fields)s"), fields="、".join(changed))[:100]
        need.save()
    log.info("need %s changed by %s: %s", need.pk, getattr(user, "pk", None), ", ".join(changed))
    return need


# --- matching --------------------------------------------------------------------------------


def _start_talks(need: FinancingNeed, user, why: str) -> None:
    if need.status == NeedStatus.OPEN:
        need.start_talks(by=user, description=why)


def need_interest_record(*, principal: Principal, need_id: int, comment: str = "") -> NeedInterest:
    """A bank says it wants to talk about a need it can see; the need is then in talks.
    Refusals: institution_only (403), need_not_open (409: filed, closed, withdrawn, expired),
    interest_exists (409: said already)."""
    require_institution(principal, _("对接意向由合作机构通过接口提交"))
    comment = (comment or "").strip()
    today = clock.today()
    with transaction.atomic(durable=True):
        visible = selectors.needs_visible_to(principal, on=today).filter(pk=need_id)
        need = FinancingNeed.objects.select_for_update().filter(pk__in=visible.values("pk")).first()
        if need is None:
            raise NotFound(_("融资需求不存在或无权访问"))
        if need.status not in SEEKING_STATUSES:
            raise Conflict(MatchingError.NEED_NOT_OPEN, _("该融资需求已不在对接中"))
        if NeedInterest.objects.filter(need=need, institution_id=principal.institution_id).exists():
            raise Conflict(MatchingError.INTEREST_EXISTS, _("贵机构已表达过对接意向"))
        interest = NeedInterest.objects.create(
            need=need,
            institution_id=principal.institution_id,
            expressed_on=today,
            comment=comment[:2000],
            by=principal.user,
        )
        institution = Institution.objects.get(pk=principal.institution_id)
        _start_talks(
            need, principal.user, recorded(gettext_noop("%(bank)s表达对接意向"), bank=institution.name)
        )
        need.last_activity_on = today
        need.save()
    return interest


def need_meeting_record(*, need_id: int, user, data: dict[str, Any]) -> NeedMeeting:
    """Staff record a meeting about a need (with a bank or not) and its outcome; an open
    need is then in talks."""
    _require_staff(principal_for(user), _("记录对接情况"))
    today = clock.today()
    held_on = data.get("held_on") or today
    if held_on > today:
        raise AppError(
            MatchingError.MEETING_DATE_INVALID, _("对接日期不能晚于今天"), field="held_on", status=400
        )
    with transaction.atomic(durable=True):
        need = FinancingNeed.objects.select_for_update().filter(pk=need_id).first()
        if need is None:
            raise NotFound(_("融资需求不存在"))
        if need.status not in FILEABLE_STATUSES:
            raise Conflict(MatchingError.NEED_NOT_OPEN, _("该融资需求已结束，不能再记录对接"))
        meeting = NeedMeeting.objects.create(
            need=need,
            institution=data.get("institution"),
            held_on=held_on,
            kind=data.get("kind") or MeetingKind.MEETING,
            outcome=data.get("outcome") or MeetingOutcome.CONTINUING,
            notes=(data.get("notes") or "")[:2000],
            recorded_by=user,
        )
        _start_talks(need, user, recorded(gettext_noop("工作人员记录对接情况")))
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
            raise Forbidden(CommonError.PERMISSION_DENIED, _("只能撤回贵机构代为登记的需求"))
        if name in rules.NEED_COMMENT_REQUIRED and not comment.strip():
            raise AppError(CommonError.COMMENT_REQUIRED, _("请填写原因"), field="comment", status=400)
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
                comment=recorded(gettext_noop("有效期内未报送贷款备案")),
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
        problem = _("融资需求不存在或贵机构无权查看")
    elif need.fund_id != fund_id or need.enterprise_id != enterprise_id:
        problem = _("融资需求与备案的资金或借款企业不一致")
    elif need.status not in FILEABLE_STATUSES:
        problem = _("该融资需求已结束（已满足、撤回或过期）")
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
            defaults={
                "expressed_on": on,
                "comment": recorded(gettext_noop("报送贷款备案 %(filing)s"), filing=reference),
                "by": user,
            },
        )
    if event == "submitted" and status in SEEKING_STATUSES:
        need.mark_filed(
            by=user, description=recorded(gettext_noop("贷款备案 %(filing)s 已报送"), filing=reference)
        )
    elif event == "accepted" and status == NeedStatus.FILED:
        need.close_financed(
            by=user, description=recorded(gettext_noop("贷款备案 %(filing)s 已受理入池"), filing=reference)
        )
    elif event in ("withdrawn", "rejected") and status == NeedStatus.FILED and not other_live_filings:
        outcome = (
            gettext_noop("贷款备案 %(filing)s 已撤回")
            if event == "withdrawn"
            else gettext_noop("贷款备案 %(filing)s 未获受理")
        )
        need.unfile(by=user, description=recorded(outcome, filing=reference))
    elif (
        event == "voided"
        and status == NeedStatus.CLOSED
        and not (other_accepted_filings or other_live_filings)
    ):
        need.reopen(
            by=user, description=recorded(gettext_noop("贷款备案 %(filing)s 已作废"), filing=reference)
        )
    elif event == "voided" and status == NeedStatus.FILED and not other_live_filings:
        need.unfile(
            by=user, description=recorded(gettext_noop("贷款备案 %(filing)s 已作废"), filing=reference)
        )
    need.last_activity_on = max(need.last_activity_on, on)
    need.save()
    return need


# --- honours ---------------------------------------------------------------------------------


def honour_save(*, honour: EnterpriseHonour, by) -> EnterpriseHonour:
    """Record or correct an enterprise's honour (admin); the priority classes of the
    enterprise's needs (and of the enterprise it was recorded for before, when corrected to
    another) are computed again at once. History kept; an honour ends by its validity."""
    _require_staff(principal_for(by), _("登记企业荣誉"))
    if honour.kind not in HonourKind.values:
        raise AppError(FieldError.INVALID_CHOICE, _("未知的荣誉类别"), field="kind", status=400)
    if honour.valid_until is not None and honour.valid_until < honour.granted_on:
        raise AppError(
            MatchingError.HONOUR_DATES_INVALID, _("有效期不能早于认定日期"), field="valid_until", status=400
        )
    with transaction.atomic(durable=True):
        enterprises = {honour.enterprise_id}
        if honour.pk is None:
            honour.recorded_by = by
        else:
            enterprises |= set(
                EnterpriseHonour.objects.filter(pk=honour.pk).values_list("enterprise_id", flat=True)
            )
        honour._history_user = by
        honour.save()
        need_priorities_refresh(enterprise_ids=enterprises)
    return honour


def priority_class_save(*, priority_class: PriorityClass, by) -> PriorityClass:
    """Add or change a priority class (system administrators and approvers); every need in
    play is classified again under it."""
    if not principal_for(by).has_role(Role.APPROVER):
        raise Forbidden(CommonError.PERMISSION_DENIED, _("您的角色无权修改优先对接分类"))
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


def event_save(
    *,
    event: OutreachEvent,
    by,
    enterprises: Iterable[Enterprise] | None = None,
    institutions: Iterable[Institution] | None = None,
) -> OutreachEvent:
    """Record or correct an event, with its participating enterprises and institutions when
    given (None leaves them as they are). The parties of its signings stay participants."""
    _require_staff(principal_for(by), _("登记宣传与对接活动"))
    if not event.place.strip() and not event.online:
        raise AppError(
            MatchingError.EVENT_PLACE_REQUIRED, _("请填写活动地点，或勾选线上举办"), field="place", status=400
        )
    with transaction.atomic(durable=True):
        if event.pk is None:
            event.created_by = by
        event._history_user = by
        event.save()
        signings = list(
            EventSigning.objects.filter(event=event).values_list("enterprise_id", "institution_id")
        )
        if enterprises is not None:
            event.enterprises.set({e.pk for e in enterprises} | {e for e, _i in signings})
        if institutions is not None:
            event.institutions.set({i.pk for i in institutions} | {i for _e, i in signings})
    return event


# --- policy ----------------------------------------------------------------------------------


def matching_policy_save(*, policy: MatchingPolicy, by) -> MatchingPolicy:
    """Add a row of matching numbers for a fund (or the default for every fund), or correct
    one not yet in force (the system administrator, who keeps the funds' policy versions). History is never rewritten: a row in force is read-only
    and a new one starts today or later; the numbers apply to what happens from then on
    (a need's validity is fixed when it is registered or renewed).

    Refusals: permission_denied (403), matching_policy_in_force (409), policy_backdated (409),
    policy_version_exists (409)."""
    if not principal_for(by).has_role(Role.ADMIN):
        raise Forbidden(CommonError.PERMISSION_DENIED, _("只有系统管理员可以修改对接政策参数"))
    today = clock.today()
    with transaction.atomic(durable=True):
        if policy.pk is not None:
            stored = MatchingPolicy.objects.select_for_update().get(pk=policy.pk)
            if stored.effective_from <= today:
                raise Conflict(
                    MatchingError.POLICY_IN_FORCE,
                    _("已生效的对接政策参数不能修改，请新增一条自今天或以后生效的记录"),
                )
        if policy.effective_from < today:
            raise Conflict(
                FundsError.POLICY_BACKDATED,
                _("对接政策参数不能追溯生效，请选择今天或以后的日期"),
                field="effective_from",
            )
        if (
            MatchingPolicy.objects.filter(fund=policy.fund_id, effective_from=policy.effective_from)
            .exclude(pk=policy.pk)
            .exists()
        ):
            raise Conflict(
                FundsError.POLICY_VERSION_EXISTS, _("该生效日期已有对接政策参数"), field="effective_from"
            )
        if policy.pk is None:
            policy.created_by = by
        policy.save()
    log.info(
        "matching policy %s (fund %s, from %s) saved by %s",
        policy.pk,
        policy.fund_id,
        policy.effective_from,
        getattr(by, "pk", None),
    )
    return policy


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
    _require_staff(principal_for(by), _("登记现场签约"))
    today = clock.today()
    amount = quantize(intended_amount)
    if amount <= 0:
        raise AppError(CommonError.INVALID_MONEY, _("意向金额须大于零"), field="intended_amount", status=400)
    if enterprise.fund_id != event.fund_id:
        raise AppError(
            MatchingError.SIGNING_ENTERPRISE_OUTSIDE_FUND,
            _("签约企业不属于该活动所在城市的资金"),
            field="enterprise",
        )
    if not _institution_in_fund(institution, event.fund_id, max(event.held_on, today)):
        raise AppError(
            MatchingError.SIGNING_INSTITUTION_NOT_IN_FUND,
            _("签约机构未与该资金签订合作协议"),
            field="institution",
        )
    if financing_need is not None and (
        financing_need.enterprise_id != enterprise.pk
        or financing_need.fund_id != event.fund_id
        or financing_need.status not in FILEABLE_STATUSES
    ):
        raise AppError(
            MatchingError.FINANCING_NEED_INVALID,
            _("所选融资需求不属于该企业或已结束"),
            field="financing_need",
        )
    signed = recorded(gettext_noop("%(event)s现场签约"), event=event.title)
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
                term_months=policy.signing_need_term_months,
                purpose=signed[:300],
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
                comment=signed,
                transition_name="register",
            )
            need_priorities_refresh(need_ids=[need.pk], today=today)
        need = FinancingNeed.objects.select_for_update().get(pk=need.pk)
        NeedInterest.objects.get_or_create(
            need=need,
            institution=institution,
            defaults={
                "expressed_on": min(event.held_on, today),
                "comment": signed,
                "by": by,
            },
        )
        _start_talks(
            need,
            by,
            recorded(gettext_noop("%(bank)s在%(event)s现场签约"), bank=institution.name, event=event.title),
        )
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
