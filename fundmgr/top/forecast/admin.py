"""The forecast page of each fund (资金充足性预测), mounted on the fund admin, and the saved
stress scenarios. A city's regulators read both for their own funds; staff save scenarios."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlencode

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from banks.models import Institution
from fundmgr.ground.accounts.admin import RegulatorReadableMixin
from fundmgr.ground.accounts.principals import principal_for
from fundmgr.ground.funds.admin import FundAdmin, FundView
from fundmgr.ground.funds.models import Fund
from fundmgr.ground.lib.errors import AppError
from fundmgr.ground.lib.money import format_yuan, to_wan_yuan
from fundmgr.top.reports.dashboard import bar_chart, fan_chart
from fundmgr.top.reports.exporters import XLSX_CONTENT_TYPE

from . import exporters, services
from .models import MAX_DEFAULT_WITHIN_MONTHS, MAX_LARGEST_ENTERPRISES, MAX_ROLL_MULTIPLIER, StressScenario
from .rules import rollrates

URL_NAME = "funds_fund_forecast"
# The balance fan: (result row field, name, colour, dash pattern); the band is P50 to P99.
FAN_SERIES = (
    ("balance_p50", "P50", "#2f6fb0", ""),
    ("balance_p95", "P95", "#d68910", "6 3"),
    ("balance_p99", "P99", "#922b21", "2 3"),
)
_STRESS = ("default_rate", "default_within", "roll_multiplier", "largest_enterprises")


class ForecastForm(forms.Form):
    months = forms.IntegerField(
        label=_("预测月数"),
        min_value=services.MIN_MONTHS,
        max_value=services.MAX_MONTHS,
        initial=services.DEFAULT_MONTHS,
        required=False,
    )
    paths = forms.IntegerField(
        label=_("模拟路径数"),
        min_value=services.MIN_PATHS,
        max_value=services.MAX_PATHS,
        initial=services.DEFAULT_PATHS,
        required=False,
    )
    seed = forms.IntegerField(
        label=_("随机种子"), min_value=0, max_value=2**32 - 1, initial=services.DEFAULT_SEED, required=False
    )
    scenario = forms.ChoiceField(label=_("已保存的压力情景"), required=False)
    default_rate = forms.DecimalField(
        label=_("集中违约比例(%)"),
        required=False,
        min_value=Decimal("0.01"),
        max_value=Decimal("100"),
        decimal_places=2,
    )
    default_within = forms.IntegerField(
        label=_("集中违约期限(月)"), required=False, min_value=1, max_value=MAX_DEFAULT_WITHIN_MONTHS
    )
    roll_multiplier = forms.DecimalField(
        label=_("迁徙率倍数"),
        required=False,
        min_value=Decimal("0.01"),
        max_value=MAX_ROLL_MULTIPLIER,
        decimal_places=2,
    )
    largest_enterprises = forms.IntegerField(
        label=_("最大企业违约户数"), required=False, min_value=1, max_value=MAX_LARGEST_ENTERPRISES
    )
    institution = forms.ChoiceField(label=_("整体违约的合作机构"), required=False)

    def __init__(self, *args, fund: Fund, **kwargs):
        super().__init__(*args, **kwargs)
        saved = StressScenario.objects.filter(fund=fund).order_by("name")
        self.fields["scenario"].choices = [("", _("基准预测（无压力）"))] + [
            (str(s.pk), s.name) for s in saved
        ]
        banks = Institution.objects.filter(agreements__fund=fund).distinct().order_by("code")
        self.fields["institution"].choices = [("", "—")] + [(b.code, b.name) for b in banks]


def _fund_for(request, code: str, model_admin: admin.ModelAdmin) -> Fund:
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    return get_object_or_404(model_admin.get_queryset(request), code=code)  # a regulator: its city only


def forecast_page_view(request, code: str, *, model_admin: admin.ModelAdmin):
    """The fund's forecast: answers, fan chart, claims by month, roll rates, concentration;
    the form picks the horizon, the paths and a stress; ?download=xlsx gives the workbook."""
    fund = _fund_for(request, code, model_admin)
    query = request.GET.copy()
    download = query.pop("download", [None])[0]
    form = ForecastForm(query or None, fund=fund)
    params = {
        "months": services.DEFAULT_MONTHS,
        "paths": services.DEFAULT_PATHS,
        "seed": services.DEFAULT_SEED,
    }
    stress: dict = {}
    result = None
    if form.is_bound and form.is_valid():
        q = form.cleaned_data
        params = {key: default if q[key] is None else q[key] for key, default in params.items()}
        stress = {key: q[key] for key in _STRESS}
        stress.update(saved=q["scenario"] or None, institution_code=q["institution"] or None)
    if not form.is_bound or form.is_valid():
        try:
            result = services.forecast_for(
                principal=principal_for(request.user), code=fund.code, **params, **stress
            )
        except AppError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    if result is not None and download == "xlsx":
        response = HttpResponse(exporters.forecast_xlsx(result), content_type=XLSX_CONTENT_TYPE)
        response["Content-Disposition"] = f'attachment; filename="forecast-{fund.code}-{result.as_of}.xlsx"'
        return response
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": Fund._meta,
        "title": "{} · {}".format(fund.name, gettext("资金充足性预测")),
        "fund": fund,
        "form": form,
        "result": result,
        "query": query.urlencode(),
    }
    if result is not None:
        context.update(_page(result, request, fund))
    return TemplateResponse(request, "admin/forecast/page.html", context)


def _page(result: services.ForecastResult, request, fund: Fund) -> dict:
    values = exporters.summary_values(result)
    never = gettext("预测期内不低于零")
    cards = [
        (gettext("当前资金余额(元)"), format_yuan(result.balance)),
        (gettext("在保余额(元)"), format_yuan(result.covered_outstanding)),
        (gettext("预测期内预期补偿(元)"), format_yuan(result.expected_claims_total)),
        (gettext("补偿 P95(元)"), format_yuan(result.claims_total["P95"])),
        (gettext("P50 余额首次低于零"), result.first_below_zero["P50"] or never),
        (gettext("P95 余额首次低于零"), result.first_below_zero["P95"] or never),
        (gettext("P99 余额首次低于零"), result.first_below_zero["P99"] or never),
        (gettext("P95 需补充资金(元)"), format_yuan(result.top_up["P95"])),
        (gettext("P99 需补充资金(元)"), format_yuan(result.top_up["P99"])),
    ]
    if values["all_default_now"] is not None:
        cards.append((gettext("未触发贷款全部立即违约时应付(元)"), format_yuan(values["all_default_now"])))
    save = None
    if services.may_edit_scenarios(principal_for(request.user)) and not result.scenario.is_baseline:
        s = result.scenario
        initial = {
            "fund": fund.pk,
            "default_rate": s.default_rate,
            "default_within": s.default_within,
            "roll_multiplier": s.roll_multiplier,
            "largest_enterprises": s.largest_enterprises,
            "institution": s.institution_id,
        }
        save = (
            reverse("admin:forecast_stressscenario_add")
            + "?"
            + urlencode({k: v for k, v in initial.items() if v is not None})
        )
    return {
        "cards": cards,
        "fan_chart": fan_chart(
            title=gettext("月末资金余额（万元）：P50 / P95 / P99"),
            labels=[gettext("当前")] + result.month_labels,
            series=[
                (
                    name,
                    color,
                    dash,
                    [to_wan_yuan(result.balance)] + [to_wan_yuan(getattr(r, key)) for r in result.rows],
                )
                for key, name, color, dash in FAN_SERIES
            ],
            band=(0, 2),
        ),
        "claims_chart": bar_chart(
            title=gettext("逐月预期补偿支出（万元）"),
            labels=result.month_labels,
            values=[to_wan_yuan(r.expected_claims) for r in result.rows],
        ),
        "concentration": [
            (exporters.CONCENTRATION_NAMES[key], rows) for key, rows in result.concentration.items()
        ],
        "roll_columns": rollrates.STATE_LABELS,
        "roll_tables": [
            (gettext("本资金（预测采用）"), result.roll_rates, "roll-rates"),
            (gettext("全省"), result.province_roll_rates, "province-roll-rates"),
        ],
        "recovery_rate": f"{result.assumptions['recovery_rate']}%",
        "save_scenario_url": save,
        "scenarios_url": reverse("admin:forecast_stressscenario_changelist") + f"?fund__id__exact={fund.pk}",
    }


# The forecast page is mounted on the fund admin, which cannot import this app.
FundAdmin.fund_views.append(
    FundView(route="forecast", url_name=URL_NAME, label=_("风险预测"), view=forecast_page_view)
)


class StressScenarioForm(forms.ModelForm):
    class Meta:
        model = StressScenario
        fields = [
            "fund",
            "name",
            "description",
            "default_rate",
            "default_within",
            "roll_multiplier",
            "largest_enterprises",
            "institution",
        ]

    def clean(self):
        data = super().clean()
        fund = data.get("fund")
        if fund is not None and not self.errors:
            institution = data.get("institution")
            try:
                services.scenario_check(
                    fund=fund,
                    default_rate=data.get("default_rate"),
                    default_within=data.get("default_within"),
                    roll_multiplier=data.get("roll_multiplier"),
                    largest_enterprises=data.get("largest_enterprises"),
                    institution_id=institution.pk if institution else None,
                )
            except AppError as exc:
                raise ValidationError(
                    {exc.field: exc.message} if exc.field in self.fields else exc.message
                ) from exc
        return data


@admin.register(StressScenario)
class StressScenarioAdmin(RegulatorReadableMixin, admin.ModelAdmin):
    form = StressScenarioForm
    list_display = ["name", "fund", "describe", "created_by", "updated_at", "forecast_link"]
    list_filter = ["fund"]
    search_fields = ["name", "description", "fund__name", "fund__code"]
    list_select_related = ["fund", "institution", "created_by"]
    autocomplete_fields: list[str] = []
    readonly_fields = ["created_by", "created_at", "updated_at"]

    @admin.display(description=_("压力条件"))
    def describe(self, obj: StressScenario) -> str:
        return gettext("；").join(
            services.Scenario(
                default_rate=obj.default_rate,
                default_within=obj.default_within,
                roll_multiplier=obj.roll_multiplier,
                largest_enterprises=obj.largest_enterprises,
                institution_id=obj.institution_id,
                institution_name=obj.institution.name if obj.institution else "",
            ).lines()
        )

    @admin.display(description=_("预测"))
    def forecast_link(self, obj: StressScenario) -> str:
        url = reverse(f"admin:{URL_NAME}", args=[obj.fund.code]) + f"?scenario={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, _("按此情景预测"))

    def save_model(self, request, obj, form, change) -> None:
        services.scenario_save(principal=principal_for(request.user), scenario=obj)

    def delete_model(self, request, obj) -> None:
        services.scenario_delete(principal=principal_for(request.user), scenario=obj)

    def delete_queryset(self, request, queryset) -> None:
        for obj in queryset:
            self.delete_model(request, obj)

    # Who may add, change and delete: the role's permissions (accounts.backends, which the
    # services check too); a city's regulators read their city's through the mixin.
    def has_module_permission(self, request) -> bool:
        # Not an app of its own in the index and side menu: scenarios belong to a fund's
        # forecast page, which links to them (and the fund list links to the page).
        return False
