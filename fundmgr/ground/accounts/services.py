"""Writes about people and credentials: system users, tokens, API keys."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fundmgr.ground.accounts.errors import AccountsError
from fundmgr.ground.lib.errors import AppError, NotFound

from .models import ApiToken, InstitutionAPIKey, Organization, Role, User

SYSTEM_USER_PREFIX = "inst:"


def institution_organization(*, institution) -> Organization:
    """The organisation record of an institution, created on first use."""
    org = Organization.objects.filter(institution=institution).first()
    if org is not None:
        return org
    try:
        with transaction.atomic():
            return Organization.objects.create(
                code=f"inst-{institution.code}",
                name=institution.name,
                kind=Organization.Kind.INSTITUTION,
                region_code=institution.region_code,
                institution=institution,
            )
    except IntegrityError:  # created by a concurrent request
        return Organization.objects.get(institution=institution)


def institution_system_user(*, institution) -> User:
    """The user that an institution's API key acts as (shown as the actor in histories)."""
    username = f"{SYSTEM_USER_PREFIX}{institution.code}"
    user = User.objects.filter(username=username).select_related("organization__institution").first()
    if user is not None:
        return user
    org = institution_organization(institution=institution)
    try:
        with transaction.atomic():
            user = User(
                username=username,
                first_name=institution.name[:150],
                role=Role.INSTITUTION,
                organization=org,
                is_staff=False,
            )
            user.set_unusable_password()
            user.save()
            return user
    except IntegrityError:
        return User.objects.get(username=username)


@transaction.atomic
def token_issue(*, username: str, name: str = "") -> tuple[ApiToken, str]:
    """Issue a personal API token. Returns the row and the raw token (shown only once)."""
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise NotFound(
            _("用户 %(username)s 不存在或已停用") % {"username": username}, code=AccountsError.USER_NOT_FOUND
        )
    if user.role == Role.INSTITUTION:
        raise AppError(
            AccountsError.TOKEN_NOT_FOR_INSTITUTIONS,
            _("合作机构请使用机构 API 密钥（issue_api_key）"),
            status=400,
        )
    raw, prefix, hashed = ApiToken.generate()
    token = ApiToken.objects.create(user=user, name=name, prefix=prefix, hashed_key=hashed)
    return token, raw


def token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


@transaction.atomic
def api_key_issue(*, institution, name: str = "") -> tuple[InstitutionAPIKey, str]:
    """Issue an API key for `institution` (a banks.Institution, looked up by the caller).
    Returns the row and the raw key (shown only once)."""
    institution_system_user(institution=institution)
    api_key, raw = InstitutionAPIKey.objects.create_key(
        name=name or f"{institution.code} {timezone.localdate().isoformat()}", institution=institution
    )
    return api_key, raw


def api_key_revoke(*, api_key: InstitutionAPIKey) -> None:
    InstitutionAPIKey.objects.filter(pk=api_key.pk).update(revoked=True)
