"""Error codes of enterprise registration (入库); see `fundmgr.ground.lib.errors.ErrorCode`."""

from fundmgr.ground.lib.errors import ErrorCode


class EnterprisesError(ErrorCode):
    ADMISSION_EXPIRED = "admission_expired"
    CREDIT_REPORT_DATE_INVALID = "credit_report_date_invalid"
    DUPLICATE_IP_ASSET = "duplicate_ip_asset"
    ELIGIBILITY_FAILED = "eligibility_failed"
    ENTERPRISE_EXISTS = "enterprise_exists"
    FUND_NOT_ACTIVE = "fund_not_active"
    FUND_NOT_AVAILABLE = "fund_not_available"
    IP_ALREADY_REGISTERED = "ip_already_registered"
    NO_POLICY_IN_FORCE = "no_policy_in_force"
    SME_FIGURE_INVALID = "sme_figure_invalid"
    SME_INDUSTRY_CODE_INVALID = "sme_industry_code_invalid"
    SME_INDUSTRY_CODE_REQUIRED = "sme_industry_code_required"
