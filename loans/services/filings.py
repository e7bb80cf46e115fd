"""Writes about loan filings: submission with automatic checks, due diligence, acceptance.

Servicing (monthly reports, settlement, warnings, automatic suspension) is in servicing.py.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext, gettext_noop
from django_fsm_log.models import StateLog

from banks.models import Institution, Product
from banks.selectors import agreement_in_force, agreements_in_fund
from banks.services import institution_can_file
from enterprises.errors import EnterprisesError
from enterprises.models import Enterprise, IPAsset
from enterprises.selectors import enterprise_by_uscc
from fundmgr.ground.accounts.errors import AccountsError
from fundmgr.ground.accounts.models import TransitionDate
from fundmgr.ground.accounts.principals import Principal, require_institution
from fundmgr.ground.accounts.workflow import first_entry, keep_history, require_public, run_transition
from fundmgr.ground.funds.models import Fund, PolicyVersion
from fundmgr.ground.funds.selectors import fund_figures_one
from fundmgr.ground.lib import clock, rawsql, workdays
from fundmgr.ground.lib.errors import AppError, CommonError, Conflict, RuleViolations, Violation
from fundmgr.ground.lib.i18n import recorded
from fundmgr.ground.lib.identifiers import (
    IdentifierError,
    validate_ip_number,
    validate_pledge_registration_no,
)
from fundmgr.ground.lib.models import prime_related
from fundmgr.ground.lib.rawsql import columns, insert_new
from loans.errors import LoansError
from matching.services import need_check_for_filing, need_follow_filing

from ..events import BOOK_CHANGED, FILING_DECIDED
from ..models import LIVE_FILING_STATUSES, DueDiligence, FilingStatus, LoanFiling, Pledge, ReferenceCounter
from ..rules import filings as rules
from ..selectors.filings import BookFacts, filing_book_facts
from . import book

STAFF_FILING_STEPS = frozenset({"start_due_diligence", "return_for_supplement", "accept", "reject", "void"})
# What a staff step on a filing means for the financing need it names.
_NEED_EVENTS = {"accept": "accepted", "reject": "rejected", "void": "voided"}

FILING_FIELDS = (
    "contract_no",
    "principal",
    "pledge_type",
    "covered_principal",
    "annual_rate",
    "disbursed_on",
    "matures_on",
    "purpose",
)


def _bad_request(violations: list[Violation]) -> AppError:
    codes = {v.code for v in violations}
    code = codes.pop() if len(codes) == 1 else "validation_failed"
    return AppError(code, "；".join(v.message for v in violations), status=400, errors=violations)


def _normalise_pledges(items: list[dict[str, Any]], *, today: dt.date) -> list[dict[str, Any]]:
    """Identifiers per kind (400 when malformed); registration numbers kept as given when
    malformed, so the business rule `pledge_not_registered` reports them."""
    violations: list[Violation] = []
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for index, item in enumerate(items):
        try:
            number = validate_ip_number(item["kind"], item["number"], today=today)
        except IdentifierError as exc:
            violations.append(Violation(exc.code, exc.message, f"pledges[{index}].number"))
            continue
        if (item["kind"], number) in seen:
            violations.append(
                Violation(
                    LoansError.DUPLICATE_PLEDGE, gettext("同一知识产权重复质押"), f"pledges[{index}].number"
                )
            )
            continue
        seen.add((item["kind"], number))
        try:
            registration_no = validate_pledge_registration_no(item.get("registration_no") or "")
            registration_ok = True
        except IdentifierError:
            registration_no, registration_ok = (item.get("registration_no") or "")[:32], False
        out.append(
            {
                **item,
                "index": index,
                "number": number,
                "registration_no": registration_no,
                "registration_ok": registration_ok,
            }
        )
    if violations:
        raise _bad_request(violations)
    return out


def _evaluate(
    *,
    fund: Fund,
    institution: Institution,
    enterprise: Enterprise | None,
    product: Product | None,
    terms: dict[str, Any],
    pledges: list[dict[str, Any]],
    today: dt.date,
    assets: dict[int, IPAsset] | None = None,
    agreements: list | None = None,
    book: BookFacts | None = None,
    exclude_filing: int | None = None,
) -> tuple[list[rules.Check], PolicyVersion]:
    """Gather the facts and run every rule. Returns the checks and the policy in force they
    were judged by. `assets`: the borrower's rights the pledges name (`_borrower_assets`),
    `agreements`: the institution's agreements in the fund, and `book`: what the loan book
    says of the borrower and the rights (`filing_book_facts`), when the caller already has
    them."""
    # The fund's figures and the policy in force come in one statement.
    figures = fund_figures_one(fund=fund, on=today)
    policy = figures.policy
    if policy is None:
        raise AppError(
            EnterprisesError.NO_POLICY_IN_FORCE, gettext("该资金没有生效的政策版本"), field="fund", status=409
        )
    if assets is None:
        assets = _borrower_assets(enterprise, pledges)
    if book is None:
        book = filing_book_facts(
            enterprise_id=enterprise.pk if enterprise else None,
            asset_ids=[a.pk for a in assets.values()],
            exclude_filing=exclude_filing,
        )
    held = book.pledged_elsewhere
    fund_active = fund.status == Fund.Status.ACTIVE and (fund.end_date is None or today <= fund.end_date)
    enterprise_admitted = (
        enterprise is not None
        and enterprise.fund_id == fund.pk
        and enterprise.status == Enterprise.Status.ADMITTED
        and (enterprise.admitted_until is None or enterprise.admitted_until >= today)
    )
    facts = rules.FilingFacts(
        today=today,
        fund_active=fund_active,
        enterprise_admitted=enterprise_admitted,
        institution_violations=institution_can_file(
            institution=institution, fund=fund, on=today, agreements=agreements
        ),
        requires_product_filing=policy.requires_product_filing,
        product_filed=product is not None and product.status == Product.Status.FILED,
        principal=terms["principal"],
        covered_principal=terms.get("covered_principal"),
        pledge_type=terms["pledge_type"],
        combined_pledge_allowed=policy.combined_pledge_allowed,
        min_ip_share=policy.min_ip_share,
        annual_rate=terms["annual_rate"],
        max_annual_rate=policy.max_annual_rate,
        disbursed_on=terms["disbursed_on"],
        matures_on=terms["matures_on"],
        max_term_months=policy.max_term_months,
        filing_deadline=workdays.add_working_days(terms["disbursed_on"], policy.filing_deadline_working_days),
        deadline_working_days=policy.filing_deadline_working_days,
        enterprise_live_exposure=book.enterprise_exposure,
        max_enterprise_exposure=policy.max_enterprise_exposure,
        fund_covered_outstanding=figures.covered_outstanding,
        fund_capacity=figures.capacity,
        accepted_ip_kinds=policy.accepted_ip_kinds,
        pledges=[
            rules.PledgeFacts(
                index=p["index"],
                kind=p["kind"],
                number=p["number"],
                owned_by_borrower=p["index"] in assets,
                asset_status=assets[p["index"]].status if p["index"] in assets else None,
                expires_on=assets[p["index"]].expires_on if p["index"] in assets else None,
                pledged_elsewhere=held.get(assets[p["index"]].pk) if p["index"] in assets else None,
                registration_no_valid=p["registration_ok"],
                registered_on=p.get("registered_on"),
            )
            for p in pledges
        ],
        product_max_term_months=product.max_term_months if product else None,
        product_max_annual_rate=product.max_annual_rate if product else None,
    )
    return rules.check_filing(facts), policy


def _borrower_assets(
    enterprise: Enterprise | None, pledges: list[dict[str, Any]], *, lock: bool = False
) -> dict[int, IPAsset]:
    """Pledge index → the borrower's registered right it names (absent when the borrower does
    not hold it: the rule `ip_not_owned` says so).

    `lock`: one IP right is in at most one live filing, also when filings pledging it arrive
    at once: the rights are read locked (in id order, so two filings cannot deadlock) inside
    the transaction that will write the pledges, before the checks ask who holds them. A
    concurrent filing that took a right first has committed by the time the lock is ours, and
    is seen then."""
    if enterprise is None or not pledges:
        return {}
    by_key = {(a.kind, a.number): a for a in _rights_named(enterprise.pk, pledges, lock=lock)}
    return {
        p["index"]: by_key[(p["kind"], p["number"])] for p in pledges if (p["kind"], p["number"]) in by_key
    }


def _rights_named(enterprise_id: int, pledges: list[dict[str, Any]], *, lock: bool) -> list[IPAsset]:
    """The borrower's rights the pledges name, in id order; locked (where the database locks
    rows) when asked. One plain statement (`lib.rawsql`): the ORM's OR of (kind, number)
    pairs cost more to build than to answer."""
    q = connection.ops.quote_name
    row = columns(IPAsset, "a")
    pairs = " OR ".join([f"(a.{q('kind')} = %s AND a.{q('number')} = %s)"] * len(pledges))
    lock_sql = " FOR UPDATE" if lock and connection.features.has_select_for_update else ""
    found = rawsql.rows(
        f"SELECT {row.sql} FROM {row.table()} WHERE a.{q('enterprise_id')} = %s AND ({pairs})"
        f" ORDER BY a.{q('id')}{lock_sql}",
        [enterprise_id, *(v for p in pledges for v in (p["kind"], p["number"]))],
    )
    return [row.instance(values) for values in found]


def _refuse_if_failed(checks: list[rules.Check]) -> None:
    failed = [c for c in checks if not c.passed]
    if failed:
        raise RuleViolations(
            [Violation(c.code, c.message, c.field) for c in failed],
            code=LoansError.FILING_REFUSED,
            message=gettext("备案未通过自动校验：%(reasons)s")
            % {"reasons": "；".join(c.message for c in failed)},
        )


def _next_reference(fund: Fund, year: int) -> str:
    """The fund's next reference of the year. One statement takes the counter's row lock and
    moves it on (held until the filing commits, so references never repeat or skip)."""
    last = _count_on(fund.pk, year)
    if last is None:  # the fund's first filing of the year
        ReferenceCounter.objects.get_or_create(fund=fund, year=year)
        last = _count_on(fund.pk, year)
    return f"{fund.reference_prefix}-{year}-{last:06d}"


def _count_on(fund_id: int, year: int) -> int | None:
    q = connection.ops.quote_name
    table, last = q(ReferenceCounter._meta.db_table), q("last")
    found = rawsql.rows(
        f"UPDATE {table} SET {last} = {last} + 1 WHERE {q('fund_id')} = %s AND {q('year')} = %s RETURNING {last}",
        [fund_id, year],
    )
    return found[0][0] if found else None


def _terms(data: dict[str, Any]) -> dict[str, Any]:
    terms = {k: data.get(k) for k in FILING_FIELDS}
    if terms["pledge_type"] == "ip_only" and terms.get("covered_principal") is None:
        terms["covered_principal"] = terms["principal"]
    if terms["matures_on"] <= terms["disbursed_on"]:
        raise AppError(LoansError.INVALID_TERM, gettext("到期日须晚于放款日"), field="matures_on", status=400)
    if terms["disbursed_on"] > clock.today():
        raise AppError(
            LoansError.NOT_DISBURSED,
            gettext("只能备案已发放的贷款（放款日不能晚于今天）"),
            field="disbursed_on",
            status=400,
        )
    return terms


def _need_follows(filing: LoanFiling, event: str, user) -> None:
    """The financing need the filing names (if any) follows it (投融对接; a step of this
    command, in its transaction): told what became of this filing and whether other filings
    still hold the need."""
    if filing.financing_need_id is None:
        return
    others = LoanFiling.objects.filter(financing_need_id=filing.financing_need_id).exclude(pk=filing.pk)
    need_follow_filing(
        need_id=filing.financing_need_id,
        institution_id=filing.institution_id,
        reference=filing.reference,
        event=event,
        on=clock.today(),
        user=user,
        other_live_filings=others.filter(status__in=LIVE_FILING_STATUSES)
        .exclude(status=FilingStatus.ACCEPTED)
        .exists(),
        other_accepted_filings=others.filter(status=FilingStatus.ACCEPTED).exists(),
    )


def _write_submitted(filing: LoanFiling, pledges: list[Pledge], *, user) -> StateLog:
    """Write a new filing, its first history entry (born `submitted`) and its pledges: the rows
    `filing.save()`, `log_created` (with the business date the transition log's `post_save`
    receiver adds to each entry, `accounts.apps._date_transition`) and `bulk_create` write, and
    the instances as they leave them; in one statement where the database can
    (`lib.rawsql.insert_new`): a filing's writes cost more to send than to store. Returns the
    history entry. No receiver listens to the filing or its pledges being saved; tests/loans
    compares the rows with those of the ORM's way and says which receivers this stands for."""
    entry = first_entry(
        LoanFiling, state=FilingStatus.SUBMITTED, user=user, comment=recorded(gettext_noop("提交贷款备案"))
    )
    insert_new(
        filing,
        (entry, {"object_id": filing}),
        (TransitionDate.of_new(entry), {"log_id": entry}),
        (pledges, {"filing_id": filing}),
    )
    return entry


