"""Filing documents: `POST /api/v1/filings/{id}/documents/` accepts PDF, JPEG, PNG and OFD up
to 20 MB, decided by content (never by name or Content-Type), stored under the checksum."""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from fundmgr.ground.accounts.principals import principal_for
from fundmgr.ground.lib.errors import AppError
from loans.models import FilingDocument
from loans.services import documents
from tests.factories import filing_body

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


# --- small but real files ------------------------------------------------------------------


def pdf_bytes(text: str = "hello") -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n"
        b"2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\n"
        + f"% {text}\n".encode()
        + b"trailer <</Root 1 0 R>>\n%%EOF\n"
    )


def jpeg_bytes() -> bytes:
    # SOI, a JFIF APP0 segment, EOI: enough for every reader to call it a JPEG.
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return b"\xff\xd8\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0 + b"\xff\xd9"


def png_bytes() -> bytes:
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def ofd_bytes() -> bytes:
    return zip_bytes(
        {
            "OFD.xml": b'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" '
            b'Version="1.0" DocType="OFD"><ofd:DocBody><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot>'
            b"</ofd:DocBody></ofd:OFD>",
            "Doc_0/Document.xml": b'<?xml version="1.0" encoding="UTF-8"?><ofd:Document/>',
        }
    )


ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 200
WINDOWS_PE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 52 + b"This program cannot be run in DOS mode.\r\n"


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def filing_id(personas, business_date) -> int:
    business_date("2026-11-21")
    response = personas.client("bank_a").post("/api/v1/filings/", filing_body(), format="json")
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def upload(client, filing_id: int, name: str, data: bytes, content_type: str, kind: str = "loan_contract"):
    return client.post(
        f"/api/v1/filings/{filing_id}/documents/",
        {"kind": kind, "file": SimpleUploadedFile(name, data, content_type=content_type)},
        format="multipart",
    )


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


# --- accepted content ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "client_type", "content_type", "extension"),
    [
        ("借款合同.pdf", pdf_bytes(), "application/pdf", "application/pdf", "pdf"),
        ("放款凭证.jpg", jpeg_bytes(), "image/jpeg", "image/jpeg", "jpg"),
        ("登记通知书.png", png_bytes(), "image/png", "image/png", "png"),
        ("质押合同.ofd", ofd_bytes(), "application/octet-stream", "application/ofd", "ofd"),
        # The name and the client's type are not what decides: a PDF named .txt is a PDF.
        ("scan.txt", pdf_bytes("misnamed"), "text/plain", "application/pdf", "pdf"),
    ],
)
def test_accepted_types_are_stored_under_their_checksum(
    personas, filing_id, media_root, name, data, client_type, content_type, extension
):
    response = upload(personas.client("bank_a"), filing_id, name, data, client_type)

    assert response.status_code == 201, response.json()
    body = response.json()
    digest = hashlib.sha256(data).hexdigest()
    assert body["kind"] == "loan_contract"
    assert body["content_type"] == content_type
    assert body["size"] == len(data)
    assert body["sha256"] == digest
    assert body["original_name"] == name

    document = FilingDocument.objects.get(pk=body["id"])
    assert document.file.name == f"filings/{filing_id}/{digest}.{extension}"
    stored = Path(document.file.path)
    assert stored.is_relative_to(media_root)
    assert Path(name).stem not in str(stored)
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == digest
    assert document.uploaded_by == personas.user("bank_a")


def test_exactly_20_mb_is_accepted(personas, filing_id):
    data = pdf_bytes() + b" " * (documents.MAX_DOCUMENT_BYTES - len(pdf_bytes()))
    assert len(data) == 20 * MB

    response = upload(personas.client("bank_a"), filing_id, "big.pdf", data, "application/pdf")

    assert response.status_code == 201, response.json()
    assert response.json()["size"] == 20 * MB


