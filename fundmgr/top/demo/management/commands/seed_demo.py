from django.core.management.base import BaseCommand

from fundmgr.top.demo import DEFAULT_DEMO_PASSWORD, seed_demo


class Command(BaseCommand):
    help = "Load the demo funds, institutions, enterprises and users (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--password", default=DEFAULT_DEMO_PASSWORD, help="password for every demo user")

    def handle(self, *args, password, **options):
        report = seed_demo(password=password, progress=lambda msg: self.stdout.write(f"  {msg}"))
        if report.created:
            summary = ", ".join(f"{k} +{v}" for k, v in sorted(report.created.items()))
            self.stdout.write(self.style.SUCCESS(f"Demo data loaded: {summary}"))
        else:
            self.stdout.write(self.style.SUCCESS("Demo data already present; nothing new to load."))