def filing_submit(*, principal: Principal, data: dict[str, Any]) -> LoanFiling:
    """A bank files a disbursed loan. Every automatic check runs; if any fails the answer is
    422 with one error per failed rule and nothing is stored. A contract number the bank
    already filed is 409 `duplicate_contract`, also when two arrive at once."""
    if not principal.is_institution:
        raise AppError(CommonError.INSTITUTION_ONLY, gettext("贷款备案由合作机构提交"), status=403)
    today = clock.today()
    terms = _terms(data)
    pledges = _normalise_pledges(list(data.get("pledges") or []), today=today)
    institution = principal.user.organization.institution  # read with the caller: no query then
    # The institution's agreements in the fund, with the fund: none means the fund does not
    # exist or the institution does not cooperate with it (the same answer for both).
    agreements = agreements_in_fund(institution_id=institution.pk, fund_code=data.get("fund") or "")
    fund = agreements[0].fund if agreements else None
    if fund is None:
        raise AppError(
            EnterprisesError.FUND_NOT_AVAILABLE, gettext("资金不存在或贵机构未与其合作"), field="fund"
        )
    enterprise = enterprise_by_uscc((data.get("enterprise_uscc") or "").strip().upper())
    product = None
    if data.get("product"):
        product = (
            Product.objects.filter(institution=institution, fund=fund, code=data["product"])
            .order_by("-version")
            .first()
        )
    need_id = data.get("financing_need")
    try:
        with transaction.atomic(durable=True):
            # The pledged rights are read locked first, then every check runs once under the
            # lock: a filing that pledged the same rights and committed meanwhile is seen, and
            # one refusal lists every failed rule. The same contract filed twice at once is
            # the same loan (409).
            assets = _borrower_assets(enterprise, pledges, lock=True)
            book = filing_book_facts(
                enterprise_id=enterprise.pk if enterprise else None,
                asset_ids=[a.pk for a in assets.values()],
                contract=(institution.pk, terms["contract_no"]),
            )
            if book.contract_filed:
                raise Conflict(
                    LoansError.DUPLICATE_CONTRACT, gettext("该借款合同号已备案"), field="contract_no"
                )
            checks, policy = _evaluate(
                fund=fund,
                institution=institution,
                enterprise=enterprise,
                product=product,
                terms=terms,
                pledges=pledges,
                assets=assets,
                agreements=agreements,
                book=book,
                today=today,
            )
            _refuse_if_failed(checks)
            if need_id is not None:
                need_check_for_filing(
                    principal=principal,
                    need_id=need_id,
                    fund_id=fund.pk,
                    enterprise_id=enterprise.pk if enterprise else None,
                )
            filing = LoanFiling(
                fund=fund,
                institution=institution,
                enterprise=enterprise,
                product=product,
                reference=_next_reference(fund, today.year),
                checks=[c.as_dict() for c in checks],
                submitted_on=today,
                due_diligence_due_on=workdays.add_working_days(today, policy.due_diligence_working_days),
                outstanding_principal=terms["principal"],
                covered_outstanding=terms["covered_principal"],
                financing_need_id=need_id,
                **terms,
            )
            written = [
                Pledge(
                    filing=filing,
                    ip_asset=assets[p["index"]],
                    registration_no=p["registration_no"],
                    registered_on=p["registered_on"],
                    appraised_value=p.get("appraised_value"),
                )
                for p in pledges
            ]
            created = _write_submitted(filing, written, user=principal.user)
            _need_follows(filing, "submitted", principal.user)
    except IntegrityError as exc:
        if LoanFiling.objects.filter(institution=institution, contract_no=terms["contract_no"]).exists():
            raise Conflict(
                LoansError.DUPLICATE_CONTRACT, gettext("该借款合同号已备案"), field="contract_no"
            ) from exc
        raise
    # The filing comes back as written, its pledges (with their rights) and documents (none
    # yet) in hand, and the day it entered its state: showing it needs no second read.
    prime_related(filing, pledges=written, documents=[])
    keep_history(filing, [created])
    filing.__dict__["state_entered_on"] = today
    return filing


