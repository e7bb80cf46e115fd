"""The enterprise review in the admin: buttons follow role, state and four-eyes; queues count."""

from __future__ import annotations

import pytest
from django.urls import reverse

from enterprises.models import Enterprise
from enterprises.services import enterprise_transition
from fundmgr.ground.accounts.models import User

pytestmark = pytest.mark.django_db
SUBMITTED = "91440205644436061W"  # Shaoguan, submitted in the demo data


def page(client, username: str, enterprise: Enterprise) -> str:
    client.force_login(User.objects.get(username=username))
    response = client.get(reverse("admin:enterprises_enterprise_change", args=[enterprise.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_buttons_follow_state_role_and_four_eyes(client, demo):
    e = Enterprise.objects.get(uscc=SUBMITTED)
    assert 'value="start_review"' in page(client, "officer", e)
    assert 'value="start_review"' not in page(client, "finance", e)
    enterprise_transition(enterprise_id=e.pk, name="start_review", user=User.objects.get(username="officer"))
    officer_view = page(client, "officer", e)
    assert 'value="admit"' not in officer_view and 'value="reject"' in officer_view
    assert 'value="admit"' in page(client, "approver", e)


def test_eligibility_panel_and_history_are_shown(client, demo):
    e = Enterprise.objects.get(uscc=SUBMITTED)
    text = page(client, "officer", e)
    assert "条件审查结果" in text and "注册地在本市" in text
    assert "状态变更记录" in text


def test_admit_through_the_admin_form_runs_the_service(client, demo, business_date):
    business_date("2026-11-21")
    e = Enterprise.objects.get(uscc=SUBMITTED)
    enterprise_transition(enterprise_id=e.pk, name="start_review", user=User.objects.get(username="officer"))
    client.force_login(User.objects.get(username="approver"))
    url = reverse(
        "admin:enterprises_enterprise_transition", kwargs={"object_id": e.pk, "transition_name": "admit"}
    )
    response = client.post(url, {"comment": "材料齐全，同意入库"})
    assert response.status_code == 302
    e = Enterprise.objects.get(pk=e.pk)
    assert e.status == "admitted" and e.admitted_until.isoformat() == "2029-11-20"
    assert "材料齐全" in page(client, "approver", e)


def test_queue_filter_counts(client, demo):
    client.force_login(User.objects.get(username="officer"))
    text = client.get(
        reverse("admin:enterprises_enterprise_changelist") + "?queue=to_review"
    ).content.decode()
    assert "待审核（2）" in text
    assert SUBMITTED in text and "9144120252133505XP" not in text


def test_queue_shows_the_business_date_the_state_began_and_its_age(client, demo, business_date):
    business_date("2026-11-20")  # a Friday
    e = Enterprise.objects.get(uscc=SUBMITTED)
    enterprise_transition(enterprise_id=e.pk, name="start_review", user=User.objects.get(username="officer"))
    business_date("2026-11-24")  # Tuesday: Monday and Tuesday are two working days
    client.force_login(User.objects.get(username="approver"))
    text = client.get(
        reverse("admin:enterprises_enterprise_changelist") + "?queue=to_decide"
    ).content.decode()
    assert '<td class="field-in_state_since">2026-11-20</td>' in text
    assert '<td class="field-days_in_state">2</td>' in text
