"""Error codes of funds, their policy and the ledger; see `fundmgr.ground.lib.errors.ErrorCode`."""

from fundmgr.ground.lib.errors import ErrorCode


class FundsError(ErrorCode):
    ENTRY_TYPE_NOT_MANUAL = "entry_type_not_manual"
    FUND_BALANCE_INSUFFICIENT = "fund_balance_insufficient"
    GOVERNMENT_LEVEL_REQUIRED = "government_level_required"
    INVALID_AMOUNT = "invalid_amount"
    INVALID_ENTRY_TYPE = "invalid_entry_type"
    INVALID_IP_KIND = "invalid_ip_kind"
    INVALID_PERIOD = "invalid_period"
    INVALID_SHARE = "invalid_share"
    LEDGER_NOT_FOR_INSTITUTIONS = "ledger_not_for_institutions"
    POLICY_BACKDATED = "policy_backdated"
    POLICY_VERSION_EXISTS = "policy_version_exists"
