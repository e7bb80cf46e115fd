"""API authentication: `Api-Key <key>` for institutions, `Token <token>` for people.

djangorestframework-api-key checks keys as a permission; we need to know *who* is calling
to scope every query, so the key is resolved to its institution's system user here.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions

from fundmgr.ground.lib.errors import CommonError

from .models import ApiToken, InstitutionAPIKey


def _credential(request, keyword: str) -> str | None:
    header = authentication.get_authorization_header(request).decode("latin-1")
    parts = header.split()
    if not parts or parts[0].lower() != keyword.lower():
        return None
    if len(parts) != 2:
        raise exceptions.AuthenticationFailed(_("认证信息格式错误"), code=CommonError.INVALID_CREDENTIALS)
    return parts[1]


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Api-Key"

    def authenticate(self, request):
        key = _credential(request, self.keyword)
        if key is None:
            return None
        # The key's row and its institution in one read, the hash checked once.
        prefix = key.partition(".")[0]
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
        from .services import institution_system_user

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
