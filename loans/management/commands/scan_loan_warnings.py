from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from loans.models import EarlyWarning
from loans.services import servicing


class Command(BaseCommand):
    help = "Raise and resolve early warnings on covered loans and pending filings; print the counts raised."

    def add_arguments(self, parser):
        parser.add_argument(
            "--date", default=None, help="scan as of this business date (YYYY-MM-DD) instead of today"
        )

    def handle(self, *args, date: str | None, **options):
        try:
            today = dt.date.fromisoformat(date) if date else None
        except ValueError as exc:
            raise CommandError("--date must be YYYY-MM-DD") from exc
        counts = servicing.warnings_scan(today=today)
        labels = dict(EarlyWarning.Kind.choices)
        for kind, count in counts.items():
            self.stdout.write(f"{kind} ({labels[kind]}): {count}")
        self.stdout.write(f"Raised {sum(counts.values())} warning(s).")
