from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The demo world (`seed_demo`, `demo_banner`): it builds on every app, so it sits on top."""

    name = "fundmgr.top.demo"
    label = "demo"
    verbose_name = _("演示数据")