def filing_update(*, principal: Principal, filing_id: int, data: dict[str, Any]) -> LoanFiling:
    """The bank corrects a returned filing (PATCH); checks run again at resubmission."""
    require_institution(principal, gettext("仅提交备案的合作机构可以执行此操作"))
    today = clock.today()
    with transaction.atomic(durable=True):
        filing = LoanFiling.objects.select_for_update().get(pk=filing_id)
        if filing.institution_id != principal.institution_id:
            raise AppError(CommonError.NOT_FOUND, gettext("备案不存在或无权访问"), status=404)
        if filing.status != FilingStatus.RETURNED:
            raise Conflict(CommonError.TRANSITION_NOT_ALLOWED, gettext("只有退回补正的备案可以修改"))
        changes = {k: v for k, v in data.items() if k in FILING_FIELDS}
        if "contract_no" in changes and changes["contract_no"] != filing.contract_no:
            if LoanFiling.objects.filter(
                institution_id=filing.institution_id, contract_no=changes["contract_no"]
            ).exists():
                raise Conflict(
                    LoansError.DUPLICATE_CONTRACT, gettext("该借款合同号已备案"), field="contract_no"
                )
        for key, value in changes.items():
            setattr(filing, key, value)
        if filing.pledge_type == "ip_only":
            filing.covered_principal = filing.principal
        if filing.matures_on <= filing.disbursed_on:
            raise AppError(
                LoansError.INVALID_TERM, gettext("到期日须晚于放款日"), field="matures_on", status=400
            )
        if filing.disbursed_on > today:
            raise AppError(
                LoansError.NOT_DISBURSED,
                gettext("只能备案已发放的贷款（放款日不能晚于今天）"),
                field="disbursed_on",
                status=400,
            )
        covered = filing.covered_principal
        if filing.pledge_type == "combined" and (
            covered is None or covered <= 0 or covered > filing.principal
        ):
            # Stored values must satisfy the table's constraints; the full rules run at resubmit.
            raise RuleViolations(
                [
                    Violation(
                        LoansError.COVERED_PRINCIPAL_INVALID,
                        gettext("组合质押须填写知识产权担保部分，且不超过贷款本金"),
                        "covered_principal",
                    )
                ]
            )
        filing.outstanding_principal = filing.principal
        filing.covered_outstanding = filing.covered_principal
        if "pledges" in data:
            pledges = _normalise_pledges(list(data["pledges"] or []), today=today)
            unregistered = [p for p in pledges if p.get("registered_on") is None]
            if unregistered:
                raise RuleViolations(
                    [
                        Violation(
                            LoansError.PLEDGE_NOT_REGISTERED,
                            gettext("知识产权 %(number)s 未提供质押登记日") % {"number": p["number"]},
                            f"pledges[{p['index']}].registered_on",
                        )
                        for p in unregistered
                    ]
                )
            by_key = {(a.kind, a.number): a for a in filing.enterprise.ip_assets.all()}
            missing = [p for p in pledges if (p["kind"], p["number"]) not in by_key]
            if missing:
                raise RuleViolations(
                    [
                        Violation(
                            LoansError.IP_NOT_OWNED,
                            gettext("知识产权 %(number)s 不在借款企业名下") % {"number": p["number"]},
                            f"pledges[{p['index']}].number",
                        )
                        for p in missing
                    ]
                )
            filing.pledges.all().delete()
            Pledge.objects.bulk_create(
                [
                    Pledge(
                        filing=filing,
                        ip_asset=by_key[(p["kind"], p["number"])],
                        registration_no=p["registration_no"],
                        registered_on=p["registered_on"],
                        appraised_value=p.get("appraised_value"),
                    )
                    for p in pledges
                ]
            )
        filing.save()
        # The amount received in the filing's period may have changed.
        BOOK_CHANGED.publish(fund_id=filing.fund_id, since=filing.submitted_on)
    return filing


