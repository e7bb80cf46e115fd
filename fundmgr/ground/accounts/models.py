"""Users, organisations, roles and API credentials.

A person belongs to one organisation: the fund manager (staff), a regulator, or a partner
institution. What a person may do comes from `role`; what a regulator may see comes from
`funds`. Partner banks' systems authenticate with an institution API key (hashed, see
InstitutionAPIKey), people with a hashed personal API token or the admin session.
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import AbstractAPIKey

from fundmgr.ground.lib import clock


class Organization(models.Model):
    class Kind(models.TextChoices):
        MANAGER = "manager", _("资金管理人")
        REGULATOR = "regulator", _("监管部门")
        INSTITUTION = "institution", _("合作机构")

    code = models.SlugField(_("代码"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    region_code = models.CharField(_("行政区划代码"), max_length=6, blank=True)
    institution = models.OneToOneField(
        "banks.Institution",
        verbose_name=_("合作机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="organization",
    )

    class Meta:
        verbose_name = _("组织")
        verbose_name_plural = _("组织")
        ordering = ["kind", "code"]
        constraints = [
            models.CheckConstraint(
                name="org_institution_iff_kind_institution",
                condition=(models.Q(kind="institution", institution__isnull=False))
                | (~models.Q(kind="institution") & models.Q(institution__isnull=True)),
            )
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    ADMIN = "admin", _("系统管理员")
    OFFICER = "officer", _("业务专员")
    APPROVER = "approver", _("复核负责人")
    COMMITTEE = "committee", _("决策委员会秘书")
    FINANCE = "finance", _("财务")
    REGULATOR = "regulator", _("监管部门")
    INSTITUTION = "institution", _("合作机构用户")


STAFF_ROLES = frozenset({Role.ADMIN, Role.OFFICER, Role.APPROVER, Role.COMMITTEE, Role.FINANCE})


class User(AbstractUser):
    role = models.CharField(_("角色"), max_length=16, choices=Role.choices, default=Role.OFFICER)
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("所属组织"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    funds = models.ManyToManyField(
        "funds.Fund",
        verbose_name=_("可查看的资金"),
        blank=True,
        related_name="regulators",
        help_text=_("监管用户只能查看这里列出的资金。"),
    )
    phone = models.CharField(_("电话"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    @property
    def is_manager_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def institution(self):
        org = self.organization
        return org.institution if org and org.kind == Organization.Kind.INSTITUTION else None


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """A personal API token for staff and regulators (`Authorization: Token <token>`).

    Only a SHA-256 hash is stored; the token is shown once, when issued. The prefix (first
    8 characters) lets staff tell tokens apart without seeing them.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("用途"), max_length=100, blank=True)
    prefix = models.CharField(_("前缀"), max_length=8, editable=False)
    hashed_key = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.user} · {self.prefix}…"

    @classmethod
    def generate(cls) -> tuple[str, str, str]:
        raw = secrets.token_urlsafe(32)
        return raw, raw[:8], _hash_token(raw)

    @classmethod
    def find_active(cls, raw: str) -> ApiToken | None:
        return cls.objects.active().select_related("user").filter(hashed_key=_hash_token(raw)).first()


class InstitutionAPIKey(AbstractAPIKey):
    """A partner institution's system key (`Authorization: Api-Key <key>`), stored hashed."""

    institution = models.ForeignKey(
        "banks.Institution", verbose_name=_("合作机构"), on_delete=models.CASCADE, related_name="api_keys"
    )

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("机构 API 密钥")
        verbose_name_plural = _("机构 API 密钥")


class TransitionDate(models.Model):
    """The business date on which a logged transition happened.

    django-fsm-log's `StateLog.timestamp` is the wall clock: when the row was written. Every
    rule that asks "since when" (ages in a state, deadlines, reports) reads this business date
    instead, written beside each log row as it is created (see `apps.AccountsConfig.ready`)."""

    log = models.OneToOneField(
        "django_fsm_log.StateLog",
        verbose_name=_("状态变更记录"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="business",
    )
    on = models.DateField(_("业务日期"), db_index=True)

    class Meta:
        verbose_name = _("状态变更业务日期")
        verbose_name_plural = _("状态变更业务日期")

    def __str__(self) -> str:
        return f"{self.log_id} @ {self.on.isoformat()}"

    @classmethod
    def of_new(cls, log) -> TransitionDate:
        """The (unsaved) business date of a log row written now: today's business date."""
        return cls(log=log, on=clock.today())
