"""Documents attached to filings (and later claims): type checked by content, stored with a checksum.

The client's file name and Content-Type are never trusted: the type is decided from the
bytes (magic numbers, and for OFD the archive's name list), the stored name is the SHA-256
(see `models._document_path`), and the original name is kept only as a sanitised label.
"""

from __future__ import annotations

import hashlib
import struct
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext, gettext_lazy

from fundmgr.ground.accounts.principals import Principal
from fundmgr.ground.accounts.workflow import STAFF_REVIEW
from fundmgr.ground.lib.errors import AppError, CommonError, Conflict, FieldError, Forbidden, NotFound
from loans.errors import LoansError

from ..models import DocumentKind, FilingDocument, FilingStatus, LoanFiling

# The API contract (shared/spec/api.md, `POST /api/v1/filings/{id}/documents/`) caps a
# document at 20 MB. nginx allows 25 MB bodies so the multipart overhead still fits and the
# refusal comes from here as a problem+json 413 rather than from the proxy.
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024

# Filings in these states are closed: nothing may be added to their file any more.
FINAL_FILING_STATUSES = (FilingStatus.REJECTED, FilingStatus.WITHDRAWN, FilingStatus.VOIDED)

MAX_ORIGINAL_NAME = 255  # FilingDocument.original_name max_length


class FileTooLarge(AppError):
    status = 413
    title = gettext_lazy("文件过大")


class UnsupportedFileType(AppError):
    status = 415
    title = gettext_lazy("不支持的文件类型")


@dataclass(frozen=True)
class AcceptedType:
    label: str
    content_type: str
    extension: str
    magic: bytes
    # A ZIP signature alone says nothing about the contents: OFD needs its archive inspected.
    is_archive: bool = False


# The one table of what may be uploaded. Order matters only for readability: the magic
# numbers are disjoint.
ACCEPTED_TYPES: tuple[AcceptedType, ...] = (
    AcceptedType("PDF", "application/pdf", "pdf", b"%PDF-"),
    AcceptedType("JPEG", "image/jpeg", "jpg", b"\xff\xd8\xff"),
    AcceptedType("PNG", "image/png", "png", b"\x89PNG\r\n\x1a\n"),
    AcceptedType("OFD", "application/ofd", "ofd", b"PK\x03\x04", is_archive=True),
)
SNIFF_BYTES = max(len(t.magic) for t in ACCEPTED_TYPES)
ACCEPTED_LABELS = "、".join(t.label for t in ACCEPTED_TYPES)

# OFD (GB/T 33190) is a ZIP whose root holds OFD.xml. Only the central directory is read —
# nothing is decompressed — but a hostile archive can still declare a huge directory, so its
# size and entry count are bounded before `zipfile` parses it. Real OFD documents have tens
# to a few thousand entries.
OFD_ROOT_ENTRY = "OFD.xml"
MAX_ARCHIVE_ENTRIES = 10_000
MAX_CENTRAL_DIRECTORY_BYTES = 2 * 1024 * 1024
_EOCD = struct.Struct("<4s4H2LH")  # end-of-central-directory record, without its comment
_EOCD_SIGNATURE = b"PK\x05\x06"
_ZIP64_LOCATOR_SIGNATURE = b"PK\x06\x07"


def sniff(head: bytes, *, read_more: Callable[[], IO[bytes]] | None = None) -> tuple[str, str] | None:
    """(content_type, extension) of an accepted document, recognised from its first bytes,
    or None when the content is not one of ACCEPTED_TYPES.

    `read_more` gives the whole file (seekable, binary); it is only called for ZIP content,
    whose central directory is at the end. Without it a ZIP cannot be confirmed as OFD and
    is refused.
    """
    for accepted in ACCEPTED_TYPES:
        if not head.startswith(accepted.magic):
            continue
        if accepted.is_archive and (read_more is None or not _is_ofd(read_more())):
            return None
        return accepted.content_type, accepted.extension
    return None


def _is_ofd(fileobj: IO[bytes]) -> bool:
    try:
        if not _archive_within_bounds(fileobj):
            return False
        fileobj.seek(0)
        with zipfile.ZipFile(fileobj) as archive:
            return any(info.filename == OFD_ROOT_ENTRY and not info.is_dir() for info in archive.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, struct.error):
        # Any archive that cannot be read is, for this purpose, not an OFD document.
        return False


def _archive_within_bounds(fileobj: IO[bytes]) -> bool:
    """Read the end-of-central-directory record ourselves and refuse ZIP64 and archives
    declaring more entries or a larger directory than a document needs."""
    fileobj.seek(0, 2)
    total = fileobj.tell()
    tail_len = min(total, _EOCD.size + 0xFFFF)  # the record plus the longest possible comment
    fileobj.seek(total - tail_len)
    tail = fileobj.read(tail_len)
    at = tail.rfind(_EOCD_SIGNATURE)
    if at < 0 or len(tail) - at < _EOCD.size:
        return False
    _, _, _, _, entries, directory_size, directory_offset, _ = _EOCD.unpack_from(tail, at)
    if entries == 0xFFFF or directory_size == 0xFFFFFFFF or directory_offset == 0xFFFFFFFF:
        return False  # ZIP64 markers: no legitimate 20 MB document needs them
    if at >= 20 and tail[at - 20 : at - 16] == _ZIP64_LOCATOR_SIGNATURE:
        return False
    return 0 < entries <= MAX_ARCHIVE_ENTRIES and directory_size <= MAX_CENTRAL_DIRECTORY_BYTES


