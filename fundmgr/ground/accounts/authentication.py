"""API authentication: `Api-Key <key>` for institutions, `Token <token>` for people.

djangorestframework-api-key checks keys as a permission; we need to know *who* is calling
to scope every query, so the key is resolved to its institution's system user here.
"""

from __future__ import annotations

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions

from fundmgr.ground.lib import rawsql
from fundmgr.ground.lib.errors import CommonError
from fundmgr.ground.lib.rawsql import columns

from .models import ApiToken, InstitutionAPIKey, Organization, User
from .services import SYSTEM_USER_PREFIX, institution_system_user


def _credential(request, keyword: str) -> str | None:
    header = authentication.get_authorization_header(request).decode("latin-1")
    parts = header.split()
    if not parts or parts[0].lower() != keyword.lower():
        return None
    if len(parts) != 2:
        raise exceptions.AuthenticationFailed(_("认证信息格式错误"), code=CommonError.INVALID_CREDENTIALS)
    return parts[1]


def _system_user_with_key(prefix: str) -> tuple[User | None, InstitutionAPIKey | None]:
    """The usable key with `prefix` and the system user its institution acts as, with the
    user's organisation and institution, in one statement: every bank request starts here,
    and the ORM's four-table query cost more to build than to answer. (None, None) when
    either is missing."""
    q = connection.ops.quote_name
    user, org = columns(User, "u"), columns(Organization, "o")
    # the institution as the key's own relation knows it (as select_related would)
    inst = columns(InstitutionAPIKey._meta.get_field("institution").related_model, "i")
    key = columns(InstitutionAPIKey, "k")
    name = connection.ops.combine_expression("||", ["%s", f"i.{q('code')}"])
    sql = (
        f"SELECT {user.sql}, {org.sql}, {inst.sql}, {key.sql} FROM {key.table()}"
        f" INNER JOIN {inst.table()} ON i.{q('id')} = k.{q('institution_id')}"
        f" INNER JOIN {org.table()} ON o.{q('institution_id')} = i.{q('id')}"
        f" INNER JOIN {user.table()} ON u.{q('organization_id')} = o.{q('id')} AND u.{q('username')} = {name}"
        f" WHERE k.{q('prefix')} = %s AND NOT k.{q('revoked')}"
    )
    found = rawsql.rows(sql, [SYSTEM_USER_PREFIX, prefix])
    if not found:
        return None, None
    row = found[0]
    at = 0
    found = []
    for part in (user, org, inst, key):
        found.append(part.instance(row[at:]))
        at += len(part)
    system_user, organization, institution, api_key = found
    organization.institution = institution
    system_user.organization = organization
    api_key.institution = institution
    return system_user, api_key


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Api-Key"

    def authenticate(self, request):
        key = _credential(request, self.keyword)
        if key is None:
            return None
        prefix = key.partition(".")[0]
        user, api_key = _system_user_with_key(prefix)
        if api_key is None:  # the institution's system user is not there yet: made at first use
            api_key = (
                InstitutionAPIKey.objects.get_usable_keys()
                .select_related("institution")
                .filter(prefix=prefix)
                .first()
            )
        if api_key is None or not api_key.is_valid(key):
            raise exceptions.AuthenticationFailed(
                _("API 密钥无效或已吊销"), code=CommonError.INVALID_CREDENTIALS
            )
        if api_key.has_expired:  # the wall clock: expiry is a moment, not a business date
            raise exceptions.AuthenticationFailed(_("API 密钥已过期"), code=CommonError.INVALID_CREDENTIALS)
        if user is None:
            user = institution_system_user(institution=api_key.institution)
        return user, api_key

    def authenticate_header(self, request) -> str:
        return self.keyword


# A token's last use is written at most this often (seconds).
TOKEN_TOUCH_SECONDS = 60


class TokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        raw = _credential(request, self.keyword)
        if raw is None:
            return None
        token = ApiToken.find_active(raw)
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("令牌无效或已吊销"), code=CommonError.INVALID_CREDENTIALS)
        now = timezone.now()
        # Touch at most once a minute: a busy client must not turn every read into a write.
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > TOKEN_TOUCH_SECONDS:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return self.keyword
