"""`manage.py export_workbook --fund CODE --out FILE.xlsx`: a fund's books as one workbook."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from fundmgr.ground.funds.models import Fund
from fundmgr.top.books.services import books_export, books_template


class Command(BaseCommand):
    help = "Write a fund's books (enterprises, IP rights, institutions, agreements, filed products, loans, pledges, claims, recoveries, ledger) to an .xlsx workbook; --template writes the empty layout."

    def add_arguments(self, parser):
        parser.add_argument("--fund", help="the fund's code, e.g. zhaoqing")
        parser.add_argument("--out", required=True, help="the .xlsx file to write")
        parser.add_argument(
            "--template",
            action="store_true",
            help="write the empty template (the help sheet and the headers only)",
        )

    def handle(self, *args, fund=None, out, template=False, **options):
        if template:
            books_template(out=out)
            self.stdout.write(self.style.SUCCESS(f"template written to {out}"))
            return
        if not fund:
            raise CommandError("--fund is required (or --template)")
        found = Fund.objects.filter(code=fund).first()
        if found is None:
            raise CommandError(f"no fund with code {fund!r}")

        def progress(sheet: str, rows: int) -> None:
            self.stderr.write(f"\r{sheet}: {rows:,} rows", ending="")
            self.stderr.flush()

        counts = books_export(fund=found, out=out, progress=progress)
        self.stderr.write("")
        summary = ", ".join(f"{key} {n:,}" for key, n in counts.items())
        self.stdout.write(self.style.SUCCESS(f"{found.code} written to {out}: {summary}"))
