"""The OpenAPI document is generated from the code and validates without warnings."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_schema_validates_with_no_warnings(tmp_path):
    target = tmp_path / "openapi.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target), stdout=StringIO())
    text = target.read_text(encoding="utf-8")
    for path in ("/api/v1/funds/", "/api/v1/funds/{code}/", "/api/v1/funds/{code}/ledger/"):
        assert f"  {path}:" in text
    assert "Api-Key" in text and "Token" in text


@pytest.mark.django_db
def test_docs_page_served_without_network(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger-ui" in response.content
    assert b"cdn.jsdelivr" not in response.content


def test_fields_a_caller_may_not_read_are_optional_in_the_document(tmp_path):
    """Another bank's applicant shows only its public fields, eligibility is for staff: the
    document must not promise them to everyone (schemathesis checks answers against it)."""
    import yaml

    out = tmp_path / "openapi.yaml"
    call_command("spectacular", "--file", str(out))
    schemas = yaml.safe_load(out.read_text())["components"]["schemas"]
    assert "annual_revenue" not in schemas["Enterprise"]["required"]
    assert {"uscc", "name", "status"} <= set(schemas["Enterprise"]["required"])
    assert "eligibility" in schemas["EnterpriseStaffDetail"]["properties"]
    assert "eligibility" not in schemas["EnterpriseStaffDetail"]["required"]
