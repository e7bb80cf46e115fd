"""`PlainValidation` gives every body the framework's own answer (valid or not, the same validated
data, the same errors with the same codes), validating plainly only what it may: a loan filing's
body and every variation of each of its fields and pledges, random bodies, and the serializers it
must leave to the framework."""

from __future__ import annotations

from unittest import mock

import pytest
from django.http import QueryDict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from fundmgr.ground.lib import plaininput
from fundmgr.ground.lib.api import MoneyField
from fundmgr.ground.lib.plaininput import SHARED_SAFE, PlainValidation, _plan_of
from loans.api.filings import FilingInputSerializer, PledgeInputSerializer
from tests.factories import filing_body

VALID = filing_body(contract_no="ZQRCB-2026-00001", financing_need=12)  # every field, valid
MISSING = object()
# What a client may send in any field: types, blanks, padding, limits, other scripts' digits.
ODD = [MISSING, None, "", " ", "\t", "x", " zhaoqing ", "zhao qing", "zhaoqing\x00", "\ud800", "x" * 65, "x" * 101,
       "x" * 301, "一" * 33, 0, 1, -1, 10**19, 1.5, True, False, [], {}, ["a"], {"a": 1}, "0", "-1", "12", "１２",
       "٣", "1e3", "0.00", "1.00", "-1.00", "1.005", "100", " 1.00", "3500000.00", "4.3500", "4.35001", "-1.0000",
       "4.", ".5", "2026-11-16", "2026-13-01", "20261116", "2026-W47-5", " 2026-11-16", "1899-12-31", "2200-01-01",
       "2026-11-16T00:00:00", "ip_only", "combined", "invention_patent", "trademark", "patent", "abc-123_x",
       "9144120252133505XP", "201613031399.8", "Y2026440000123", "999999999999999999", "1000000000000000000"]  # fmt: skip


def plain(data) -> dict:
    """Without the keys marked MISSING."""
    if isinstance(data, dict):
        return {k: plain(v) for k, v in data.items() if v is not MISSING}
    if isinstance(data, list):
        return [plain(v) for v in data]
    return data


def detail(errors):
    """Errors as (message, code) pairs, nested as given."""
    if isinstance(errors, dict):
        return {k: detail(v) for k, v in errors.items()}
    if isinstance(errors, list):
        return [detail(v) for v in errors]
    assert isinstance(errors, ErrorDetail)
    return (str(errors), errors.code)


def answer(cls, data, *, framework: bool, **kwargs) -> tuple:
    """(valid, validated data, errors), and whether the plain way answered on its own."""
    serializer = cls(data=data, **kwargs)
    if framework:  # the framework's way: the serializer's own run_validation
        serializer.run_validation = lambda data: serializers.Serializer.run_validation(serializer, data)
    outcomes, validate = [], plaininput._validate

    def spy(plan, data):
        try:
            found = validate(plan, data)
        except Exception:
            outcomes.append(False)
            raise
        outcomes.append(True)
        return found

    with mock.patch.object(plaininput, "_validate", spy):
        valid = serializer.is_valid()
    plainly = bool(outcomes) and outcomes[-1]  # the outermost call (a body) ends last
    assert not (framework and outcomes)
    return (valid, serializer.validated_data if valid else None, detail(serializer.errors)), plainly


def same_both_ways(cls, data, **kwargs) -> bool:
    """Assert the two ways answer alike; True when the plain way answered alone."""
    plain_answer, plainly = answer(cls, data, framework=False, **kwargs)
    framework_answer, _ = answer(cls, data, framework=True, **kwargs)
    assert plain_answer == framework_answer, data
    if plainly:
        assert plain_answer[0], data  # the plain way only ever accepts
    return plainly


def test_a_filing_body_is_validated_plainly():
    assert _plan_of(FilingInputSerializer) is not None
    assert same_both_ways(FilingInputSerializer, VALID)
    assert same_both_ways(
        FilingInputSerializer, plain({**VALID, "covered_principal": MISSING, "purpose": MISSING})
    )


@pytest.mark.parametrize("field", [*VALID, "unknown"])
def test_every_variation_of_a_field_answers_as_the_framework(field):
    accepted = 0
    for value in ODD:
        accepted += same_both_ways(FilingInputSerializer, plain({**VALID, field: value}))
    assert field == "pledges" or accepted  # each field has values the plain way accepts on its own


@pytest.mark.parametrize("field", [*VALID["pledges"][0], "unknown"])
def test_every_variation_of_a_pledge_field_answers_as_the_framework(field):
    for value in ODD:
        pledge = {**VALID["pledges"][0], field: value}
        same_both_ways(FilingInputSerializer, plain({**VALID, "pledges": [pledge]}))
        same_both_ways(FilingInputSerializer, plain({**VALID, "pledges": [VALID["pledges"][0], pledge]}))


