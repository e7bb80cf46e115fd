from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ForecastConfig(AppConfig):
    name = "fundmgr.top.forecast"
    label = "forecast"
    verbose_name = _("风险预测")

    def ready(self) -> None:
        # The monthly fund report carries the forecast's P95 figures; the reports app below
        # cannot import this one, so it offers a place for the section and we fill it.
        from fundmgr.top.reports import services as reports

        from .services import forecast_monthly_sections

        reports.MONTHLY_FUND_SECTIONS.append(forecast_monthly_sections)
