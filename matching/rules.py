"""Matching rules as pure functions: which priority classes an enterprise falls in (and why),
whether a class's parameters make sense, whether a need fits a bank's products, and what a
bank may read of a need under the enterprise's consent.

A class's reason is stored with the need (`NeedPriority.reason`), so it is written in the
default language whatever the request's (`fundmgr.ground.lib.i18n.recorded`); what is wrong
with a class's parameters is answered to the person editing it, in theirs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from dateutil.relativedelta import relativedelta
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from fundmgr.ground.lib.i18n import recorded
from fundmgr.ground.lib.identifiers import IP_KINDS, PATENT_KINDS
from fundmgr.ground.lib.money import to_wan_yuan

# The steps on a financing need that need a reason (the service refuses them without one; the
# admin's form marks the box required).
NEED_COMMENT_REQUIRED = frozenset({"close", "withdraw"})


# --- facts ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HonourFact:
    kind: str
    title: str
    granted_on: dt.date
    valid_until: dt.date | None

    def valid_on(self, day: dt.date) -> bool:
        return self.granted_on <= day and (self.valid_until is None or self.valid_until >= day)


@dataclass(frozen=True)
class IPFact:
    kind: str
    number: str
    status: str
    filed_on: dt.date | None
    expires_on: dt.date

    def valid_on(self, day: dt.date) -> bool:
        return self.status == "valid" and self.expires_on > day


@dataclass(frozen=True)
class EnterpriseFacts:
    industry_code: str
    annual_revenue: Decimal | None
    honours: Sequence[HonourFact]
    ip: Sequence[IPFact]


@dataclass(frozen=True)
class ClassSpec:
    """A priority class as the rules read it (see models.PriorityClass)."""

    id: int
    order: int
    code: str
    label: str
    rule: str
    parameters: dict


@dataclass(frozen=True)
class PriorityMatch:
    class_id: int
    order: int
    code: str
    label: str
    reason: str


# Names of honour kinds and IP kinds for the stored reasons, in the default language (the
# models' labels, without importing them).
HONOUR_LABELS = {
    "ip_demonstration": gettext_noop("知识产权示范企业"),
    "ip_advantage": gettext_noop("知识产权优势企业"),
    "key_ip_protection": gettext_noop("重点知识产权保护名录"),
    "well_known_trademark": gettext_noop("驰名商标"),
    "high_tech": gettext_noop("高新技术企业"),
    "high_tech_pool": gettext_noop("高新技术企业培育库"),
    "tech_sme": gettext_noop("科技型中小企业"),
    "specialised": gettext_noop("专精特新企业"),
    "other": gettext_noop("其他"),
}
IP_LABELS = {
    "invention_patent": gettext_noop("发明专利"),
    "utility_model": gettext_noop("实用新型专利"),
    "design_patent": gettext_noop("外观设计专利"),
    "trademark": gettext_noop("商标"),
    "copyright": gettext_noop("著作权"),
    "software_copyright": gettext_noop("软件著作权"),
    "geographical_indication": gettext_noop("地理标志"),
}
LIST_SEPARATOR, PART_SEPARATOR = "、", "；"  # Chinese enumeration comma and semicolon
RULES = ("honour", "ip_portfolio", "industry")

# --- the three kinds of rule ---------------------------------------------------------------------


def _honour(params: dict, facts: EnterpriseFacts, today: dt.date) -> str | None:
    kinds = set(params.get("kinds") or [])
    held = sorted(
        (h for h in facts.honours if h.kind in kinds and h.valid_on(today)),
        key=lambda h: (h.granted_on, h.title),
    )
    if not held:
        return None
    parts = []
    for h in held:
        until = (
            recorded(gettext_noop("有效期至%(date)s"), date=h.valid_until.isoformat())
            if h.valid_until
            else recorded(gettext_noop("长期有效"))
        )
        parts.append(
            recorded(
                gettext_noop("%(kind)s：%(title)s（%(granted)s认定，%(until)s）"),
                kind=HONOUR_LABELS.get(h.kind, h.kind),
                title=h.title,
                granted=h.granted_on.isoformat(),
                until=until,
            )
        )
    return PART_SEPARATOR.join(parts)


def _ip_portfolio(params: dict, facts: EnterpriseFacts, today: dt.date) -> str | None:
    """Rights obtained in the last `years` years. The IP register keeps each right's filing
    (application) date, not its grant date: a right filed inside the window was necessarily
    granted inside it too, so counting by filing date never admits a firm the rule excludes
    (it may miss a right filed earlier and granted late; staff then record it as an honour)."""
    years = int(params.get("years", 5))
    since = today - relativedelta(years=years)
    recent = [a for a in facts.ip if a.valid_on(today) and a.filed_on is not None and a.filed_on >= since]
    for option in params.get("any_of") or []:
        kinds = set(option.get("kinds") or [])
        wanted = int(option.get("min", 1))
        found = sorted(a.number for a in recent if a.kind in kinds)
        if len(found) >= wanted:
            names = LIST_SEPARATOR.join(IP_LABELS.get(k, k) for k in sorted(kinds))
            shown = LIST_SEPARATOR.join(found[:5])
            if len(found) > 5:
                shown = recorded(gettext_noop("%(numbers)s等"), numbers=shown)
            return recorded(
                gettext_noop(
                    "近%(years)s年（%(since)s以来申请）取得有效%(names)s%(count)s件（%(shown)s），"
                    "满足“%(names)s不少于%(wanted)s件”"
                ),
                years=years,
                since=since.isoformat(),
                names=names,
                count=len(found),
                shown=shown,
                wanted=wanted,
            )
    return None


def _split(code: str) -> tuple[str, str]:
    code = (code or "").strip().upper()
    letter = code[:1] if code[:1].isalpha() else ""
    return letter, code[len(letter) :]


def industry_fits(industry_code: str, prefixes: Iterable[str]) -> str | None:
    """The prefix `industry_code` (GB/T 4754, e.g. C3985) falls under, if any: the door
    letters must agree when both have one, and the code's digits start with the prefix's (a
    letter alone, e.g. C, takes the whole door)."""
    letter, digits = _split(industry_code)
    for prefix in prefixes:
        p_letter, p_digits = _split(str(prefix))
        if not p_letter and not p_digits:
            continue
        if p_letter and letter and p_letter != letter:
            continue
        if p_digits and not digits.startswith(p_digits):
            continue
        if not p_digits and letter != p_letter:
            continue
        return f"{p_letter}{p_digits}"
    return None


def _industry(params: dict, facts: EnterpriseFacts, today: dt.date) -> str | None:
    prefix = industry_fits(facts.industry_code, params.get("industry_prefixes") or [])
    if prefix is None:
        return None
    parts = [
        recorded(
            gettext_noop("行业代码%(code)s属本市重点产业（%(prefix)s）"),
            code=facts.industry_code,
            prefix=prefix,
        )
    ]
    if params.get("requires_patent", True):
        patents = [a for a in facts.ip if a.kind in PATENT_KINDS and a.valid_on(today)]
        if not patents:
            return None
        parts.append(recorded(gettext_noop("拥有有效专利%(count)s件"), count=len(patents)))
    minimum = params.get("min_annual_revenue")
    if minimum not in (None, ""):
        floor = Decimal(str(minimum))
        if facts.annual_revenue is None or facts.annual_revenue < floor:
            return None
        parts.append(
            recorded(
                gettext_noop("营业收入%(revenue)s万元，不低于%(floor)s万元"),
                revenue=to_wan_yuan(facts.annual_revenue),
                floor=to_wan_yuan(floor),
            )
        )
    return PART_SEPARATOR.join(parts)


_DECIDE = {"honour": _honour, "ip_portfolio": _ip_portfolio, "industry": _industry}


def evaluate_class(spec: ClassSpec, facts: EnterpriseFacts, today: dt.date) -> PriorityMatch | None:
    decide = _DECIDE.get(spec.rule)
    reason = decide(spec.parameters or {}, facts, today) if decide else None
    if reason is None:
        return None
    return PriorityMatch(spec.id, spec.order, spec.code, spec.label, reason[:500])


def priority_classes(
    specs: Iterable[ClassSpec], facts: EnterpriseFacts, today: dt.date
) -> list[PriorityMatch]:
    """Every class the enterprise falls in on `today`, most important first, with the reason."""
    found = [m for spec in specs if (m := evaluate_class(spec, facts, today)) is not None]
    return sorted(found, key=lambda m: (m.order, m.code))


# --- checking a class's parameters ---------------------------------------------------------------


def parameter_errors(rule: str, params: object, *, honour_kinds: Iterable[str]) -> list[str]:
    """What is wrong with a class's parameters (empty: nothing), in Chinese, for the admin."""
    if rule not in RULES:
        return [_("未知的判断方式")]
    if not isinstance(params, dict):
        return [_("参数应为 JSON 对象")]
    errors: list[str] = []
    if rule == "honour":
        kinds = params.get("kinds")
        known = set(honour_kinds)
        if not isinstance(kinds, list) or not kinds:
            errors.append(_('kinds 应为非空列表，例如 ["high_tech"]'))
        elif unknown := [k for k in kinds if k not in known]:
            errors.append(_("未知的荣誉类别：%(kinds)s") % {"kinds": LIST_SEPARATOR.join(map(str, unknown))})
    elif rule == "ip_portfolio":
        years = params.get("years", 5)
        if not isinstance(years, int) or isinstance(years, bool) or not 1 <= years <= 30:
            errors.append(_("years 应为 1–30 的整数"))
        options = params.get("any_of")
        if not isinstance(options, list) or not options:
            errors.append(_('any_of 应为非空列表，例如 [{"kinds": ["invention_patent"], "min": 1}]'))
        else:
            for i, option in enumerate(options):
                kinds = option.get("kinds") if isinstance(option, dict) else None
                wanted = option.get("min", 1) if isinstance(option, dict) else None
                if not isinstance(kinds, list) or not kinds or any(k not in IP_KINDS for k in kinds):
                    errors.append(_("any_of[%(i)s].kinds 应为知识产权类型列表") % {"i": i})
                if not isinstance(wanted, int) or isinstance(wanted, bool) or wanted < 1:
                    errors.append(_("any_of[%(i)s].min 应为正整数") % {"i": i})
    elif rule == "industry":
        prefixes = params.get("industry_prefixes")
        if (
            not isinstance(prefixes, list)
            or not prefixes
            or not all(isinstance(p, str) and p for p in prefixes)
        ):
            errors.append(_('industry_prefixes 应为行业代码前缀列表，例如 ["C38", "C39"]'))
        minimum = params.get("min_annual_revenue")
        if minimum not in (None, ""):
            try:
                if Decimal(str(minimum)) < 0:
                    raise InvalidOperation
            except (InvalidOperation, ValueError):
                errors.append(_('min_annual_revenue 应为不小于零的金额字符串，例如 "5000000.00"'))
        if not isinstance(params.get("requires_patent", True), bool):
            errors.append(_("requires_patent 应为 true 或 false"))
    return errors


