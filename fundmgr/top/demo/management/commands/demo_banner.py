from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from fundmgr.top.demo import DEFAULT_DEMO_PASSWORD, demo_users
from fundmgr.top.demo.history import highlights


class Command(BaseCommand):
    help = "Print where to log in to the demo and with which users."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", default="8000")
        parser.add_argument("--password", default=DEFAULT_DEMO_PASSWORD)

    def handle(self, *args, host, port, password, **options):
        base = f"http://{host}:{port}"
        w = self.stdout.write
        w("")
        product, interface = _("知识产权质押融资风险补偿资金管理系统"), _("中文界面")
        w(self.style.SUCCESS(f"fundmgr demo — {product}"))
        w(f"  Admin ({interface}):  {base}/admin/")
        w(f"  API docs:          {base}/api/docs/")
        w(f"  OpenAPI schema:    {base}/api/schema/")
        w(f"  Demo password for every user: {password}")
        for username, role in demo_users():
            w(f"    {username:<20} {role}")
        tries = highlights()
        if tries:
            w(self.style.SUCCESS("  Try first (log in as, then open):"))
            for who, what, where in tries:
                w(f"    {who:<20} {what}")
                w(f"    {'':<20} {base}{where}")
        from django.conf import settings

        db = settings.DATABASES["default"]
        env = f"DATABASE_URL=sqlite:///{db['NAME']} " if db["ENGINE"].endswith("sqlite3") else ""
        w("  API credentials (run in another terminal):")
        w(f"    {env}.venv/bin/python manage.py issue_api_key zqrcb              # bank, Zhaoqing")
        w(f"    {env}.venv/bin/python manage.py issue_token regulator-zhaoqing   # regulator")
        w("")
