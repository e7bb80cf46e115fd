"""The JSON parser of the API: DRF's, refusing bodies no client means to send."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.parsers import JSONParser

from .errors import FieldError

MAX_JSON_DEPTH = 32


def _check_json(value, depth: int = 0) -> None:
    """Refuse what no client means to send: nesting deeper than MAX_JSON_DEPTH, strings with
    lone surrogates or control characters (other than tab and line breaks)."""
    if depth > MAX_JSON_DEPTH:
        raise exceptions.ParseError(
            _("JSON 嵌套不能超过 %(depth)s 层") % {"depth": MAX_JSON_DEPTH}, code=FieldError.PARSE_ERROR
        )
    if isinstance(value, dict):
        for key, item in value.items():
            _check_json(key, depth + 1)
            _check_json(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_json(item, depth + 1)
    elif isinstance(value, str):
        for char in value:
            code = ord(char)
            if 0xD800 <= code <= 0xDFFF:
                raise exceptions.ParseError(
                    _("文本含有无效的 Unicode 字符（单独的代理项）"), code=FieldError.PARSE_ERROR
                )
            if code < 0x20 and char not in "\t\n\r":
                raise exceptions.ParseError(_("文本含有控制字符"), code=FieldError.PARSE_ERROR)


class StrictJSONParser(JSONParser):
    """DRF's JSON parser, with a clear 400 for bodies nested too deep or carrying text that is
    not text (instead of a RecursionError or UnicodeEncodeError somewhere later)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise exceptions.ParseError(
                _("JSON 嵌套不能超过 %(depth)s 层") % {"depth": MAX_JSON_DEPTH}, code=FieldError.PARSE_ERROR
            ) from exc
        _check_json(data)
        return data
