"""Documents attached to filings (and later claims): type checked by content, stored with a checksum."""

from __future__ import annotations


def document_upload(*, principal, filing_id: int, kind: str, upload):  # pragma: no cover - being built
    raise NotImplementedError
