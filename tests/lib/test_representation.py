"""`PlainRepresentation` answers exactly what Django REST framework's own walk over the fields
answers, for every read serializer that uses it, on the demo's records (funds with their
policies and figures, filings in every state with pledges and checks, enterprises)."""

from __future__ import annotations

import pytest
from rest_framework import serializers

from enterprises.api.serializers import EnterpriseSerializer
from enterprises.models import Enterprise
from fundmgr.ground.accounts.models import User
from fundmgr.ground.accounts.principals import principal_for
from fundmgr.ground.funds.api.serializers import FiguresSerializer, FundSerializer, PolicySerializer
from fundmgr.ground.funds.api.views import _fund_payload
from fundmgr.ground.funds.models import Fund
from fundmgr.ground.funds.selectors import funds_with_figures
from fundmgr.ground.lib import clock
from fundmgr.ground.lib.representation import PlainRepresentation
from loans.api.filings import CheckSerializer, FilingSerializer, PledgeSerializer
from loans.models import LoanFiling, LoanStatus
from tests.factories import filing_body, make_filing

pytestmark = pytest.mark.django_db

PLAIN = (
    FundSerializer,
    PolicySerializer,
    FiguresSerializer,
    FilingSerializer,
    PledgeSerializer,
    CheckSerializer,
    EnterpriseSerializer,
)


@pytest.fixture
def stock(monkeypatch):
    """The same serializers answering the framework's way."""

    def use_framework() -> None:
        for cls in PLAIN:
            monkeypatch.setattr(cls, "to_representation", serializers.Serializer.to_representation)

    return use_framework


def _both(make, stock) -> tuple[list, list]:
    plain = make()
    stock()
    return plain, make()


def test_every_plain_serializer_declares_the_mixin():
    assert all(issubclass(cls, PlainRepresentation) for cls in PLAIN)


def test_funds_with_policy_and_figures_read_the_same(demo, stock):
    funds = funds_with_figures(
        principal=principal_for(User.objects.get(username="officer")), on=clock.today()
    )
    payload = _fund_payload(funds)
    plain, framework = _both(lambda: FundSerializer(payload, many=True).data, stock)
    assert len(plain) == len(funds) > 1
    assert any(row["policy"] for row in plain)
    assert plain == framework


def test_filings_with_pledges_and_checks_read_the_same(personas, stock):
    submitted = personas.client("bank_a").post("/api/v1/filings/", filing_body(), format="json")
    assert submitted.status_code == 201, submitted.content
    zhaoqing = Fund.objects.get(code="zhaoqing")
    make_filing(fund=zhaoqing)
    make_filing(fund=zhaoqing, loan_status=LoanStatus.NON_PERFORMING)
    filings = list(
        LoanFiling.objects.select_related("fund", "institution", "enterprise", "policy_version")
        .prefetch_related("pledges__ip_asset")
        .order_by("id")
    )
    plain, framework = _both(lambda: FilingSerializer(filings, many=True).data, stock)
    assert {row["loan_status"] for row in plain} >= {None, "performing", "non_performing"}
    assert any(row["pledges"] for row in plain)
    assert plain == framework


def test_a_filing_with_its_pledges_is_read_without_building_the_frameworks_fields(personas):
    """The pledges are a related manager (callable, like a method source): the plan reads it
    as the nested list serializer would, and the serializer never builds its own fields."""
    from loans.api.filings import FilingDetailSerializer

    submitted = personas.client("bank_a").post("/api/v1/filings/", filing_body(), format="json")
    filing = (
        LoanFiling.objects.select_related("fund", "institution", "enterprise", "product")
        .prefetch_related("pledges__ip_asset", "documents")
        .get(pk=submitted.json()["id"])
    )
    serializer = FilingDetailSerializer(filing, context={"user": personas.user("bank_a")})
    assert serializer.data["pledges"] and serializer.data["pledges"] == submitted.json()["pledges"]
    assert "fields" not in serializer.__dict__


def test_enterprises_read_the_same(demo, stock):
    enterprises = list(Enterprise.objects.order_by("id"))
    plain, framework = _both(lambda: EnterpriseSerializer(enterprises, many=True).data, stock)
    assert len(plain) == len(enterprises) > 1
    assert plain == framework


def test_a_missing_attribute_with_a_default_and_a_method_source_fall_back():
    class Row(PlainRepresentation, serializers.Serializer):
        name = serializers.CharField()
        nickname = serializers.CharField(default="—")
        shout = serializers.CharField(source="upper")
        extra = serializers.SerializerMethodField()

        def get_extra(self, obj) -> int:
            return len(obj.name)

    class Thing:
        name = "肇庆"

        def upper(self) -> str:
            return "ZQ"

    assert Row(Thing()).data == {"name": "肇庆", "nickname": "—", "shout": "ZQ", "extra": 2}


def test_plans_are_worked_out_once_per_class_where_no_field_needs_its_serializer():
    from fundmgr.ground.lib import representation
    from loans.api.documents import DocumentSerializer
    from loans.api.filings import FilingDetailSerializer

    for cls in (*PLAIN, FilingDetailSerializer, DocumentSerializer):
        representation._SHARED.pop(cls, None)
        assert representation._shared_plan(cls) is not None, cls.__name__

    class Linked(PlainRepresentation, serializers.Serializer):
        name = serializers.CharField()
        url = serializers.HyperlinkedIdentityField(view_name="v1:fund-detail", lookup_field="code")

    assert representation._shared_plan(Linked) is None  # a hyperlink needs the request


def test_method_fields_in_a_shared_plan_see_their_own_serializers_context():
    class Row(PlainRepresentation, serializers.Serializer):
        name = serializers.CharField()
        reader = serializers.SerializerMethodField()

        def get_reader(self, obj) -> str:
            return self.context["who"]

    class Thing:
        name = "佛山"

    assert [Row(Thing(), context={"who": who}).data["reader"] for who in ("bank_a", "regulator_x")] == [
        "bank_a",
        "regulator_x",
    ]


def test_a_filing_detail_reads_the_same_both_ways_with_the_readers_transitions(personas, monkeypatch):
    from loans.api.documents import DocumentSerializer
    from loans.api.filings import FilingDetailSerializer

    submitted = personas.client("bank_a").post("/api/v1/filings/", filing_body(), format="json")
    assert submitted.status_code == 201, submitted.content
    filing = LoanFiling.objects.get(pk=submitted.json()["id"])
    officer, bank = personas.user("officer"), personas.user("bank_a")
    plain = [FilingDetailSerializer(filing, context={"user": u}).data for u in (officer, bank)]
    for cls in (*PLAIN, DocumentSerializer, FilingDetailSerializer):
        monkeypatch.setattr(cls, "to_representation", serializers.Serializer.to_representation)
    framework = [FilingDetailSerializer(filing, context={"user": u}).data for u in (officer, bank)]
    assert plain == framework
    assert plain[0]["available_transitions"] != plain[1]["available_transitions"]
