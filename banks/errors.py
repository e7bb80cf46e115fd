"""Error codes of partner institutions, agreements and products; see `fundmgr.ground.lib.errors.ErrorCode`."""

from fundmgr.ground.lib.errors import ErrorCode


class BanksError(ErrorCode):
    AGREEMENT_EXISTS = "agreement_exists"
    AGREEMENT_INVALID = "agreement_invalid"
    FUND_SHARE_EXCEEDS_POLICY = "fund_share_exceeds_policy"
    INSTITUTION_EXISTS = "institution_exists"
    INSTITUTION_NOT_ACTIVE = "institution_not_active"
    INSTITUTION_NOT_FOUND = "institution_not_found"
    INSTITUTION_SUSPENDED = "institution_suspended"
    INSTITUTION_TERMINATED = "institution_terminated"
    INVALID_AGREEMENT_TERM = "invalid_agreement_term"
    INVALID_CODE = "invalid_code"
    INVALID_DATE = "invalid_date"
    INVALID_KIND = "invalid_kind"
    INVALID_NUMBER = "invalid_number"
    INVALID_QUOTA = "invalid_quota"
    INVALID_REGION_CODE = "invalid_region_code"
    INVALID_RESERVE_DEPOSIT = "invalid_reserve_deposit"
    NO_AGREEMENT_IN_FORCE = "no_agreement_in_force"
    PRODUCT_EXISTS = "product_exists"
    PRODUCT_FILING_REFUSED = "product_filing_refused"
    SHARES_MUST_TOTAL_100 = "shares_must_total_100"
