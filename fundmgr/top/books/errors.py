"""Error codes of the workbook import (the file, its sheets and cells, and the references
between sheets); see `fundmgr.ground.lib.errors.ErrorCode`. A row that breaks a business rule
is reported with the code of that rule (enterprises, banks, loans, funds)."""

from fundmgr.ground.lib.errors import ErrorCode


class BooksError(ErrorCode):
    # the file and its layout
    NOT_XLSX = "workbook_not_xlsx"
    MISSING_SHEET = "workbook_missing_sheet"
    MISSING_COLUMN = "workbook_missing_column"
    DUPLICATE_COLUMN = "workbook_duplicate_column"
    TOO_MANY_ROWS = "workbook_too_many_rows"
    FUND_ROW_REQUIRED = "workbook_fund_row_required"
    FUND_NOT_FOUND = "workbook_fund_not_found"
    # cells
    FORMULA_NOT_ALLOWED = "cell_formula_not_allowed"
    MERGED_CELL = "cell_merged"
    DATE_AS_TEXT = "cell_date_as_text"
    NOT_A_DATE = "cell_not_a_date"
    NUMBER_AS_TEXT = "cell_number_as_text"
    NOT_A_NUMBER = "cell_not_a_number"
    NOT_A_WHOLE_NUMBER = "cell_not_a_whole_number"
    NOT_YES_NO = "cell_not_yes_no"
    ERROR_VALUE = "cell_error_value"
    # rows and references between sheets
    DUPLICATE_ROW = "row_duplicate_key"
    UNKNOWN_REFERENCE = "row_unknown_reference"
    IN_OTHER_FUND = "row_in_other_fund"
    RECORD_DIFFERS = "row_record_differs"
    STATE_DIFFERS = "row_state_differs"
    STATUS_NOT_IMPORTABLE = "row_status_not_importable"
    DATE_ORDER = "row_date_order"
    DATE_IN_FUTURE = "row_date_in_future"
    LOAN_STATE_INCONSISTENT = "row_loan_state_inconsistent"
    LOAN_WITHOUT_PLEDGE = "row_loan_without_pledge"
    CLAIM_LEDGER_MISMATCH = "row_claim_ledger_mismatch"
    RECOVERY_LEDGER_MISMATCH = "row_recovery_ledger_mismatch"
    RECOVERY_SHARE_MISMATCH = "row_recovery_share_mismatch"
    LEDGER_SIGN_MISMATCH = "row_ledger_sign_mismatch"
    LEDGER_TOTAL_MISMATCH = "row_ledger_total_mismatch"
    LEDGER_ENTRY_DIFFERS = "row_ledger_entry_differs"
    # the import run
    NOT_VALIDATED = "import_not_validated"
    IMPORT_FAILED = "import_failed"
    IMPORT_PERMISSION_REQUIRED = "import_permission_required"