def _pledge_dicts(filing: LoanFiling) -> list[dict[str, Any]]:
    out = []
    for index, p in enumerate(filing.pledges.select_related("ip_asset").order_by("id")):
        try:
            validate_pledge_registration_no(p.registration_no)
            ok = True
        except IdentifierError:
            ok = False
        out.append(
            {
                "index": index,
                "kind": p.ip_asset.kind,
                "number": p.ip_asset.number,
                "registration_no": p.registration_no,
                "registered_on": p.registered_on,
                "registration_ok": ok,
            }
        )
    return out


def _recheck(filing: LoanFiling, today: dt.date) -> list[rules.Check]:
    """Run the automatic checks again on a stored filing (resubmission, acceptance)."""
    checks, _ = _evaluate(
        fund=filing.fund,
        institution=filing.institution,
        enterprise=filing.enterprise,
        product=filing.product,
        terms={k: getattr(filing, k) for k in FILING_FIELDS},
        pledges=_pledge_dicts(filing),
        today=today,
        exclude_filing=filing.pk,
    )
    # At resubmission or acceptance the filing deadline is judged by the original submission.
    return [
        rules.Check(c.code, True, c.message)
        if c.code == "filing_deadline_passed" and filing.submitted_on <= _deadline(filing)
        else c
        for c in checks
    ]


