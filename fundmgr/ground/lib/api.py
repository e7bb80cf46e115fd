"""API plumbing shared by every app: problem+json errors, pagination, money fields."""

from __future__ import annotations

import logging
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django_fsm import TransitionNotAllowed
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import AppError
from .money import MoneyError, parse_money

log = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"

# Numeric ids in URLs: at most 18 digits, so a lookup can never overflow a 64-bit column (a
# longer "id" cannot exist and is simply 404).
ID_PATTERN = r"[0-9]{1,18}"
MAX_ID = 10**18 - 1

_STATUS_TITLES = {
    400: ("malformed_request", "请求格式错误"),
    401: ("not_authenticated", "未认证"),
    403: ("permission_denied", "无权执行此操作"),
    404: ("not_found", "未找到"),
    405: ("method_not_allowed", "不支持的请求方法"),
    406: ("not_acceptable", "不支持的响应格式"),
    409: ("conflict", "状态冲突"),
    413: ("payload_too_large", "请求内容过大"),
    415: ("unsupported_media_type", "不支持的内容类型"),
    422: ("validation_failed", "请求被业务规则拒绝"),
    429: ("throttled", "请求过于频繁"),
}


def problem(
    status: int,
    *,
    code: str | None = None,
    detail: str = "",
    errors=None,
    title: str | None = None,
    headers=None,
):
    default_code, default_title = _STATUS_TITLES.get(status, ("error", "错误"))
    body = {
        "type": f"https://fundmgr.local/problems/{code or default_code}",
        "title": title or default_title,
        "status": status,
        "code": code or default_code,
        "detail": detail,
        "errors": errors or [],
    }
    response = Response(body, status=status, headers=headers)
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


def _flatten(detail, prefix: str = "") -> list[dict]:
    """DRF's nested error dict/list into [{field, code, message}] with dotted paths."""
    out: list[dict] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            if key == "non_field_errors":
                name = prefix
            elif isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
                name = f"{prefix}[{key}]"  # an item of a nested list, as in "pledges[0].number"
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            out.extend(_flatten(value, name))
    elif isinstance(detail, list):
        if all(isinstance(item, exceptions.ErrorDetail) for item in detail):
            for item in detail:
                out.append({"field": prefix or None, "code": item.code or "invalid", "message": str(item)})
        else:
            for index, item in enumerate(detail):
                if item:
                    out.extend(_flatten(item, f"{prefix}[{index}]"))
    elif isinstance(detail, exceptions.ErrorDetail):
        out.append({"field": prefix or None, "code": detail.code or "invalid", "message": str(detail)})
    return out


def problem_exception_handler(exc, context):
    if isinstance(exc, AppError):
        return problem(
            exc.status,
            code=exc.code,
            detail=exc.message,
            errors=[v.as_dict() for v in exc.errors],
            title=exc.title,
        )
    if isinstance(exc, TransitionNotAllowed):
        return problem(409, code="transition_not_allowed", detail="当前状态下不允许此操作")
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: let Django log it and answer 500
    status = response.status_code
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        codes = {e["code"] for e in errors}
        code = next(iter(codes)) if len(codes) == 1 else "validation_failed"
        detail = "；".join(f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors)
        return problem(400, code=code, detail=detail, errors=errors, headers=_headers(response))
    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    code = getattr(detail, "code", None)
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        code = "not_authenticated" if isinstance(exc, exceptions.NotAuthenticated) else "invalid_credentials"
    elif isinstance(exc, exceptions.NotFound):
        code = "not_found"
        detail = "对象不存在或无权访问"
    elif isinstance(exc, exceptions.PermissionDenied):
        code = "permission_denied"
    elif code in (None, "error", "invalid"):
        code = _STATUS_TITLES.get(status, ("error",))[0]
    return problem(status, code=code, detail=str(detail), headers=_headers(response))


def _headers(response) -> dict:
    return {k: v for k, v in response.items() if k.lower() in ("www-authenticate", "retry-after", "allow")}


class IdField(serializers.IntegerField):
    """A reference to a record by id in a request body: a positive 64-bit-safe integer."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^\d+\.\d{2}$",
        "example": "3500000.00",
        "description": "金额（元），两位小数的字符串",
    }
)
class MoneyField(serializers.Field):
    """Money in the API: a JSON string with exactly two decimals, in yuan, never negative."""

    default_error_messages = {"invalid": '金额必须是两位小数的字符串，例如 "3500000.00"'}

    def to_internal_value(self, data) -> Decimal:
        try:
            return parse_money(data)
        except MoneyError as exc:
            raise serializers.ValidationError(str(exc), code="invalid_money") from exc

    def to_representation(self, value) -> str:
        return f"{Decimal(value):.2f}"


@extend_schema_field(
    {"type": "string", "pattern": r"^\d+(\.\d{1,4})?$", "example": "50.0000", "description": "百分比字符串"}
)
class PercentField(serializers.Field):
    """Percent as a string with up to four decimals: "3.4500"."""

    def __init__(self, *, places: int = 4, **kwargs):
        self.places = places
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> Decimal:
        if not isinstance(data, str):
            raise serializers.ValidationError('比例必须是字符串，例如 "3.4500"', code="invalid_rate")
        whole, dot, frac = data.strip().partition(".")
        if not whole.isdigit() or (dot and (not frac.isdigit() or len(frac) > self.places)):
            raise serializers.ValidationError(f"比例格式错误，最多 {self.places} 位小数", code="invalid_rate")
        return Decimal(data.strip())

    def to_representation(self, value) -> str:
        return f"{Decimal(value):.{self.places}f}"
