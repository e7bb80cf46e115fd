"""Error codes of users, credentials and lifecycles (transitions, four-eyes); see `fundmgr.ground.lib.errors.ErrorCode`."""

from fundmgr.ground.lib.errors import ErrorCode


class AccountsError(ErrorCode):
    COMMENT_TOO_LONG = "comment_too_long"
    FOUR_EYES_REQUIRED = "four_eyes_required"
    TOKEN_NOT_FOR_INSTITUTIONS = "token_not_for_institutions"
    TRANSITION_FORBIDDEN = "transition_forbidden"
    UNKNOWN_TRANSITION = "unknown_transition"
    USER_NOT_FOUND = "user_not_found"
