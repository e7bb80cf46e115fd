"""Error codes of the fund forecast; see `fundmgr.ground.lib.errors.ErrorCode`."""

from fundmgr.ground.lib.errors import ErrorCode


class ForecastError(ErrorCode):
    FORECAST_NO_POLICY = "forecast_no_policy"
    FORECAST_PARAMETER_INVALID = "forecast_parameter_invalid"
    FORECAST_READERS_ONLY = "forecast_readers_only"
    SCENARIO_NOT_FOUND = "scenario_not_found"
    SCENARIO_INVALID = "scenario_invalid"
    SCENARIO_INSTITUTION_NOT_IN_FUND = "scenario_institution_not_in_fund"
