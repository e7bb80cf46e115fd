"""Enterprise eligibility (domain-rules §3.1) as pure checks.

Each check gives a Finding: passed, failed (blocks admission) or open (information missing;
shown to the reviewer, who may record it, e.g. the credit report, during review).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from dateutil.relativedelta import relativedelta
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fundmgr.ground.lib.errors import FieldError, Violation
from fundmgr.ground.lib.identifiers import PATENT_KINDS, patent_term_expiry, uscc_is_enterprise_legal_person

PASSED, FAILED, OPEN = "passed", "failed", "open"

# Staff steps on an enterprise that need a reason (refused without one: comment_required): the
# applicant reads why it was returned or refused, suspended or removed. The admin's forms mark
# the comment box required.
COMMENT_REQUIRED_STEPS = frozenset({"return_for_supplement", "reject", "suspend", "remove"})
# Steps that admit the enterprise (again): refused while an eligibility check fails.
ELIGIBILITY_CHECKED_AT_STEPS = frozenset({"admit", "renew"})
# What an enterprise says of itself, in its application or in the fund's books: the fields an
# application fills and an import may correct (its lifecycle state and admission dates change
# only through the review steps).
ENTERPRISE_DATA_FIELDS = (
    "name",
    "region_code",
    "industry_code",
    "registered_on",
    "employees",
    "annual_revenue",
    "total_assets",
    "legal_representative",
    "contact_name",
    "contact_phone",
    "credit_report_date",
    "credit_record_clean",
)

# What each finding is about, as staff read it (the admin shows these, never the codes): a
# check's passing and failing codes share one label.
FINDING_LABELS: dict[str, str] = {
    "registered_in_city": gettext_lazy("注册地"),
    "not_registered_in_city": gettext_lazy("注册地"),
    "registration_age_ok": gettext_lazy("注册年限"),
    "registered_too_recently": gettext_lazy("注册年限"),
    "legal_person_ok": gettext_lazy("企业法人"),
    "not_legal_person": gettext_lazy("企业法人"),
    "sme_ok": gettext_lazy("中小微企业"),
    "not_sme": gettext_lazy("中小微企业"),
    "sme_figures_missing": gettext_lazy("中小微企业"),
    "credit_ok": gettext_lazy("征信记录"),
    "credit_record_unclean": gettext_lazy("征信记录"),
    "credit_record_unknown": gettext_lazy("征信记录"),
    "credit_report_date_invalid": gettext_lazy("征信记录"),
    "ip_ok": gettext_lazy("可质押知识产权"),
    "no_eligible_ip": gettext_lazy("可质押知识产权"),
}
STATUS_LABELS: dict[str, str] = {
    PASSED: gettext_lazy("符合"),
    FAILED: gettext_lazy("不符合"),
    OPEN: gettext_lazy("待核实"),
}


def finding_label(code: str) -> str:
    """The Chinese name of what a finding checks (注册地 for registered_in_city)."""
    return FINDING_LABELS.get(code, code)


@dataclass(frozen=True)
class Finding:
    code: str
    status: str
    message: str
    field: str | None = None

    def as_dict(self) -> dict:
        return {"code": self.code, "status": self.status, "message": self.message, "field": self.field}


@dataclass(frozen=True)
class Eligibility:
    findings: list[Finding] = field(default_factory=list)

    @property
    def failed(self) -> list[Finding]:
        return [f for f in self.findings if f.status == FAILED]

    @property
    def open(self) -> list[Finding]:
        return [f for f in self.findings if f.status == OPEN]

    @property
    def eligible(self) -> bool:
        return not self.failed


@dataclass(frozen=True)
class IPFacts:
    kind: str
    status: str
    expires_on: dt.date


def same_city(region_code: str, fund_region_code: str) -> bool:
    """GB/T 2260: the first four digits name the prefecture-level city."""
    return bool(region_code) and region_code[:4] == fund_region_code[:4]


def check_registration_place(*, region_code: str, fund_region_code: str) -> Finding:
    if same_city(region_code, fund_region_code):
        return Finding("registered_in_city", PASSED, _("注册地在本市"))
    return Finding("not_registered_in_city", FAILED, _("企业注册地不在本资金所在城市"), "region_code")


def check_registration_age(*, registered_on: dt.date, min_years: int, today: dt.date) -> Finding:
    if registered_on + relativedelta(years=min_years) <= today:
        return Finding("registration_age_ok", PASSED, _("注册满%(years)s年") % {"years": min_years})
    return Finding(
        "registered_too_recently",
        FAILED,
        _("企业注册未满%(years)s年（成立于%(date)s）")
        % {"years": min_years, "date": registered_on.isoformat()},
        "registered_on",
    )


def check_legal_person(*, uscc: str, required: bool) -> Finding:
    if not required or uscc_is_enterprise_legal_person(uscc):
        return Finding("legal_person_ok", PASSED, _("独立企业法人"))
    return Finding("not_legal_person", FAILED, _("统一社会信用代码显示不是企业法人（应以91开头）"), "uscc")


def check_size(*, size_class: str, missing: Iterable[str], required: bool) -> Finding:
    missing = list(missing)
    if not required:
        return Finding("sme_ok", PASSED, _("本资金不要求中小微企业"))
    if size_class == "large":
        return Finding(
            "not_sme", FAILED, _("按工信部联企业〔2011〕300号标准属大型企业，不符合条件"), "size_class"
        )
    if missing:
        return Finding(
            "sme_figures_missing",
            OPEN,
            _("划型所需指标缺失：%(missing)s") % {"missing": "、".join(str(m) for m in missing)},
            "size_class",
        )
    return Finding("sme_ok", PASSED, _("属中小微企业"))


def check_credit(
    *, credit_report_date: dt.date | None, credit_record_clean: bool | None, clean_years: int, today: dt.date
) -> Finding:
    if credit_record_clean is False:
        return Finding(
            "credit_record_unclean",
            FAILED,
            _("近%(years)s年征信存在不良记录") % {"years": clean_years},
            "credit_record_clean",
        )
    if credit_record_clean is None or credit_report_date is None:
        return Finding(
            "credit_record_unknown", OPEN, _("尚未提供征信报告，请审核人员核实并记录"), "credit_report_date"
        )
    if credit_report_date > today:
        return Finding("credit_report_date_invalid", FAILED, _("征信报告日期晚于今天"), "credit_report_date")
    return Finding("credit_ok", PASSED, _("近%(years)s年征信无不良记录") % {"years": clean_years})


def check_ip(*, assets: Iterable[IPFacts], accepted_kinds: Iterable[str], today: dt.date) -> Finding:
    accepted = set(accepted_kinds)
    usable = [a for a in assets if a.kind in accepted and a.status == "valid" and a.expires_on > today]
    if usable:
        return Finding("ip_ok", PASSED, _("有%(count)s项本资金接受的有效知识产权") % {"count": len(usable)})
    return Finding("no_eligible_ip", FAILED, _("没有本资金接受类型的有效知识产权"), "ip_assets")


def evaluate(
    *,
    uscc: str,
    region_code: str,
    registered_on: dt.date,
    size_class: str,
    size_missing: Iterable[str],
    credit_report_date: dt.date | None,
    credit_record_clean: bool | None,
    assets: Iterable[IPFacts],
    fund_region_code: str,
    policy,
    today: dt.date,
    credit_checked_on: dt.date | None = None,
) -> Eligibility:
    """All eligibility checks for one enterprise against the policy in force on `today` (for
    an admission from old books: the day it was admitted). The credit report is checked as
    of `credit_checked_on` (default `today`): a report renewed since postdates the admission."""
    return Eligibility(
        findings=[
            check_registration_place(region_code=region_code, fund_region_code=fund_region_code),
            check_registration_age(
                registered_on=registered_on, min_years=policy.min_years_registered, today=today
            ),
            check_legal_person(uscc=uscc, required=policy.legal_person_required),
            check_size(size_class=size_class, missing=size_missing, required=policy.sme_required),
            check_credit(
                credit_report_date=credit_report_date,
                credit_record_clean=credit_record_clean,
                clean_years=policy.clean_credit_years,
                today=credit_checked_on or today,
            ),
            check_ip(assets=assets, accepted_kinds=policy.accepted_ip_kinds, today=today),
        ]
    )


def admission_until(admitted_on: dt.date, months: int) -> dt.date:
    """The last day of an admission that starts on `admitted_on` and lasts `months` (the
    policy's admission validity)."""
    return admitted_on + relativedelta(months=months) - dt.timedelta(days=1)


def ip_asset_expiry(
    *, kind: str, filed_on: dt.date | None, expires_on: dt.date | None
) -> tuple[dt.date | None, list[Violation]]:
    """A right's expiry as registered: the one given, or a patent's computed from its filing
    date and legal term; and what is wrong with it (none given for a right that is not a
    patent or has no filing date; not after the filing date)."""
    if expires_on is None and kind in PATENT_KINDS and filed_on is not None:
        expires_on = patent_term_expiry(kind, filed_on)
    if expires_on is None:
        return None, [
            Violation(
                FieldError.REQUIRED, _("请填写到期日（专利可改填申请日，系统按法定期限计算）"), "expires_on"
            )
        ]
    if filed_on is not None and expires_on <= filed_on:
        return expires_on, [
            Violation(
                FieldError.INVALID,
                _("到期日（%(expires)s）须晚于申请日（%(filed)s）")
                % {"expires": expires_on.isoformat(), "filed": filed_on.isoformat()},
                "expires_on",
            )
        ]
    return expires_on, []


# What a partner bank may read of an enterprise it did not apply for (another bank's
# customer admitted in a fund it cooperates with): enough to identify the firm and its
# pledgeable rights, none of its financial figures or credit record.
PUBLIC_FIELDS = ("uscc", "name", "fund", "status", "size_class", "admitted_until", "ip_assets")


def fields_visible(*, is_institution: bool, institution_id: int | None, submitted_by_id: int | None):
    """The enterprise fields a caller may read: every field (None), or PUBLIC_FIELDS for a
    bank reading an enterprise another bank applied for. The same in lists and details."""
    if is_institution and submitted_by_id != institution_id:
        return PUBLIC_FIELDS
    return None
