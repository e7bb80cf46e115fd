"""Financing needs and bank matching (投融对接), and outreach events (政策宣传).

- `FinancingNeed`: an admitted enterprise's stated need (amount, term, purpose, the rights it
  offers to pledge, its consent to share with partner banks), with its lifecycle: open →
  in talks → filed → closed, or withdrawn / expired. A loan filing may name the need it
  answers (`loans.LoanFiling.financing_need`); the need follows that filing's fate
  (`services.need_follow_filing`, called by the loans services).
- `NeedInterest`, `NeedMeeting`: which banks want the need, and the manager's meetings.
- `PriorityClass`: the classes of enterprises to match first (优先安排对接, domain-rules §3.1),
  as data per fund; `NeedPriority` keeps which classes a need's enterprise falls in and why.
- `EnterpriseHonour`: titles, lists and certificates the classes read (高新技术企业, 驰名商标 …).
- `MatchingPolicy`: the numbers of this chapter (how long a need stays open, when an untouched
  need is flagged), effective-dated, per fund with a default row for every fund.
- `OutreachEvent` and `EventSigning`: events and the signings made at them; a signing names the
  need it is about, so the filing that realises it is the filing naming that need.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField
from simple_history.models import HistoricalRecords

from fundmgr.ground.accounts.models import Role
from fundmgr.ground.accounts.workflow import STAFF_REVIEW, step

MONEY = {"max_digits": 18, "decimal_places": 2}


# --- policy: numbers and priority classes ------------------------------------------------------


class MatchingPolicy(models.Model):
    """The numbers of this chapter, effective from a date.

    A row without a fund is the default for every fund that has no row of its own. The field
    defaults are the documented prototype defaults [D] (no city measure fixes them): a need
    is listed for 60 working days (about three months); staff are told of a need nobody
    has touched (no interest, meeting or step) for 10 working days; the admin's 即将过期 queue
    holds the needs whose validity ends within 10 working days; a need made from an event
    signing (when the enterprise had none) is for 12 months, the usual term of these loans.
    """

    fund = models.ForeignKey(
        "funds.Fund",
        verbose_name=_("资金"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="matching_policies",
        help_text=_("留空表示适用于没有单独设置的全部资金的默认值"),
    )
    effective_from = models.DateField(_("生效日期"))
    need_valid_working_days = models.PositiveSmallIntegerField(
        _("融资需求有效期(工作日)"), default=60, help_text=_("登记后经过该工作日数仍未备案的需求自动过期")
    )
    untouched_alert_working_days = models.PositiveSmallIntegerField(
        _("需求无进展提醒(工作日)"),
        default=10,
        help_text=_("需求连续该工作日数无银行意向、对接记录或状态变化时提醒工作人员"),
    )
    expiry_warning_working_days = models.PositiveSmallIntegerField(
        _("即将过期提示(工作日)"),
        default=10,
        help_text=_("有效期在该工作日数内届满的需求列入“即将过期”队列"),
    )
    signing_need_term_months = models.PositiveSmallIntegerField(
        _("签约生成需求的期限(月)"),
        default=12,
        help_text=_("现场签约的企业尚无在办需求时，系统据签约新建的融资需求的期限"),
    )
    document_ref = models.CharField(_("依据"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True, null=True)

    class Meta:
        verbose_name = _("对接政策参数")
        verbose_name_plural = _("对接政策参数")
        ordering = ["fund", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["fund", "effective_from"], name="matching_policy_one_per_start"),
            models.UniqueConstraint(
                fields=["effective_from"],
                condition=Q(fund__isnull=True),
                name="matching_policy_default_one_per_start",
            ),
            models.CheckConstraint(
                name="matching_policy_days_positive",
                condition=Q(need_valid_working_days__gt=0, untouched_alert_working_days__gt=0),
            ),
            models.CheckConstraint(
                name="matching_policy_signing_term_positive",
                condition=Q(signing_need_term_months__gt=0),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.fund or _('默认（未单独设置的资金）')} · {self.effective_from.isoformat()}"


class PriorityRule(models.TextChoices):
    """How a class is decided from the enterprise's data; the class's `parameters` say with what.

    - honour: holds a valid honour of one of `kinds` (list of HonourKind values).
    - ip_portfolio: holds valid rights obtained in the last `years` years, meeting any one of
      `any_of: [{kinds: [...], min: n}]` (e.g. ≥ 1 invention patent, or ≥ 3 utility models).
    - industry: its GB/T 4754 code starts with one of `industry_prefixes`; optionally
      `requires_patent` (a tech-innovation firm: at least one valid patent) and
      `min_annual_revenue` (good economic results, yuan as a string with two decimals).
    """

    HONOUR = "honour", _("持有荣誉、认定或名录")
    IP_PORTFOLIO = "ip_portfolio", _("近年取得的知识产权")
    INDUSTRY = "industry", _("符合本市产业布局")


class PriorityClass(models.Model):
    """A class of enterprises to match first (优先安排对接). Rows without a fund are the
    default list, used by every fund that has no class of its own: Zhaoqing's six (domain-rules
    §3.1 [V:S9]), loaded by migration 0002; a fund with its own measure gets its own rows."""

    fund = models.ForeignKey(
        "funds.Fund",
        verbose_name=_("资金"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="priority_classes",
        help_text=_("留空表示默认分类（未单独设置分类的资金适用）"),
    )
    order = models.PositiveSmallIntegerField(_("优先顺序"), help_text=_("1 为最优先"))
    code = models.SlugField(_("代码"), max_length=40)
    label = models.CharField(_("名称"), max_length=100)
    rule = models.CharField(_("判断方式"), max_length=16, choices=PriorityRule.choices)
    parameters = models.JSONField(_("参数"), default=dict, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    document_ref = models.CharField(_("依据"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("优先对接分类")
        verbose_name_plural = _("优先对接分类")
        ordering = ["fund", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["fund", "code"], name="priority_class_code_per_fund"),
            models.UniqueConstraint(
                fields=["code"], condition=Q(fund__isnull=True), name="priority_class_default_code"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.label}"


# --- enterprise honours --------------------------------------------------------------------------


class HonourKind(models.TextChoices):
    IP_DEMONSTRATION = "ip_demonstration", _("知识产权示范企业")
    IP_ADVANTAGE = "ip_advantage", _("知识产权优势企业")
    KEY_IP_PROTECTION = "key_ip_protection", _("重点知识产权保护名录")
    WELL_KNOWN_TRADEMARK = "well_known_trademark", _("驰名商标")
    HIGH_TECH = "high_tech", _("高新技术企业")
    HIGH_TECH_POOL = "high_tech_pool", _("高新技术企业培育库")
    TECH_SME = "tech_sme", _("科技型中小企业")
    SPECIALISED = "specialised", _("专精特新企业")
    OTHER = "other", _("其他")


class HonourLevel(models.TextChoices):
    NATIONAL = "national", _("国家级")
    PROVINCIAL = "provincial", _("省级")
    CITY = "city", _("市级")


class EnterpriseHonour(models.Model):
    """A title, list entry or certificate an enterprise holds, with its validity."""

    enterprise = models.ForeignKey(
        "enterprises.Enterprise", verbose_name=_("企业"), on_delete=models.CASCADE, related_name="honours"
    )
    kind = models.CharField(_("类别"), max_length=32, choices=HonourKind.choices)
    level = models.CharField(_("级别"), max_length=16, choices=HonourLevel.choices, blank=True)
    title = models.CharField(_("名称"), max_length=200, help_text=_("例如 广东省知识产权示范企业"))
    certificate_no = models.CharField(_("证书或文号"), max_length=100, blank=True)
    granted_on = models.DateField(_("认定日期"))
    valid_until = models.DateField(_("有效期至"), null=True, blank=True, help_text=_("留空表示长期有效"))
    source = models.CharField(
        _("来源"), max_length=200, blank=True, help_text=_("认定文件、公示名单或核查方式")
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("企业荣誉与认定")
        verbose_name_plural = _("企业荣誉与认定")
        ordering = ["enterprise", "kind", "-granted_on"]
        constraints = [
            models.CheckConstraint(
                name="honour_valid_after_granted",
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("granted_on")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.title}"

    def valid_on(self, day: dt.date) -> bool:
        return self.granted_on <= day and (self.valid_until is None or self.valid_until >= day)


# --- financing needs -----------------------------------------------------------------------------


class NeedStatus(models.TextChoices):
    OPEN = "open", _("待对接")
    IN_TALKS = "in_talks", _("对接中")
    FILED = "filed", _("已备案")
    CLOSED = "closed", _("已满足")
    WITHDRAWN = "withdrawn", _("已撤回")
    EXPIRED = "expired", _("已过期")


# Needs still looking for a bank: listed to banks, expire, flagged when untouched.
SEEKING_STATUSES = (NeedStatus.OPEN, NeedStatus.IN_TALKS)
# Needs a filing may still name.
FILEABLE_STATUSES = (NeedStatus.OPEN, NeedStatus.IN_TALKS, NeedStatus.FILED)


class ConsentScope(models.TextChoices):
    """What the enterprise agreed partner banks may read of it (besides the need itself)."""

    BASIC = "basic", _("需求及企业名称、区县、行业、优先分类")
    FULL = "full", _("另含规模与财务数据、拟质押知识产权、联系人")


class NeedSource(models.TextChoices):
    STAFF = "staff", _("工作人员登记")
    INSTITUTION = "institution", _("合作机构代为登记")
    EVENT = "event", _("对接会签约")


class FinancingNeed(ConcurrentTransitionMixin, models.Model):
    fund = models.ForeignKey(
        "funds.Fund", verbose_name=_("资金"), on_delete=models.PROTECT, related_name="financing_needs"
    )
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name=_("企业"),
        on_delete=models.PROTECT,
        related_name="financing_needs",
    )
    amount = models.DecimalField(_("融资金额(元)"), **MONEY)
    term_months = models.PositiveSmallIntegerField(_("期限(月)"))
    purpose = models.CharField(_("用途"), max_length=300, blank=True)
    offered_ip = models.ManyToManyField(
        "enterprises.IPAsset", verbose_name=_("拟质押知识产权"), blank=True, related_name="offered_in_needs"
    )
    consent_on = models.DateField(
        _("同意共享日期"),
        null=True,
        blank=True,
        help_text=_("企业同意向合作银行共享信息的日期；留空表示未同意"),
    )
    consent_scope = models.CharField(
        _("共享范围"), max_length=8, choices=ConsentScope.choices, default=ConsentScope.BASIC
    )
    source = models.CharField(_("来源"), max_length=16, choices=NeedSource.choices, default=NeedSource.STAFF)
    submitted_by = models.ForeignKey(
        "banks.Institution",
        verbose_name=_("代为登记机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="submitted_needs",
    )
    registered_on = models.DateField(_("登记日期"))
    expires_on = models.DateField(_("有效期至"))
    last_activity_on = models.DateField(_("最近进展日期"))
    status = FSMField(
        _("状态"), max_length=16, choices=NeedStatus.choices, default=NeedStatus.OPEN, protected=True
    )
    # The best (lowest) order among the priority classes the enterprise falls in; kept with
    # `NeedPriority` rows by `services.need_priorities_refresh`, so lists sort in the database.
    priority_rank = models.PositiveSmallIntegerField(_("优先顺序"), null=True, blank=True)
    priorities_on = models.DateField(_("优先分类计算日期"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    history = HistoricalRecords(
        excluded_fields=["status", "priority_rank", "priorities_on", "last_activity_on"]
    )

    class Meta:
        verbose_name = _("融资需求")
        verbose_name_plural = _("融资需求")
        ordering = ["-registered_on", "-id"]
        indexes = [
            models.Index(fields=["fund", "status"], name="need_fund_status_idx"),
            models.Index(fields=["registered_on", "fund"], name="need_registered_idx"),
        ]
        constraints = [
            models.CheckConstraint(name="need_amount_positive", condition=Q(amount__gt=0)),
            models.CheckConstraint(name="need_term_positive", condition=Q(term_months__gt=0)),
            models.CheckConstraint(
                name="need_expires_after_registered", condition=Q(expires_on__gte=F("registered_on"))
            ),
        ]

    def __str__(self) -> str:
        return _("%(enterprise)s · %(amount)s 元") % {
            "enterprise": self.enterprise.name,
            "amount": f"{self.amount:,.2f}",
        }

    # Lifecycle. The system's steps (`public=False`) are taken as part of another command: a
    # bank's interest or a meeting starts the talks, a filing naming the need moves it.
    @step(
        field=status,
        source=NeedStatus.OPEN,
        target=NeedStatus.IN_TALKS,
        roles=(),
        label=_("开始对接"),
        public=False,
    )
    def start_talks(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=status,
        source=[NeedStatus.OPEN, NeedStatus.IN_TALKS],
        target=NeedStatus.FILED,
        roles=(),
        label=_("贷款已报送备案"),
        public=False,
    )
    def mark_filed(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=status,
        source=NeedStatus.FILED,
        target=NeedStatus.IN_TALKS,
        roles=(),
        label=_("备案未成，恢复对接"),
        public=False,
    )
    def unfile(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=status,
        source=NeedStatus.FILED,
        target=NeedStatus.CLOSED,
        roles=(),
        label=_("贷款已受理入池，需求满足"),
        public=False,
    )
    def close_financed(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=status,
        source=NeedStatus.CLOSED,
        target=NeedStatus.IN_TALKS,
        roles=(),
        label=_("受理贷款作废，恢复对接"),
        public=False,
    )
    def reopen(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=status,
        source=[NeedStatus.OPEN, NeedStatus.IN_TALKS],
        target=NeedStatus.CLOSED,
        roles=STAFF_REVIEW,
        label=_("关闭（需求已另行解决）"),
    )
    def close(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=status,
        source=[NeedStatus.OPEN, NeedStatus.IN_TALKS],
        target=NeedStatus.WITHDRAWN,
        roles=(Role.OFFICER, Role.APPROVER, Role.INSTITUTION),
        label=_("撤回需求"),
    )
    def withdraw(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=status,
        source=[NeedStatus.OPEN, NeedStatus.IN_TALKS],
        target=NeedStatus.EXPIRED,
        roles=(),
        label=_("到期"),
        public=False,
    )
    def expire(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=status,
        source=NeedStatus.EXPIRED,
        target=NeedStatus.OPEN,
        roles=STAFF_REVIEW,
        label=_("重新发布"),
    )
    def renew(self, *, by=None, description=None) -> None:
        pass


class NeedPriority(models.Model):
    """A priority class the need's enterprise falls in, with the reason, as last computed."""

    need = models.ForeignKey(
        FinancingNeed, verbose_name=_("融资需求"), on_delete=models.CASCADE, related_name="priorities"
    )
    priority_class = models.ForeignKey(
        PriorityClass, verbose_name=_("优先分类"), on_delete=models.CASCADE, related_name="+"
    )
    reason = models.CharField(_("依据"), max_length=500)

    class Meta:
        verbose_name = _("优先分类结果")
        verbose_name_plural = _("优先分类结果")
        ordering = ["need", "priority_class__order"]
        constraints = [
            models.UniqueConstraint(fields=["need", "priority_class"], name="need_priority_once"),
        ]

    def __str__(self) -> str:
        return f"{self.priority_class.label}：{self.reason}"


