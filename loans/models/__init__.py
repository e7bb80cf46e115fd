"""The loans app's tables, one module per subject: filings (with pledges and due diligence),
documents, servicing (monthly reports, early warnings), claims (with recoveries). Imported
here because Django looks for an app's models in `<app>.models`."""

from .book import BookCell, FundBook
from .claims import (
    CLOSED_CLAIM_STATUSES,
    COMMITTED_CLAIM_STATUSES,
    PAID_CLAIM_STATUSES,
    Claim,
    ClaimStatus,
    LegalActionKind,
    Recovery,
    RecoveryStatus,
)
from .documents import (
    DocumentKind,
    FilingDocument,
    _document_path,  # noqa: F401  (migrations name it as loans.models._document_path)
)
from .filings import (
    LIVE_FILING_STATUSES,
    LIVE_LOAN_STATUSES,
    MONEY,
    NON_PERFORMING_STATUSES,
    SHARE,
    DueDiligence,
    FilingStatus,
    LoanFiling,
    LoanStatus,
    Pledge,
    ReferenceCounter,
)
from .servicing import RISK_ORDER, EarlyWarning, RiskClass, StatusReport

__all__ = [
    "CLOSED_CLAIM_STATUSES",
    "COMMITTED_CLAIM_STATUSES",
    "PAID_CLAIM_STATUSES",
    "LIVE_FILING_STATUSES",
    "LIVE_LOAN_STATUSES",
    "MONEY",
    "NON_PERFORMING_STATUSES",
    "RISK_ORDER",
    "SHARE",
    "Claim",
    "ClaimStatus",
    "DocumentKind",
    "DueDiligence",
    "EarlyWarning",
    "FilingDocument",
    "FilingStatus",
    "BookCell",
    "FundBook",
    "LegalActionKind",
    "LoanFiling",
    "LoanStatus",
    "Pledge",
    "Recovery",
    "RecoveryStatus",
    "ReferenceCounter",
    "RiskClass",
    "StatusReport",
]
