"""Error codes of financing needs, bank matching and outreach events (投融对接、政策宣传); see
`fundmgr.ground.lib.errors.ErrorCode`."""

from fundmgr.ground.lib.errors import ErrorCode


class MatchingError(ErrorCode):
    CONSENT_DATE_INVALID = "consent_date_invalid"
    EVENT_PLACE_REQUIRED = "event_place_required"
    FINANCING_NEED_INVALID = "financing_need_invalid"
    HONOUR_DATES_INVALID = "honour_dates_invalid"
    INTEREST_EXISTS = "interest_exists"
    MEETING_DATE_INVALID = "meeting_date_invalid"
    NEED_ENTERPRISE_NOT_ADMITTED = "need_enterprise_not_admitted"
    NEED_NOT_OPEN = "need_not_open"
    OFFERED_IP_NOT_OWNED = "offered_ip_not_owned"
    OFFERED_IP_NOT_VALID = "offered_ip_not_valid"
    POLICY_IN_FORCE = "matching_policy_in_force"
    PRIORITY_PARAMETERS_INVALID = "priority_parameters_invalid"
    SIGNING_ENTERPRISE_OUTSIDE_FUND = "signing_enterprise_outside_fund"
    SIGNING_INSTITUTION_NOT_IN_FUND = "signing_institution_not_in_fund"
