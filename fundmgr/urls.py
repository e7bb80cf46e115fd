from csp.decorators import csp_update
from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from banks.api.views import InstitutionViewSet
from enterprises.api.views import EnterpriseViewSet
from fundmgr.ground.funds.api.me import MeView
from fundmgr.ground.funds.api.views import FundViewSet
from fundmgr.ground.lib import health
from fundmgr.top.forecast.api.views import ForecastView
from fundmgr.top.notifications.api.views import NotificationViewSet
from fundmgr.top.reports.api.views import ReportViewSet
from loans.api.claims import ClaimViewSet, RecoveryViewSet
from loans.api.filings import FilingViewSet
from loans.api.position import PositionView
from matching.api.views import FinancingNeedViewSet

DOCS_CSP = csp_update({"script-src": ["'unsafe-inline'"]})

router = SimpleRouter(trailing_slash=True)
router.register("funds", FundViewSet, basename="fund")
router.register("enterprises", EnterpriseViewSet, basename="enterprise")
router.register("institutions", InstitutionViewSet, basename="institution")
router.register("filings", FilingViewSet, basename="filing")
router.register("claims", ClaimViewSet, basename="claim")
router.register("recoveries", RecoveryViewSet, basename="recovery")
router.register("reports", ReportViewSet, basename="report")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("financing-needs", FinancingNeedViewSet, basename="financing-need")

api_v1 = [
    path("me/", MeView.as_view(), name="me"),
    path("funds/<slug:code>/position/", PositionView.as_view(), name="fund-position"),
    path("funds/<slug:code>/forecast/", ForecastView.as_view(), name="fund-forecast"),
    path("", include(router.urls)),
]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"), namespace="v1")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The documentation pages start their viewer with one inline script: allowed there only.
    path("api/docs/", DOCS_CSP(SpectacularSwaggerView.as_view(url_name="schema")), name="api-docs"),
    path("api/redoc/", DOCS_CSP(SpectacularRedocView.as_view(url_name="schema")), name="api-redoc"),
    path("i18n/", include("django.conf.urls.i18n")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
