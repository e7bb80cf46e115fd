"""The start page reads a bounded number of queries, whatever the number of rows in the queues
(the method of tests/test_query_counts.py: count each persona's page over a world, add twice
as many rows to every queue, count again: the counts must be equal), and few in absolute terms."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from loans.models import Claim, LoanFiling

from .world import build

pytestmark = pytest.mark.django_db

PERSONAS = ("officer", "officer2", "approver", "committee", "finance", "admin", "regulator_x")
MOST = 30  # queries for the page, the system administrator's overview of every queue included


def index_queries(client: Client) -> list[str]:
    assert client.get("/admin/").status_code == 200  # warm the per-process caches first
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/admin/").status_code == 200
    return [q["sql"] for q in captured.captured_queries]


def test_the_start_page_does_not_grow_with_the_rows(personas, business_date, django_assert_max_num_queries):
    clients = {}
    for name in PERSONAS:
        clients[name] = Client()
        clients[name].force_login(personas.user(name))

    build(personas, business_date)
    small = {name: index_queries(client) for name, client in clients.items()}
    rows = LoanFiling.objects.count(), Claim.objects.count()

    build(personas, business_date)
    build(personas, business_date)
    assert LoanFiling.objects.count() == 3 * rows[0] and Claim.objects.count() == 3 * rows[1]
    large = {name: index_queries(client) for name, client in clients.items()}

    grew = {
        name: (len(small[name]), len(large[name]))
        for name in PERSONAS
        if len(small[name]) != len(large[name])
    }
    assert not grew, grew
    for client in clients.values():
        with django_assert_max_num_queries(MOST):
            client.get("/admin/")
