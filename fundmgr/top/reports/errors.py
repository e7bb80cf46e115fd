"""Error codes of regulator and monthly reports; see `fundmgr.ground.lib.errors.ErrorCode`."""

from fundmgr.ground.lib.errors import ErrorCode


class ReportsError(ErrorCode):
    PERIOD_NOT_ENDED = "period_not_ended"
    PERIOD_NOT_STARTED = "period_not_started"
    REGULATOR_REPORTS_ONLY = "regulator_reports_only"
    REPORT_NOT_GENERATED = "report_not_generated"
    STATEMENT_ONLY = "statement_only"