def test_bodies_and_pledge_lists_of_other_shapes_answer_as_the_framework():
    pledge = VALID["pledges"][0]
    for body in [None, [], [VALID], "body", 1, {}, {"pledges": [pledge]}]:
        same_both_ways(FilingInputSerializer, body)
    for pledges in [
        None,
        [],
        {},
        pledge,
        [None],
        [[pledge]],
        ["x"],
        [pledge] * 5,
        [pledge, {}],
        [{}, pledge],
    ]:
        same_both_ways(FilingInputSerializer, {**VALID, "pledges": pledges})


def test_a_form_body_a_partial_serializer_and_touched_fields_go_the_frameworks_way():
    form = QueryDict(mutable=True)
    form.update({k: v for k, v in VALID.items() if isinstance(v, str)})
    assert not same_both_ways(FilingInputSerializer, form)
    assert not same_both_ways(FilingInputSerializer, VALID, partial=True)
    touched = FilingInputSerializer(data=VALID)
    touched.fields.pop("purpose")  # a caller may change an instance's fields: they are used
    assert touched.is_valid() and "purpose" not in touched.validated_data


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
    | st.sampled_from([v for v in ODD if v is not MISSING and isinstance(v, str)]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    top=st.dictionaries(st.sampled_from([*VALID, "x"]), JSON | st.sampled_from(ODD[1:]), max_size=4),
    item=st.dictionaries(st.sampled_from([*VALID["pledges"][0], "x"]), JSON, max_size=3),
    drop=st.lists(st.sampled_from(list(VALID)), max_size=3),
)
def test_random_bodies_answer_as_the_framework(top, item, drop):
    body = {k: v for k, v in {**VALID, **top}.items() if k not in drop}
    same_both_ways(FilingInputSerializer, body)
    same_both_ways(FilingInputSerializer, {**VALID, "pledges": [{**VALID["pledges"][0], **item}]})


def test_the_declared_fields_are_used_as_declared():
    """Shared by every instance and thread: never bound to one, never given its data."""
    for _ in range(3):
        same_both_ways(FilingInputSerializer, VALID)
    for cls in (FilingInputSerializer, PledgeInputSerializer):
        for field in cls._declared_fields.values():
            if not isinstance(field, serializers.ListSerializer):
                assert field.field_name is None and field.parent is None
    assert {type(f) for f in FilingInputSerializer._declared_fields.values()} - {
        serializers.ListSerializer
    } <= (SHARED_SAFE)


class Checked(PlainValidation, serializers.Serializer):
    amount = MoneyField()

    def validate_amount(self, value):
        raise serializers.ValidationError("never", code="refused")


class Whole(PlainValidation, serializers.Serializer):
    amount = MoneyField()

    def validate(self, attrs):
        return {**attrs, "checked": True}


class Email(PlainValidation, serializers.Serializer):
    email = serializers.EmailField()


class Sourced(PlainValidation, serializers.Serializer):
    amount = MoneyField(source="value")


class AsksForItsField:
    requires_context = True

    def __call__(self, value, field) -> None:
        pass


class Contextual(PlainValidation, serializers.Serializer):
    name = serializers.CharField(validators=[AsksForItsField()])


class ContextualDefault(PlainValidation, serializers.Serializer):
    name = serializers.CharField(default=serializers.CreateOnlyDefault("x"))


class Nested(PlainValidation, serializers.Serializer):
    items = Email(many=True)


@pytest.mark.parametrize(
    ("cls", "body"),
    [
        (Checked, {"amount": "1.00"}),
        (Whole, {"amount": "1.00"}),
        (Email, {"email": "a@example.com"}),
        (Sourced, {"amount": "1.00"}),
        (Nested, {"items": [{"email": "a@example.com"}]}),
    ],
)
def test_serializers_it_may_not_validate_plainly_go_the_frameworks_way(cls, body):
    assert _plan_of(cls) is None
    assert not same_both_ways(cls, body)


def test_a_validator_or_default_that_asks_for_its_field_is_left_to_the_framework():
    assert _plan_of(Contextual) is None
    assert not same_both_ways(Contextual, {"name": "x"})
    assert _plan_of(ContextualDefault) is None


def test_only_the_listed_field_classes_are_shared():
    class Money(MoneyField):  # a subclass may read its parent: not trusted unlisted
        pass

    class Subclassed(PlainValidation, serializers.Serializer):
        amount = Money()

    assert _plan_of(Subclassed) is None
    assert not same_both_ways(Subclassed, {"amount": "1.00"})
