"""One application error type: a stable code, a message (Chinese), and the field at fault.

Services raise `AppError` (or `RuleViolations` for several failed rules at once). The API
turns them into problem+json; the admin shows the same messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


class ErrorCode(StrEnum):
    """Every error code the system answers with is a member of one app's subclass of this
    (`loans.errors.LoansError`, ...): the code a client sees in problem+json leads to one
    declaration, the OpenAPI document lists them all, and tests/test_error_codes.py fails on
    a code raised as a bare string. Members are strings, so they compare and serialise as
    their value."""


def declared_codes() -> dict[str, ErrorCode]:
    """Every declared code, by value (the enums of the apps imported so far: all of them
    once Django has loaded the apps, since each app's services import its enum)."""
    found: dict[str, ErrorCode] = {}

    def walk(cls: type) -> None:
        for sub in cls.__subclasses__():
            for member in sub:
                found.setdefault(member.value, member)
            walk(sub)

    walk(ErrorCode)
    return found


class CommonError(ErrorCode):
    """Codes of the API plumbing and of refusals every app shares."""

    COMMENT_REQUIRED = "comment_required"
    CONFLICT = "conflict"
    ERROR = "error"
    IDEMPOTENCY_ANSWER_LOST = "idempotency_answer_lost"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    IDEMPOTENCY_REQUEST_IN_PROGRESS = "idempotency_request_in_progress"
    INVALID_CREDENTIALS = "invalid_credentials"
    INVALID_IDEMPOTENCY_KEY = "invalid_idempotency_key"
    INVALID_MONEY = "invalid_money"
    INSTITUTION_ONLY = "institution_only"
    INVALID_RATE = "invalid_rate"
    MALFORMED_REQUEST = "malformed_request"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_ACCEPTABLE = "not_acceptable"
    NOT_AUTHENTICATED = "not_authenticated"
    NOT_FOUND = "not_found"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    PERMISSION_DENIED = "permission_denied"
    RULE_VIOLATION = "rule_violation"
    SERVER_ERROR = "server_error"
    SERVICE_UNAVAILABLE = "service_unavailable"
    THROTTLED = "throttled"
    TRANSITION_NOT_ALLOWED = "transition_not_allowed"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    VALIDATION_FAILED = "validation_failed"


@dataclass(frozen=True)
class Violation:
    code: str
    message: str
    field: str | None = None

    def as_dict(self) -> dict:
        return {"field": self.field, "code": self.code, "message": self.message}


class AppError(Exception):
    """A refusal a client can act on. `status` is the HTTP status the API answers with."""

    status = 422
    title = gettext_lazy("请求被业务规则拒绝")

    def __init__(
        self,
        code: str,
        message: str,
        *,
        field: str | None = None,
        status: int | None = None,
        errors: list[Violation] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        if status is not None:
            self.status = status
        self.errors = errors if errors is not None else ([Violation(code, message, field)] if field else [])

    def __str__(self) -> str:  # what the admin shows
        return str(self.message)


class NotFound(AppError):
    status = 404
    title = gettext_lazy("未找到")

    def __init__(self, message: str | None = None, code: str = CommonError.NOT_FOUND) -> None:
        super().__init__(code, message or _("对象不存在或无权访问"))


class Conflict(AppError):
    status = 409
    title = gettext_lazy("状态冲突")


class Forbidden(AppError):
    status = 403
    title = gettext_lazy("无权执行此操作")


class RuleViolations(AppError):
    """One or more business rules failed; one error per failed rule."""

    status = 422

    def __init__(
        self, violations: list[Violation], code: str = CommonError.RULE_VIOLATION, message: str | None = None
    ):
        message = message or "；".join(str(v.message) for v in violations)
        super().__init__(code, message, errors=list(violations))


class FieldError(ErrorCode):
    """Codes of request-field validation as Django REST framework names them; they appear in
    a 400 problem's `errors[].code` (and as its `code` when every error shares one)."""

    AUTHENTICATION_FAILED = "authentication_failed"
    BLANK = "blank"
    DATE = "date"
    DATETIME = "datetime"
    DOES_NOT_EXIST = "does_not_exist"
    EMPTY = "empty"
    INCORRECT_MATCH = "incorrect_match"
    INCORRECT_TYPE = "incorrect_type"
    INVALID = "invalid"
    INVALID_CHOICE = "invalid_choice"
    INVALID_IMAGE = "invalid_image"
    INVALID_UNICODE = "invalid_unicode"
    MAKE_AWARE = "make_aware"
    MAX_DECIMAL_PLACES = "max_decimal_places"
    MAX_DIGITS = "max_digits"
    MAX_LENGTH = "max_length"
    MAX_STRING_LENGTH = "max_string_length"
    MAX_VALUE = "max_value"
    MAX_WHOLE_DIGITS = "max_whole_digits"
    MIN_LENGTH = "min_length"
    MIN_VALUE = "min_value"
    NO_MATCH = "no_match"
    NO_NAME = "no_name"
    NOT_A_DICT = "not_a_dict"
    NOT_A_LIST = "not_a_list"
    NULL = "null"
    NULL_CHARACTERS_NOT_ALLOWED = "null_characters_not_allowed"
    OVERFLOW = "overflow"
    PARSE_ERROR = "parse_error"
    REQUIRED = "required"
    SURROGATE_CHARACTERS_NOT_ALLOWED = "surrogate_characters_not_allowed"
    UNIQUE = "unique"
    UNIQUE_FOR_DATE = "unique_for_date"
