"""`manage.py purge_book_uploads [--days N]`: delete uploaded workbooks older than the
retention period (BOOKS_UPLOAD_RETENTION_DAYS, 30 days); the import runs and their reports
stay. The same runs daily as the scheduled task books.import_runs_purge."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from fundmgr.top.books.services import import_runs_purge, retention_days


class Command(BaseCommand):
    help = (
        "Delete uploaded books workbooks older than BOOKS_UPLOAD_RETENTION_DAYS (default 30); reports stay."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=int, default=None, help="keep this many days instead of the setting"
        )

    def handle(self, *args, days: int | None = None, **options):
        days = retention_days() if days is None else days
        try:
            purged = import_runs_purge(days=days)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Deleted {purged} uploaded workbook(s) older than {days} day(s).")
