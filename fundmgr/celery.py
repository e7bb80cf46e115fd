"""Celery app. Redis is the broker when REDIS_URL is set; otherwise tasks run eagerly."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fundmgr.settings")

app = Celery("fundmgr")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