def _deadline(filing: LoanFiling) -> dt.date:
    policy = filing.fund.policy_in_force(filing.submitted_on)
    return workdays.add_working_days(filing.disbursed_on, policy.filing_deadline_working_days)


def filing_resubmit(*, principal: Principal, filing_id: int, comment: str = "") -> LoanFiling:
    require_institution(principal, gettext("仅提交备案的合作机构可以执行此操作"))
    today = clock.today()

    def prepare(filing: LoanFiling) -> None:
        if filing.institution_id != principal.institution_id:
            raise AppError(CommonError.NOT_FOUND, gettext("备案不存在或无权访问"), status=404)
        checks = _recheck(filing, today)
        _refuse_if_failed(checks)
        filing.checks = [c.as_dict() for c in checks]
        policy = filing.fund.policy_in_force(today)
        filing.due_diligence_due_on = workdays.add_working_days(today, policy.due_diligence_working_days)

    return run_transition(
        model=LoanFiling, pk=filing_id, name="resubmit", user=principal.user, comment=comment, prepare=prepare
    )


def filing_withdraw(*, principal: Principal, filing_id: int, comment: str = "") -> LoanFiling:
    require_institution(principal, gettext("仅提交备案的合作机构可以执行此操作"))

    def prepare(filing: LoanFiling) -> None:
        if filing.institution_id != principal.institution_id:
            raise AppError(CommonError.NOT_FOUND, gettext("备案不存在或无权访问"), status=404)
        filing.pledges.filter(released_on__isnull=True).update(released_on=clock.today())

    return run_transition(
        model=LoanFiling,
        pk=filing_id,
        name="withdraw",
        user=principal.user,
        comment=comment,
        prepare=prepare,
        then=lambda filing: _need_follows(filing, "withdrawn", principal.user),
    )


