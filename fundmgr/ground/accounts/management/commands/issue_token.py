from fundmgr.ground.accounts.management.credentials import IssueCredentialCommand
from fundmgr.ground.accounts.services import token_issue


class Command(IssueCredentialCommand):
    help = "Issue a personal API token for a staff or regulator user. Printed as the last line, once."
    subject_argument = "username"
    what = "token"

    def issue(self, subject: str, name: str) -> tuple[str, str, str]:
        token, raw = token_issue(username=subject, name=name)
        return token.prefix, raw, subject
