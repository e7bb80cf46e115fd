"""What happens to loans that the layers above (notifications) act on. Published by the loans
services inside their transaction; see `fundmgr.ground.lib.events`."""

from fundmgr.ground.lib.events import Event

FILING_DECIDED = Event(
    "filing.decided", "a filing was accepted, returned, rejected or voided: filing, transition"
)
CLAIM_DECIDED = Event("claim.decided", "a claim was approved, paid, returned or rejected: claim, transition")
FILINGS_SUSPENDED = Event(
    "agreement.filings_suspended", "a bank's filings in a fund were suspended automatically: agreement"
)
RECOVERY_OVERDUE = Event("recovery.overdue", "a recovered amount was not returned in time: recovery")
WARNING_RAISED = Event("warning.raised", "an early warning was raised on a covered loan: warning")
BOOK_CHANGED = Event(
    "loans.book_changed",
    "a dated loan record was added or corrected, changing the fund's figures from a day on: fund_id, since",
)
