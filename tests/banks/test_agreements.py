"""Cooperation agreements (shares, policy cap, term, quota) and product filing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from banks import rules, services
from banks.models import CooperationAgreement, Institution, Product
from banks.selectors import agreement_in_force
from fundmgr.ground.accounts.models import User
from fundmgr.ground.funds.models import Fund
from fundmgr.ground.lib.errors import AppError

pytestmark = pytest.mark.django_db

D = Decimal


def user(name: str) -> User:
    return User.objects.get(username=name)


def fund(code: str = "zhaoqing") -> Fund:
    return Fund.objects.get(code=code)


def applicant(code: str = "agr-bank") -> Institution:
    return services.institution_create(data={"code": code, "name": "协议测试银行"}, by=user("officer"))


def sign(
    institution: Institution, fund_code: str = "zhaoqing", by: str = "officer", **terms
) -> CooperationAgreement:
    data = {
        "fund_share": "50.00",
        "bank_share": "50.00",
        "signed_on": "2026-01-01",
        "valid_from": "2026-01-01",
        **terms,
    }
    return services.agreement_sign(institution=institution, fund=fund(fund_code), data=data, by=user(by))


def refused(call) -> AppError:
    with pytest.raises(AppError) as info:
        call()
    return info.value


# --- the pure rules --------------------------------------------------------------------------


def terms(**overrides) -> rules.AgreementTerms:
    base = {
        "fund_share": D("50.00"),
        "bank_share": D("30.00"),
        "insurer_share": D("15.00"),
        "valuer_share": D("5.00"),
        "valid_from": dt.date(2026, 1, 1),
    }
    return rules.AgreementTerms(**{**base, **overrides})


def rule_codes(t: rules.AgreementTerms, cap: str | None = "50.00") -> list[tuple[str, str | None]]:
    return [
        (v.code, v.field) for v in rules.check_agreement(t, max_fund_share=None if cap is None else D(cap))
    ]


def test_a_four_party_split_totalling_100_passes():
    assert rule_codes(terms()) == []


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"bank_share": D("29.99")}, [("shares_must_total_100", None)]),
        ({"valuer_share": D("5.01")}, [("shares_must_total_100", None)]),
        (
            {"bank_share": D("-5.00"), "insurer_share": D("50.00")},
            [("shares_must_total_100", "bank_share")],
        ),
        (
            {
                "fund_share": D("0"),
                "bank_share": D("120.00"),
                "insurer_share": D("-20.00"),
                "valuer_share": D("0"),
            },
            [("shares_must_total_100", "bank_share"), ("shares_must_total_100", "insurer_share")],
        ),
        ({"fund_share": D("50.01"), "bank_share": D("29.99")}, [("fund_share_exceeds_policy", "fund_share")]),
        ({"valid_until": dt.date(2026, 1, 1)}, [("invalid_agreement_term", "valid_until")]),
        ({"valid_until": dt.date(2025, 12, 31)}, [("invalid_agreement_term", "valid_until")]),
        ({"quota": D("-0.01")}, [("invalid_quota", "quota")]),
        ({"reserve_deposit": D("-1.00")}, [("invalid_reserve_deposit", "reserve_deposit")]),
    ],
)
def test_each_rule_names_its_code_and_field(overrides, expected):
    assert rule_codes(terms(**overrides)) == expected


def test_the_cap_is_inclusive_and_a_missing_policy_is_a_refusal():
    assert rule_codes(terms(), cap="50.00") == []
    assert rule_codes(terms(), cap=None) == [("no_policy_in_force", "valid_from")]


def test_every_violation_is_reported_at_once():
    t = terms(fund_share=D("60.00"), valid_until=dt.date(2025, 1, 1), quota=D("-1"))
    assert [c for c, _ in rule_codes(t)] == [
        "shares_must_total_100",
        "fund_share_exceeds_policy",
        "invalid_agreement_term",
        "invalid_quota",
    ]


@pytest.mark.parametrize(
    ("status", "agreement", "expected"),
    [
        ("active", True, []),
        ("active", False, ["no_agreement_in_force"]),
        ("suspended", True, ["institution_suspended"]),
        ("applied", True, ["institution_not_active"]),
        ("under_review", True, ["institution_not_active"]),
        ("terminated", False, ["institution_not_active", "no_agreement_in_force"]),
    ],
)
def test_can_file_rule(status, agreement, expected):
    assert [v.code for v in rules.check_can_file(status=status, has_agreement_in_force=agreement)] == expected


# --- signing through the service -----------------------------------------------------------


def test_signing_records_the_agreement(demo):
    institution = applicant()
    agreement = sign(institution, quota="30000000.00", valid_until="2028-12-31", document_ref="ZQ-HZ-2026-01")
    stored = CooperationAgreement.objects.get(pk=agreement.pk)
    assert (stored.fund_share, stored.bank_share, stored.quota) == (D("50.00"), D("50.00"), D("30000000.00"))
    assert stored.valid_until == dt.date(2028, 12, 31) and stored.document_ref == "ZQ-HZ-2026-01"
    assert stored.history.first().history_user.username == "officer"


@pytest.mark.parametrize(
    ("data", "code", "field"),
    [
        ({"fund_share": "40.00", "bank_share": "50.00"}, "shares_must_total_100", None),
        ({"fund_share": "60.00", "bank_share": "40.00"}, "fund_share_exceeds_policy", "fund_share"),
        ({"valid_until": "2025-06-30"}, "invalid_agreement_term", "valid_until"),
        ({"quota": "-100.00"}, "invalid_quota", "quota"),
        ({"valid_from": "2020-06-01"}, "no_policy_in_force", "valid_from"),
    ],
)
def test_signing_refuses_each_rule_with_422_and_writes_nothing(demo, data, code, field):
    institution = applicant()
    error = refused(lambda: sign(institution, **data))
    assert error.status == 422
    assert [(e.code, e.field) for e in error.errors] == [(code, field)]
    assert not CooperationAgreement.objects.filter(institution=institution).exists()


def test_foshan_policy_allows_seventy_percent(demo):
    # The cap is the fund's own policy (Foshan 70%), not a constant.
    assert sign(applicant(), fund_code="foshan", fund_share="70.00", bank_share="30.00").fund_share == D(
        "70.00"
    )
    error = refused(
        lambda: sign(applicant("agr-bank-2"), fund_code="foshan", fund_share="70.01", bank_share="29.99")
    )
    assert error.errors[0].code == "fund_share_exceeds_policy"


def test_a_second_agreement_from_the_same_day_is_a_conflict(demo):
    institution = applicant()
    sign(institution)
    error = refused(lambda: sign(institution, fund_share="40.00", bank_share="60.00"))
    assert (error.status, error.code) == (409, "agreement_exists")


def test_a_terminated_institution_signs_nothing(demo):
    institution = applicant()
    services.institution_transition(institution_id=institution.pk, name="start_review", user=user("officer"))
    services.institution_transition(
        institution_id=institution.pk, name="terminate", user=user("approver"), comment="终止"
    )
    error = refused(lambda: sign(institution))
    assert (error.status, error.code) == (409, "institution_terminated")


def test_only_officers_and_approvers_sign(demo):
    error = refused(lambda: sign(applicant(), by="finance"))
    assert (error.status, error.code) == (403, "permission_denied")


def test_a_later_agreement_supersedes_an_earlier_one(demo):
    institution = applicant()
    first = sign(institution)
    second = sign(
        institution, valid_from="2027-01-01", signed_on="2026-12-01", fund_share="40.00", bank_share="60.00"
    )
    zq = fund()
    assert agreement_in_force(institution=institution, fund=zq, on=dt.date(2026, 12, 31)) == first
    assert agreement_in_force(institution=institution, fund=zq, on=dt.date(2027, 1, 1)) == second
    assert agreement_in_force(institution=institution, fund=zq, on=dt.date(2025, 12, 31)) is None
    assert agreement_in_force(institution=institution, fund=fund("foshan"), on=dt.date(2027, 1, 1)) is None


# --- agreements in the admin ---------------------------------------------------------------


def institution_form(institution: Institution, **agreement) -> dict:
    existing = institution.agreements.count()
    row = {
        "fund": fund().pk,
        "fund_share": "50.00",
        "bank_share": "50.00",
        "insurer_share": "0.00",
        "valuer_share": "0.00",
        "quota": "",
        "reserve_deposit": "",
        "signed_on": "2026-01-01",
        "valid_from": "2026-01-01",
        "valid_until": "",
        "document_ref": "",
        **agreement,
    }
    data = {
        "name": institution.name,
        "kind": institution.kind,
        "region_code": institution.region_code,
        "uscc": "",
        "contact_name": "",
        "contact_phone": "",
        "contact_email": "",
        "agreements-TOTAL_FORMS": str(existing + 1),
        "agreements-INITIAL_FORMS": str(existing),
        "products-TOTAL_FORMS": "0",
        "products-INITIAL_FORMS": "0",
    }
    for index, pk in enumerate(institution.agreements.values_list("pk", flat=True)):
        data[f"agreements-{index}-id"] = str(pk)
        data[f"agreements-{index}-institution"] = str(institution.pk)
    data.update({f"agreements-{existing}-{k}": v for k, v in row.items()})
    data[f"agreements-{existing}-institution"] = str(institution.pk)
    return data


def post_change(client, institution: Institution, data: dict):
    client.force_login(user("officer"))
    return client.post(reverse("admin:banks_institution_change", args=[institution.pk]), data)


def test_admin_shows_a_bad_share_split_on_the_form(client, demo):
    institution = applicant()
    response = post_change(client, institution, institution_form(institution, fund_share="40.00"))
    assert response.status_code == 200
    text = response.content.decode()
    assert "各方分担比例合计须为 100%" in text
    assert not CooperationAgreement.objects.filter(institution=institution).exists()


def test_admin_shows_the_policy_cap(client, demo):
    institution = applicant()
    response = post_change(
        client, institution, institution_form(institution, fund_share="60.00", bank_share="40.00")
    )
    assert response.status_code == 200
    assert "超过政策上限 50.00%" in response.content.decode()
    assert not CooperationAgreement.objects.filter(institution=institution).exists()


def test_admin_signs_a_valid_agreement_through_the_service(client, demo):
    institution = applicant()
    response = post_change(client, institution, institution_form(institution, quota="10000000.00"))
    assert response.status_code == 302, response.content.decode()[:3000]
    agreement = CooperationAgreement.objects.get(institution=institution)
    assert agreement.quota == D("10000000.00")
    assert agreement.history.first().history_user.username == "officer"


def test_admin_keeps_signed_agreements_and_adds_the_new_one(client, demo):
    institution = applicant()
    sign(institution)
    data = institution_form(institution, valid_from="2027-01-01", fund_share="45.00", bank_share="55.00")
    data["agreements-0-fund_share"] = "10.00"  # a tampered read-only row is ignored
    response = post_change(client, institution, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    shares = list(institution.agreements.order_by("valid_from").values_list("fund_share", flat=True))
    assert shares == [D("50.00"), D("45.00")]


# --- products ----------------------------------------------------------------------------------


def submit(institution: Institution, fund_code: str = "zhaoqing", **data) -> Product:
    body = {"code": "zhi-dai", "name": "知易贷", "accepted_ip_kinds": ["invention_patent"], **data}
    return services.product_submit(
        institution=institution, fund=fund(fund_code), data=body, by=user("officer")
    )


def test_products_are_filed_on_the_business_date(demo, business_date):
    business_date("2026-11-21")
    zqrcb = Institution.objects.get(code="zqrcb")
    product = submit(zqrcb, max_principal="5000000.00")
    assert (product.status, product.version) == ("submitted", 1)
    filed = services.product_file(product_id=product.pk, by=user("officer"))
    assert (filed.status, filed.filed_on) == ("filed", dt.date(2026, 11, 21))
    again = refused(lambda: services.product_file(product_id=product.pk, by=user("officer")))
    assert (again.status, again.code) == (409, "transition_not_allowed")


def test_a_new_version_gets_the_next_number_and_the_old_can_be_withdrawn(demo, business_date):
    business_date("2026-11-21")
    zqrcb = Institution.objects.get(code="zqrcb")
    first = submit(zqrcb)
    services.product_file(product_id=first.pk, by=user("officer"))
    second = submit(zqrcb, name="知易贷（2027版）")
    assert second.version == 2
    withdrawn = services.product_withdraw(product_id=first.pk, by=user("approver"), comment="被新版本替代")
    assert (withdrawn.status, withdrawn.withdrawn_on) == ("withdrawn", dt.date(2026, 11, 21))
    assert refused(lambda: services.product_withdraw(product_id=first.pk, by=user("approver"))).code == (
        "transition_not_allowed"
    )


def test_products_need_a_partner_with_an_agreement(demo):
    newcomer = applicant()
    product = submit(newcomer)
    error = refused(lambda: services.product_file(product_id=product.pk, by=user("officer")))
    assert error.status == 422
    assert [e.code for e in error.errors] == ["institution_not_active", "no_agreement_in_force"]
    assert Product.objects.get(pk=product.pk).status == "submitted"


def test_products_refuse_unknown_ip_kinds(demo):
    error = refused(lambda: submit(Institution.objects.get(code="zqrcb"), accepted_ip_kinds=["patent"]))
    assert (error.status, error.code) == (400, "invalid_ip_kind")


def test_filing_from_the_admin_product_list(client, demo, business_date):
    business_date("2026-11-21")
    product = submit(Institution.objects.get(code="zqrcb"))
    client.force_login(user("officer"))
    response = client.post(
        reverse("admin:banks_product_changelist"),
        {"action": "file_products", "_selected_action": [product.pk]},
        follow=True,
    )
    assert "已备案 1 个产品" in response.content.decode()
    assert Product.objects.get(pk=product.pk).status == "filed"


def test_cooperating_institutions_are_the_agreements_banks_once_per_fund(demo):
    """One plain statement: each (fund, bank) with an agreement, once even with several
    agreement versions, with the bank's code and name; only the funds asked for."""
    from banks.selectors import cooperating_institutions

    zq = fund("zhaoqing")
    agreement = CooperationAgreement.objects.filter(fund=zq).first()
    later = CooperationAgreement.objects.get(pk=agreement.pk)  # a second version of one agreement
    later.pk, later.valid_from = None, agreement.valid_from + dt.timedelta(days=400)
    later.save()
    every = list(Fund.objects.values_list("id", flat=True))
    for ids in (every, [zq.id], []):
        expected = {
            (a.fund_id, a.institution_id, a.institution.code, a.institution.name)
            for a in CooperationAgreement.objects.filter(fund_id__in=ids).select_related("institution")
        }
        read = cooperating_institutions(fund_ids=ids)
        assert len(read) == len(set(read))  # once per fund and bank
        assert set(read) == expected
    assert len(cooperating_institutions(fund_ids=every)) > len(cooperating_institutions(fund_ids=[zq.id])) > 0
