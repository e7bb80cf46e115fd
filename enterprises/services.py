"""Writes about enterprises."""

from __future__ import annotations

from django.db import transaction

from .sme import SMEThreshold, load_threshold_rows


def sme_thresholds_load_default() -> int:
    """Load the bundled 2011 SME thresholds if they are missing (idempotent).

    Migration 0003 loads them on a new database; this restores them where a database was
    emptied (a flushed test database, a restored dump without reference data).
    Returns the number of rows created.
    """
    created = 0
    with transaction.atomic():
        for row in load_threshold_rows():
            _, was_created = SMEThreshold.objects.get_or_create(
                standard=row["standard"],
                industry=row["industry"],
                defaults={k: row[k] for k in ("name", "gbt4754_prefixes", "rule", "effective_from")},
            )
            created += was_created
    return created
