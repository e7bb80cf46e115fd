"""The shape both credential commands share: issue one credential, print it once, last."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from fundmgr.ground.lib.errors import AppError


class IssueCredentialCommand(BaseCommand):
    """`<command> SUBJECT [--name WHAT]`: the raw secret is the last line printed, once; only
    its hash is stored. Subclasses name the subject argument and call their service."""

    subject_argument = "subject"
    what = "credential"

    def issue(self, subject: str, name: str) -> tuple[str, str, str]:
        """(prefix, raw secret, whom it was issued to)."""
        raise NotImplementedError

    def add_arguments(self, parser):
        parser.add_argument(self.subject_argument)
        parser.add_argument("--name", default="", help=f"what the {self.what} is for")

    def handle(self, *args, name, **options):
        try:
            prefix, raw, whom = self.issue(options[self.subject_argument], name)
        except AppError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"Issued {self.what} {prefix}… for {whom}; it is stored hashed and not shown again."
        )
        self.stdout.write(raw)
