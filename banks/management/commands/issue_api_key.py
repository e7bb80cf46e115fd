from banks.services import institution_api_key_issue
from fundmgr.ground.accounts.management.credentials import IssueCredentialCommand


class Command(IssueCredentialCommand):
    help = "Issue an API key for an institution. The key is printed as the last line, once."
    subject_argument = "institution_code"
    what = "key"

    def issue(self, subject: str, name: str) -> tuple[str, str, str]:
        api_key, raw = institution_api_key_issue(institution_code=subject, name=name)
        return api_key.prefix, raw, api_key.institution.code
