from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from fundmgr.ground.lib.idempotency import idempotency_purge_expired, ttl_days


class Command(BaseCommand):
    help = "Delete stored Idempotency-Key records older than IDEMPOTENCY_KEY_TTL_DAYS (default 7)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=int, default=None, help="keep this many days instead of the setting"
        )

    def handle(self, *args, days: int | None, **options):
        days = ttl_days() if days is None else days
        try:
            removed = idempotency_purge_expired(days)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Removed {removed} idempotency record(s) older than {days} day(s).")
