"""The filings and claims lists read each table by its own index (issue 11: admin search under
200 ms at 100,000 loans): the search and the district, fund and bank filters answer exactly
what Django's own ways answer, without joining every loan to its borrower."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.db.models import Q
from django.test import RequestFactory

from enterprises.models import Enterprise
from fundmgr.ground.accounts.models import User
from fundmgr.ground.funds.models import Fund
from loans.models import Claim, LoanFiling
from tests.factories import make_filing

pytestmark = pytest.mark.django_db


def _request(username: str):
    request = RequestFactory().get("/admin/")
    request.user = User.objects.get(username=username)
    return request


def _model_admin(model):
    return admin.site._registry[model]


def _django_search(model_admin, request, term: str) -> set[int]:
    """What Django's own search (every field's icontains, over joins) finds; a whole key
    typed alone is answered by that key only, as the list promises."""
    rows = model_admin.get_queryset(request)
    if " " not in term and model_admin.exact_search_fields:
        exact = Q()
        for field in model_admin.exact_search_fields:
            exact |= Q(**{field: term}) | Q(**{field: term.upper()})
        if rows.filter(exact).exists():
            return set(rows.filter(exact).values_list("pk", flat=True))
    found, _duplicates = admin.ModelAdmin.get_search_results(model_admin, request, rows, term)
    return set(found.values_list("pk", flat=True))


def _search(model_admin, request, term: str) -> set[int]:
    found, _duplicates = model_admin.get_search_results(request, model_admin.get_queryset(request), term)
    return set(found.values_list("pk", flat=True))


@pytest.fixture
def book(demo):
    """The demo's filings and claims, and a few more filings for borrowers of two cities."""
    for code in ("zhaoqing", "foshan"):
        fund = Fund.objects.get(code=code)
        for enterprise in Enterprise.objects.filter(fund=fund)[:3]:
            make_filing(fund=fund, enterprise=enterprise)
    return LoanFiling.objects.select_related("enterprise").order_by("id")


def _terms(filings) -> list[str]:
    first, last = filings.first(), filings.last()
    return [
        first.reference,  # a whole key
        first.reference.lower(),
        last.contract_no,
        first.enterprise.uscc,
        first.reference[-4:],  # parts
        first.enterprise.name[:2],
        last.enterprise.name[-3:],
        first.enterprise.uscc[3:9].lower(),
        f"{first.enterprise.name[:2]} {first.reference[-3:]}",  # two words: both must match
        f'"{first.enterprise.name[:4]}"',  # a quoted phrase
        "没有这样的企业",
    ]


@pytest.mark.parametrize("username", ["officer", "regulator-zhaoqing"])
def test_filing_search_finds_what_djangos_own_search_finds(book, username):
    model_admin, request = _model_admin(LoanFiling), _request(username)
    for term in _terms(book):
        assert _search(model_admin, request, term) == _django_search(model_admin, request, term), term
    assert _search(model_admin, request, book.first().enterprise.name[:2])  # not vacuous


def test_claim_search_finds_what_djangos_own_search_finds(book, personas, business_date):
    from tests.admin.test_claims_admin import claim_body
    from tests.loans.conftest import accept_filing, make_non_performing

    business_date("2026-11-21")
    filing = make_non_performing(personas, accept_filing(personas))
    response = personas.client("bank_a").post("/api/v1/claims/", claim_body(filing), format="json")
    assert response.status_code == 201, response.json()
    claims = Claim.objects.select_related("filing__enterprise").order_by("id")
    model_admin, request = _model_admin(Claim), _request("officer")
    claim = claims.first()
    terms = [claim.reference, claim.reference[-4:], claim.filing.reference, claim.filing.enterprise.name[1:4],
             claim.filing.enterprise.uscc, claim.filing.enterprise.uscc[4:10]]  # fmt: skip
    for term in terms:
        assert _search(model_admin, request, term) == _django_search(model_admin, request, term), term
        assert _search(model_admin, request, term), term


def test_the_filing_search_reads_loans_without_joining_their_borrowers(book):
    model_admin, request = _model_admin(LoanFiling), _request("officer")
    rows = model_admin.get_queryset(request)
    found, _ = model_admin.get_search_results(request, rows.select_related(None), "星河 科技")
    sql = str(found.query).upper()
    assert "JOIN" not in sql, sql  # each condition can be answered by an index of loans_loanfiling


@pytest.mark.parametrize("username", ["officer", "regulator-zhaoqing", "regulator-foshan"])
def test_district_fund_and_bank_filters_offer_what_the_rows_refer_to(book, username):
    model_admin, request = _model_admin(LoanFiling), _request(username)
    rows = model_admin.get_queryset(request)
    changelist = model_admin.get_changelist_instance(request)
    filters = {type(f).__name__ + getattr(f, "field_path", ""): f for f in changelist.filter_specs}
    district = next(
        f for f in changelist.filter_specs if getattr(f, "parameter_name", "") == "enterprise__region_code"
    )
    offered = [code for code, _name in district.lookup_choices]
    present = sorted(
        set(rows.exclude(enterprise__region_code="").values_list("enterprise__region_code", flat=True))
    )
    assert offered == present and offered
    for path in ("fund", "institution"):
        spec = filters[f"ShortNameFilter{path}"]
        assert {pk for pk, _label in spec.lookup_choices} == set(rows.values_list(f"{path}_id", flat=True))


@pytest.mark.postgres
def test_references_and_contract_numbers_have_trigram_indexes_on_postgresql(db):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE indexname IN "
            "('filing_reference_trgm_idx', 'filing_contract_no_trgm_idx', 'enterprise_region_idx')"
        )
        found = dict(cursor.fetchall())
    assert set(found) == {"filing_reference_trgm_idx", "filing_contract_no_trgm_idx", "enterprise_region_idx"}
    assert all("gin_trgm_ops" in d and "upper" in d.lower() for n, d in found.items() if "trgm" in n)
