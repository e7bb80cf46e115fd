"""Concurrent duplicate applications on PostgreSQL: one enterprise, every caller answered."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from enterprises.models import Enterprise
from tests.factories import application_body


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("with_key", [True, False])
def test_concurrent_duplicates_create_one_enterprise(settings, with_key):
    from rest_framework.test import APIClient

    from banks.services import institution_api_key_issue
    from fundmgr.top.demo import seed_demo

    settings.FUNDMGR_BUSINESS_DATE = "2026-11-21"
    seed_demo(password="x-123456789")
    _, raw = institution_api_key_issue(institution_code="zqrcb")
    body = application_body()
    barrier = threading.Barrier(5)
    statuses: list[int] = []
    lock = threading.Lock()

    def post() -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
        headers = {"HTTP_IDEMPOTENCY_KEY": "dup-1"} if with_key else {}
        try:
            barrier.wait(timeout=10)
            response = client.post("/api/v1/enterprises/", body, format="json", **headers)
            with lock:
                statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert Enterprise.objects.filter(uscc=body["uscc"]).count() == 1
    if with_key:
        assert statuses == [201] * 5
    else:
        assert sorted(statuses) == [201] + [409] * 4
