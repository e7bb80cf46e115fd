"""Outreach events (政策宣传) with their on-site signings, each traced to the filing that realises
it, and the outreach report: per fund and quarter, totals that are the sums of their rows, in
JSON, CSV and XLSX, for staff and for each city's regulator."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from banks.models import Institution
from enterprises.models import Enterprise
from fundmgr.ground.accounts.models import User
from fundmgr.ground.funds.models import Fund
from fundmgr.ground.lib.errors import AppError
from matching import selectors, services
from matching.errors import MatchingError
from matching.models import EventKind, NeedSource, NeedStatus, OutreachEvent
from tests.factories import filing_body
from tests.loans.conftest import accept_filing
from tests.matching.conftest import DINGTAI, JINGYE, XINGHE, YUNFAN, ok, register

pytestmark = pytest.mark.django_db


def officer() -> User:
    return User.objects.get(username="officer")


def event(fund: str = "zhaoqing", kind: str = EventKind.MATCHMAKING, **fields) -> OutreachEvent:
    values = {
        "title": "2026年肇庆市知识产权质押融资银企对接会",
        "held_on": dt.date(2026, 11, 20),
        "place": "肇庆市行政服务中心",
        "organisers": "肇庆市市场监督管理局（知识产权局）",
        "co_organisers": "广东股权交易中心",
        "attendance": 120,
        "online_viewers": 30000,
        **fields,
    }
    return services.event_save(
        event=OutreachEvent(fund=Fund.objects.get(code=fund), kind=kind, **values), by=officer()
    )


def sign(ev: OutreachEvent, bank: str, uscc: str, amount: str):
    return services.signing_record(
        event=ev,
        institution=Institution.objects.get(code=bank),
        enterprise=Enterprise.objects.get(uscc=uscc),
        intended_amount=Decimal(amount),
        by=officer(),
    )


def outreach(personas, who: str = "officer", **params) -> dict:
    return ok(personas.client(who).get("/api/v1/reports/outreach/", {"year": 2026, "quarter": 4, **params}))


def test_a_signing_is_realised_by_the_filing_that_names_its_need(personas, client):
    fair = event()
    signing = sign(fair, "zqrcb", XINGHE, "5000000.00")
    unrealised = sign(fair, "ccb-zhaoqing", JINGYE, "2000000.00")
    need = signing.financing_need
    # the signing made a need for the enterprise, in talks with the signing bank
    assert (need.source, need.status, need.amount, need.registered_on) == (
        NeedSource.EVENT,
        NeedStatus.IN_TALKS,
        Decimal("5000000.00"),
        dt.date(2026, 11, 20),
    )
    assert list(need.interests.values_list("institution__code", flat=True)) == ["zqrcb"]
    assert set(fair.enterprises.values_list("uscc", flat=True)) == {XINGHE, JINGYE}
    assert list(selectors.signing_filings(signing)) == []

    filing = accept_filing(personas, financing_need=need.pk)
    assert list(selectors.signing_filings(signing)) == [filing]
    assert list(selectors.signing_filings(unrealised)) == []

    report = outreach(personas, fund="zhaoqing")
    rows = {r["kind"]: r for r in report["events"]}
    fair_row = rows["matchmaking"]
    assert (fair_row["events"], fair_row["enterprises"], fair_row["institutions"]) == (1, 2, 2)
    assert (fair_row["attendance"], fair_row["online_viewers"]) == (120, 30000)
    assert (fair_row["signings"], fair_row["signed_amount_wan_yuan"]) == (2, "700.00")
    assert (fair_row["realised_signings"], fair_row["realised_amount_wan_yuan"]) == (1, "100.00")
    assert fair_row["realisation_rate"] == "14.29"
    assert rows["training"]["events"] == 0 and rows["training"]["realisation_rate"] is None

    # the event's page shows each signing's realising filing
    client.force_login(officer())
    page = client.get(reverse("admin:matching_outreachevent_change", args=[fair.pk])).content.decode()
    assert filing.reference in page and "已受理入池" in page


def test_a_signing_joins_the_enterprises_open_need(personas):
    need = register(personas)["id"]
    signing = sign(event(), "ccb-zhaoqing", XINGHE, "1000000.00")
    assert signing.financing_need_id == need
    assert set(signing.financing_need.interests.values_list("institution__code", flat=True)) == {
        "ccb-zhaoqing"
    }


def test_signings_outside_the_events_city_are_refused(personas):
    fair = event()
    with pytest.raises(AppError) as bank:
        sign(fair, "icbc-foshan", XINGHE, "1000000.00")
    assert bank.value.code == MatchingError.SIGNING_INSTITUTION_NOT_IN_FUND
    with pytest.raises(AppError) as firm:
        sign(fair, "zqrcb", YUNFAN, "1000000.00")
    assert firm.value.code == MatchingError.SIGNING_ENTERPRISE_OUTSIDE_FUND
    assert not fair.signings.exists()
    with pytest.raises(AppError) as nowhere:
        event(place="", online=False)
    assert nowhere.value.code == MatchingError.EVENT_PLACE_REQUIRED


@pytest.fixture
def two_cities(personas):
    """Needs, events and signings in Zhaoqing and Foshan, some realised."""
    register(personas)  # Xinghe
    register(personas, enterprise_uscc=DINGTAI, offered_ip=[], amount="1234567.89")
    register(personas, "bank_b", enterprise_uscc=YUNFAN, fund="foshan", offered_ip=[], amount="800000.00")
    fair = event(online=True, online_platform="抖音直播")
    sign(fair, "zqrcb", JINGYE, "3000000.00")
    event(
        kind=EventKind.TRAINING,
        title="知识产权质押融资大讲堂",
        place="",
        online=True,
        attendance=None,
        online_viewers=31000,
    )
    foshan_fair = event("foshan", title="佛山市银企对接会", attendance=80, online_viewers=0)
    sign(foshan_fair, "icbc-foshan", YUNFAN, "6000000.00")
    accept_filing(
        personas,
        enterprise_uscc=JINGYE,
        financing_need=Enterprise.objects.get(uscc=JINGYE).financing_needs.get().pk,
        pledges=[{**filing_body()["pledges"][0], "number": "201814411596.8"}],
    )


def test_the_funnels_totals_are_the_sums_of_their_rows(personas, two_cities):
    report = outreach(personas)
    assert [r["fund"] for r in report["funnel"]] == ["foshan", "shantou", "shaoguan", "zhaoqing"]
    total = report["funnel_total"]
    for key in ("needs", "needs_with_interest", "needs_filed", "needs_accepted"):
        assert total[key] == sum(r[key] for r in report["funnel"]), key
    for key in ("needs_amount_wan_yuan", "accepted_amount_wan_yuan"):
        assert Decimal(total[key]) == sum(Decimal(r[key]) for r in report["funnel"]), key
    # Zhaoqing: Xinghe 300万, Dingtai 123.46万, Jingye 300万 (made by its signing, then financed);
    # Foshan: Yunfan 80万 (its signing joined it)
    assert (total["needs"], total["needs_with_interest"], total["needs_filed"], total["needs_accepted"]) == (
        4,
        2,
        1,
        1,
    )
    assert total["needs_amount_wan_yuan"] == "803.46" and total["accepted_amount_wan_yuan"] == "100.00"
    assert total["interest_rate"] == "50.00" and total["accepted_rate"] == "25.00"
    events_total = report["events_total"]
    assert len(report["events"]) == 4 * 3  # every fund × kind, zeros too
    for key in (
        "events",
        "enterprises",
        "institutions",
        "attendance",
        "online_viewers",
        "signings",
        "realised_signings",
    ):
        assert events_total[key] == sum(r[key] for r in report["events"]), key
    for key in ("signed_amount_wan_yuan", "realised_amount_wan_yuan"):
        assert Decimal(events_total[key]) == sum(Decimal(r[key]) for r in report["events"]), key
    assert (events_total["events"], events_total["signings"], events_total["signed_amount_wan_yuan"]) == (
        3,
        2,
        "900.00",
    )
    assert events_total["online_viewers"] == 61000 and events_total["realisation_rate"] == "11.11"
    # a regulator reads its own city's aggregates only
    mine = outreach(personas, "regulator_x")
    assert [r["fund"] for r in mine["funnel"]] == ["zhaoqing"] and mine["funnel_total"]["needs"] == 3
    assert ok(personas.client("bank_a").get("/api/v1/reports/outreach/", {"year": 2026}), 403)


def test_the_report_downloads_as_csv_and_xlsx_and_joins_the_quarterly_report(personas, two_cities):
    client = personas.client("officer")
    response = client.get("/api/v1/reports/outreach/", {"year": 2026, "quarter": 4, "format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    funnel = [r for r in rows if r["报表"] == "投融对接"]
    assert [r["资金代码"] for r in funnel] == ["foshan", "shantou", "shaoguan", "zhaoqing", ""]
    assert funnel[-1]["资金"] == "合计" and funnel[-1]["登记融资需求(项)"] == "4"
    assert len([r for r in rows if r["报表"] == "宣传与对接活动"]) == 13

    xlsx = client.get(
        "/api/v1/reports/outreach/", {"year": 2026, "quarter": 4, "fund": "zhaoqing", "format": "xlsx"}
    )
    assert 'filename="outreach-zhaoqing-2026Q4.xlsx"' in xlsx["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["投融对接", "宣传与对接活动"]
    sheet = book["投融对接"]
    assert sheet["A1"].value == "投融对接与政策宣传统计表"
    headers = [c.value for c in sheet[4]]
    assert headers[:4] == ["资金", "城市", "登记融资需求(项)", "需求金额(万元)"]
    assert sheet.cell(row=5, column=3).value == 3 and sheet.cell(row=6, column=1).value == "合计"

    quarterly = ok(client.get("/api/v1/reports/quarterly/", {"year": 2026, "quarter": 4}))
    assert quarterly["outreach"]["funnel_total"]["needs"] == 4
    book = openpyxl.load_workbook(
        io.BytesIO(
            client.get("/api/v1/reports/quarterly/", {"year": 2026, "quarter": 4, "format": "xlsx"}).content
        )
    )
    assert {"投融对接", "宣传与对接活动"} <= set(book.sheetnames)
    quarterly_csv = client.get("/api/v1/reports/quarterly/", {"year": 2026, "quarter": 4, "format": "csv"})
    tables = {r["报表"] for r in csv.DictReader(io.StringIO(quarterly_csv.content.decode("utf-8-sig")))}
    assert {"按资金", "投融对接", "宣传与对接活动"} <= tables


def test_the_dashboard_shows_the_funds_funnel_and_events(personas, two_cities, client):
    client.force_login(officer())
    html = client.get(reverse("admin:funds_fund_dashboard", args=["zhaoqing"])).content.decode()
    assert "投融对接与政策宣传（2026年第4季度）" in html
    steps = dict(re.findall(r'<tr class="funnel-step"><td>([^<]+)</td><td class="num">(\d+)</td>', html))
    assert steps == {"登记融资需求": "3", "银行表达意向": "1", "报送贷款备案": "1", "受理入池": "1"}
    events = html.split('id="outreach-events"')[1].split("</table>")[0]
    assert "银企对接会" in events and "培训/大讲堂" in events and "120 / 30000" in events
