"""A test-only endpoint that opts into Idempotency-Key, mounted with
`@pytest.mark.urls("tests.lib.idempotency_urls")`.

POST body `{"note": "...", "outcome": "created" | "refuse" | "crash" | "unavailable"}`:
`created` adds a WorkdayOverride row (so duplicates are countable) and answers 201 with its
id; `refuse` raises a 422 AppError; `crash` raises (a 500); `unavailable` returns 503;
`crash_after_commit` commits its row in a transaction, then raises (as when the connection is
lost between the commit and the answer); `crash_in_transaction` raises inside the transaction
that wrote the row (so nothing of it stays).
Multipart bodies (`note` and a `file`) are accepted too and answer 201.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

from django.db import transaction
from django.db.models import Max
from django.urls import path
from rest_framework import views
from rest_framework.response import Response

from fundmgr.ground.accounts.api import IdempotentMixin
from fundmgr.ground.accounts.permissions import IsPrincipal
from fundmgr.ground.lib.errors import AppError
from fundmgr.ground.lib.models import WorkdayOverride

# How many times the view body actually ran, per note: a replay must not add to it.
CALLS: Counter[str] = Counter()
_calls_lock = threading.Lock()

_FIRST_DAY = dt.date(2101, 1, 1)  # far from any real override


class RowsView(IdempotentMixin, views.APIView):
    permission_classes = [IsPrincipal]

    def post(self, request):
        note = str(request.data.get("note", ""))
        with _calls_lock:
            CALLS[note] += 1
        outcome = request.data.get("outcome", "created")
        if outcome == "refuse":
            raise AppError("test_refused", "测试：按业务规则拒绝")
        if outcome == "crash":
            raise RuntimeError("test: unexpected failure")
        if outcome == "unavailable":
            return Response({"detail": "暂不可用"}, status=503)
        if outcome == "crash_after_commit":
            with transaction.atomic():
                self._add_row(note)
            raise RuntimeError("test: failed after the work was committed")
        if outcome == "crash_in_transaction":
            with transaction.atomic():
                self._add_row(note)
                raise RuntimeError("test: failed inside the transaction")
        upload = request.data.get("file")
        if upload is not None:
            note = f"{note}:{upload.read().decode()}"
        row = self._add_row(note)
        return Response({"id": row.pk, "note": row.note, "date": row.date.isoformat()}, status=201)

    @staticmethod
    def _add_row(note: str) -> WorkdayOverride:
        # A new date after the last test row: rows are independent, so a second run of the
        # view is a second row (the date column is unique, so a lost race shows as a 500).
        last = WorkdayOverride.objects.filter(date__gte=_FIRST_DAY).aggregate(last=Max("date"))["last"]
        day = _FIRST_DAY if last is None else last + dt.timedelta(days=1)
        return WorkdayOverride.objects.create(date=day, is_working_day=True, note=note)


urlpatterns = [
    path("idem/rows/", RowsView.as_view(), name="idem-rows"),
    path("idem/other-rows/", RowsView.as_view(), name="idem-other-rows"),
]
