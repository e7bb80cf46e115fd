"""API plumbing shared by every app: problem+json errors, pagination, money fields."""

from __future__ import annotations

import logging
import re
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError as DatabaseInterfaceError
from django.db import OperationalError as DatabaseOperationalError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import TransitionNotAllowed
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from . import dbfaults
from .errors import AppError, CommonError, FieldError, declared_codes
from .money import MoneyError, ascii_digits, parse_money

log = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"

# Numeric ids in URLs: at most 18 digits, so a lookup can never overflow a 64-bit column (a
# longer "id" cannot exist and is simply 404).
ID_PATTERN = r"[0-9]{1,18}"
MAX_ID = 10**18 - 1

_STATUS_TITLES = {
    400: (CommonError.MALFORMED_REQUEST, gettext_lazy("请求格式错误")),
    401: (CommonError.NOT_AUTHENTICATED, gettext_lazy("未认证")),
    403: (CommonError.PERMISSION_DENIED, gettext_lazy("无权执行此操作")),
    404: (CommonError.NOT_FOUND, gettext_lazy("未找到")),
    405: (CommonError.METHOD_NOT_ALLOWED, gettext_lazy("不支持的请求方法")),
    406: (CommonError.NOT_ACCEPTABLE, gettext_lazy("不支持的响应格式")),
    409: (CommonError.CONFLICT, gettext_lazy("状态冲突")),
    413: (CommonError.PAYLOAD_TOO_LARGE, gettext_lazy("请求内容过大")),
    415: (CommonError.UNSUPPORTED_MEDIA_TYPE, gettext_lazy("不支持的内容类型")),
    422: (CommonError.VALIDATION_FAILED, gettext_lazy("请求被业务规则拒绝")),
    429: (CommonError.THROTTLED, gettext_lazy("请求过于频繁")),
    500: (CommonError.SERVER_ERROR, gettext_lazy("服务器错误")),
    503: (CommonError.SERVICE_UNAVAILABLE, gettext_lazy("服务暂不可用")),
}
_ERROR_TITLE = gettext_lazy("错误")


def problem_body(status: int, *, code: str | None = None, detail: str = "", errors=None, title=None) -> dict:
    """The problem+json document (RFC 9457) for a status and a stable code."""
    default_code, default_title = _STATUS_TITLES.get(status, (CommonError.ERROR, _ERROR_TITLE))
    return {
        "type": f"https://fundmgr.local/problems/{code or default_code}",
        "title": title or default_title,
        "status": status,
        "code": code or default_code,
        "detail": detail,
        "errors": errors or [],
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
    body = problem_body(status, code=code, detail=detail, errors=errors, title=title)
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
                out.append(
                    {"field": prefix or None, "code": item.code or FieldError.INVALID, "message": str(item)}
                )
        else:
            for index, item in enumerate(detail):
                if item:
                    out.extend(_flatten(item, f"{prefix}[{index}]"))
    elif isinstance(detail, exceptions.ErrorDetail):
        out.append(
            {"field": prefix or None, "code": detail.code or FieldError.INVALID, "message": str(detail)}
        )
    return out


# The database or Redis did not answer: the client should try again shortly, and gets told so.
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (DatabaseOperationalError, DatabaseInterfaceError)
RETRY_AFTER_SECONDS = 5
UNAVAILABLE_DETAIL = gettext_lazy("数据库或缓存暂时不可用，请稍后重试；本次请求未作任何更改")


def _unavailable_errors() -> tuple[type[BaseException], ...]:
    try:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError
    except ImportError:  # redis is a dependency; this only keeps lib importable without it
        return UNAVAILABLE_ERRORS
    return (*UNAVAILABLE_ERRORS, RedisConnectionError, RedisTimeoutError)


def problem_exception_handler(exc, context):
    if isinstance(exc, _unavailable_errors()):
        log.warning("service unavailable: %s: %s", type(exc).__name__, exc)
        return problem(
            503,
            code=CommonError.SERVICE_UNAVAILABLE,
            detail=UNAVAILABLE_DETAIL,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, AppError):
        return problem(
            exc.status,
            code=exc.code,
            detail=exc.message,
            errors=[v.as_dict() for v in exc.errors],
            title=exc.title,
        )
    if isinstance(exc, TransitionNotAllowed):
        return problem(409, code=CommonError.TRANSITION_NOT_ALLOWED, detail=_("当前状态下不允许此操作"))
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
        code = next(iter(codes)) if len(codes) == 1 else CommonError.VALIDATION_FAILED
        detail = "；".join(f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors)
        return problem(400, code=code, detail=detail, errors=errors, headers=_headers(response))
    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    code = getattr(detail, "code", None)
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        code = (
            CommonError.NOT_AUTHENTICATED
            if isinstance(exc, exceptions.NotAuthenticated)
            else CommonError.INVALID_CREDENTIALS
        )
    elif isinstance(exc, exceptions.NotFound):
        code = CommonError.NOT_FOUND
        detail = _("对象不存在或无权访问")
    elif isinstance(exc, exceptions.PermissionDenied):
        code = CommonError.PERMISSION_DENIED
    elif code in (None, "error", "invalid"):
        code = _STATUS_TITLES.get(status, (CommonError.ERROR,))[0]
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
        "description": gettext_lazy("金额（元），两位小数的字符串"),
    }
)
class MoneyField(serializers.Field):
    """Money in the API: a JSON string with exactly two decimals, in yuan, never negative;
    `positive=True` also refuses zero (a loan's principal)."""

    default_error_messages = {"invalid": gettext_lazy('金额必须是两位小数的字符串，例如 "3500000.00"')}

    def __init__(self, *, positive: bool = False, **kwargs):
        self.positive = positive
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> Decimal:
        try:
            value = parse_money(data)
        except MoneyError as exc:
            raise serializers.ValidationError(str(exc), code=CommonError.INVALID_MONEY) from exc
        if self.positive and value <= 0:
            raise serializers.ValidationError(_("金额须大于零"), code=CommonError.INVALID_MONEY)
        return value

    def to_representation(self, value) -> str:
        return f"{Decimal(value):.2f}"


