"""Error codes are declared, once, in each app's enum (`fundmgr.ground.lib.errors.ErrorCode`):
a code a client sees leads to one declaration, and nothing answers with a code no enum has."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from fundmgr.ground.lib.errors import ErrorCode, declared_codes

ROOT = Path(__file__).resolve().parent.parent
APP_DIRS = [ROOT / "fundmgr", ROOT / "enterprises", ROOT / "banks", ROOT / "matching", ROOT / "loans"]
# Calls whose first argument is a code, and calls that take a code= keyword.
FIRST_ARG_IS_CODE = {"AppError", "Conflict", "Forbidden", "Violation", "Check", "_c"}
TAKES_CODE = FIRST_ARG_IS_CODE | {"NotFound", "RuleViolations", "problem", "ValidationError"}


def _sources():
    for folder in APP_DIRS:
        for path in folder.rglob("*.py"):
            if "migrations" not in path.parts:
                yield path, ast.parse(path.read_text(encoding="utf-8"))


def _called(node: ast.Call) -> str | None:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _enums() -> dict[str, type[ErrorCode]]:
    out: dict[str, type[ErrorCode]] = {}

    def walk(cls):
        for sub in cls.__subclasses__():
            out[sub.__name__] = sub
            walk(sub)

    walk(ErrorCode)
    return out


def test_no_code_is_written_as_a_bare_string():
    bare = []
    for path, tree in _sources():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or _called(node) not in TAKES_CODE:
                continue
            candidates = [kw.value for kw in node.keywords if kw.arg == "code"]
            if _called(node) in FIRST_ARG_IS_CODE and node.args:
                candidates.append(node.args[0])
            for value in candidates:
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    bare.append(f"{path.relative_to(ROOT)}:{value.lineno} {value.value!r}")
    assert bare == []


def test_every_enum_member_referenced_in_the_code_exists():
    enums = _enums()
    missing = []
    for path, tree in _sources():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in enums
                and node.attr.isupper()
                and node.attr not in enums[node.value.id].__members__
            ):
                missing.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value.id}.{node.attr}")
    assert missing == []


def test_codes_are_declared_once_and_read_as_their_value():
    values = [member.value for enum in _enums().values() for member in enum]
    assert len(values) == len(set(values)), sorted(v for v in values if values.count(v) > 1)
    codes = declared_codes()
    assert {"claim_exists", "four_eyes_required", "fund_balance_insufficient", "required"} <= set(codes)
    assert codes["claim_exists"] == "claim_exists" and f"{codes['claim_exists']}" == "claim_exists"


@pytest.mark.django_db
def test_a_refusal_answers_with_its_declared_code(personas):
    response = personas.client("bank_a").post("/api/v1/claims/", {"filing": 999999}, format="json")
    body = response.json()
    assert body["code"] in declared_codes()
    assert all(error["code"] in declared_codes() for error in body["errors"])


def test_the_openapi_document_lists_every_code(tmp_path):
    from django.core.management import call_command

    out = tmp_path / "schema.json"
    call_command("spectacular", "--format", "openapi-json", "--file", str(out))
    import json

    schema = json.loads(out.read_text(encoding="utf-8"))
    problem = schema["components"]["schemas"]["Problem"]
    assert set(problem["properties"]["code"]["enum"]) == set(declared_codes())
    claims = schema["paths"]["/api/v1/claims/"]["post"]["responses"]
    assert claims["4XX"]["content"]["application/problem+json"]["schema"] == {
        "$ref": "#/components/schemas/Problem"
    }
