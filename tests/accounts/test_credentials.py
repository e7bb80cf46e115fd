"""Issuing API keys and tokens: printed once as the last line, stored hashed."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from fundmgr.ground.accounts.models import ApiToken, InstitutionAPIKey

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip().splitlines()[-1]


def test_issue_api_key_prints_a_working_key_stored_hashed(demo):
    key = run("issue_api_key", "zqrcb")
    stored = InstitutionAPIKey.objects.get(institution__code="zqrcb")
    assert key not in stored.hashed_key and stored.hashed_key != key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    response = client.get("/api/v1/funds/")
    assert response.status_code == 200
    assert [f["code"] for f in response.json()["results"]] == ["zhaoqing"]


def test_issue_token_prints_a_working_token_stored_hashed(demo):
    token = run("issue_token", "regulator-foshan")
    stored = ApiToken.objects.get(user__username="regulator-foshan")
    assert stored.hashed_key != token and token.startswith(stored.prefix)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert [f["code"] for f in client.get("/api/v1/funds/").json()["results"]] == ["foshan"]


@pytest.mark.parametrize(("command", "arg"), [("issue_api_key", "no-such-bank"), ("issue_token", "nobody")])
def test_unknown_names_fail_clearly(demo, command, arg):
    with pytest.raises(CommandError, match="不存在"):
        call_command(command, arg, stdout=StringIO())


def test_institution_system_users_cannot_get_personal_tokens(demo):
    from banks.models import Institution
    from fundmgr.ground.accounts.services import institution_system_user

    user = institution_system_user(institution=Institution.objects.get(code="zqrcb"))
    assert not user.has_usable_password()
    with pytest.raises(CommandError):
        call_command("issue_token", user.username, stdout=StringIO())


def test_a_person_who_signed_a_step_is_deactivated_never_deleted(personas, client):
    """Deleting a staff user would rewrite the history of what they signed ("system")."""
    from django.db import transaction
    from django.db.models import ProtectedError
    from django.urls import reverse
    from django_fsm_log.models import StateLog

    from enterprises.models import Enterprise
    from enterprises.services import enterprise_transition
    from fundmgr.ground.accounts.models import Role, User

    officer = User.objects.get(username="officer")
    enterprise = Enterprise.objects.get(uscc="91440205644436061W")
    enterprise_transition(enterprise_id=enterprise.pk, name="start_review", user=officer, comment="开始审核")
    with pytest.raises(ProtectedError), transaction.atomic():
        officer.delete()
    assert StateLog.objects.filter(by=officer, transition="start_review").exists()
    admin_user = User.objects.get(username="admin")
    client.force_login(admin_user)
    page = client.get(reverse("admin:accounts_user_delete", args=[officer.pk]))
    assert page.status_code == 403
    officer.is_active = False  # what staff do instead
    officer.save(update_fields=["is_active"])
    assert StateLog.objects.get(by=officer, transition="start_review").by.username == "officer"
    # someone who never signed anything can still be removed
    User.objects.create(username="temp-clerk", role=Role.OFFICER).delete()


@pytest.mark.postgres
def test_the_transition_log_is_append_only_in_the_database(personas):
    from django.db import DatabaseError, transaction
    from django_fsm_log.models import StateLog

    from fundmgr.ground.accounts.models import TransitionDate

    entry = StateLog.objects.order_by("id").first() or None
    if entry is None:
        from enterprises.models import Enterprise
        from enterprises.services import enterprise_transition
        from fundmgr.ground.accounts.models import User

        enterprise = Enterprise.objects.get(uscc="91440205644436061W")
        enterprise_transition(
            enterprise_id=enterprise.pk, name="start_review", user=User.objects.get(username="officer")
        )
        entry = StateLog.objects.order_by("id").first()
    for attempt in (
        lambda: StateLog.objects.filter(pk=entry.pk).update(description="rewritten"),
        lambda: StateLog.objects.filter(pk=entry.pk).delete(),
        lambda: TransitionDate.objects.filter(log_id=entry.pk).update(on="2000-01-01"),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            attempt()
    assert StateLog.objects.get(pk=entry.pk).description != "rewritten"


def test_a_bank_key_is_read_with_its_system_user_in_one_statement(demo, django_assert_num_queries):
    """Every bank request starts with its key: the key, the institution's system user, its
    organisation and institution come in one read, and nothing more is read to scope it."""
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from fundmgr.ground.accounts.authentication import ApiKeyAuthentication
    from fundmgr.ground.accounts.principals import principal_for

    key = run("issue_api_key", "zqrcb")
    APIClient().get("/api/v1/funds/", HTTP_AUTHORIZATION=f"Api-Key {key}")  # the system user exists now
    request = Request(APIRequestFactory().get("/", HTTP_AUTHORIZATION=f"Api-Key {key}"))
    with django_assert_num_queries(1):
        user, api_key = ApiKeyAuthentication().authenticate(request)
        principal = principal_for(user)
        assert (user.organization.institution.code, api_key.institution.code) == ("zqrcb", "zqrcb")
        assert principal.is_institution and principal.institution_id == api_key.institution_id
    assert (
        user.username == "inst:zqrcb"
        and api_key.pk == InstitutionAPIKey.objects.get(institution__code="zqrcb").pk
    )
    # the right prefix with another secret is refused
    prefix, _, secret = key.partition(".")
    wrong = APIClient().get("/api/v1/funds/", HTTP_AUTHORIZATION=f"Api-Key {prefix}.{secret[::-1]}")
    assert wrong.status_code == 401
