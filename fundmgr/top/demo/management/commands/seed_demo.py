from django.core.management.base import BaseCommand

from fundmgr.top.demo import DEFAULT_DEMO_PASSWORD, seed_demo
from fundmgr.top.demo.history import build_history


class Command(BaseCommand):
    help = (
        "Load the demo funds, institutions, enterprises and users, then replay a history from "
        "January 2024 to the business date through the services (idempotent)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--password", default=DEFAULT_DEMO_PASSWORD, help="password for every demo user")
        parser.add_argument(
            "--no-history",
            action="store_true",
            help="load the static demo data only (no loans, reports or claims)",
        )

    def handle(self, *args, password, no_history, **options):
        say = lambda msg: self.stdout.write(f"  {msg}")  # noqa: E731
        report = seed_demo(password=password, progress=say)
        history = None if no_history else build_history(progress=say)
        if report.created:
            summary = ", ".join(f"{k} +{v}" for k, v in sorted(report.created.items()))
            self.stdout.write(self.style.SUCCESS(f"Demo data loaded: {summary}"))
        if history is not None and not history.skipped:
            self.stdout.write(self.style.SUCCESS(f"Demo {history.summary()}"))
        if not report.created and (history is None or history.skipped):
            self.stdout.write(self.style.SUCCESS("Demo data already present; nothing new to load."))
