"""What happens to partner institutions that the layers above act on (see `fundmgr.ground.lib.events`)."""

from fundmgr.ground.lib.events import Event

INSTITUTION_CHANGED = Event(
    "institution.changed",
    "an institution was admitted, suspended, reinstated or terminated: institution, transition",
)

AGREEMENT_FILINGS_CHANGED = Event(
    "agreement.filings_changed",
    "a filing suspension's reinstatement was requested, approved or refused: agreement, transition",
)
