"""Only staff holding the dedicated permission 导入台账 import: the system administrator holds
every permission; officers, approvers, the committee and finance only when granted it;
regulators and banks never. Downloading a fund's books is for the fund manager's staff."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from fundmgr.ground.lib.errors import Forbidden
from fundmgr.top.books.models import ImportRun
from fundmgr.top.books.services import books_import, can_import, import_run_create

from .conftest import sample_file

pytestmark = pytest.mark.django_db

PERSONAS = ("admin", "officer", "approver", "committee", "finance", "regulator_x", "bank_a")
UPLOAD = "/admin/books/importrun/upload/"


def client_for(personas, name: str) -> Client:
    client = Client()
    client.force_login(personas.user(name))
    return client


def grant(user) -> None:
    user.user_permissions.add(
        Permission.objects.get(codename="import_workbook", content_type__app_label="books")
    )


@pytest.fixture
def books(personas, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    from fundmgr.top.books.sample import sample_fund

    sample_fund(code="smp", prefix="SP")
    return sample_file(tmp_path)


def test_only_the_system_administrator_may_import_by_role(personas):
    assert {name: can_import(personas.user(name)) for name in PERSONAS} == {
        "admin": True,
        "officer": False,
        "approver": False,
        "committee": False,
        "finance": False,
        "regulator_x": False,
        "bank_a": False,
    }


@pytest.mark.parametrize("name", [p for p in PERSONAS if p != "admin"])
def test_import_is_refused_without_the_permission(personas, books, name):
    user = personas.user(name)
    with pytest.raises(Forbidden) as refused:
        books_import(file=str(books), by=user)
    assert refused.value.code == "import_permission_required" and refused.value.status == 403
    with pytest.raises(Forbidden):
        import_run_create(upload=SimpleUploadedFile("b.xlsx", books.read_bytes()), by=user)
    # The admin pages say no as well (a bank's system user is not let into the admin at all).
    response = client_for(personas, name).post(
        UPLOAD, {"file": SimpleUploadedFile("b.xlsx", books.read_bytes())}
    )
    assert response.status_code == (302 if name == "bank_a" else 403)
    assert client_for(personas, name).get("/admin/books/importrun/").status_code in (302, 403)
    assert not ImportRun.objects.exists()


def test_the_permission_granted_to_an_officer_lets_the_officer_import(personas, books):
    officer = personas.user("officer")
    grant(officer)
    officer = type(officer).objects.get(pk=officer.pk)  # permissions are cached per user object

    assert can_import(officer)
    assert client_for(personas, "officer").get(UPLOAD).status_code == 200
    report = books_import(file=str(books), by=officer)
    assert report.imported, report.errors[:3]


def test_a_regulator_granted_the_permission_still_may_not_import(personas, books):
    regulator = personas.user("regulator_x")
    grant(regulator)
    regulator = type(regulator).objects.get(pk=regulator.pk)
    assert not can_import(regulator)
    assert client_for(personas, "regulator_x").get(UPLOAD).status_code == 403


def test_the_import_pages_are_listed_only_for_those_who_may_use_them(personas):
    assert "台账导入" in client_for(personas, "admin").get("/admin/").content.decode()
    assert "台账导入" not in client_for(personas, "officer").get("/admin/").content.decode()


@pytest.mark.parametrize(
    ("name", "status"), [("officer", 200), ("finance", 200), ("admin", 200), ("regulator_x", 403)]
)
def test_downloading_a_funds_books_is_for_the_fund_managers_staff(personas, name, status):
    response = client_for(personas, name).get("/admin/funds/fund/books/zhaoqing/")
    assert response.status_code == status
    if status == 200:
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
        assert "zhaoqing-" in response["Content-Disposition"]
