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
