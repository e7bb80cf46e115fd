"""Demo data: loads `demo-seed.json` (a copy of shared/data/demo-seed.json) idempotently.

Running it twice gives the same data: rows are keyed by their natural codes, ledger
entries by a `seed:` reference, and nothing already in force is rewritten.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from dateutil.relativedelta import relativedelta
from django.contrib.auth.hashers import make_password
from django.db import transaction

SEED_PATH = Path(__file__).with_name("demo-seed.json")
DEFAULT_DEMO_PASSWORD = "fundmgr-demo-2026"
# What the seeded records say, as a fund manager would have written it: data, in Chinese.
SEED_DOCUMENT_REF = "演示数据"  # the policy versions' document reference
SEED_CONTRIBUTION_MEMO = "{fund} 出资（演示数据）"  # the contributions' ledger description


@dataclass
class SeedReport:
    created: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, created: bool) -> None:
        if created:
            self.created[kind] = self.created.get(kind, 0) + 1


def _d(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def load_seed(path: Path | None = None) -> dict:
    with open(path or SEED_PATH, encoding="utf-8") as fh:
        return json.load(fh)


def seed_demo(
    *,
    data: dict | None = None,
    password: str = DEFAULT_DEMO_PASSWORD,
    progress: Callable[[str], None] | None = None,
) -> SeedReport:
    from banks.models import CooperationAgreement, Institution
    from enterprises.models import Enterprise, IPAsset
    from enterprises.services import sme_thresholds_load_default
    from enterprises.sme import classify_sme_from_db
    from fundmgr.ground.accounts.models import Organization, Role, User
    from fundmgr.ground.accounts.services import institution_organization
    from fundmgr.ground.funds.models import EntryType, Fund, LedgerEntry, PolicyVersion
    from fundmgr.ground.funds.services import ledger_post

    data = data or load_seed()
    say = progress or (lambda _msg: None)
    report = SeedReport()

    with transaction.atomic(durable=True):
        sme_thresholds_load_default()
        manager, created = Organization.objects.update_or_create(
            code="gdee",
            defaults={
                "name": data["manager"]["name"],
                "kind": Organization.Kind.MANAGER,
                "region_code": "440000",
            },
        )
        report.add("organizations", created)

        funds: dict[str, Fund] = {}
        for item in data["funds"]:
            contributions = item.get("contributions", [])
            start = min((_d(c["on"]) for c in contributions), default=_d(item["policy"]["effective_from"]))
            fund, created = Fund.objects.get_or_create(
                code=item["code"],
                defaults={
                    "name": item["name"],
                    "reference_prefix": item.get("reference_prefix") or item["code"][:2].upper(),
                    "region_code": item["region_code"],
                    "manager": manager,
                    "start_date": start,
                    "status": Fund.Status.ACTIVE,
                },
            )
            report.add("funds", created)
            funds[fund.code] = fund
            policy = dict(item["policy"])
            effective_from = _d(policy.pop("effective_from"))
            if not PolicyVersion.objects.filter(fund=fund, effective_from=effective_from).exists():
                PolicyVersion.objects.create(
                    fund=fund, effective_from=effective_from, document_ref=SEED_DOCUMENT_REF, **policy
                )
                report.add("policy_versions", True)
            for index, c in enumerate(contributions):
                reference = f"seed:{fund.code}:contribution:{index}"
                if LedgerEntry.objects.filter(fund=fund, reference=reference).exists():
                    continue
                ledger_post(
                    fund=fund,
                    entry_type=EntryType.CONTRIBUTION,
                    amount=Decimal(c["amount"]),
                    value_date=_d(c["on"]),
                    government_level=c["level"],
                    description=SEED_CONTRIBUTION_MEMO.format(fund=fund.name),
                    reference=reference,
                )
                report.add("ledger_entries", True)
        say(f"funds: {len(funds)}")

        for item in data["institutions"]:
            institution, created = Institution.objects.get_or_create(
                code=item["code"],
                defaults={
                    "name": item["name"],
                    "kind": item.get("kind", Institution.Kind.BANK),
                    "region_code": item.get("region_code", ""),
                    "status": Institution.Status.ACTIVE,
                },
            )
            report.add("institutions", created)
            institution_organization(institution=institution)
            for a in item.get("agreements", []):
                signed = _d(a["signed_on"])
                _, created = CooperationAgreement.objects.get_or_create(
                    institution=institution,
                    fund=funds[a["fund"]],
                    valid_from=signed,
                    defaults={
                        "fund_share": Decimal(a["fund_share"]),
                        "bank_share": Decimal(a.get("bank_share", "0")),
                        "insurer_share": Decimal(a.get("insurer_share", "0")),
                        "valuer_share": Decimal(a.get("valuer_share", "0")),
                        "quota": Decimal(a["quota"]) if a.get("quota") else None,
                        "signed_on": signed,
                    },
                )
                report.add("agreements", created)
        say(f"institutions: {len(data['institutions'])}")

        for item in data["enterprises"]:
            fund = funds[item["fund"]]
            size = classify_sme_from_db(
                industry_code=item["industry_code"],
                employees=item.get("employees"),
                annual_revenue_yuan=Decimal(item["annual_revenue"]) if item.get("annual_revenue") else None,
                total_assets_yuan=Decimal(item["total_assets"]) if item.get("total_assets") else None,
            )
            admitted_on = _d(item.get("admitted_on"))
            policy = fund.policy_in_force(admitted_on) if admitted_on else None
            admitted_until = (
                admitted_on + relativedelta(months=policy.admission_valid_months) - dt.timedelta(days=1)
                if admitted_on and policy
                else None
            )
            enterprise = Enterprise.objects.filter(uscc=item["uscc"]).first()
            if enterprise is None:
                enterprise = Enterprise.objects.create(
                    uscc=item["uscc"],
                    name=item["name"],
                    fund=fund,
                    region_code=item["region_code"],
                    industry_code=item["industry_code"],
                    registered_on=_d(item["registered_on"]),
                    employees=item.get("employees"),
                    annual_revenue=Decimal(item["annual_revenue"]) if item.get("annual_revenue") else None,
                    total_assets=Decimal(item["total_assets"]) if item.get("total_assets") else None,
                    size_class=size.size_class,
                    size_basis=size.basis[:300],
                    credit_report_date=_d(item.get("credit_report_date")),
                    credit_record_clean=item.get("credit_record_clean"),
                    status=item.get("status", Enterprise.Status.SUBMITTED),
                    admitted_on=admitted_on,
                    admitted_until=admitted_until,
                )
                report.add("enterprises", True)
            for ip in item.get("ip_assets", []):
                _, created = IPAsset.objects.get_or_create(
                    kind=ip["kind"],
                    number=ip["number"],
                    defaults={
                        "enterprise": enterprise,
                        "title": ip["title"],
                        "owner_name": ip.get("owner_name") or enterprise.name,
                        "nice_class": ip.get("nice_class"),
                        "filed_on": _d(ip.get("filed_on")),
                        "expires_on": _d(ip["expires_on"]),
                    },
                )
                report.add("ip_assets", created)
        say(f"enterprises: {len(data['enterprises'])}")

        # One hash for all of them: they share the demo password, and hashing is slow on
        # purpose (~0.3 s each).
        hashed = make_password(password)
        for item in data["users"]:
            role = item["role"]
            user = User.objects.filter(username=item["username"]).first()
            created = user is None
            if user is None:
                user = User(username=item["username"])
            user.role = role
            user.is_staff = role != Role.REGULATOR
            user.is_superuser = role == Role.ADMIN
            user.organization = manager if role != Role.REGULATOR else None
            user.password = hashed
            user.save()
            if role == Role.REGULATOR:
                user.funds.set([funds[code] for code in item.get("funds", [])])
            report.add("users", created)
        say(f"users: {len(data['users'])}")
    return report


def demo_users(data: dict | None = None) -> list[tuple[str, str]]:
    data = data or load_seed()
    return [(u["username"], u["role"]) for u in data["users"]]