def due_diligence_record(*, filing_id: int, user, items: dict[str, Any]) -> DueDiligence:
    """The officer records the checklist while the filing is under due diligence."""
    allowed = set(DueDiligence.REQUIRED_ITEMS) | {"site_visit", "notes"}
    unknown = set(items) - allowed
    if unknown:
        raise AppError(
            LoansError.INVALID_CHECKLIST_ITEM,
            gettext("未知的尽调项目：%(items)s") % {"items": ", ".join(sorted(unknown))},
            status=400,
        )
    with transaction.atomic(durable=True):
        filing = LoanFiling.objects.select_for_update().get(pk=filing_id)
        if filing.status != FilingStatus.UNDER_REVIEW:
            raise Conflict(CommonError.TRANSITION_NOT_ALLOWED, gettext("只有尽调中的备案可以记录尽调结果"))
        record, _ = DueDiligence.objects.get_or_create(filing=filing)
        for key, value in items.items():
            setattr(record, key, value)
        record.officer = user
        record.save()
    return record


def filing_transition(*, filing_id: int, name: str, user, comment: str = "") -> LoanFiling:
    """Staff steps on a filing: start_due_diligence, return_for_supplement, accept, reject, void.
    (The bank's own steps — resubmit, withdraw, settle — have their own services.)"""
    require_public(LoanFiling, name)
    if name not in STAFF_FILING_STEPS:
        raise AppError(
            AccountsError.UNKNOWN_TRANSITION,
            gettext("没有名为 %(name)s 的工作人员操作") % {"name": name},
            status=404,
        )
    today = clock.today()

    before = []

    def prepare(filing: LoanFiling) -> None:
        before.append(book.contribution(filing))
        if name in rules.COMMENT_REQUIRED_STEPS and not comment.strip():
            raise AppError(CommonError.COMMENT_REQUIRED, gettext("请填写原因"), field="comment", status=400)
        if name == "start_due_diligence":
            DueDiligence.objects.get_or_create(filing=filing, defaults={"officer": user})
        if name == "accept":
            record = DueDiligence.objects.filter(filing=filing).first()
            missing = DueDiligence(filing=filing).missing_items if record is None else record.missing_items
            if missing:
                total = len(DueDiligence.REQUIRED_ITEMS)
                raise AppError(
                    LoansError.DUE_DILIGENCE_INCOMPLETE,
                    gettext("尽调清单尚未全部确认（已确认 %(done)s/%(total)s），待确认：%(missing)s")
                    % {"done": total - len(missing), "total": total, "missing": "、".join(missing)},
                    field="due_diligence",
                )
            book.book_lock(filing.fund_id)  # the fund's capacity must not change under the check
            checks = _recheck(filing, today)
            _refuse_if_failed(checks)
            policy = filing.fund.policy_in_force(today)
            agreement = agreement_in_force(institution=filing.institution, fund=filing.fund, on=today)
            # Frozen for the life of the loan: later policy or agreement changes never touch it.
            filing.policy_version = policy
            filing.fund_share = agreement.fund_share
            filing.bank_share = agreement.bank_share
            filing.insurer_share = agreement.insurer_share
            filing.valuer_share = agreement.valuer_share
            filing.accepted_on = today
            filing.checks = [c.as_dict() for c in checks]
        if name in ("reject", "void"):
            filing.pledges.filter(released_on__isnull=True).update(released_on=today)

    def then(filing: LoanFiling) -> None:
        if name == "accept":
            # The covered loan's own lifecycle starts with acceptance, logged as its own step.
            filing.start_cover(by=user, description=recorded(gettext_noop("受理入池，开始在保")))
        book.book_keep(filing, before[0])
        if name == "void":  # a false filing never counted: every period since its acceptance changes
            BOOK_CHANGED.publish(fund_id=filing.fund_id, since=filing.accepted_on)
        if name in ("accept", "return_for_supplement", "reject", "void"):
            FILING_DECIDED.publish(filing=filing, transition=name)  # a row now; the e-mail after commit
        if name in _NEED_EVENTS:
            _need_follows(filing, _NEED_EVENTS[name], user)

    return run_transition(
        model=LoanFiling, pk=filing_id, name=name, user=user, comment=comment, prepare=prepare, then=then
    )
