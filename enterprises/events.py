"""What happens to enterprises that the layers above act on (see `fundmgr.ground.lib.events`)."""

from fundmgr.ground.lib.events import Event

DISTRICT_CHANGED = Event(
    "enterprise.district_changed",
    "an enterprise's district was corrected: every period of its fund regroups: fund_id, since",
)
