"""Reads about financing needs, priority classes and events, scoped by the acting principal."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet

from banks.models import CooperationAgreement, FilingsStatus, Institution, Product
from enterprises.models import Enterprise
from fundmgr.ground.accounts.principals import Principal, scoped
from fundmgr.ground.lib import clock, workdays
from fundmgr.ground.lib.errors import NotFound

from . import rules
from .models import (
    SEEKING_STATUSES,
    EnterpriseHonour,
    EventSigning,
    FinancingNeed,
    MatchingPolicy,
    NeedInterest,
    NeedPriority,
    PriorityClass,
)

# --- policy ----------------------------------------------------------------------------------------


def policy_for(*, fund_id: int, on: dt.date) -> MatchingPolicy:
    """The numbers in force for `fund_id` on `on`: the fund's own row, else the default row
    (no fund), else the documented defaults of the model's fields."""
    rows = MatchingPolicy.objects.filter(Q(fund_id=fund_id) | Q(fund__isnull=True), effective_from__lte=on)
    own = rows.filter(fund_id=fund_id).order_by("-effective_from").first()
    if own is not None:
        return own
    return rows.filter(fund__isnull=True).order_by("-effective_from").first() or MatchingPolicy()


def policies_for(*, fund_ids: Iterable[int], on: dt.date) -> dict[int, MatchingPolicy]:
    """`policy_for` of several funds in one query."""
    ids = set(fund_ids)
    own: dict[int, MatchingPolicy] = {}
    default: MatchingPolicy | None = None
    for row in MatchingPolicy.objects.filter(
        Q(fund_id__in=ids) | Q(fund__isnull=True), effective_from__lte=on
    ).order_by("-effective_from"):
        if row.fund_id is None:
            default = default or row
        else:
            own.setdefault(row.fund_id, row)
    return {fid: own.get(fid) or default or MatchingPolicy() for fid in ids}


def class_specs_for(*, fund_ids: Iterable[int]) -> dict[int, list[rules.ClassSpec]]:
    """The active priority classes each fund uses: its own when it has any, else the default
    list. One query."""
    ids = set(fund_ids)
    own: dict[int, list[rules.ClassSpec]] = defaultdict(list)
    default: list[rules.ClassSpec] = []
    for c in PriorityClass.objects.filter(Q(fund_id__in=ids) | Q(fund__isnull=True), active=True).order_by(
        "order", "code"
    ):
        spec = rules.ClassSpec(c.pk, c.order, c.code, c.label, c.rule, c.parameters or {})
        (default if c.fund_id is None else own[c.fund_id]).append(spec)
    return {fid: own.get(fid) or default for fid in ids}


def enterprise_facts(*, enterprise_ids: Iterable[int]) -> dict[int, rules.EnterpriseFacts]:
    """What the priority rules read of each enterprise, in three queries."""
    ids = set(enterprise_ids)
    enterprises = Enterprise.objects.filter(pk__in=ids).prefetch_related(
        "ip_assets", Prefetch("honours", queryset=EnterpriseHonour.objects.order_by("granted_on"))
    )
    return {
        e.pk: rules.EnterpriseFacts(
            industry_code=e.industry_code,
            annual_revenue=e.annual_revenue,
            honours=[rules.HonourFact(h.kind, h.title, h.granted_on, h.valid_until) for h in e.honours.all()],
            ip=[
                rules.IPFact(a.kind, a.number, a.status, a.filed_on, a.expires_on) for a in e.ip_assets.all()
            ],
        )
        for e in enterprises
    }


def enterprise_priorities(enterprise: Enterprise, *, on: dt.date | None = None) -> list[rules.PriorityMatch]:
    """The priority classes an enterprise falls in now, with reasons (admin panels)."""
    today = on or clock.today()
    specs = class_specs_for(fund_ids=[enterprise.fund_id])[enterprise.fund_id]
    facts = enterprise_facts(enterprise_ids=[enterprise.pk])[enterprise.pk]
    return rules.priority_classes(specs, facts, today)


# --- which funds a bank matches in -----------------------------------------------------------------


def funds_open_to(*, institution_id: int | None, on: dt.date) -> frozenset[int]:
    """The funds where the institution has an active agreement on `on`: the institution is
    active and the agreement in force (the latest started, not ended) lets it file (not
    suspended). A bank sees needs there and only there."""
    if institution_id is None:
        return frozenset()
    status = Institution.objects.filter(pk=institution_id).values_list("status", flat=True).first()
    if status != Institution.Status.ACTIVE:
        return frozenset()
    latest: dict[int, CooperationAgreement] = {}
    for agreement in CooperationAgreement.objects.filter(
        institution_id=institution_id, valid_from__lte=on
    ).order_by("fund_id", "-valid_from"):
        latest.setdefault(agreement.fund_id, agreement)
    return frozenset(
        fund_id
        for fund_id, a in latest.items()
        if (a.valid_until is None or a.valid_until >= on) and a.filings_status == FilingsStatus.OPEN
    )


# --- needs -----------------------------------------------------------------------------------------


def _interest_of(institution_id: int | None) -> Exists:
    return Exists(NeedInterest.objects.filter(need_id=OuterRef("pk"), institution_id=institution_id))


