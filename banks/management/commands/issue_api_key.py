from django.core.management.base import BaseCommand, CommandError

from banks.services import institution_api_key_issue
from fundmgr.ground.lib.errors import AppError


class Command(BaseCommand):
    help = "Issue an API key for an institution. The key is printed as the last line, once."

    def add_arguments(self, parser):
        parser.add_argument("institution_code")
        parser.add_argument("--name", default="", help="what the key is for")

    def handle(self, *args, institution_code, name, **options):
        try:
            api_key, raw = institution_api_key_issue(institution_code=institution_code, name=name)
        except AppError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"Issued key {api_key.prefix}… for {api_key.institution.code}; it is stored hashed and not shown again."
        )
        self.stdout.write(raw)
