"""One application error type: a stable code, a message (Chinese), and the field at fault.

Services raise `AppError` (or `RuleViolations` for several failed rules at once). The API
turns them into problem+json; the admin shows the same messages.
"""

from __future__ import annotations

from dataclasses import dataclass


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
    title = "请求被业务规则拒绝"

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
        return self.message


class NotFound(AppError):
    status = 404
    title = "未找到"

    def __init__(self, message: str = "对象不存在或无权访问", code: str = "not_found") -> None:
        super().__init__(code, message)


class Conflict(AppError):
    status = 409
    title = "状态冲突"


class Forbidden(AppError):
    status = 403
    title = "无权执行此操作"


class RuleViolations(AppError):
    """One or more business rules failed; one error per failed rule."""

    status = 422

    def __init__(self, violations: list[Violation], code: str = "rule_violation", message: str | None = None):
        message = message or "；".join(v.message for v in violations)
        super().__init__(code, message, errors=list(violations))