def needs_visible_to(principal: Principal, *, on: dt.date | None = None) -> QuerySet[FinancingNeed]:
    """Staff: every need. An institution: the open needs (open or in talks) of consenting,
    admitted enterprises in the funds where it has an active agreement, plus the needs it
    registered or expressed interest in. A regulator: none (it reads the aggregates of its
    city's funds in the outreach report); anyone else nothing."""
    today = on or clock.today()
    qs = FinancingNeed.objects.all()
    if not principal.is_institution:
        return scoped(qs, principal, regulator=Q(pk__in=[]), institution=Q(pk__in=[]))
    listed = Q(
        consent_on__isnull=False,
        consent_on__lte=today,
        status__in=SEEKING_STATUSES,
        fund_id__in=funds_open_to(institution_id=principal.institution_id, on=today),
        enterprise__status=Enterprise.Status.ADMITTED,
    )
    return qs.filter(
        listed | Q(submitted_by_id=principal.institution_id) | _interest_of(principal.institution_id)
    )


def for_reading(qs: QuerySet[FinancingNeed], principal: Principal) -> QuerySet[FinancingNeed]:
    """What a page of needs shows, in a fixed number of queries: the enterprise, the fund,
    the priority classes and the offered rights; `interested` (has the calling bank said so),
    `interest_count`; ordered by priority (best class first, unclassified last), newest first."""
    return (
        qs.select_related("fund", "enterprise", "submitted_by")
        .prefetch_related(
            Prefetch(
                "priorities",
                queryset=NeedPriority.objects.select_related("priority_class").order_by(
                    "priority_class__order"
                ),
            ),
            "offered_ip",
        )
        .annotate(
            interested=_interest_of(principal.institution_id),
            interest_count=Count("interests", distinct=True),
        )
        .order_by(F("priority_rank").asc(nulls_last=True), "-registered_on", "-id")
    )


def need_get(*, principal: Principal, pk) -> FinancingNeed:
    need = for_reading(needs_visible_to(principal), principal).filter(pk=pk).first()
    if need is None:
        raise NotFound("融资需求不存在或无权访问")
    return need


def interests_visible(need: FinancingNeed, principal: Principal) -> list[NeedInterest]:
    """Staff see every bank's interest in a need; a bank only its own."""
    rows = need.interests.select_related("institution").order_by("expressed_on", "id")
    if not principal.is_staff_member:
        rows = rows.filter(institution_id=principal.institution_id)
    return list(rows)


def with_priority(qs: QuerySet[FinancingNeed], code: str) -> QuerySet[FinancingNeed]:
    """Needs whose enterprise falls in the priority class `code`."""
    return qs.filter(Exists(NeedPriority.objects.filter(need_id=OuterRef("pk"), priority_class__code=code)))


# --- what the scans read ---------------------------------------------------------------------------


def products_of(*, institution_id: int, fund_ids: Iterable[int]) -> dict[int, list[rules.ProductFacts]]:
    """The institution's filed products per fund (the latest version of each code)."""
    latest: dict[tuple[int, str], Product] = {}
    for p in Product.objects.filter(
        institution_id=institution_id, fund_id__in=list(fund_ids), status=Product.Status.FILED
    ).order_by("fund_id", "code", "-version"):
        latest.setdefault((p.fund_id, p.code), p)
    out: dict[int, list[rules.ProductFacts]] = defaultdict(list)
    for (fund_id, _code), p in latest.items():
        out[fund_id].append(rules.ProductFacts(p.max_principal, p.max_term_months, p.accepted_ip_kinds or []))
    return out


def new_needs_for_bank(*, institution_id: int, after: dt.date, until: dt.date) -> list[FinancingNeed]:
    """Needs a bank should hear of in a digest: listed to it (open, consenting, admitted, in a
    fund where it has an active agreement), registered or consented in (after, until], and
    fitting one of its filed products in that fund. Oldest first."""
    funds = funds_open_to(institution_id=institution_id, on=until)
    if not funds:
        return []
    needs = list(
        FinancingNeed.objects.filter(
            fund_id__in=funds,
            status__in=SEEKING_STATUSES,
            consent_on__isnull=False,
            enterprise__status=Enterprise.Status.ADMITTED,
        )
        .filter(
            Q(registered_on__gt=after, registered_on__lte=until)
            | Q(consent_on__gt=after, consent_on__lte=until)
        )
        .exclude(submitted_by_id=institution_id)
        .select_related("enterprise", "fund")
        .prefetch_related("offered_ip")
        .order_by("registered_on", "id")
    )
    products = products_of(institution_id=institution_id, fund_ids=funds)
    return [
        n
        for n in needs
        if rules.need_fits_products(
            amount=n.amount,
            term_months=n.term_months,
            offered_kinds=[a.kind for a in n.offered_ip.all()],
            products=products.get(n.fund_id, []),
        )
    ]


def needs_untouched(*, today: dt.date) -> list[tuple[FinancingNeed, int]]:
    """Open needs nobody has touched (no interest, meeting or step) for the policy's number of
    working days: (need, working days untouched), oldest first."""
    candidates = list(
        FinancingNeed.objects.filter(status__in=SEEKING_STATUSES, last_activity_on__lt=today)
        .select_related("enterprise", "fund")
        .order_by("last_activity_on", "id")
    )
    policies = policies_for(fund_ids={n.fund_id for n in candidates}, on=today)
    out = []
    for need in candidates:
        idle = workdays.working_days_between(need.last_activity_on, today)
        if idle >= policies[need.fund_id].untouched_alert_working_days:
            out.append((need, idle))
    return out


# --- signings and the filings that realise them ----------------------------------------------------


def signing_filings(signing: EventSigning) -> QuerySet:
    """The signing bank's filings naming the signing's need (the loans that realise it), read
    through the ORM relation loans declares on the need (`LoanFiling.financing_need`); this
    app does not import loans, which sits above it."""
    return signing.financing_need.filings.filter(institution_id=signing.institution_id).order_by("id")
