"""Servicing of covered loans: monthly reports, settlement, early warnings, automatic suspension."""

from __future__ import annotations


def status_report_submit(*, principal, filing_id: int, data: dict):  # pragma: no cover - being built
    raise NotImplementedError


def filing_settle(*, principal, filing_id: int, settled_on):  # pragma: no cover - being built
    raise NotImplementedError
