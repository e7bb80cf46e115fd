"""Notices about financing needs (投融对接): the banks' daily digest of new needs, and staff
told of needs nobody has touched.

**The digest.** Each working day, every partner bank with an active agreement hears of the
needs that became open to it the day before — registered, or consented to, on a day after
the last digest's and up to yesterday — in the funds where it may lend, that fit one of its
filed products there (`matching.selectors.new_needs_for_bank`). A bank's first digest looks
back `FIRST_DIGEST_LOOKBACK_DAYS`. The days a digest covers end in its event key
(`needs.digest:<institution>:<last day covered>`): run again the same day — a retried task,
a second beat tick — it finds the same key and tells nobody anything twice; the next digest
starts the day after. A need registered on the digest's own day is in the next one. No
need, no notice.

**Untouched needs.** Staff (officers) are told of each open need with no bank interest,
meeting or step for the policy's number of working days, once per quiet spell (the key
carries the day of its last activity: a need touched and forgotten again is told afresh).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.utils.translation import gettext_noop

from banks.models import Institution
from fundmgr.ground.accounts.models import Role
from fundmgr.ground.accounts.services import institution_system_user
from fundmgr.ground.lib import clock, workdays
from fundmgr.ground.lib.i18n import recorded
from fundmgr.ground.lib.money import format_yuan
from fundmgr.ground.lib.regions import region_name
from matching import selectors as matching
from matching.models import NeedStatus

from . import services
from .models import Notification

log = logging.getLogger(__name__)

DIGEST_EVENT = "needs.digest"
UNTOUCHED_EVENT = "needs.untouched"
# A bank's first digest lists the needs of the last week (a display choice).
FIRST_DIGEST_LOOKBACK_DAYS = 7
_LISTED = 30  # a digest names at most this many needs


def _last_covered(institution: Institution) -> dt.date | None:
    """The last day the bank's latest digest covered (from its key), if it ever had one."""
    system = institution_system_user(institution=institution)
    key = (
        Notification.objects.filter(
            event=DIGEST_EVENT, recipient=system, event_key__startswith=f"{DIGEST_EVENT}:{institution.pk}:"
        )
        .order_by("-event_key")
        .values_list("event_key", flat=True)
        .first()
    )
    return dt.date.fromisoformat(key.rsplit(":", 1)[1]) if key else None


# Notices are stored rows: their text is written in the default language (Chinese) whatever
# the language of the request or worker that raises them (fundmgr.ground.lib.i18n).


def _need_line(need) -> str:
    priority = (
        recorded(gettext_noop("【优先%(rank)s】"), rank=need.priority_rank) if need.priority_rank else ""
    )
    purpose = recorded(gettext_noop("，用途：%(purpose)s"), purpose=need.purpose) if need.purpose else ""
    return recorded(
        gettext_noop(
            "%(priority)s%(enterprise)s（%(district)s）：%(amount)s 元，"
            "%(term)s 个月%(purpose)s（需求编号 %(need)s，%(fund)s）"
        ),
        priority=priority,
        enterprise=need.enterprise.name,
        district=region_name(need.enterprise.region_code),
        amount=format_yuan(need.amount),
        term=need.term_months,
        purpose=purpose,
        need=need.pk,
        fund=need.fund.short_label,
    )


def needs_digest(*, today: dt.date | None = None) -> dict[str, int]:
    """Send each bank its digest of new needs for the days up to yesterday (see the module
    docstring). Returns how many banks were told and how many needs were listed."""
    today = today or clock.today()
    counts = {"banks": 0, "needs": 0}
    if not workdays.is_working_day(today):
        return counts  # the next working day's digest covers these days
    until = today - dt.timedelta(days=1)
    for institution in Institution.objects.filter(status=Institution.Status.ACTIVE).order_by("code"):
        if not matching.funds_open_to(institution_id=institution.pk, on=today):
            continue
        after = _last_covered(institution) or until - dt.timedelta(days=FIRST_DIGEST_LOOKBACK_DAYS)
        if after >= until:
            continue
        needs = matching.new_needs_for_bank(institution_id=institution.pk, after=after, until=until)
        if not needs:
            continue
        listed = needs[:_LISTED]
        more = (
            "\n"
            + recorded(
                gettext_noop("……另有 %(count)s 项，请在接口 /api/v1/financing-needs/ 查看。"),
                count=len(needs) - _LISTED,
            )
            if len(needs) > _LISTED
            else ""
        )
        created = services.notify(
            event=DIGEST_EVENT,
            event_key=f"{DIGEST_EVENT}:{institution.pk}:{until.isoformat()}",
            recipients=services.institution_recipients(institution),
            subject=recorded(
                gettext_noop("新增融资需求 %(count)s 项（%(start)s 至 %(end)s）"),
                count=len(needs),
                start=(after + dt.timedelta(days=1)).isoformat(),
                end=until.isoformat(),
            ),
            body=(
                recorded(
                    gettext_noop(
                        "以下企业在贵机构合作的资金中登记了融资需求，并同意向合作银行共享信息，"
                        "与贵机构备案产品相符："
                    )
                )
                + "\n"
                + "\n".join(f"{i}. {_need_line(n)}" for i, n in enumerate(listed, start=1))
                + more
                + "\n"
                + recorded(
                    gettext_noop(
                        "如有意对接，请通过接口 POST /api/v1/financing-needs/{需求编号}/interest/ 表达意向。"
                    )
                )
            ),
        )
        if created:
            counts["banks"] += 1
            counts["needs"] += len(needs)
    return counts


def needs_untouched_scan(*, today: dt.date | None = None) -> int:
    """Tell officers of each open need untouched for the policy's working days (once per
    quiet spell). Returns how many needs were told of."""
    today = today or clock.today()
    officers = services.staff_recipients(Role.OFFICER)
    told = 0
    for need, idle in matching.needs_untouched(today=today):
        created = services.notify(
            event=UNTOUCHED_EVENT,
            event_key=f"{UNTOUCHED_EVENT}:{need.pk}:{need.last_activity_on.isoformat()}",
            recipients=officers,
            subject=recorded(gettext_noop("融资需求无进展：%(enterprise)s"), enterprise=need.enterprise.name),
            body=recorded(
                gettext_noop(
                    "%(enterprise)s（%(fund)s）于 %(registered)s 登记的融资需求"
                    "（%(amount)s 元，%(term)s 个月，状态：%(status)s）"
                    "自 %(since)s 起已 %(idle)s 个工作日没有银行意向、对接记录或状态变化，"
                    "有效期至 %(expires)s。请联系企业和合作银行推进对接。"
                ),
                enterprise=need.enterprise.name,
                fund=need.fund.short_label,
                registered=need.registered_on.isoformat(),
                amount=format_yuan(need.amount),
                term=need.term_months,
                status=NeedStatus(need.status).label,
                since=need.last_activity_on.isoformat(),
                idle=idle,
                expires=need.expires_on.isoformat(),
            ),
            obj=need,
        )
        told += bool(created)
    return told
