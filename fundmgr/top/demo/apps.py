from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo world (`seed_demo`, `demo_banner`): it builds on every app, so it sits on top."""

    name = "fundmgr.top.demo"
    label = "demo"
    verbose_name = "演示数据"
