"""How Chinese text is written in Python code, so the English catalogue sees all of it.

- Text shown to people (labels, messages, errors) is marked: `gettext_lazy` at module or class
  level, `gettext` inside functions, with named placeholders for values:
  `_("批准金额不能高于可补偿金额 %(amount)s 元") % {"amount": format_yuan(x)}`.
- Text recorded in the database (transition comments, ledger memos, stored descriptions) is
  written in the default language whatever the request's:
  `recorded(gettext_noop("贷款于 %(date)s 结清"), date=day)` (catalogued, never translated on
  writing).
- Chinese that is data, not UI text (region names, certificate wording matched in input),
  stays unmarked and is declared in `CHINESE_DATA` in tests/test_translations.py.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise


def recorded(message: str, /, **params: object) -> str:
    """`message` (a `gettext_noop` literal) filled with `params`, in the default language:
    lazy parameters (a choice's `.label`, a `gettext_lazy` text) are rendered in Chinese too,
    so a row written during an English request reads the same as any other."""
    with translation.override(settings.LANGUAGE_CODE):
        text = str(message)
        if params:
            text = text % {name: str(v) if isinstance(v, Promise) else v for name, v in params.items()}
    return text
