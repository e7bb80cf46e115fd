"""Reads about financing needs, priority classes and events, scoped by the acting principal."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils.translation import gettext as _

from banks.models import Institution, Product
from banks.services import funds_open_for_filing
from enterprises.models import Enterprise
from fundmgr.ground.accounts.principals import Principal, scoped
from fundmgr.ground.accounts.workqueues import QueueItem, QueueSummary
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
    NeedMeeting,
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
    """The funds where the institution may lend on `on`, by the banks app's own rule for
    filing (`banks.services.funds_open_for_filing`: the institution active, an agreement in
    force, its new filings there not suspended). A bank sees needs there and only there."""
    if institution_id is None:
        return frozenset()
    institution = Institution.objects.filter(pk=institution_id).first()
    if institution is None:
        return frozenset()
    return funds_open_for_filing(institution=institution, on=on)


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
        raise NotFound(_("融资需求不存在或无权访问"))
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


def _working_day_back(today: dt.date, n: int) -> dt.date:
    """The n-th working day counting back from `today` (today itself first, when it is one):
    a date `d` is at least n working days ago (`working_days_between(d, today) >= n`) exactly
    when `d` is before it."""
    day, seen = today, 0
    while True:
        if workdays.is_working_day(day):
            seen += 1
            if seen >= n:
                return day
        day -= dt.timedelta(days=1)


def _by_policy(*, on: dt.date, number: str, condition: Callable[[int], Q]) -> Q:
    """A condition on needs that reads one policy number, as one Q over every fund: the funds
    with a policy row of their own in force get their number, all others the default's.
    One query."""
    own: dict[int, MatchingPolicy] = {}
    default: MatchingPolicy | None = None
    for row in MatchingPolicy.objects.filter(effective_from__lte=on).order_by("-effective_from"):
        if row.fund_id is None:
            default = default or row
        else:
            own.setdefault(row.fund_id, row)
    funds_by_value: dict[int, list[int]] = defaultdict(list)
    for fund_id, row in own.items():
        funds_by_value[getattr(row, number)].append(fund_id)
    result = ~Q(fund_id__in=list(own)) & condition(getattr(default or MatchingPolicy(), number))
    for value, fund_ids in funds_by_value.items():
        result |= Q(fund_id__in=fund_ids) & condition(value)
    return result


def untouched_q(*, today: dt.date) -> Q:
    """Needs still looking for a bank that nobody has touched (no interest, meeting or step)
    for the fund's `untouched_alert_working_days`: the staff's notice, their 工作台 queue and
    the admin list's queue all read this."""
    return Q(status__in=SEEKING_STATUSES) & _by_policy(
        on=today,
        number="untouched_alert_working_days",
        condition=lambda n: Q(last_activity_on__lt=_working_day_back(today, n)),
    )


def expiring_q(*, today: dt.date) -> Q:
    """Needs still looking for a bank whose validity ends within the fund's
    `expiry_warning_working_days` (or has ended, before tonight's expiry job)."""
    return Q(status__in=SEEKING_STATUSES) & _by_policy(
        on=today,
        number="expiry_warning_working_days",
        condition=lambda n: Q(expires_on__lte=workdays.add_working_days(today, n)),
    )


def _pending_interests() -> QuerySet[NeedInterest]:
    """Interests that no meeting with that bank about that need, held on or after the day the
    bank said so, has answered yet."""
    answered = NeedMeeting.objects.filter(
        need_id=OuterRef("need_id"),
        institution_id=OuterRef("institution_id"),
        held_on__gte=OuterRef("expressed_on"),
    )
    return NeedInterest.objects.filter(~Exists(answered))


def interest_follow_up_q() -> Q:
    """Needs still looking for a bank where a bank has said it is interested (through the API,
    at an event, by a filing that did not go through) and staff have not yet recorded a
    meeting with that bank since: the staff's queue to follow up. (A subquery on the needs'
    ids, never a reference to the outer row: the admin counts it inside an aggregate.)"""
    return Q(status__in=SEEKING_STATUSES, pk__in=_pending_interests().values("need_id"))


def needs_untouched(*, today: dt.date) -> list[tuple[FinancingNeed, int]]:
    """Open needs nobody has touched (no interest, meeting or step) for the policy's number of
    working days (`untouched_q`): (need, working days untouched), oldest first."""
    needs = (
        FinancingNeed.objects.filter(untouched_q(today=today))
        .select_related("enterprise", "fund")
        .order_by("last_activity_on", "id")
    )
    return [(need, workdays.working_days_between(need.last_activity_on, today)) for need in needs]


# --- the staff's 工作台 queues ------------------------------------------------------------------------


def _queue(qs: QuerySet[FinancingNeed], *, since: str, today: dt.date, limit: int) -> QueueSummary:
    """A queue of needs without a deadline: how many, and the `limit` waiting longest (since
    the date `since`), with their working days waiting. Two queries."""
    count = qs.count()
    items: tuple[QueueItem, ...] = ()
    if count and limit:
        rows = qs.select_related("enterprise", "fund").order_by(F(since).asc(nulls_last=True), "id")[:limit]
        items = tuple(
            QueueItem(
                need,
                since=getattr(need, since),
                waiting_days=workdays.working_days_between(getattr(need, since), today),
            )
            for need in rows
        )
    return QueueSummary(count=count, late=0, soon=0, blocked=0, items=items, has_deadline=False)


def needs_untouched_queue(*, user=None, today: dt.date, limit: int) -> QueueSummary:
    """The staff's queue of needs untouched for the policy's working days (every officer's:
    needs are not assigned), the quietest first."""
    return _queue(
        FinancingNeed.objects.filter(untouched_q(today=today)),
        since="last_activity_on",
        today=today,
        limit=limit,
    )


def needs_interest_queue(*, user=None, today: dt.date, limit: int) -> QueueSummary:
    """The staff's queue of needs with a bank's interest to follow up, the longest waiting
    first (since the earliest interest not yet answered by a meeting)."""
    first_pending = Subquery(
        _pending_interests()
        .filter(need_id=OuterRef("pk"))
        .order_by("expressed_on")
        .values("expressed_on")[:1]
    )
    qs = FinancingNeed.objects.filter(interest_follow_up_q()).annotate(interest_since=first_pending)
    return _queue(qs, since="interest_since", today=today, limit=limit)


# --- signings and the filings that realise them ----------------------------------------------------


def signing_filings(signing: EventSigning) -> QuerySet:
    """The signing bank's filings naming the signing's need (the loans that realise it), read
    through the ORM relation loans declares on the need (`LoanFiling.financing_need`); this
    app does not import loans, which sits above it."""
    return signing.financing_need.filings.filter(institution_id=signing.institution_id).order_by("id")
