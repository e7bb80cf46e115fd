"""Production settings pass Django's deploy check as shipped, pages carry a CSP, and the admin
login locks out after repeated failures, per user and per address, with staff unlock."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "test-password-123"  # tests/conftest.py's demo password


def _env_example() -> dict[str, str]:
    values = {}
    for line in (ROOT / "deploy" / "fundmgr.env.example").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            name, value = line.split("=", 1)
            values[name] = value.strip('"')
    return values


def test_the_production_env_example_passes_the_deploy_check():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "FUNDMGR_"))}
    env.update(_env_example())
    env.update(
        SECRET_KEY="x" * 20 + "-deploy-check-only-" + "y" * 30,
        DATABASE_URL="sqlite:///" + str(ROOT / "var" / "deploy-check.sqlite3"),
        REDIS_URL="",
        CELERY_BROKER_URL="memory://",
        EMAIL_URL="consolemail://",
        MEDIA_ROOT=str(ROOT / "var" / "media"),
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db
def test_pages_carry_a_content_security_policy(client):
    policy = client.get(reverse("admin:login"))["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    docs = client.get("/api/docs/")["Content-Security-Policy"]
    assert "'unsafe-inline'" in docs.split("script-src")[1].split(";")[0]


@pytest.mark.django_db
def test_admin_login_locks_out_after_repeated_failures_and_staff_unlock(client, demo, settings):
    from axes.models import AccessAttempt

    settings.AXES_FAILURE_LIMIT = 5
    url = reverse("admin:login")
    for _ in range(5):
        wrong = client.post(url, {"username": "officer", "password": "wrong", "next": "/admin/"})
        assert wrong.status_code in (200, 429)
    locked = client.post(url, {"username": "officer", "password": PASSWORD, "next": "/admin/"})
    assert locked.status_code == 429 and "账户已暂时锁定" in locked.content.decode()
    # another address guessing the same user is locked out too (per user) ...
    other = client.post(url, {"username": "officer", "password": PASSWORD}, REMOTE_ADDR="10.9.9.9")
    assert other.status_code == 429
    # ... and the locked address cannot try another user either (per address)
    assert client.post(url, {"username": "approver", "password": PASSWORD}).status_code == 429
    AccessAttempt.objects.all().delete()  # a system administrator unlocks (admin or axes_reset)
    ok = client.post(url, {"username": "officer", "password": PASSWORD, "next": "/admin/"})
    assert ok.status_code == 302
