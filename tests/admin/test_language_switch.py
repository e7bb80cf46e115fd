"""The language switch in the admin's header: Chinese by default, English on request, on every
page (the login page too), remembered for the session, back to Chinese the same way."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_login_page_offers_english_and_switches(client):
    page = client.get(reverse("admin:login")).content.decode()
    assert 'lang="en"' in page and ">English</button>" in page
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("admin:login")})
    assert response.status_code == 302 and response["Location"] == reverse("admin:login")
    english = client.get(reverse("admin:login")).content.decode()
    assert ">中文</button>" in english
    assert "Password" in english  # Django's own label, now in English


def test_staff_switch_language_from_any_page_and_back(personas):
    client = Client()
    client.force_login(personas.user("officer"))
    index = client.get(reverse("admin:index")).content.decode()
    assert 'id="language-switch"' in index and ">English</button>" in index
    client.post(reverse("set_language"), {"language": "en", "next": reverse("admin:index")})
    english = client.get(reverse("admin:index")).content.decode()
    assert '<html lang="en"' in english and ">中文</button>" in english
    client.post(reverse("set_language"), {"language": "zh-hans", "next": reverse("admin:index")})
    chinese = client.get(reverse("admin:index")).content.decode()
    assert '<html lang="zh-hans"' in chinese and ">English</button>" in chinese