# --- refused content -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "client_type"),
    [
        ("contract.pdf", ELF, "application/pdf"),
        ("voucher.png", WINDOWS_PE, "image/png"),
        ("pledge.ofd", zip_bytes({"readme.txt": b"not an OFD"}), "application/ofd"),
        # OFD.xml must sit at the archive root, not in a folder.
        ("pledge.ofd", zip_bytes({"inner/OFD.xml": b"<ofd:OFD/>"}), "application/ofd"),
        ("run.pdf", b"#!/bin/sh\nrm -rf /\n", "application/pdf"),
        ("notes.pdf", "这是一段纯文本".encode(), "application/pdf"),
        ("photo.jpg", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/jpeg"),
        # A ZIP header with nothing behind it must be refused, not crash.
        ("broken.ofd", b"PK\x03\x04" + b"\x00" * 64, "application/ofd"),
    ],
    ids=[
        "elf",
        "windows-pe",
        "zip-without-ofd-xml",
        "ofd-xml-not-at-root",
        "script",
        "text",
        "gif",
        "broken-zip",
    ],
)
def test_content_that_is_not_an_accepted_type_is_refused_with_415(
    personas, filing_id, media_root, name, data, client_type
):
    response = upload(personas.client("bank_a"), filing_id, name, data, client_type)

    assert response.status_code == 415
    body = response.json()
    assert response["Content-Type"].startswith("application/problem+json")
    assert body["code"] == "unsupported_file_type"
    assert body["title"] == "不支持的文件类型"
    for label in ("PDF", "JPEG", "PNG", "OFD"):
        assert label in body["detail"]
    assert not FilingDocument.objects.filter(filing_id=filing_id).exists()
    assert stored_files(media_root) == []


def test_a_file_over_20_mb_is_refused_with_413(personas, filing_id, media_root):
    data = pdf_bytes() + b"\0" * (documents.MAX_DOCUMENT_BYTES + 1 - len(pdf_bytes()))

    response = upload(personas.client("bank_a"), filing_id, "big.pdf", data, "application/pdf")

    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"
    assert response.json()["title"] == "文件过大"
    assert not FilingDocument.objects.filter(filing_id=filing_id).exists()
    assert stored_files(media_root) == []


def test_an_empty_file_is_refused_with_400(personas, filing_id, media_root):
    response = upload(personas.client("bank_a"), filing_id, "empty.pdf", b"", "application/pdf")

    assert response.status_code == 400
    assert not FilingDocument.objects.filter(filing_id=filing_id).exists()
    assert stored_files(media_root) == []


def test_service_refuses_an_empty_file_as_empty_file(personas, filing_id):
    with pytest.raises(AppError) as refused:
        documents.document_upload(
            principal=principal_for(personas.user("bank_a")),
            filing_id=filing_id,
            kind="loan_contract",
            upload=SimpleUploadedFile("empty.pdf", b"", content_type="application/pdf"),
        )
    assert (refused.value.status, refused.value.code) == (400, "empty_file")


# --- idempotency, names, listing -----------------------------------------------------------


def test_re_uploading_the_same_bytes_returns_the_same_document(personas, filing_id, media_root):
    client = personas.client("bank_a")
    data = pdf_bytes("once")

    first = upload(client, filing_id, "contract.pdf", data, "application/pdf")
    second = upload(client, filing_id, "contract (1).pdf", data, "application/pdf")

    assert first.status_code == 201 and second.status_code == 201
    assert second.json()["id"] == first.json()["id"]
    assert FilingDocument.objects.filter(filing_id=filing_id).count() == 1
    assert len(stored_files(media_root)) == 1


def test_same_bytes_as_another_kind_is_a_second_document(personas, filing_id):
    client = personas.client("bank_a")
    data = pdf_bytes("two kinds")

    contract = upload(client, filing_id, "a.pdf", data, "application/pdf", kind="loan_contract")
    other = upload(client, filing_id, "a.pdf", data, "application/pdf", kind="other")

    assert contract.status_code == 201 and other.status_code == 201
    assert other.json()["id"] != contract.json()["id"]
    assert other.json()["kind"] == "other"


