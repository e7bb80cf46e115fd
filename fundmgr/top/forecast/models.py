"""Named stress scenarios, saved per fund by staff and offered on the fund's forecast page."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# The bounds every way in (admin form, API parameters) shares; the database checks them too.
MAX_DEFAULT_WITHIN_MONTHS = 36
MAX_ROLL_MULTIPLIER = Decimal("20")
MAX_LARGEST_ENTERPRISES = 100


class StressScenario(models.Model):
    """A stress on the fund's forecast; the parts set combine (all of them apply at once).

    - `default_rate` % of the loans below the claim trigger default within `default_within`
      months (at a month drawn uniformly in that window, before the loan matures);
    - the roll rates toward worse risk classes × `roll_multiplier`;
    - the `largest_enterprises` enterprises with the largest covered outstanding default now;
    - the whole book of `institution` in the fund defaults now.
    """

    fund = models.ForeignKey(
        "funds.Fund", verbose_name=_("资金"), on_delete=models.CASCADE, related_name="stress_scenarios"
    )
    name = models.CharField(_("情景名称"), max_length=60)
    description = models.CharField(_("说明"), max_length=300, blank=True)
    default_rate = models.DecimalField(
        _("集中违约比例(%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("100"))],
        help_text=_("未达到补偿条件的在保贷款中，在下列月数内违约的比例"),
    )
    default_within = models.PositiveSmallIntegerField(
        _("集中违约期限(月)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_DEFAULT_WITHIN_MONTHS)],
    )
    roll_multiplier = models.DecimalField(
        _("迁徙率倍数"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(MAX_ROLL_MULTIPLIER)],
        help_text=_("向更差风险分类迁徙的月度概率乘以该倍数"),
    )
    largest_enterprises = models.PositiveSmallIntegerField(
        _("最大企业违约户数"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_LARGEST_ENTERPRISES)],
        help_text=_("在保余额最大的若干户企业立即违约"),
    )
    institution = models.ForeignKey(
        "banks.Institution",
        verbose_name=_("整体违约的合作机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("该机构在本资金的全部在保贷款立即违约"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("压力情景")
        verbose_name_plural = _("压力情景")
        ordering = ["fund", "name"]
        constraints = [
            models.UniqueConstraint(fields=["fund", "name"], name="stress_scenario_name_unique_per_fund"),
            models.CheckConstraint(
                name="stress_scenario_default_rate_with_window",
                condition=Q(default_rate__isnull=True, default_within__isnull=True)
                | Q(
                    default_rate__isnull=False,
                    default_within__isnull=False,
                    default_rate__gt=0,
                    default_rate__lte=100,
                    default_within__gte=1,
                    default_within__lte=36,
                ),
            ),
            models.CheckConstraint(
                name="stress_scenario_multiplier_range",
                condition=Q(roll_multiplier__isnull=True) | Q(roll_multiplier__gt=0, roll_multiplier__lte=20),
            ),
            models.CheckConstraint(
                name="stress_scenario_largest_range",
                condition=Q(largest_enterprises__isnull=True)
                | Q(largest_enterprises__gte=1, largest_enterprises__lte=100),
            ),
            models.CheckConstraint(
                name="stress_scenario_says_something",
                condition=Q(default_rate__isnull=False)
                | Q(roll_multiplier__isnull=False)
                | Q(largest_enterprises__isnull=False)
                | Q(institution__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.fund.short_label} · {self.name}"

    def clean(self) -> None:
        errors = {}
        if (self.default_rate is None) != (self.default_within is None):
            field = "default_within" if self.default_within is None else "default_rate"
            errors[field] = _("集中违约比例与期限须同时填写")
        if (
            self.default_rate is None
            and self.roll_multiplier is None
            and self.largest_enterprises is None
            and self.institution_id is None
        ):
            errors["__all__"] = _("请至少设置一项压力条件")
        if errors:
            raise ValidationError(errors)
