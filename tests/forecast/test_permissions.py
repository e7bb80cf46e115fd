"""Who reads forecasts and who keeps the named stress scenarios, persona by persona: the role's
permissions (fundmgr.ground.accounts.backends) decide for the admin and the services alike,
and the forecast's own rule (`services.require_reader`) for the API and the page alike."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from fundmgr.ground.accounts.principals import principal_for
from fundmgr.ground.funds.models import Fund
from fundmgr.ground.lib.errors import AppError
from fundmgr.top.forecast import services
from fundmgr.top.forecast.models import StressScenario

pytestmark = pytest.mark.django_db
API = "/api/v1/funds/{}/forecast/"
PAGE = "/admin/funds/fund/forecast/{}/"
EDITORS = {"officer": True, "approver": True, "admin": True, "committee": False, "finance": False}
OUTSIDERS = ("regulator_x", "regulator_y", "bank_a")


@pytest.fixture
def zhaoqing(book) -> Fund:
    for e in book.enterprises("zhaoqing")[:3]:
        book.loan(principal="600000.00", enterprise=e)
    return book.funds["zhaoqing"]


@pytest.fixture
def saved(zhaoqing) -> StressScenario:
    return StressScenario.objects.create(fund=zhaoqing, name="翻倍", roll_multiplier=Decimal("2"))


def _new(fund: Fund, name: str = "新情景") -> StressScenario:
    return StressScenario(fund=fund, name=name, largest_enterprises=2)


@pytest.mark.parametrize("persona", [*EDITORS, *OUTSIDERS])
def test_the_services_let_only_the_editing_roles_keep_scenarios(personas, zhaoqing, saved, persona):
    principal = principal_for(personas.user(persona))
    may = EDITORS.get(persona, False)
    assert services.may_edit_scenarios(principal) is may
    if may:
        made = services.scenario_save(principal=principal, scenario=_new(zhaoqing))
        assert made.created_by == personas.user(persona)
        saved.roll_multiplier = Decimal("3")
        services.scenario_save(principal=principal, scenario=saved)
        services.scenario_delete(principal=principal, scenario=made)
        saved.refresh_from_db()
        assert saved.roll_multiplier == Decimal("3.00")
        assert list(StressScenario.objects.values_list("name", flat=True)) == ["翻倍"]
        return
    for attempt in (
        lambda: services.scenario_save(principal=principal, scenario=_new(zhaoqing)),
        lambda: services.scenario_delete(principal=principal, scenario=saved),
    ):
        with pytest.raises(AppError) as refused:
            attempt()
        assert (refused.value.code, refused.value.status) == ("permission_denied", 403)
    assert list(StressScenario.objects.values_list("name", flat=True)) == ["翻倍"]


@pytest.mark.parametrize(
    ("persona", "add", "listing"),
    [
        ("officer", 200, 200),
        ("approver", 200, 200),
        ("admin", 200, 200),
        ("committee", 403, 200),  # reads, keeps none
        ("finance", 403, 200),
        ("regulator_x", 403, 200),  # its city's, read-only
        ("regulator_y", 403, 200),  # Foshan's: Zhaoqing's are not in its list
        ("bank_a", 302, 302),  # not an admin user: to the login page
    ],
)
def test_the_admin_asks_the_same_permissions(client, personas, saved, persona, add, listing):
    client.force_login(personas.user(persona))
    assert client.get(reverse("admin:forecast_stressscenario_add")).status_code == add
    page = client.get(reverse("admin:forecast_stressscenario_changelist"))
    assert page.status_code == listing
    if listing == 200:
        assert ("翻倍" in page.content.decode()) is (persona != "regulator_y")
    change = reverse("admin:forecast_stressscenario_change", args=[saved.pk])
    client.post(change, {"fund": saved.fund_id, "name": "改名", "roll_multiplier": "5"})
    client.post(reverse("admin:forecast_stressscenario_delete", args=[saved.pk]), {"post": "yes"})
    left = StressScenario.objects.filter(pk=saved.pk).first()
    if persona in ("officer", "approver", "admin"):
        assert left is None  # changed, then deleted
    else:
        assert (left.name, left.roll_multiplier) == ("翻倍", Decimal("2.00"))


@pytest.mark.parametrize(
    ("persona", "status", "code"),
    [
        ("officer", 200, None),
        ("approver", 200, None),
        ("committee", 200, None),
        ("finance", 200, None),
        ("regulator_x", 200, None),  # its city's fund, its city's saved stress
        ("regulator_y", 404, "not_found"),
        ("bank_a", 403, "forecast_readers_only"),
        ("bank_b", 403, "forecast_readers_only"),
    ],
)
def test_a_saved_scenario_is_read_through_the_api_by_the_readers_only(personas, saved, persona, status, code):
    response = personas.client(persona).get(API.format("zhaoqing") + f"?paths=100&scenario={saved.pk}")
    assert response.status_code == status, response.content[:300]
    if code:
        assert response.json()["code"] == code
    else:
        assert response.json()["scenario"]["name"] == "翻倍"


def test_a_bank_is_refused_before_its_parameters_are_read(personas, zhaoqing):
    response = personas.client("bank_a").get(API.format("zhaoqing") + "?months=99")
    assert (response.status_code, response.json()["code"]) == (403, "forecast_readers_only")


def test_the_service_refuses_a_bank_whatever_calls_it(personas, zhaoqing):
    with pytest.raises(AppError) as refused:
        services.forecast_for(principal=principal_for(personas.user("bank_a")), code="zhaoqing", paths=100)
    assert (refused.value.code, refused.value.status) == ("forecast_readers_only", 403)


@pytest.mark.parametrize(("persona", "link"), [("officer", True), ("approver", True), ("finance", False)])
def test_the_page_offers_to_save_a_stress_to_those_who_may(client, personas, zhaoqing, persona, link):
    client.force_login(personas.user(persona))
    page = client.get(PAGE.format("zhaoqing") + "?paths=100&roll_multiplier=2").content.decode()
    assert ('id="save-scenario"' in page) is link


def test_a_fund_without_a_policy_in_force_cannot_be_forecast(personas, zhaoqing, business_date):
    """Before the fund's first policy version takes effect there is nothing to forecast with:
    409 forecast_no_policy, and the monthly report of that day goes without the section."""
    first = zhaoqing.policy_versions.order_by("effective_from").first().effective_from
    business_date((first - dt.timedelta(days=1)).isoformat())
    response = personas.client("officer").get(API.format("zhaoqing") + "?paths=100")
    assert response.status_code == 409
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "forecast_no_policy"
    assert services.forecast_monthly_sections(funds=[zhaoqing], today=first - dt.timedelta(days=1)) == {}


def test_saving_a_stress_that_says_nothing_or_too_much_is_refused(personas, zhaoqing):
    officer = principal_for(personas.user("officer"))
    for scenario, field in (
        (StressScenario(fund=zhaoqing, name="空的"), None),
        (StressScenario(fund=zhaoqing, name="太多", roll_multiplier=Decimal("25")), "roll_multiplier"),
        (StressScenario(fund=zhaoqing, name="缺期限", default_rate=Decimal("10")), "default_within"),
    ):
        with pytest.raises(AppError) as refused:
            services.scenario_save(principal=officer, scenario=scenario)
        assert (refused.value.code, refused.value.field, refused.value.status) == (
            "scenario_invalid",
            field,
            400,
        )
    assert not StressScenario.objects.exists()