def test_original_name_is_sanitised_and_bounded(personas, filing_id):
    long_name = "质押合同" * 100 + "\u202etxt.pdf"
    response = upload(personas.client("bank_a"), filing_id, long_name, pdf_bytes(), "application/pdf")

    assert response.status_code == 201, response.json()
    name = response.json()["original_name"]
    assert len(name) <= 255
    assert name.endswith(".pdf")
    assert "\u202e" not in name


def test_uploaded_document_appears_in_the_filing_detail(personas, filing_id):
    client = personas.client("bank_a")
    created = upload(client, filing_id, "valuation.png", png_bytes(), "image/png", kind="valuation_report")
    assert created.status_code == 201, created.json()

    detail = client.get(f"/api/v1/filings/{filing_id}/")

    assert detail.status_code == 200
    assert [(d["id"], d["kind"], d["content_type"]) for d in detail.json()["documents"]] == [
        (created.json()["id"], "valuation_report", "image/png")
    ]


# --- who may upload, and when ---------------------------------------------------------------


def test_another_bank_gets_404(personas, filing_id, media_root):
    response = upload(personas.client("bank_b"), filing_id, "x.pdf", pdf_bytes(), "application/pdf")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert stored_files(media_root) == []


def test_a_regulator_cannot_upload(personas, filing_id, media_root):
    response = upload(personas.client("regulator_x"), filing_id, "x.pdf", pdf_bytes(), "application/pdf")

    assert response.status_code == 403
    assert not FilingDocument.objects.filter(filing_id=filing_id).exists()
    assert stored_files(media_root) == []


def test_an_officer_can_upload_to_any_filing(personas, filing_id):
    response = upload(
        personas.client("officer"), filing_id, "visit.jpg", jpeg_bytes(), "image/jpeg", kind="other"
    )

    assert response.status_code == 201, response.json()
    assert FilingDocument.objects.get(pk=response.json()["id"]).uploaded_by == personas.user("officer")


def test_a_withdrawn_filing_refuses_uploads(personas, filing_id, media_root):
    client = personas.client("bank_a")
    withdrawn = client.post(f"/api/v1/filings/{filing_id}/withdraw/", {"comment": "合同取消"}, format="json")
    assert withdrawn.status_code == 200, withdrawn.json()

    response = upload(client, filing_id, "late.pdf", pdf_bytes(), "application/pdf")

    assert response.status_code == 409
    assert response.json()["code"] == "transition_not_allowed"
    assert stored_files(media_root) == []


def test_a_failed_row_leaves_no_file_behind(personas, filing_id, media_root, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(FilingDocument, "save", refuse)
    with pytest.raises(RuntimeError):
        documents.document_upload(
            principal=principal_for(personas.user("bank_a")),
            filing_id=filing_id,
            kind="loan_contract",
            upload=SimpleUploadedFile("a.pdf", pdf_bytes(), content_type="application/pdf"),
        )
    assert stored_files(media_root) == []


# --- sniffing ------------------------------------------------------------------------------


def test_sniff_needs_the_whole_archive_to_call_a_zip_an_ofd():
    data = ofd_bytes()

    assert documents.sniff(data[:16]) is None
    assert documents.sniff(data[:16], read_more=lambda: io.BytesIO(data)) == ("application/ofd", "ofd")


def test_sniff_refuses_archives_declaring_too_many_entries(monkeypatch):
    data = zip_bytes({"OFD.xml": b"<ofd:OFD/>", **{f"Res/{i}.xml": b"" for i in range(5)}})
    monkeypatch.setattr(documents, "MAX_ARCHIVE_ENTRIES", 5)

    assert documents.sniff(data[:16], read_more=lambda: io.BytesIO(data)) is None
