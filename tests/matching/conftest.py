"""Financing needs and outreach: hand-built enterprises, a need registered by a bank, helpers.

Business date 2026-11-30 (a Monday) unless a test moves it. Bank A (zqrcb) lends in
Zhaoqing, bank B (icbc-foshan) in Foshan; the demo's Zhaoqing enterprises are admitted.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest

from enterprises.models import Enterprise, IPAsset
from fundmgr.ground.funds.models import Fund
from matching.models import EnterpriseHonour
from tests.factories import patent_with_check, uscc_with_check

XINGHE = "9144120252133505XP"  # Zhaoqing 端州区, C3985; patents filed 2016–2019
JINGYE = "91441202951617540K"  # Zhaoqing 端州区, C3857
DINGTAI = "914412048288873773"  # Zhaoqing 高要区, C3311
HUAYU = "914412844404710410"  # Zhaoqing 四会市, C3591
YUNFAN = "91440605453878334M"  # Foshan

_seq = itertools.count(1)


def need_body(**overrides) -> dict:
    """A need bank A registers for Xinghe (Zhaoqing), consenting to share everything."""
    body = {
        "enterprise_uscc": XINGHE,
        "fund": "zhaoqing",
        "amount": "3000000.00",
        "term_months": 24,
        "purpose": "研发投入和流动资金",
        "offered_ip": ["201912754910.4"],
        "consent_on": "2026-11-20",
        "consent_scope": "full",
    }
    body.update(overrides)
    return body


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.content[:800]
    return response.json()


def register(personas, who: str = "bank_a", **overrides) -> dict:
    return ok(
        personas.client(who).post("/api/v1/financing-needs/", need_body(**overrides), format="json"), 201
    )


def make_enterprise(
    *,
    industry_code: str = "C5190",  # wholesale: outside Zhaoqing's industries
    annual_revenue: str | None = "1000000.00",
    ip: list[tuple[str, str | None]] = (),
    honours: list[tuple[str, str, str | None]] = (),
    fund: str = "zhaoqing",
    status: str = Enterprise.Status.ADMITTED,
) -> Enterprise:
    """A hand-built enterprise: `ip` as (kind, filed_on), `honours` as (kind, granted_on,
    valid_until)."""
    n = next(_seq)
    enterprise = Enterprise.objects.create(
        uscc=uscc_with_check(f"91441202MB{n:07d}"[:17]),
        name=f"肇庆市手工测试企业{n}",
        fund=Fund.objects.get(code=fund),
        region_code="441203",
        industry_code=industry_code,
        registered_on=dt.date(2015, 1, 1),
        employees=30,
        annual_revenue=Decimal(annual_revenue) if annual_revenue else None,
        total_assets=Decimal("8000000.00"),
        status=status,
        admitted_on=dt.date(2026, 1, 5),
        admitted_until=dt.date(2029, 1, 4),
        contact_name="王五",
        contact_phone="0758-1234567",
    )
    for i, (kind, filed_on) in enumerate(ip):
        type_digit = {"invention_patent": 1, "utility_model": 2, "design_patent": 3}.get(kind)
        year = (filed_on or "2020")[:4]
        number = patent_with_check(f"{year}{type_digit}{n:04d}{i:03d}") if type_digit else f"9{n:04d}{i:03d}"
        IPAsset.objects.create(
            enterprise=enterprise,
            kind=kind,
            number=number,
            title=f"技术{i}",
            filed_on=dt.date.fromisoformat(filed_on) if filed_on else None,
            expires_on=dt.date(2040, 1, 1),
        )
    for kind, granted_on, valid_until in honours:
        EnterpriseHonour.objects.create(
            enterprise=enterprise,
            kind=kind,
            title=f"{kind} 认定",
            granted_on=dt.date.fromisoformat(granted_on),
            valid_until=dt.date.fromisoformat(valid_until) if valid_until else None,
        )
    return enterprise


@pytest.fixture
def zhaoqing(db) -> Fund:
    return Fund.objects.get(code="zhaoqing")
