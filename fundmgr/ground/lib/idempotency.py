"""`Idempotency-Key` for POSTs: a retried request replays the first answer instead of acting twice.

Contract (shared/spec/api.md, "Idempotency"): the same key with the same body replays the first
response (status and body, plus `Idempotent-Replayed: true`); the same key with another body is
409 `idempotency_key_reused`; a key must be 1–255 characters (else 400
`invalid_idempotency_key`); keys are kept `IDEMPOTENCY_KEY_TTL_DAYS` days (7 by default).

A view opts in by putting `IdempotentMixin` before its DRF base class:

    class FilingViewSet(IdempotentMixin, viewsets.GenericViewSet):
        def create(self, request):
            filing = services.filing_submit(principal=principal_from_request(request), ...)
            return Response(FilingSerializer(filing).data, status=201)

Every POST of that view (create and POST actions alike) then honours the header.

How it works, and why:

- The key is looked at only after DRF has authenticated the caller, checked permissions and
  throttles, so a 401/403/429 is never stored and the key is scoped by who is calling: an
  institution (`inst:<id>`: every API key of one bank shares its keys), else the user
  (`user:<id>`). Anonymous callers get no idempotency (there is nobody to scope by).
  The scope also includes method and path, so one key may be reused on another endpoint.
- Before the view runs, a row is INSERTed with `status_code` null in its own short
  transaction. The unique constraint (scope, key, method, path) decides which of several
  concurrent duplicates runs the view: the losers get an IntegrityError. The view itself is
  NOT wrapped in a transaction: services open their own durable ones.
- A loser compares body hashes (a mismatch is 409 at once), replays a completed row, and waits
  for one still in progress, polling up to `idempotency_wait_seconds` (10 s), then answers 409
  `idempotency_request_in_progress` with `Retry-After`. An in-progress row older than
  `idempotency_stale_after_seconds` is taken to belong to a crashed process and is taken over.
- 2xx and 4xx answers are stored (rendered bytes and content type). A 5xx, an exception or a
  streaming response deletes the row, so the client can retry with the same key — unless the
  request's work was already committed: the first write of every transaction the view opens
  also stamps the row's `acted_at`, in that same transaction, so the stamp is there exactly
  when the work is. A request that fails after its work committed (the connection lost
  between the commit and the answer) keeps its row with a 409 `idempotency_answer_lost`
  answer: the retry is told the work was done and to read the result, never does it twice.
- A body that cannot be parsed (400/415 from the parser) is answered before any row exists;
  it would be refused the same way on every retry anyway.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from contextlib import ExitStack
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone, translation
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request

from fundmgr.ground.lib.errors import CommonError

from . import dbfaults
from .api import PROBLEM_CONTENT_TYPE, problem, problem_body
from .models import IdempotencyRecord

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
DEFAULT_TTL_DAYS = 7

_PATH_MAX = IdempotencyRecord._meta.get_field("path").max_length

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    name=HEADER,
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description=gettext_lazy(
        "幂等键（1–255 个字符）。相同键、相同请求内容的重试将重放首次响应（响应头 "
        "Idempotent-Replayed: true）；相同键、不同内容返回 409 idempotency_key_reused。"
        "幂等键至少保留 7 天。"
    ),
)


def ttl_days() -> int:
    """How many days keys are kept (setting `IDEMPOTENCY_KEY_TTL_DAYS`, default 7)."""
    return int(getattr(settings, "IDEMPOTENCY_KEY_TTL_DAYS", DEFAULT_TTL_DAYS))


def key_is_valid(key: str) -> bool:
    # Control characters cannot come through a real HTTP header; refuse them rather than
    # store something no client could send again.
    return 0 < len(key) <= MAX_KEY_LENGTH and all(ch >= " " and ch != "\x7f" for ch in key)


def request_fingerprint(request: Request) -> str:
    """SHA-256 of the canonical request body.

    JSON: the parsed value re-serialised with sorted keys and no whitespace, so key order and
    formatting do not make a retry look like a different request. Forms/multipart: field
    names and values, and for each file its name and the SHA-256 of its content.
    """
    data = request.data
    if isinstance(data, MultiValueDict):  # QueryDict from the form and multipart parsers
        canonical = "form:" + _dumps(_form_canonical(data))
    else:
        canonical = "json:" + _dumps(data)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _form_canonical(data: MultiValueDict) -> dict[str, dict[str, list[Any]]]:
    fields: dict[str, list[str]] = {}
    files: dict[str, list[dict[str, str]]] = {}
    for name, values in data.lists():
        for value in values:
            if isinstance(value, UploadedFile):
                files.setdefault(name, []).append({"name": value.name or "", "sha256": _file_sha256(value)})
            else:
                fields.setdefault(name, []).append(str(value))
    return {"fields": fields, "files": files}


def _file_sha256(upload: UploadedFile) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)  # the view reads the file after us
    return digest.hexdigest()


def _stored_path(path: str) -> str:
    # The column is bounded; an over-long path is stored as its digest, still unique.
    if len(path) <= _PATH_MAX:
        return path
    return "sha256:" + hashlib.sha256(path.encode("utf-8")).hexdigest()


def idempotency_purge_expired(days: int | None = None, *, batch_size: int = 5000) -> int:
    """Delete records created more than `days` (default: the TTL setting) ago; return how many.

    Deletes in batches so a large backlog does not hold one long transaction.
    """
    days = ttl_days() if days is None else days
    if days < 1:
        raise ValueError("idempotency keys must be kept at least one day")
    cutoff = timezone.now() - timedelta(days=days)
    total = 0
    while True:
        ids = list(
            IdempotencyRecord.objects.filter(created_at__lt=cutoff)
            .order_by()
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return total
        deleted, _ = IdempotencyRecord.objects.filter(pk__in=ids).delete()
        total += deleted


class IdempotentAutoSchema(AutoSchema):
    """Documents the `Idempotency-Key` header on the operations that honour it."""

    def get_override_parameters(self):
        params = list(super().get_override_parameters())
        if self.method.upper() in getattr(self.view, "idempotent_methods", ()):
            params.append(IDEMPOTENCY_KEY_PARAMETER)
        return params


ANSWER_LOST_DETAIL = gettext_lazy(
    "使用该幂等键的请求已执行并提交，但其应答未能送达（数据库连接中断）。"
    "请查询相应记录核对结果，切勿换用新的幂等键重复提交。"
)
_WRITES = ("INSERT", "UPDATE", "DELETE")


class _ActedStamp:
    """An execute wrapper: the first write of each transaction also stamps the idempotency
    row's `acted_at` in that transaction. Whether the stamp is already in the current one is
    read off the connection's on-commit list: Django drops a transaction's (or a rolled back
    savepoint's) callbacks with it, so a rolled back attempt leaves nothing that looks done."""

    def __init__(self, record_id: int) -> None:
        self.record_id = record_id
        self._busy = False
        self._table = IdempotencyRecord._meta.db_table

        def stamped() -> None:  # the marker in the on-commit list; nothing to do on commit
            return None

        self._marker = stamped

    def __call__(self, execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        db = context["connection"]
        if (
            self._busy
            or not db.in_atomic_block
            or not sql.lstrip()[:6].upper().startswith(_WRITES)
            or self._table in sql
            or any(entry[1] is self._marker for entry in db.run_on_commit)
        ):
            return result
        self._busy = True
        try:
            IdempotencyRecord.objects.using(db.alias).filter(pk=self.record_id).update(
                acted_at=timezone.now()
            )
            transaction.on_commit(self._marker, using=db.alias)
        finally:
            self._busy = False
        return result


class _ShortCircuit(Exception):
    """Carries an answer decided before the view ran (replay, 400, 409) to handle_exception."""

    def __init__(self, response: HttpResponseBase) -> None:
        super().__init__("idempotency short-circuit")
        self.response = response


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(
        bytes(record.response_body),  # memoryview on PostgreSQL
        status=record.status_code,
        content_type=record.response_content_type or None,
    )
    response[REPLAYED_HEADER] = "true"
    return response


class IdempotentMixin:
    """DRF view mixin: honour `Idempotency-Key` on `idempotent_methods`. Put it first in the bases."""

    idempotent_methods: tuple[str, ...] = ("POST",)
    # How long a duplicate waits for the first request to finish before answering 409.
    idempotency_wait_seconds: float = 10.0
    idempotency_poll_interval: float = 0.1
    # An in-progress row this old is from a process that died mid-request: take it over.
    # Far above any request timeout, so a slow but live request is never run twice.
    idempotency_stale_after_seconds: float = 600.0

    schema = IdempotentAutoSchema()

    _idempotency_record_id: int | None = None
    _idempotency_watch: ExitStack | None = None

    def idempotency_scope(self, request: Request) -> str | None:
        """Whose key space a request uses; None: no key space (anonymous), keys ignored.
        Here the authenticated user; `fundmgr.ground.accounts.api.IdempotentMixin` shares one space
        per partner institution."""
        user = getattr(request, "user", None)
        if user is None or not getattr(user, "is_authenticated", False):
            return None
        return f"user:{user.pk}"

    # --- DRF hooks -------------------------------------------------------------------------

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # Authentication, permissions and throttles first: refusals are not stored, and the
        # scope needs the caller.
        super().initial(request, *args, **kwargs)
        self._idempotency_record_id = None
        if request.method not in self.idempotent_methods:
            return
        key = request.headers.get(HEADER)
        if key is None:
            return
        if not key_is_valid(key):
            raise _ShortCircuit(
                problem(
                    400,
                    code=CommonError.INVALID_IDEMPOTENCY_KEY,
                    detail=_("%(header)s 必须为 1–%(limit)s 个字符")
                    % {"header": HEADER, "limit": MAX_KEY_LENGTH},
                )
            )
        scope = self.idempotency_scope(request)
        if scope is None:
            return
        self._idempotency_record_id = self._idempotency_claim(
            scope=scope,
            key=key,
            method=request.method,
            path=_stored_path(request.path),
            request_hash=request_fingerprint(request),
        )
        self._idempotency_watch = ExitStack()
        self._idempotency_watch.enter_context(
            connections[DEFAULT_DB_ALIAS].execute_wrapper(_ActedStamp(self._idempotency_record_id))
        )

    def _idempotency_unwatch(self) -> None:
        watch, self._idempotency_watch = self._idempotency_watch, None
        if watch is not None:
            watch.close()

    def handle_exception(self, exc: Exception) -> HttpResponseBase:
        if isinstance(exc, _ShortCircuit):
            return exc.response
        try:
            return super().handle_exception(exc)
        except BaseException:
            # An unhandled error becomes a 500: free the key so the client can retry.
            self._idempotency_unwatch()
            self._idempotency_release()
            raise

    def finalize_response(
        self, request: Request, response: HttpResponseBase, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        response = super().finalize_response(request, response, *args, **kwargs)
        self._idempotency_unwatch()
        record_id = self._idempotency_record_id
        if record_id is None:
            return response
        status = response.status_code
        if not (200 <= status < 300 or 400 <= status < 500) or response.streaming:
            self._idempotency_release()
            return response
        try:
            if callable(getattr(response, "render", None)):
                response.render()  # a DRF Response has no bytes until rendered
        except BaseException:
            self._idempotency_release()  # the client gets a 500 and may retry
            raise
        try:
            IdempotencyRecord.objects.filter(pk=record_id).update(
                status_code=status,
                response_body=bytes(response.content),
                response_content_type=response.get("Content-Type", ""),
                completed_at=timezone.now(),
            )
        except Exception:
            # The work is done and the client still gets its answer; turning it into a 500
            # would invite the very retry that duplicates it.
            log.exception("could not store the idempotent response of record %s", record_id)
            self._idempotency_release()
            return response
        self._idempotency_record_id = None
        return response

    # --- the claim -------------------------------------------------------------------------

    def _idempotency_claim(self, *, scope: str, key: str, method: str, path: str, request_hash: str) -> int:
        """Return the id of a new in-progress row we own, or raise _ShortCircuit with the answer."""
        lookup = {"scope": scope, "key": key, "method": method, "path": path}
        deadline = time.monotonic() + self.idempotency_wait_seconds
        while True:
            try:
                # Its own short (non-durable) transaction: committed before the view runs so
                # concurrent duplicates see it; a savepoint when already inside one (tests).
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(**lookup, request_hash=request_hash)
                return record.pk
            except IntegrityError:
                pass
            record = IdempotencyRecord.objects.filter(**lookup).first()
            if record is None:
                # The earlier request failed (5xx) and freed the key between our insert and
                # this read: try to claim it again.
                if time.monotonic() >= deadline:
                    raise _ShortCircuit(self._idempotency_in_progress()) from None
                continue
            if record.request_hash != request_hash:
                raise _ShortCircuit(
                    problem(
                        409, code=CommonError.IDEMPOTENCY_KEY_REUSED, detail=_("该幂等键已用于不同的请求内容")
                    )
                )
            if record.is_completed:
                raise _ShortCircuit(_replay(record))
            age = (timezone.now() - record.created_at).total_seconds()
            if age > self.idempotency_stale_after_seconds:
                # Only one taker deletes the stale row (the filter pins it); all then race to
                # insert again and the unique constraint picks one.
                stale = IdempotencyRecord.objects.filter(
                    pk=record.pk, status_code__isnull=True, created_at=record.created_at
                )
                if record.acted_at is not None:  # its work committed: never run it again
                    _answer_lost(stale)
                    continue
                stale.filter(acted_at__isnull=True).delete()
                log.warning("took over stale in-progress idempotency record %s (%s)", record.pk, lookup)
                continue
            if time.monotonic() >= deadline:
                raise _ShortCircuit(self._idempotency_in_progress())
            time.sleep(self.idempotency_poll_interval)

    def _idempotency_in_progress(self) -> HttpResponseBase:
        return problem(
            409,
            code=CommonError.IDEMPOTENCY_REQUEST_IN_PROGRESS,
            detail=_("使用该幂等键的请求仍在处理中，请稍后重试"),
            headers={"Retry-After": "1"},
        )

    def _idempotency_release(self) -> None:
        record_id, self._idempotency_record_id = self._idempotency_record_id, None
        if record_id is None:
            return
        for attempt in (1, 2):
            try:
                pending = IdempotencyRecord.objects.filter(pk=record_id, status_code__isnull=True)
                freed, _ = pending.filter(acted_at__isnull=True).delete()
                if not freed:  # the work committed before the failure: say so to the retry
                    _answer_lost(pending)
                return
            except Exception:
                # The request's database connection may have been lost under it (often why it
                # failed): on a new one the key is freed now, rather than refusing the client's
                # retry as "in progress" until the row goes stale.
                if attempt == 1 and dbfaults.close_lost_connections():
                    continue
                # Never mask the original error; the row goes stale and is taken over later.
                log.exception("could not release idempotency record %s", record_id)
                return


def _answer_lost(pending) -> None:
    """Complete in-progress rows whose work committed but whose answer never left: a retry
    replays a 409 `idempotency_answer_lost` instead of doing the work again."""
    with translation.override(settings.LANGUAGE_CODE):  # recorded: in the default language
        body = json.dumps(
            problem_body(409, code=CommonError.IDEMPOTENCY_ANSWER_LOST, detail=ANSWER_LOST_DETAIL),
            ensure_ascii=False,
            cls=DjangoJSONEncoder,
        ).encode("utf-8")
    for record_id in list(pending.filter(acted_at__isnull=False).values_list("pk", flat=True)):
        IdempotencyRecord.objects.filter(pk=record_id, status_code__isnull=True).update(
            status_code=409,
            response_body=body,
            response_content_type=PROBLEM_CONTENT_TYPE,
            completed_at=timezone.now(),
        )
        log.warning("idempotency record %s: the work was committed but its answer was lost", record_id)
