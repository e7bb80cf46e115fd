import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError

from fundmgr.ground.lib import clock
from fundmgr.top.demo.scale import DEFAULT_SEED, MAX_SCALE, SeedRefused, seed_scale


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--date wants YYYY-MM-DD, got {text!r}") from None


class Command(BaseCommand):
    help = (
        "Fill an empty database with generated province-scale data for benchmarks and load tests "
        "(at --scale 1: 21 funds, ~220 institutions, 20,000 enterprises, ~100,000 loans, ~250,000 "
        "pledged IP rights). Loads the demo data first when the database is empty. Refuses a "
        "database that already holds loans unless --force."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            help=f"fraction of the province, 0 < scale <= {MAX_SCALE} (default 1)",
        )
        parser.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})"
        )
        parser.add_argument(
            "--date", type=_date, default=None, help="business date the data leads up to (default: today)"
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="add generated data even though the database already holds loans (test data only)",
        )

    def handle(self, *args, scale, seed, date, force, **options):
        today = date or clock.today()
        self.stdout.write(f"Generating province data at scale {scale:g} (seed {seed}) up to {today}:")
        if force:
            self.stdout.write(self.style.WARNING("  --force: generated loans may sit beside existing ones"))
        try:
            summary = seed_scale(
                scale=scale,
                seed=seed,
                today=today,
                force=force,
                progress=lambda line: self.stdout.write(f"  {line}"),
            )
        except SeedRefused as exc:
            raise CommandError(str(exc)) from None
        except IntegrityError as exc:  # with --force: a generated code already taken by a real row
            raise CommandError(
                f"Generated rows clash with rows already here; nothing was written. ({exc})"
            ) from exc
        rows = summary.rows
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {rows['loans_loanfiling']:,} loans, {rows['loans_pledge']:,} pledges and "
                f"{sum(rows.values()):,} rows in all in {summary.seconds:.1f} s"
            )
        )