@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^\d+(\.\d{1,4})?$",
        "example": "50.0000",
        "description": gettext_lazy("百分比字符串"),
    }
)
class PercentField(serializers.Field):
    """Percent as a string with up to four decimals: "3.4500"."""

    def __init__(self, *, places: int = 4, **kwargs):
        self.places = places
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> Decimal:
        if not isinstance(data, str):
            raise serializers.ValidationError(
                _('比例必须是字符串，例如 "3.4500"'), code=CommonError.INVALID_RATE
            )
        whole, dot, frac = data.strip().partition(".")
        if not ascii_digits(whole) or (dot and (not ascii_digits(frac) or len(frac) > self.places)):
            raise serializers.ValidationError(
                _("比例格式错误，最多 %(places)s 位小数") % {"places": self.places},
                code=CommonError.INVALID_RATE,
            )
        return Decimal(data.strip())

    def to_representation(self, value) -> str:
        return f"{Decimal(value):.{self.places}f}"


PROBLEM_COMPONENT = "Problem"


def problem_schema_hook(result, generator, request, public):
    """drf-spectacular postprocessing: the problem+json body as a component whose `code` lists
    every declared error code (fundmgr.ground.lib.errors.declared_codes), and a 4XX response
    referencing it on every operation, so clients and fuzzers know what a refusal looks like."""
    codes = sorted(declared_codes())
    error = {
        "type": "object",
        "properties": {
            "field": {"type": "string", "nullable": True, "description": _("出错的字段（点号分隔路径）")},
            "code": {"type": "string", "enum": codes},
            "message": {"type": "string"},
        },
        "required": ["field", "code", "message"],
    }
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas[PROBLEM_COMPONENT] = {
        "type": "object",
        "description": _(
            "错误（RFC 9457 problem+json）：code 为稳定的错误代码，errors 每项对应一条未通过的规则或字段"
        ),
        "properties": {
            "type": {"type": "string", "format": "uri"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "code": {"type": "string", "enum": codes},
            "detail": {"type": "string"},
            "errors": {"type": "array", "items": error},
        },
        "required": ["type", "title", "status", "code", "detail", "errors"],
    }
    ref = {"$ref": f"#/components/schemas/{PROBLEM_COMPONENT}"}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            operation.setdefault("responses", {}).setdefault(
                "4XX",
                {
                    "description": _("请求被拒绝（problem+json）"),
                    "content": {PROBLEM_CONTENT_TYPE: {"schema": ref}},
                },
            )
    return result


class ApiResponseMiddleware:
    """Outermost, for every path under /api/: no response is cached by anyone on the way
    (`Cache-Control: no-store`: banks' data), and every error is problem+json with a stable
    code, also those Django answers before a view runs (an unmatched path, a bad Host
    header, an oversized body), which it would otherwise render as HTML.

    A read whose database connection was lost under it (the backend terminated, a failover)
    is run once more on a new connection; if that fails too, the client gets the 503. A write
    is never run twice here: it gets the 503 (its transaction rolled back with the connection),
    and its `Idempotency-Key` makes the client's own retry safe."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/api/"):
            return self.get_response(request)
        response = self._respond(request)
        if response.status_code >= 400 and not _is_json(response):
            status = 413 if response.status_code == 400 and _too_big(request) else response.status_code
            default_code, title = _STATUS_TITLES.get(status, (CommonError.ERROR, _ERROR_TITLE))
            detail = _DETAILS.get(status, title)
            replaced = JsonResponse(
                {
                    "type": f"https://fundmgr.local/problems/{default_code}",
                    "title": title,
                    "status": status,
                    "code": default_code,
                    "detail": detail,
                    "errors": [],
                },
                status=status,
                content_type=PROBLEM_CONTENT_TYPE,
                json_dumps_params={"ensure_ascii": False},
            )
            for header in ("Allow", "Retry-After", "WWW-Authenticate"):
                if header in response:
                    replaced[header] = response[header]
            response = replaced
        response["Cache-Control"] = "no-store"
        return response

    def _respond(self, request):
        with dbfaults.LostConnectionWatch() as watch:
            response = self.get_response(request)
        if not watch.lost:
            return response
        # Whatever the method, the next query on this thread (this request's second run, or
        # the next request) starts on a new connection, not on the dead one.
        dbfaults.close_lost_connections()
        if request.method in SAFE_METHODS and response.status_code >= 500 and not dbfaults.in_transaction():
            log.warning(
                "database connection lost under %s %s: running it once more", request.method, request.path
            )
            with dbfaults.LostConnectionWatch() as watch:
                response = self.get_response(request)
            if not watch.lost:
                return response
            dbfaults.close_lost_connections()
        if response.status_code == 500:  # failed where no exception handler knew better
            return unavailable_response()
        return response


def unavailable_response() -> JsonResponse:
    """503 problem+json with Retry-After, outside DRF (see `problem_exception_handler`)."""
    default_code, title = _STATUS_TITLES[503]
    return JsonResponse(
        {
            "type": f"https://fundmgr.local/problems/{default_code}",
            "title": title,
            "status": 503,
            "code": default_code,
            "detail": UNAVAILABLE_DETAIL,
            "errors": [],
        },
        status=503,
        content_type=PROBLEM_CONTENT_TYPE,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        json_dumps_params={"ensure_ascii": False},
    )


_DETAILS = {
    400: gettext_lazy("请求格式错误（请检查请求头与请求体）"),
    404: gettext_lazy("没有这个接口或对象"),
    413: gettext_lazy("请求内容过大"),
    500: gettext_lazy("服务器内部错误，请稍后重试；问题已记录"),
}


def _is_json(response) -> bool:
    content_type = response.get("Content-Type", "")
    return "json" in content_type


def _too_big(request) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE


# --- input that is accepted only as people and banks' systems really send it -----------------

MIN_YEAR, MAX_YEAR = 1900, 2199


class IntegerField(serializers.IntegerField):
    """An integer written with ASCII digits only (DRF's int() takes any script's digits)."""

    def to_internal_value(self, data):
        if isinstance(data, str) and not (data.strip().lstrip("-").isascii()):
            self.fail("invalid")
        return super().to_internal_value(data)


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class DateField(serializers.DateField):
    """An ISO date with ASCII digits, between 1900 and 2199: anything else is 400, never a
    date that overflows when a deadline is added to it."""

    def to_internal_value(self, value):
        # Exactly YYYY-MM-DD, as the contract says: Python's ISO parser would also take
        # "20261120" and week dates such as "2026-W47-5".
        if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
            self.fail("invalid", format="YYYY-MM-DD")
        parsed = super().to_internal_value(value)
        if not MIN_YEAR <= parsed.year <= MAX_YEAR:
            raise serializers.ValidationError(
                _("日期须在 %(first)s 至 %(last)s 年之间") % {"first": MIN_YEAR, "last": MAX_YEAR},
                code=FieldError.INVALID,
            )
        return parsed
