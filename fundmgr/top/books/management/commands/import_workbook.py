"""`manage.py import_workbook FILE.xlsx [--dry-run] [--by USERNAME]`: check a fund's workbook
and, unless --dry-run, import it in one transaction. Every error is printed as
sheet, row, column, code, message. Exit status 1 when there are errors, 0 when clean."""

from __future__ import annotations

import sys
import time
import unicodedata
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from fundmgr.ground.accounts.models import User
from fundmgr.top.books.services import books_import, books_validate, can_import


def _pad(text: str, width: int) -> str:
    """Left-align in a terminal, where a Chinese character takes two columns."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(width - used, 1)


class Command(BaseCommand):
    help = "Dry-run or import a fund's books workbook (.xlsx). Exit status 1 when any row has an error."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the .xlsx workbook (see export_workbook for the layout)")
        parser.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
        parser.add_argument(
            "--by", help="username of the staff member importing (needs the books.import_workbook permission)"
        )

    def handle(self, *args, file, dry_run=False, by=None, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file")
        user = None
        if not dry_run:
            if not by:
                raise CommandError("an import says who made it: --by USERNAME (or use --dry-run)")
            user = User.objects.filter(username=by).first()
            if user is None:
                raise CommandError(f"no user {by!r}")
            if not can_import(user):
                raise CommandError(
                    f"{by} does not hold the permission to import books (books.import_workbook)"
                )
        started, last = time.monotonic(), [0.0]

        def progress(sheet: str, rows: int) -> None:
            now = time.monotonic()
            if now - last[0] >= 0.5:
                last[0] = now
                self.stderr.write(f"\r{sheet}: {rows:,} rows read ({now - started:.0f} s)   ", ending="")
                self.stderr.flush()

        if dry_run:
            report = books_validate(file=str(path), file_name=path.name, progress=progress)
        else:
            report = books_import(file=str(path), by=user, file_name=path.name, progress=progress)
        self.stderr.write("")
        out = self.stdout
        out.write(f"{'sheet':<10}{'rows':>10}{'new':>10}{'changed':>10}{'unchanged':>10}{'errors':>10}")
        for name, s in report.summary_rows():
            figures = "".join(f"{n:>10,}" for n in (s.rows, s.new, s.changed, s.unchanged, s.invalid))
            out.write(f"{_pad(name, 10)}{figures}")
        for e in report.errors:
            where = "\t".join(str(x) for x in (e.sheet or "-", e.row or "-", e.column or "-"))
            out.write(f"{where}\t{e.code}\t{e.message}")
        if report.truncated:
            out.write(f"... and {report.truncated:,} more errors")
        seconds = time.monotonic() - started
        if not report.ok:
            out.write(self.style.ERROR(f"{report.error_count:,} errors; nothing imported ({seconds:.1f} s)"))
            sys.exit(1)
        if dry_run:
            out.write(self.style.SUCCESS(f"clean: {report.fund_code} may be imported ({seconds:.1f} s)"))
        else:
            out.write(
                self.style.SUCCESS(
                    f"imported into {report.fund_code}; ledger balance {report.balance_after} ({seconds:.1f} s)"
                )
            )
