"""Reports: the quarterly regulator table (computed on request) and the monthly reports
(generated once per period by Celery beat and stored as they were sent).

Figures come from `selectors` in yuan; this module turns them into report rows, where money
becomes 万元 with two decimals, half-up (`to_wan_yuan`), and totals are the exact sums of the
rows shown, so every printed table adds up.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import logging
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from operator import itemgetter
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from banks.models import CooperationAgreement, Institution
from banks.selectors import cooperating_institutions
from fundmgr.ground.accounts.principals import Principal
from fundmgr.ground.funds.errors import FundsError
from fundmgr.ground.funds.models import EntryType, Fund
from fundmgr.ground.funds.selectors import fund_get, funds_visible_list
from fundmgr.ground.lib import clock
from fundmgr.ground.lib.errors import AppError, CommonError, Forbidden, NotFound
from fundmgr.ground.lib.money import ZERO, to_wan_yuan
from fundmgr.ground.lib.regions import region_name
from fundmgr.top.reports.errors import ReportsError
from loans.models import FilingStatus, LoanFiling
from matching.models import EventKind

from . import exporters, selectors
from .models import FigureSnapshot, ReportKind, StoredReport
from .selectors import DISTRICT, FUND, INSTITUTION, Figures, Period, ip_split

log = logging.getLogger(__name__)

MIN_YEAR, MAX_YEAR = 2000, 2100

# Sections an app above this one adds to every monthly fund report (the forecast's P95
# figures): each is called once per batch of funds, `provide(funds=..., today=...)`, and
# answers {fund id: {key: section}}; registered at start-up (fundmgr.top.forecast.apps).
MONTHLY_FUND_SECTIONS: list = []


# --- periods --------------------------------------------------------------------------------


def month_bounds(year: int, month: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def quarter_bounds(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    first_month = 3 * (quarter - 1) + 1
    return dt.date(year, first_month, 1), month_bounds(year, first_month + 2)[1]


def previous_month(today: dt.date) -> tuple[int, int]:
    last = today.replace(day=1) - dt.timedelta(days=1)
    return last.year, last.month


def previous_quarter(today: dt.date) -> tuple[int, int]:
    quarter = (today.month - 1) // 3 + 1
    return (today.year, quarter - 1) if quarter > 1 else (today.year - 1, 4)


def _check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise AppError(
            FundsError.INVALID_PERIOD,
            _("年份应在 %(min)s 至 %(max)s 之间") % {"min": MIN_YEAR, "max": MAX_YEAR},
            field="year",
            status=400,
        )


def _started(start: dt.date, today: dt.date) -> None:
    if start > today:
        raise AppError(ReportsError.PERIOD_NOT_STARTED, _("统计期间尚未开始"), field="year", status=400)


# --- the quarterly regulator table -------------------------------------------------------------


def _metrics(f: Figures, row: dict[str, Any], *, fund_level: bool = True) -> dict[str, Any]:
    """One report row's figures, added to `row`: 万元 columns rounded here, at the edge, and
    nowhere else (a province's report has some 400 rows: each kind of right is counted once).
    The fund-level columns (balance, leverage) only when `fund_level`."""
    wan = to_wan_yuan
    ip = f.ip
    patents, trademarks, other = ip_split(ip)
    cum_patents, cum_trademarks, cum_other = ip_split(f.cum_ip)
    row.update(
        amount_wan_yuan=wan(f.accepted_amount),
        projects=f.accepted,
        rights=patents + trademarks + other,
        patent_amount_wan_yuan=wan(f.patent_amount),
        patent_projects=f.patent_projects,
        trademark_amount_wan_yuan=wan(f.trademark_amount),
        trademark_projects=f.trademark_projects,
        patents=patents,
        invention_patents=ip["invention_patent"],
        utility_models=ip["utility_model"],
        design_patents=ip["design_patent"],
        trademarks=trademarks,
        other_ip=other,
        enterprises=f.enterprises_served,
        new_enterprises=f.new_enterprises,
        outstanding_wan_yuan=wan(f.covered_outstanding),
        non_performing_loans=f.non_performing_loans,
        non_performing_wan_yuan=wan(f.non_performing_amount),
        npl_ratio=f.npl_ratio,
        compensations=f.claims_paid,
        compensation_paid_wan_yuan=wan(f.claims_paid_amount),
        recoveries_returned_wan_yuan=wan(f.recoveries_returned_amount),
    )
    if fund_level:
        balance = f.balance
        row.update(
            fund_balance=balance,
            fund_balance_wan_yuan=None if balance is None else wan(balance),
            leverage=f.leverage,
            leverage_limit=f.leverage_limit,
        )
    row.update(
        cumulative_amount_wan_yuan=wan(f.cum_accepted_amount),
        cumulative_projects=f.cum_accepted,
        cumulative_patents=cum_patents,
        cumulative_trademarks=cum_trademarks,
        cumulative_other_ip=cum_other,
        cumulative_enterprises=f.cum_enterprises_served,
        cumulative_admitted_enterprises=f.cum_admitted_enterprises,
        cumulative_compensations=f.cum_claims_paid,
        cumulative_compensation_paid_wan_yuan=wan(f.cum_claims_paid_amount),
        cumulative_recoveries_returned_wan_yuan=wan(f.cum_recoveries_returned_amount),
    )
    return row


_ADDITIVE = [c.key for c in exporters.QUARTERLY_METRICS if c.key not in exporters.NON_ADDITIVE] + [
    "fund_balance"
]
_COUNTS = frozenset(c.key for c in exporters.QUARTERLY_METRICS if c.kind == exporters.INT)
# The columns of the fund table only: a district's or a bank's row has no balance of its own.
_FUND_LEVEL = frozenset({"fund_balance", "fund_balance_wan_yuan", "leverage", "leverage_limit"})
_SUB_ADDITIVE = [key for key in _ADDITIVE if key not in _FUND_LEVEL]


def _total(rows: list[dict[str, Any]], figures: list[Figures], *, fund_level: bool = True) -> dict[str, Any]:
    """The 合计 row: the exact sum of the rows as shown; ratios from the summed yuan amounts.
    The fund-level columns only when `fund_level` (the fund table's total)."""
    total: dict[str, Any] = {"fund": None, "fund_name": _("合计"), "rank": None}
    keys = _ADDITIVE if fund_level else _SUB_ADDITIVE
    # Each column read once, all rows at a time (the bank table's total adds some 300 rows).
    columns = zip(*map(itemgetter(*keys), rows), strict=True) if rows else [()] * len(keys)
    for key, values in zip(keys, columns, strict=True):
        start: Decimal | int = 0 if key in _COUNTS else Decimal("0.00")
        total[key] = sum([v for v in values if v is not None], start)
    outstanding = sum((f.covered_outstanding for f in figures), ZERO)
    npl = sum((f.non_performing_amount for f in figures), ZERO)
    total["npl_ratio"] = selectors.ratio_percent(npl, outstanding)
    if fund_level:
        capitals = [f.capital for f in figures if f.capital is not None]
        total["leverage"] = selectors.leverage_of(outstanding, sum(capitals, ZERO)) if capitals else None
        total["leverage_limit"] = None
    return total


def rank_order(items: list, *, amount, projects, rights, tiebreak) -> list[tuple[int | None, Any]]:
    """The regulators' ranking (as in the Henan tables): by amount, ties broken by more
    projects, then by more rights; rows equal on all three share a rank. Rows with no amount
    come after the ranked ones, unranked, in `tiebreak` order. Amounts compare in yuan, so
    amounts equal in 万元 still order."""
    # Each row's score is read once (a province's report ranks some 400 rows).
    scored = [((amount(i), projects(i), rights(i)), i) for i in items]

    def order(pair: tuple[tuple, Any]) -> tuple:
        (amount_, projects_, rights_), item = pair
        return (-amount_, -projects_, -rights_), tiebreak(item)

    ranked = sorted(((score, i) for score, i in scored if score[0] > 0), key=order)
    out: list[tuple[int | None, Any]] = []
    previous, rank = None, 0
    for position, (score, item) in enumerate(ranked, start=1):
        if score != previous:
            rank, previous = position, score
        out.append((rank, item))
    out.extend((None, i) for i in sorted((i for score, i in scored if not score[0] > 0), key=tiebreak))
    return out


def _ranked(
    items: list[tuple[tuple, Figures, dict[str, Any]]], *, fund_level: bool = True
) -> tuple[list[dict], list[Figures]]:
    """Report rows in ranking order (see `rank_order`), by the amount accepted in the period;
    the fund-level columns only when `fund_level`."""
    rows, figures = [], []
    for rank, (_key, f, identity) in rank_order(
        items,
        amount=lambda i: i[1].accepted_amount,
        projects=lambda i: i[1].accepted,
        rights=lambda i: i[1].rights,
        tiebreak=lambda i: i[0],
    ):
        rows.append(_metrics(f, {"rank": rank, **identity}, fund_level=fund_level))
        figures.append(f)
    return rows, figures


# The regulators' separate tables, one per kind of right: which figures make each.
IP_TABLES = {
    "patent": ("patent_amount", "patent_projects", "patents"),
    "trademark": ("trademark_amount", "trademark_projects", "trademarks"),
}


def ip_table(fund_items: list[tuple[tuple, Figures, dict[str, Any]]], kind: str) -> dict[str, Any]:
    """The patent or trademark pledge-financing table per fund, ranked, with its total."""
    amount_of, projects_of, rights_of = IP_TABLES[kind]
    rows = [
        {
            "rank": rank,
            "fund": identity["fund"],
            "fund_name": identity["fund_name"],
            "region_code": identity.get("region_code"),
            "city": region_name(identity.get("region_code")),
            "amount_wan_yuan": to_wan_yuan(getattr(f, amount_of)),
            "projects": getattr(f, projects_of),
            "rights": getattr(f, rights_of),
        }
        for rank, (_key, f, identity) in rank_order(
            fund_items,
            amount=lambda i: getattr(i[1], amount_of),
            projects=lambda i: getattr(i[1], projects_of),
            rights=lambda i: getattr(i[1], rights_of),
            tiebreak=lambda i: i[0],
        )
    ]
    total = {
        "rank": None,
        "fund": None,
        "fund_name": _("合计"),
        "region_code": None,
        "city": _("合计"),
        "amount_wan_yuan": sum((r["amount_wan_yuan"] for r in rows), Decimal("0.00")),
        "projects": sum(r["projects"] for r in rows),
        "rights": sum(r["rights"] for r in rows),
    }
    return {"rows": rows, "total": total}


def quarterly_build(*, funds: list[Fund], year: int, quarter: int, today: dt.date) -> dict[str, Any]:
    """The quarterly regulator table for `funds`, Python values."""
    start, end = quarter_bounds(year, quarter)
    return period_build(
        funds=funds, start=start, end=end, today=today, period={"year": year, "quarter": quarter}
    )


def annual_build(*, funds: list[Fund], year: int, today: dt.date) -> dict[str, Any]:
    """The annual regulator table for `funds`: the quarterly shape over the calendar year."""
    return period_build(
        funds=funds, start=dt.date(year, 1, 1), end=dt.date(year, 12, 31), today=today, period={"year": year}
    )


def period_build(
    *, funds: list[Fund], start: dt.date, end: dt.date, today: dt.date, period: dict[str, Any]
) -> dict[str, Any]:
    """The regulator table for `funds` over [start, end] (rows per fund, per district, per
    bank, and the patent and trademark tables), Python values."""
    period_info = {**period, "from": start, "to": end}
    period = Period.clipped(start, end, today)
    figures = selectors.report_figures(funds=funds, period=period, today=today)
    by_id = {f.pk: f for f in funds}

    def fund_identity(fund_id: int) -> dict[str, Any]:
        fund = by_id[fund_id]
        return {"fund": fund.code, "fund_name": fund.name}

    fund_items = [
        ((by_id[key[0]].code,), f, {**fund_identity(key[0]), "region_code": by_id[key[0]].region_code})
        for key, f in figures[FUND].items()
    ]
    rows, fund_figures = _ranked(fund_items)

    district_items = [
        ((by_id[key[0]].code, key[1]), f, {**fund_identity(key[0]), "region_code": key[1]})
        for key, f in figures[DISTRICT].items()
    ]
    district_rows, district_figures = _ranked(district_items, fund_level=False)

    # Every bank cooperating with a fund is listed, with zeros when it did nothing. The banks'
    # names come with the agreements, in one plain statement.
    inst_figures = figures[INSTITUTION]
    names: dict[int, tuple[str, str]] = {}
    for fund_id, inst_id, code, name in cooperating_institutions(fund_ids=list(by_id)):
        if (fund_id, inst_id) not in inst_figures:  # (not setdefault: it would build one each time)
            inst_figures[fund_id, inst_id] = Figures()
        names[inst_id] = (code, name)
    # A bank with figures in a fund it has no agreement with (one that applied for an
    # enterprise's admission there): rare, read apart.
    if others := {k[1] for k in inst_figures} - names.keys():
        for pk, code, name in Institution.objects.filter(pk__in=others).values_list("pk", "code", "name"):
            names[pk] = (code, name)
    inst_items = [
        (
            (by_id[key[0]].code, names[key[1]][0]),
            f,
            {**fund_identity(key[0]), "institution": names[key[1]][0], "institution_name": names[key[1]][1]},
        )
        for key, f in inst_figures.items()
    ]
    inst_rows, inst_fig = _ranked(inst_items, fund_level=False)

    return {
        "period": period_info,
        "as_of": period.as_of,
        "generated_at": clock.now(),
        "funds": [f.code for f in sorted(funds, key=lambda f: f.code)],
        "outreach": outreach_tables(funds=funds, period=period),
        "rows": rows,
        "total": _total(rows, fund_figures),
        "patent_table": ip_table(fund_items, "patent"),
        "trademark_table": ip_table(fund_items, "trademark"),
        "by_district": district_rows,
        "by_district_total": _total(district_rows, district_figures, fund_level=False),
        "by_institution": inst_rows,
        "by_institution_total": _total(inst_rows, inst_fig, fund_level=False),
    }


# --- outreach: the matching funnel and the events (投融对接、政策宣传) -----------------------------

EVENT_KIND_LABELS = dict(EventKind.choices)


def _funnel_row(identity: dict[str, Any], f: selectors.NeedFunnel) -> dict[str, Any]:
    ratio = selectors.ratio_percent
    return {
        **identity,
        "needs": f.needs,
        "needs_amount_wan_yuan": to_wan_yuan(f.needs_amount),
        "needs_with_interest": f.interested,
        "needs_filed": f.filed,
        "needs_accepted": f.accepted,
        "accepted_amount_wan_yuan": to_wan_yuan(f.accepted_amount),
        "interest_rate": ratio(Decimal(f.interested), Decimal(f.needs)),
        "filed_rate": ratio(Decimal(f.filed), Decimal(f.needs)),
        "accepted_rate": ratio(Decimal(f.accepted), Decimal(f.needs)),
        "amount_conversion_rate": ratio(f.accepted_amount, f.needs_amount),
    }


def _event_row(
    identity: dict[str, Any], kind: str | None, label: str, f: selectors.EventFigures
) -> dict[str, Any]:
    return {
        **identity,
        "kind": kind,
        "kind_label": label,
        "events": f.events,
        "enterprises": f.enterprises,
        "institutions": f.institutions,
        "attendance": f.attendance,
        "online_viewers": f.online_viewers,
        "signings": f.signings,
        "signed_amount_wan_yuan": to_wan_yuan(f.signed_amount),
        "realised_signings": f.realised,
        "realised_amount_wan_yuan": to_wan_yuan(f.realised_amount),
        "realisation_rate": selectors.ratio_percent(f.realised_amount, f.signed_amount),
    }


def _summed(items: list, cls):
    """The figures of several rows added up (counts and yuan), for a 合计 row."""
    total = cls()
    for item in items:
        for name in vars(total):
            setattr(total, name, getattr(total, name) + getattr(item, name))
    return total


def outreach_tables(*, funds: list[Fund], period: Period) -> dict[str, Any]:
    """The matching funnel per fund and the events per fund and kind over `period`, each
    with its 合计 row: counts and 万元 columns are the sums of the rows shown, rates are
    recomputed from the summed counts and yuan."""
    ordered = sorted(funds, key=lambda f: f.code)
    ids = [f.pk for f in ordered]
    funnels = selectors.need_funnel(fund_ids=ids, period=period)
    events = selectors.event_figures(fund_ids=ids, period=period)

    def identity(fund: Fund) -> dict[str, Any]:
        return {"fund": fund.code, "fund_name": fund.name, "region_code": fund.region_code}

    total_identity = {"fund": None, "fund_name": _("合计"), "region_code": None}
    funnel_rows = [_funnel_row(identity(f), funnels[f.pk]) for f in ordered]
    funnel_total = _funnel_row(
        total_identity, _summed([funnels[f.pk] for f in ordered], selectors.NeedFunnel)
    )
    for key in ("needs_amount_wan_yuan", "accepted_amount_wan_yuan"):  # the sum of the rows as shown
        funnel_total[key] = sum((r[key] for r in funnel_rows), Decimal("0.00"))
    # Each kind's label translated once, not once a fund (EventKind.values is built anew on
    # every read of the property).
    labels = {kind: str(EVENT_KIND_LABELS[kind]) for kind in EventKind.values}
    event_rows = [
        _event_row(identity(f), kind, label, events[(f.pk, kind)])
        for f in ordered
        for kind, label in labels.items()
    ]
    event_total = _event_row(
        total_identity, None, _("合计"), _summed(list(events.values()), selectors.EventFigures)
    )
    for key in ("signed_amount_wan_yuan", "realised_amount_wan_yuan"):
        event_total[key] = sum((r[key] for r in event_rows), Decimal("0.00"))
    return {
        "funnel": funnel_rows,
        "funnel_total": funnel_total,
        "events": event_rows,
        "events_total": event_total,
    }


def outreach_build(
    *, funds: list[Fund], start: dt.date, end: dt.date, today: dt.date, period: dict[str, Any]
):
    """The outreach report for `funds` over [start, end], Python values."""
    clipped = Period.clipped(start, end, today)
    return {
        "period": {**period, "from": start, "to": end},
        "as_of": clipped.as_of,
        "generated_at": clock.now(),
        "funds": [f.code for f in sorted(funds, key=lambda f: f.code)],
        **outreach_tables(funds=funds, period=clipped),
    }


def outreach_report(
    *, principal: Principal, fund_code: str | None, year: int, quarter: int | None
) -> dict[str, Any]:
    """The outreach report (the funnel and the events) a regulator or staff member may read:
    a quarter, or the calendar year without `quarter`. Scope as `quarterly_report`: banks
    403, another city's fund 404; a regulator reads only these aggregates of its city."""
    if quarter is not None and not 1 <= quarter <= 4:
        raise AppError(FundsError.INVALID_PERIOD, _("季度应为 1 至 4"), field="quarter", status=400)
    start, end = quarter_bounds(year, quarter) if quarter else (dt.date(year, 1, 1), dt.date(year, 12, 31))
    funds = _report_funds(principal=principal, fund_code=fund_code, year=year, start=start)
    period = {"year": year, "quarter": quarter}
    return outreach_build(funds=funds, start=start, end=end, today=clock.today(), period=period)


def quarterly_report(
    *, principal: Principal, fund_code: str | None, year: int, quarter: int
) -> dict[str, Any]:
    """The quarterly table a regulator or staff member may read.

    Institutions may not read regulator reports (403). A fund outside the caller's scope is
    404, as everywhere in the API. Without `fund_code`: every fund the caller may see.
    """
    if not 1 <= quarter <= 4:
        raise AppError(FundsError.INVALID_PERIOD, _("季度应为 1 至 4"), field="quarter", status=400)
    funds = _report_funds(
        principal=principal, fund_code=fund_code, year=year, start=quarter_bounds(year, quarter)[0]
    )
    return quarterly_build(funds=funds, year=year, quarter=quarter, today=clock.today())


def _report_funds(*, principal: Principal, fund_code: str | None, year: int, start: dt.date) -> list[Fund]:
    """The funds a regulator table covers, after the checks every such table shares:
    institutions may not read them (403), a fund outside the caller's scope is 404, and the
    period must be a plausible year that has begun."""
    if not (principal.is_staff_member or principal.is_regulator):
        raise Forbidden(ReportsError.REGULATOR_REPORTS_ONLY, _("监管统计报表仅供资金管理人和监管部门查看"))
    _check_year(year)
    _started(start, clock.today())
    if fund_code:
        return [fund_get(principal=principal, code=fund_code)]
    return funds_visible_list(principal=principal)


def annual_report(*, principal: Principal, fund_code: str | None, year: int) -> dict[str, Any]:
    """The annual table a regulator or staff member may read (scope as `quarterly_report`)."""
    funds = _report_funds(principal=principal, fund_code=fund_code, year=year, start=dt.date(year, 1, 1))
    return annual_build(funds=funds, year=year, today=clock.today())


# --- monthly reports (stored) ----------------------------------------------------------------------

_STATEMENT_HIDES = exporters.FUND_LEVEL_KEYS
_CLASS_LABELS = {
    "performing": gettext_lazy("正常"),
    "overdue": gettext_lazy("逾期"),
    "non_performing": gettext_lazy("不良"),
}


def _summary(f: Figures) -> dict[str, Any]:
    return {
        "filings_received": f.received,
        "filings_received_amount": f.received_amount,
        "filings_accepted": f.accepted,
        "filings_accepted_amount": f.accepted_amount,
        "covered_loans": f.covered_loans,
        "covered_outstanding": f.covered_outstanding,
        "overdue_loans": f.overdue_loans,
        "overdue_amount": f.overdue_amount,
        "non_performing_loans": f.non_performing_loans,
        "non_performing_amount": f.non_performing_amount,
        "npl_ratio": f.npl_ratio,
        "claims_filed": f.claims_filed,
        "claims_filed_amount": f.claims_filed_amount,
        "claims_approved": f.claims_approved,
        "claims_approved_amount": f.claims_approved_amount,
        "claims_paid": f.claims_paid,
        "claims_paid_amount": f.claims_paid_amount,
        "recoveries_returned": f.recoveries_returned,
        "recoveries_returned_amount": f.recoveries_returned_amount,
        "exposure": f.exposure,
        "capital": f.capital,
        "leverage": f.leverage,
        "leverage_limit": f.leverage_limit,
        "capacity": f.capacity,
    }


def _without(summary: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in summary.items() if k not in keys}


def monthly_build(
    *, fund: Fund, year: int, month: int, today: dt.date
) -> list[tuple[Institution | None, dict[str, Any]]]:
    """The fund's monthly report and one statement per cooperating bank (Python values),
    each with the bank it is for (None: the fund report)."""
    return next(monthly_build_all(funds=[fund], year=year, month=month, today=today))[1]


def monthly_build_all(
    *,
    funds: list[Fund],
    year: int,
    month: int,
    today: dt.date,
    agreements: list[tuple[int, int]] | None = None,
) -> Iterator[tuple[Fund, list[tuple[Institution | None, dict[str, Any]]]]]:
    """`monthly_build` for several funds, yielded fund by fund in the order given.

    The figures of all the funds come from one loan book and one call of `report_figures`,
    so the queries are a fixed few whatever the number of funds, banks or loans; a fund's
    reports are put together only when the caller asks for them, so one who stores them as
    it goes holds one fund's statements at a time. `agreements`: the (fund, institution)
    pairs of the funds' cooperation agreements, when the caller has read them already."""
    start, end = month_bounds(year, month)
    period = Period.clipped(start, end, today)
    ids = [f.pk for f in funds]
    book = selectors.loan_book(fund_ids=ids, on=period.as_of, today=today)
    figures = selectors.report_figures(
        funds=funds, period=period, today=today, dimensions=(FUND, INSTITUTION), book=book
    )
    ledgers = selectors.ledger_summaries(fund_ids=ids, period=period)
    if agreements is None:
        agreements = list(
            CooperationAgreement.objects.filter(fund_id__in=ids).values_list("fund_id", "institution_id")
        )
    inst_figures = figures[INSTITUTION]
    for fund_id, inst_id in agreements:
        inst_figures.setdefault((fund_id, inst_id), Figures())
    institutions = {i.pk: i for i in Institution.objects.filter(pk__in={k[1] for k in inst_figures})}
    statements: dict[int, list[tuple[Institution, Figures]]] = defaultdict(list)  # by bank code
    for (fund_id, inst_id), f in sorted(inst_figures.items(), key=lambda item: institutions[item[0][1]].code):
        statements[fund_id].append((institutions[inst_id], f))
    loans: dict[tuple[int, int], list[selectors.Position]] = defaultdict(list)  # in the book's order
    for p in book:
        loans[p.fund_id, p.institution_id].append(p)
    del book
    sections: dict[int, dict[str, Any]] = defaultdict(dict)
    for provide in MONTHLY_FUND_SECTIONS:
        for fund_id, section in provide(funds=funds, today=today).items():
            sections[fund_id].update(section)
    generated_at = clock.now()
    for fund in funds:
        common = {
            "fund": {"code": fund.code, "name": fund.name},
            "period": {"year": year, "month": month, "from": start, "to": end},
            "as_of": period.as_of,
            "generated_at": generated_at,
        }
        fund_statements = statements.pop(fund.pk, [])
        reports = [
            (
                None,
                {
                    **_monthly_fund_report(
                        common, figures[FUND][(fund.pk,)], ledgers[fund.pk], fund_statements
                    ),
                    **sections.get(fund.pk, {}),
                },
            )
        ]
        for inst, f in fund_statements:
            positions = loans.pop((fund.pk, inst.pk), [])
            reports.append((inst, _monthly_statement(common, inst, f, positions)))
        yield fund, reports


def _monthly_fund_report(
    common: dict[str, Any],
    f: Figures,
    ledger: selectors.LedgerSummary,
    statements: list[tuple[Institution, Figures]],
) -> dict[str, Any]:
    movements = [
        {"entry_type": t, "label": str(label), "amount": ledger.movements[t]}
        for t, label in EntryType.choices
        if ledger.movements[t]
    ]
    return {
        "kind": ReportKind.MONTHLY_FUND.value,
        **common,
        "institution": None,
        "summary": _summary(f),
        "ledger": {
            "opening_balance": ledger.opening_balance,
            "movements": movements,
            "inflows": sum((m["amount"] for m in movements if m["amount"] > 0), ZERO),
            "outflows": sum((m["amount"] for m in movements if m["amount"] < 0), ZERO),
            "closing_balance": ledger.closing_balance,
        },
        "by_institution": [
            {
                "institution": inst.code,
                "institution_name": inst.name,
                **_without(_summary(inst_f), _STATEMENT_HIDES),
            }
            for inst, inst_f in statements
        ],
    }


def _monthly_statement(
    common: dict[str, Any], inst: Institution, f: Figures, positions: list[selectors.Position]
) -> dict[str, Any]:
    classes = {code: str(label) for code, label in _CLASS_LABELS.items()}  # translated once, not per loan
    return {
        "kind": ReportKind.MONTHLY_INSTITUTION.value,
        **common,
        "institution": {"code": inst.code, "name": inst.name},
        "summary": _without(_summary(f), _STATEMENT_HIDES),
        "loans": [
            {
                "reference": p.reference,
                "contract_no": p.contract_no,
                "enterprise": p.enterprise_name,
                "accepted_on": p.accepted_on,
                "principal": p.principal,
                "covered_outstanding": p.covered_outstanding,
                "loan_class": classes.get(p.loan_class) or str(p.loan_class),
            }
            for p in positions
        ],
    }


def monthly_report_generate(
    *, fund: Fund, year: int, month: int, regenerate: bool = False
) -> list[StoredReport]:
    """Generate and store the fund's monthly report and its banks' statements for a month
    that is over. Idempotent per period: a report already stored is kept as it was sent
    unless `regenerate` (staff correcting after late bank reports). Returns the fund report
    first, then the statements."""
    stored = _monthly_generate(funds=[fund], year=year, month=month, regenerate=regenerate)
    return _ordered(stored[fund.pk])


# Memory bounds of the monthly job, in loans. The funds' loan books are built together (one set
# of queries: the same few whatever the number of funds or banks) up to MONTHLY_BOOK_BUDGET
# loans, past which the funds are taken in groups (a past day's book is held in Python, ~1 KB a
# loan); the reports built are written (one INSERT) each time they list MONTHLY_STORE_BUDGET
# loans. At province scale (~82,000 loans in October's book) that is one book, 8 INSERTs and
# 37 queries in all, at ~+120 MiB; each group more costs ~0.8 s (the flows are read again).
MONTHLY_BOOK_BUDGET = 100_000
MONTHLY_STORE_BUDGET = 10_000


def _fund_groups(funds: list[Fund], *, start: dt.date, end: dt.date) -> list[list[Fund]]:
    """The funds in order, grouped so that each group's loan book stays within the budget
    (counted from above: accepted by the period's end and not settled before it began)."""
    if len(funds) < 2:
        return [funds] if funds else []
    sizes = dict(
        LoanFiling.objects.filter(
            fund_id__in=[f.pk for f in funds], status=FilingStatus.ACCEPTED, accepted_on__lte=end
        )
        .exclude(settled_on__lt=start)
        .values_list("fund_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    groups: list[list[Fund]] = []
    size = 0
    for fund in funds:
        if groups and size + sizes.get(fund.pk, 0) <= MONTHLY_BOOK_BUDGET:
            groups[-1].append(fund)
            size += sizes.get(fund.pk, 0)
        else:
            groups.append([fund])
            size = sizes.get(fund.pk, 0)
    return groups


def _monthly_generate(
    *, funds: list[Fund], year: int, month: int, regenerate: bool = False, keep: bool = True
) -> dict[int, dict[int | None, StoredReport | None]]:
    """`monthly_report_generate` for several funds at once: per fund, its stored reports by
    bank (None: the fund report). With `keep=False` the reports written are not kept in
    memory (the values are None): the monthly job only counts them."""
    _check_year(year)
    if not 1 <= month <= 12:
        raise AppError(FundsError.INVALID_PERIOD, _("月份应为 1 至 12"), field="month", status=400)
    start, end = month_bounds(year, month)
    today = clock.today()
    if end >= today:
        raise AppError(
            ReportsError.PERIOD_NOT_ENDED, _("月份尚未结束，不能生成月报"), field="month", status=409
        )
    ids = [f.pk for f in funds]
    existing: dict[int, dict[int | None, StoredReport]] = {fid: {} for fid in ids}
    # Which are stored, not what: the figures and workbooks load only if a caller reads them.
    stored_before = StoredReport.objects.filter(
        fund_id__in=ids, period_start=start, kind__startswith="monthly"
    )
    for r in stored_before.defer("data", "xlsx"):
        existing[r.fund_id][r.institution_id] = r
    agreements = list(
        CooperationAgreement.objects.filter(fund_id__in=ids).values_list("fund_id", "institution_id")
    )
    wanted: dict[int, set[int]] = defaultdict(set)
    for fund_id, inst_id in agreements:
        wanted[fund_id].add(inst_id)
    stored: dict[int, dict[int | None, StoredReport | None]] = {}
    todo = []
    for fund in funds:
        have = existing[fund.pk]
        if not regenerate and None in have and wanted[fund.pk] <= set(have):
            stored[fund.pk] = dict(have)
        else:
            todo.append(fund)
    if not todo:
        return stored
    pending: list[StoredReport] = []
    lines = 0

    def flush() -> None:
        for report in _store_many(pending, replace=regenerate):
            stored[report.fund_id][report.institution_id] = report if keep else None
        pending.clear()

    def built() -> Iterator[tuple[Fund, list[tuple[Institution | None, dict[str, Any]]]]]:
        for group in _fund_groups(todo, start=start, end=end):
            group_ids = {f.pk for f in group}
            group_agreements = [a for a in agreements if a[0] in group_ids]
            yield from monthly_build_all(
                funds=group, year=year, month=month, today=today, agreements=group_agreements
            )

    with _stored_language():
        for fund, reports in built():
            have, kept = existing[fund.pk], stored.setdefault(fund.pk, {})
            for institution, data in reports:
                key = institution.pk if institution else None
                if key in have and not regenerate:
                    kept[key] = have[key]
                    continue
                pending.append(
                    StoredReport(
                        kind=data["kind"],
                        fund=fund,
                        institution=institution,
                        period_start=start,
                        period_end=end,
                        generated_at=data["generated_at"],
                        data=exporters.to_json(data),
                        xlsx=None,  # rendered from `data` at the first download
                    )
                )
                lines += 1 + len(data.get("loans", ()))
            if lines >= MONTHLY_STORE_BUDGET:
                flush()
                lines = 0
    flush()
    return stored


def _stored_language() -> translation.override:
    """Reports are stored as they are sent to the city: their labels (the 合计 rows, the loan
    classes, the ledger's entry types) and their workbook in the default language, Chinese,
    whoever asks for them and in whatever language (an English admin regenerating one, the
    job run eagerly inside a request)."""
    return translation.override(settings.LANGUAGE_CODE)


def _ordered(reports: dict[int | None, StoredReport]) -> list[StoredReport]:
    fund_report = reports.get(None)
    statements = sorted((r for k, r in reports.items() if k is not None), key=lambda r: r.institution_id)
    return ([fund_report] if fund_report else []) + statements


def _store(
    *,
    kind: str,
    fund: Fund,
    institution: Institution | None,
    start: dt.date,
    end: dt.date,
    data: dict[str, Any],
    xlsx: bytes,
    replace: bool,
) -> StoredReport:
    report = StoredReport(
        kind=kind,
        fund=fund,
        institution=institution,
        period_start=start,
        period_end=end,
        generated_at=data["generated_at"],
        data=exporters.to_json(data),
        xlsx=xlsx,
    )
    return _save_report(report, replace=replace)


def _save_report(report: StoredReport, *, replace: bool) -> StoredReport:
    """Insert the report; a concurrent run that stored it first wins (unique constraint)."""
    values = {
        "period_end": report.period_end,
        "generated_at": report.generated_at,
        "data": report.data,
        "xlsx": report.xlsx,
    }
    lookup = {
        "kind": report.kind,
        "fund": report.fund,
        "institution": report.institution,
        "period_start": report.period_start,
    }
    try:
        with transaction.atomic():
            if replace:
                report, _created = StoredReport.objects.update_or_create(**lookup, defaults=values)
            else:
                report, _created = StoredReport.objects.get_or_create(**lookup, defaults=values)
    except IntegrityError:
        log.info("report %s %s %s %s stored concurrently", *lookup.values())
        report = StoredReport.objects.get(**lookup)
    return report


def _store_many(reports: list[StoredReport], *, replace: bool) -> list[StoredReport]:
    """Insert new reports in one statement. When a concurrent run stored some of them first
    (unique constraint), or when replacing, one by one as `_save_report` does: the first
    stored wins."""
    if not reports:
        return []
    if not replace:
        try:
            with transaction.atomic():
                return StoredReport.objects.bulk_create(reports)
        except IntegrityError:
            log.info("monthly reports stored concurrently; storing them one by one")
            for report in reports:
                report.pk, report._state.adding = None, True
    return [_save_report(report, replace=replace) for report in reports]


def quarterly_report_store(*, fund: Fund, year: int, quarter: int, regenerate: bool = False) -> StoredReport:
    """Archive the quarterly table of one fund for a quarter that is over (idempotent)."""
    _check_year(year)
    start, end = quarter_bounds(year, quarter)
    today = clock.today()
    if end >= today:
        raise AppError(
            ReportsError.PERIOD_NOT_ENDED, _("季度尚未结束，不能归档季度报表"), field="quarter", status=409
        )
    lookup = {"kind": ReportKind.QUARTERLY, "fund": fund, "institution": None, "period_start": start}
    if not regenerate:
        found = StoredReport.objects.filter(**lookup).first()
        if found is not None:
            return found
    with _stored_language():
        data = quarterly_build(funds=[fund], year=year, quarter=quarter, today=today)
        xlsx = exporters.quarterly_xlsx(data)
    return _store(
        kind=ReportKind.QUARTERLY,
        fund=fund,
        institution=None,
        start=start,
        end=end,
        data=data,
        xlsx=xlsx,
        replace=regenerate,
    )


def stored_report_workbook(*, report: StoredReport) -> bytes:
    """The stored report's workbook. The monthly job keeps each report's figures only (writing
    some 300 workbooks cell by cell was most of its time); the workbook is rendered from those
    figures, in the stored language, when it is first downloaded, and kept: every later download
    is the same file. A report regenerated later is rendered afresh from its new figures."""
    if report.xlsx is not None:
        return bytes(report.xlsx)
    with _stored_language():
        render = exporters.quarterly_xlsx if report.kind == ReportKind.QUARTERLY else exporters.monthly_xlsx
        content = render(report.data)
    with transaction.atomic(durable=True):
        kept = StoredReport.objects.filter(pk=report.pk, xlsx__isnull=True).update(xlsx=content)
    if not kept:  # a concurrent download kept its rendering first: that file is the report's
        content = bytes(StoredReport.objects.values_list("xlsx", flat=True).get(pk=report.pk))
    report.xlsx = content
    return content


def stored_report_regenerate(*, report: StoredReport) -> StoredReport:
    """Staff: rebuild a stored report from today's records (e.g. after late bank reports)."""
    start = report.period_start
    if report.kind == ReportKind.QUARTERLY:
        return quarterly_report_store(
            fund=report.fund, year=start.year, quarter=(start.month - 1) // 3 + 1, regenerate=True
        )
    monthly_report_generate(fund=report.fund, year=start.year, month=start.month, regenerate=True)
    return StoredReport.objects.get(pk=report.pk)


def funds_for_period(end: dt.date) -> list[Fund]:
    """Funds set up by the period's end: the ones a scheduled run reports on."""
    return list(Fund.objects.filter(start_date__lte=end).order_by("code"))


def monthly_reports_generate_all(*, year: int, month: int) -> int:
    """Every fund's monthly report and statements; returns how many reports are stored.
    All funds at once: a fixed number of queries whatever the number of funds and banks."""
    end = month_bounds(year, month)[1]
    stored = _monthly_generate(funds=funds_for_period(end), year=year, month=month, keep=False)
    return sum(len(reports) for reports in stored.values())


def quarterly_reports_store_all(*, year: int, quarter: int) -> int:
    end = quarter_bounds(year, quarter)[1]
    stored = [quarterly_report_store(fund=f, year=year, quarter=quarter) for f in funds_for_period(end)]
    return len(stored)


def monthly_report_get(
    *, principal: Principal, fund_code: str, year: int, month: int, institution_code: str | None = None
) -> StoredReport:
    """The stored monthly report a caller may read.

    Staff and the fund's regulators read the fund report and every bank's statement; a bank
    reads only its own statement (the fund report is 403; another bank's statement 404).
    Not generated yet: 404 `report_not_generated`.
    """
    _check_year(year)
    if not 1 <= month <= 12:
        raise AppError(FundsError.INVALID_PERIOD, _("月份应为 1 至 12"), field="month", status=400)
    fund = fund_get(principal=principal, code=fund_code)
    if principal.is_institution:
        own = Institution.objects.filter(pk=principal.institution_id).values_list("code", flat=True).first()
        if institution_code is None:
            raise Forbidden(
                ReportsError.STATEMENT_ONLY, _("合作机构只能查看本机构的月度对账单，请传入 institution 参数")
            )
        if institution_code != own:
            raise NotFound(_("月度对账单不存在或无权访问"))
    elif not (principal.is_staff_member or principal.is_regulator):
        raise Forbidden(CommonError.PERMISSION_DENIED, _("无权查看月度报告"))
    start = month_bounds(year, month)[0]
    reports = StoredReport.objects.select_related("fund", "institution").filter(fund=fund, period_start=start)
    if institution_code:
        report = reports.filter(
            kind=ReportKind.MONTHLY_INSTITUTION, institution__code=institution_code
        ).first()
    else:
        report = reports.filter(kind=ReportKind.MONTHLY_FUND).first()
    if report is None:
        raise NotFound(_("该月报表尚未生成"), code=ReportsError.REPORT_NOT_GENERATED)
    return report


# --- kept figures of closed periods (snapshots) ---------------------------------------------


def standard_periods_ending(end: dt.date) -> list[tuple[dt.date, dt.date]]:
    """The month that ends on `end`, and the quarter and year it closes (if it does)."""
    periods = [month_bounds(end.year, end.month)]
    if end.month % 3 == 0:
        periods.append(quarter_bounds(end.year, end.month // 3))
    if end.month == 12:
        periods.append((dt.date(end.year, 1, 1), end))
    return periods


def snapshots_write(*, funds: list[Fund], end: dt.date, today: dt.date | None = None) -> int:
    """Compute and keep the figures of every standard period ending on month end `end` (month,
    quarter, year), for these funds, replacing what was kept. The loan book as at `end` is
    rebuilt once for all of them. Returns the rows written."""
    today = today or clock.today()
    if end >= today:
        raise ValueError(f"{end} is not over yet: only closed periods are kept")
    ids = [f.pk for f in funds]
    book = selectors.loan_book(fund_ids=ids, on=end, today=today)
    rows = []
    periods = standard_periods_ending(end)
    for start, stop in periods:
        period = Period.clipped(start, stop, today)
        figures = selectors.computed_figures(fund_ids=ids, period=period, today=today, book=book)
        for dimension, groups in figures.items():
            for key, f in groups.items():
                rows.append(
                    FigureSnapshot(
                        fund_id=key[0],
                        period_start=start,
                        period_end=stop,
                        dimension=dimension,
                        group="" if dimension == FUND else str(key[1]),
                        figures=json.dumps(f.to_json(), separators=(",", ":")),
                    )
                )
    with transaction.atomic():
        for start, stop in periods:
            FigureSnapshot.objects.filter(fund_id__in=ids, period_start=start, period_end=stop).delete()
        FigureSnapshot.objects.bulk_create(rows, batch_size=2000)
    selectors.snapshots_forget()
    return len(rows)


def snapshots_invalidate(*, fund_id: int, since: dt.date) -> int:
    """A dated record of the fund changed from `since` on: the kept figures of every period
    ending on or after it go (in the same transaction as the change); reports compute those
    periods from the books until `snapshots_refresh` keeps them again."""
    deleted, _by_model = FigureSnapshot.objects.filter(fund_id=fund_id, period_end__gte=since).delete()
    selectors.snapshots_forget()
    return deleted


def snapshots_refresh(*, today: dt.date | None = None, months: int | None = None) -> int:
    """Keep the figures of every standard period ended in the last `months` months
    (settings.REPORT_SNAPSHOT_MONTHS) that is not kept yet, for every fund. Idempotent."""
    today = today or clock.today()
    months = settings.REPORT_SNAPSHOT_MONTHS if months is None else months
    year, month = today.year, today.month
    written = 0
    for _month in range(months):
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        end = month_bounds(year, month)[1]
        funds = funds_for_period(end)
        if not funds:
            continue
        kept = set(
            FigureSnapshot.objects.filter(
                period_end=end, dimension=FUND, fund_id__in=[f.pk for f in funds]
            ).values_list("fund_id", "period_start")
        )
        starts = [start for start, _stop in standard_periods_ending(end)]
        stale = [f for f in funds if any((f.pk, start) not in kept for start in starts)]
        if stale:
            written += snapshots_write(funds=stale, end=end, today=today)
    return written