class NeedInterest(models.Model):
    """A partner bank wants to talk about a need (one row per bank and need)."""

    need = models.ForeignKey(
        FinancingNeed, verbose_name=_("融资需求"), on_delete=models.CASCADE, related_name="interests"
    )
    institution = models.ForeignKey(
        "banks.Institution",
        verbose_name=_("合作机构"),
        on_delete=models.PROTECT,
        related_name="need_interests",
    )
    expressed_on = models.DateField(_("表达意向日期"))
    comment = models.CharField(_("说明"), max_length=2000, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("银行对接意向")
        verbose_name_plural = _("银行对接意向")
        ordering = ["need", "expressed_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["need", "institution"], name="need_interest_once_per_bank"),
        ]

    def __str__(self) -> str:
        return f"{self.institution} → {self.need_id}"


class MeetingKind(models.TextChoices):
    MEETING = "meeting", _("面谈")
    VISIT = "visit", _("实地走访")
    CALL = "call", _("电话沟通")
    EVENT = "event", _("对接会")


class MeetingOutcome(models.TextChoices):
    CONTINUING = "continuing", _("继续对接")
    AGREED_TO_FILE = "agreed_to_file", _("达成贷款意向")
    BANK_DECLINED = "bank_declined", _("银行不予授信")
    ENTERPRISE_DECLINED = "enterprise_declined", _("企业放弃")
    OTHER = "other", _("其他")


class NeedMeeting(models.Model):
    """A meeting the manager arranged or attended about a need, and what came of it."""

    need = models.ForeignKey(
        FinancingNeed, verbose_name=_("融资需求"), on_delete=models.CASCADE, related_name="meetings"
    )
    institution = models.ForeignKey(
        "banks.Institution",
        verbose_name=_("合作机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="need_meetings",
    )
    held_on = models.DateField(_("日期"))
    kind = models.CharField(
        _("方式"), max_length=16, choices=MeetingKind.choices, default=MeetingKind.MEETING
    )
    outcome = models.CharField(
        _("结果"), max_length=24, choices=MeetingOutcome.choices, default=MeetingOutcome.CONTINUING
    )
    notes = models.CharField(_("记录"), max_length=2000, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("记录人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("对接记录")
        verbose_name_plural = _("对接记录")
        ordering = ["need", "held_on", "id"]

    def __str__(self) -> str:
        return f"{self.held_on.isoformat()} {self.get_kind_display()}"


# --- outreach events (政策宣传) -------------------------------------------------------------------


class EventKind(models.TextChoices):
    MATCHMAKING = "matchmaking", _("银企对接会")
    TRAINING = "training", _("培训/大讲堂")
    BRIEFING = "briefing", _("政策宣讲")


class OutreachEvent(models.Model):
    fund = models.ForeignKey(
        "funds.Fund",
        verbose_name=_("资金（城市）"),
        on_delete=models.PROTECT,
        related_name="outreach_events",
    )
    kind = models.CharField(_("类型"), max_length=16, choices=EventKind.choices)
    title = models.CharField(_("名称"), max_length=200)
    held_on = models.DateField(_("日期"))
    place = models.CharField(_("地点"), max_length=200, blank=True)
    online = models.BooleanField(_("线上举办"), default=False)
    online_platform = models.CharField(_("线上平台"), max_length=100, blank=True)
    organisers = models.CharField(_("主办单位"), max_length=300)
    co_organisers = models.CharField(_("协办单位"), max_length=300, blank=True)
    enterprises = models.ManyToManyField(
        "enterprises.Enterprise", verbose_name=_("参加企业"), blank=True, related_name="outreach_events"
    )
    institutions = models.ManyToManyField(
        "banks.Institution", verbose_name=_("参加机构"), blank=True, related_name="outreach_events"
    )
    attendance = models.PositiveIntegerField(_("现场人数"), null=True, blank=True)
    online_viewers = models.PositiveIntegerField(_("线上观看人次"), null=True, blank=True)
    notes = models.TextField(_("备注"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("宣传与对接活动")
        verbose_name_plural = _("宣传与对接活动")
        ordering = ["-held_on", "-id"]
        indexes = [models.Index(fields=["held_on", "fund"], name="event_held_on_idx")]
        constraints = [
            # An event happened somewhere: a place, or online.
            models.CheckConstraint(name="event_place_or_online", condition=~Q(place="") | Q(online=True)),
        ]

    def __str__(self) -> str:
        return f"{self.held_on.isoformat()} {self.title}"


class EventSigning(models.Model):
    """A signing at an event: bank, enterprise and intended amount. It names the financing
    need it is about (made by the service when the enterprise has none open), so the filing
    that realises it is the bank's filing naming that need."""

    event = models.ForeignKey(
        OutreachEvent, verbose_name=_("活动"), on_delete=models.CASCADE, related_name="signings"
    )
    institution = models.ForeignKey(
        "banks.Institution",
        verbose_name=_("签约机构"),
        on_delete=models.PROTECT,
        related_name="event_signings",
    )
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name=_("签约企业"),
        on_delete=models.PROTECT,
        related_name="event_signings",
    )
    intended_amount = models.DecimalField(_("意向金额(元)"), **MONEY)
    financing_need = models.ForeignKey(
        FinancingNeed, verbose_name=_("融资需求"), on_delete=models.PROTECT, related_name="signings"
    )
    notes = models.CharField(_("备注"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("现场签约")
        verbose_name_plural = _("现场签约")
        ordering = ["event", "id"]
        constraints = [
            models.CheckConstraint(
                name="signing_amount_positive", condition=Q(intended_amount__gt=Decimal("0"))
            ),
        ]

    def __str__(self) -> str:
        return _("%(bank)s × %(enterprise)s：%(amount)s 元") % {
            "bank": self.institution,
            "enterprise": self.enterprise,
            "amount": f"{self.intended_amount:,.2f}",
        }