def sanitise_name(name: str | None) -> str:
    """The client's file name as a display label only: no path, no control or bidi
    characters, no characters that are unsafe in file names, at most 255 characters."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C") and ch not in '<>:"|?*')
    name = " ".join(name.split()).strip(". ")
    if not name:
        return "document"
    if len(name) > MAX_ORIGINAL_NAME:
        stem, dot, suffix = name.rpartition(".")
        if dot and stem and len(suffix) <= 16:
            name = f"{stem[: MAX_ORIGINAL_NAME - len(suffix) - 1]}.{suffix}"
        else:
            name = name[:MAX_ORIGINAL_NAME]
    return name


def _check_may_upload(principal: Principal, filing: LoanFiling) -> None:
    if principal.is_institution:
        if filing.institution_id != principal.institution_id:
            # Another institution's filing does not exist for this caller (scope rule: 404).
            raise NotFound(gettext("备案不存在或无权访问"))
        return
    if principal.has_role(*STAFF_REVIEW):
        return
    raise Forbidden(CommonError.PERMISSION_DENIED, gettext("仅提交备案的合作机构或业务人员可以上传备案材料"))


def _check_open(filing: LoanFiling) -> None:
    if filing.status in FINAL_FILING_STATUSES:
        raise Conflict(
            CommonError.TRANSITION_NOT_ALLOWED,
            gettext("备案已%(status)s，不能再上传材料") % {"status": filing.get_status_display()},
        )


def _digest(upload: UploadedFile) -> tuple[str, int]:
    """SHA-256 and byte count, read chunk by chunk so a 20 MB file never sits in memory."""
    sha = hashlib.sha256()
    size = 0
    for chunk in upload.chunks():
        size += len(chunk)
        if size > MAX_DOCUMENT_BYTES:
            raise _too_large()
        sha.update(chunk)
    return sha.hexdigest(), size


def _too_large() -> AppError:
    return FileTooLarge("file_too_large", gettext("文件超过 20 MB 上限"), field="file")


def document_upload(
    *, principal: Principal, filing_id: int, kind: str, upload: UploadedFile, claim_id: int | None = None
) -> FilingDocument:
    """Attach a document to a filing, by the filing's institution or review staff.

    Re-uploading the same bytes as the same kind returns the existing document, so a client
    retrying after a lost response does not create duplicates.
    """
    filing = LoanFiling.objects.filter(pk=filing_id).first()
    if filing is None:
        raise NotFound(gettext("备案不存在或无权访问"))
    _check_may_upload(principal, filing)
    _check_open(filing)
    if kind not in DocumentKind.values:
        raise AppError(FieldError.INVALID_CHOICE, gettext("材料类型无效"), field="kind", status=400)

    # Cheap refusals first, on the size the upload handler counted; the count while hashing
    # below is the authoritative one.
    if upload.size is not None and upload.size > MAX_DOCUMENT_BYTES:
        raise _too_large()
    if upload.size == 0:
        raise AppError(LoansError.EMPTY_FILE, gettext("文件为空"), field="file", status=400)

    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    detected = sniff(head, read_more=lambda: upload.file)
    if detected is None:
        raise UnsupportedFileType(
            LoansError.UNSUPPORTED_FILE_TYPE,
            gettext("仅支持 %(types)s 格式的文件（按文件内容识别，不看文件名和扩展名）")
            % {"types": ACCEPTED_LABELS},
            field="file",
        )
    content_type, extension = detected
    sha256, size = _digest(upload)
    if size == 0:
        raise AppError(LoansError.EMPTY_FILE, gettext("文件为空"), field="file", status=400)

    stored_name: str | None = None
    try:
        with transaction.atomic(durable=True):
            # The filing's row lock serialises concurrent uploads, so the duplicate check
            # below cannot race, and a withdrawal cannot slip in between check and write.
            filing = LoanFiling.objects.select_for_update().get(pk=filing_id)
            _check_open(filing)
            existing = FilingDocument.objects.filter(
                filing=filing, claim_id=claim_id, sha256=sha256, kind=kind
            ).first()
            if existing is not None:
                return existing
            document = FilingDocument(
                filing=filing,
                claim_id=claim_id,
                kind=kind,
                original_name=sanitise_name(upload.name),
                content_type=content_type,
                extension=extension,
                size=size,
                sha256=sha256,
                uploaded_by=principal.user,
            )
            # The name passed here is ignored by `_document_path`: the checksum names the file.
            document.file.save(f"{sha256}.{extension}", upload, save=False)
            stored_name = document.file.name
            document.save()
    except BaseException:
        # The row (or the commit) failed: the file just written must not be left orphaned.
        if stored_name:
            FilingDocument._meta.get_field("file").storage.delete(stored_name)
        raise
    return document