# --- products ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductFacts:
    max_principal: Decimal | None
    max_term_months: int | None
    accepted_ip_kinds: Sequence[str]


def need_fits_products(
    *, amount: Decimal, term_months: int, offered_kinds: Iterable[str], products: Sequence[ProductFacts]
) -> bool:
    """Does a need fit one of the bank's filed products in the fund? A bank with no filed
    product there lends under the fund's general terms: every need fits. A product fits when
    the amount and term are within its limits and it accepts one of the offered kinds of right
    (a need offering none yet, or a product listing none, does not exclude)."""
    if not products:
        return True
    offered = set(offered_kinds)
    for p in products:
        if p.max_principal is not None and amount > p.max_principal:
            continue
        if p.max_term_months is not None and term_months > p.max_term_months:
            continue
        if offered and p.accepted_ip_kinds and not offered & set(p.accepted_ip_kinds):
            continue
        return True
    return False


# --- what a bank may read ------------------------------------------------------------------------

# Of a need another party registered, a bank reads the need itself and the enterprise's
# identity, district, industry and priority classes (consent `basic`); with consent `full`
# also the size and financial figures, the rights offered and the contact person.
FULL_CONSENT_FIELDS = (
    "size_class",
    "employees",
    "annual_revenue",
    "total_assets",
    "offered_ip",
    "contact_name",
    "contact_phone",
)
STAFF_OR_SUBMITTER_FIELDS = ("submitted_by", "consent_on", "consent_scope", "source")


def hidden_fields(*, is_staff: bool, is_submitter: bool, consent_scope: str) -> frozenset[str]:
    """The need fields a caller may not read: none for staff and the bank that registered
    it; for other banks what the consent does not cover."""
    if is_staff or is_submitter:
        return frozenset()
    hidden = set(STAFF_OR_SUBMITTER_FIELDS)
    if consent_scope != "full":
        hidden |= set(FULL_CONSENT_FIELDS)
    return frozenset(hidden)
