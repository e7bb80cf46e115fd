from django.core.management.base import BaseCommand, CommandError

from fundmgr.ground.accounts.services import token_issue
from fundmgr.ground.lib.errors import AppError


class Command(BaseCommand):
    help = "Issue a personal API token for a staff or regulator user. Printed as the last line, once."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="what the token is for")

    def handle(self, *args, username, name, **options):
        try:
            token, raw = token_issue(username=username, name=name)
        except AppError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"Issued token {token.prefix}… for {username}; it is stored hashed and not shown again."
        )
        self.stdout.write(raw)
