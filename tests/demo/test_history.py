"""The demo's history (`manage.py seed_demo`): January 2024 to the business date, replayed
through the services. One history is built for the whole module (it takes a while) on the
pinned business date 2026-11-30, and rolled back at the end."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, Max, Min, Sum
from django.test.utils import override_settings

from banks.models import CooperationAgreement
from enterprises.models import Enterprise
from fundmgr.ground.accounts.models import TransitionDate
from fundmgr.ground.accounts.workflow import history
from fundmgr.ground.funds.models import EntryType, Fund, LedgerEntry
from fundmgr.ground.funds.selectors import fund_balance, fund_figures
from fundmgr.ground.lib import workdays
from fundmgr.top.demo.history import HISTORY_START, LATE_BANK
from fundmgr.top.notifications.models import Notification
from fundmgr.top.reports.models import ReportKind, StoredReport
from loans.models import (
    Claim,
    EarlyWarning,
    FilingStatus,
    LoanFiling,
    LoanStatus,
    Recovery,
    RecoveryStatus,
    StatusReport,
)
from loans.selectors.filings import book_drift, book_resummed, covered_totals_by_fund

END = dt.date(2026, 11, 30)  # the suite's pinned business date (tests/conftest.py)
LAST_REPORTED = dt.date(2026, 10, 31)

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def story(django_db_setup, django_db_blocker):
    """`seed_demo` once for the module, inside a transaction rolled back afterwards (as a
    TestCase class would: the services' durable transactions nest in it)."""
    with (
        django_db_blocker.unblock(),
        override_settings(
            FUNDMGR_BUSINESS_DATE=END.isoformat(),
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        ),
    ):
        atomic = transaction.atomic()
        atomic._from_testcase = True
        atomic.__enter__()
        try:
            out = StringIO()
            call_command("seed_demo", stdout=out)
            yield out.getvalue()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def by(qs, field: str) -> Counter:
    return Counter(dict(qs.values_list(field).annotate(n=Count("pk")).order_by()))


def test_the_progress_says_month_by_month_what_happened(story):
    assert "history: 2024-01 → 2026-11-30" in story
    months = [line.split()[0] for line in story.splitlines() if line.startswith("    20")]
    assert months[0] == "2024-01" and months[-1] == "2026-11" and len(months) == 35
    assert "filings of ccb-zhaoqing in zhaoqing suspended (NPL)" in story
    assert "Demo history to 2026-11-30:" in story


def test_filings_in_every_state(story):
    states = by(LoanFiling.objects, "status")
    assert states[FilingStatus.SUBMITTED] == 2
    assert states[FilingStatus.UNDER_REVIEW] == 1
    assert states[FilingStatus.RETURNED] == 1
    assert states[FilingStatus.REJECTED] == 1
    assert states[FilingStatus.WITHDRAWN] == 1
    assert states[FilingStatus.VOIDED] == 1
    assert states[FilingStatus.ACCEPTED] >= 40
    # one filing went back to the bank, was corrected and then accepted
    returned_then_accepted = LoanFiling.objects.filter(
        status=FilingStatus.ACCEPTED, due_diligence__isnull=False, contract_no="ZQRCB-2024-0002"
    ).get()
    assert returned_then_accepted.purpose == "研发投入（已更正评估报告）"


def test_loans_performing_overdue_non_performing_and_after(story):
    loans = by(LoanFiling.objects.filter(status=FilingStatus.ACCEPTED), "loan_status")
    assert loans[LoanStatus.PERFORMING] >= 10
    assert loans[LoanStatus.OVERDUE] == 2
    assert loans[LoanStatus.NON_PERFORMING] == 1
    assert loans[LoanStatus.IN_CLAIM] == 5
    assert loans[LoanStatus.COMPENSATED] == 1
    assert loans[LoanStatus.CLOSED] == 1
    assert loans[LoanStatus.SETTLED] >= 15
    # some loans missed a payment and were cured the month after
    cured = StatusReport.objects.filter(loan_status_after=LoanStatus.OVERDUE, days_overdue=18)
    assert cured.count() >= 3
    for report in cured:
        after = (
            StatusReport.objects.filter(filing=report.filing, as_of__gt=report.as_of)
            .order_by("as_of")
            .first()
        )
        assert after is None or after.loan_status_after == LoanStatus.PERFORMING


def test_claims_at_every_step(story):
    claims = by(Claim.objects, "status")
    for status in (
        "submitted",
        "initial_review",
        "recommended",
        "committee_review",
        "approved",
        "rejected",
        "in_recovery",
        "closed",
    ):
        assert claims[status] == 1, status
    approved = Claim.objects.get(status="approved")
    assert approved.approved_amount == approved.claimable_amount > 0 and approved.paid_amount is None
    assert approved.meeting_ref.startswith("决委会纪要")


def test_one_claim_paid_and_its_recovery_returned_to_the_fund(story):
    claim = Claim.objects.get(status="closed")
    assert claim.paid_amount == claim.approved_amount > 0
    recovery = claim.recoveries.get()
    assert recovery.status == RecoveryStatus.RETURNED and recovery.fund_amount > 0
    entries = dict(
        LedgerEntry.objects.filter(claim=claim).values_list("entry_type").annotate(total=Sum("amount"))
    )
    assert entries == {
        EntryType.COMPENSATION_PAID: -claim.paid_amount,
        EntryType.RECOVERY_RETURNED: recovery.fund_amount,
    }
    # the fund recovers in the proportion it bore the loss: (gross − costs) × paid ÷ bank loss
    expected = (
        (recovery.gross_amount - recovery.costs) * claim.paid_amount / claim.outstanding_principal
    ).quantize(Decimal("0.01"))
    assert recovery.fund_amount == expected
    # a second paid claim waits for finance to confirm its recovery
    waiting = Recovery.objects.get(status=RecoveryStatus.RETURN_DUE)
    assert waiting.claim.status == "in_recovery" and waiting.due_on > END


def test_one_bank_suspended_automatically_by_its_npl_ratio(story):
    suspended = CooperationAgreement.objects.filter(filings_suspended_on__isnull=False)
    assert [(a.institution.code, a.fund.code) for a in suspended] == [("ccb-zhaoqing", "zhaoqing")]
    agreement = suspended.get()
    assert "超过暂停阈值 5.00%" in agreement.filings_suspension_reason
    assert HISTORY_START < agreement.filings_suspended_on < END
    # the bank filed nothing in the fund after that, and was told
    assert not LoanFiling.objects.filter(
        institution=agreement.institution, submitted_on__gt=agreement.filings_suspended_on
    ).exists()
    assert Notification.objects.filter(event="agreement.filings_suspended").exists()


def first_admitted_on(enterprise: Enterprise) -> dt.date:
    """The business date of the enterprise's first admission (the demo file's own enterprises
    were loaded admitted, with no history)."""
    logged = [row["on"] for row in history(enterprise) if row["transition"] == "admit"]
    return logged[0] if logged else enterprise.admitted_on


def test_enterprises_registered_through_the_services(story):
    applied = Enterprise.objects.filter(submitted_by__isnull=False)
    assert by(applied, "status") == Counter({"admitted": 12, "rejected": 1})
    for enterprise in applied.filter(status="admitted"):
        assert dt.date(2024, 1, 1) < first_admitted_on(enterprise) < dt.date(2024, 2, 1)
        # renewed by staff before the 36 months ran out, so still admitted at the end
        assert enterprise.admitted_until >= END
    # every loan went to an enterprise admitted in its fund before it was filed
    for filing in LoanFiling.objects.select_related("enterprise"):
        assert filing.enterprise.fund_id == filing.fund_id
        assert first_admitted_on(filing.enterprise) <= filing.submitted_on


def test_monthly_reports_stored_for_every_month_and_quarterly_tables(story):
    months = StoredReport.objects.filter(kind=ReportKind.MONTHLY_FUND)
    assert by(months, "fund__code") == Counter(
        {code: 34 for code in ("zhaoqing", "foshan", "shaoguan", "shantou")}
    )
    span = months.aggregate(first=Min("period_start"), last=Max("period_start"))
    assert (span["first"], span["last"]) == (dt.date(2024, 1, 1), dt.date(2026, 10, 1))
    statements = StoredReport.objects.filter(kind=ReportKind.MONTHLY_INSTITUTION)
    assert statements.count() == 34 * CooperationAgreement.objects.count()
    quarterly = StoredReport.objects.filter(kind=ReportKind.QUARTERLY)
    assert quarterly.count() >= 4
    assert set(quarterly.values_list("period_end", flat=True)) >= {dt.date(2026, 9, 30)}


def test_every_live_loan_reported_monthly_and_the_late_bank_warned(story):
    reportable = LoanFiling.objects.filter(
        status=FilingStatus.ACCEPTED,
        loan_status__in=(LoanStatus.PERFORMING, LoanStatus.OVERDUE, LoanStatus.NON_PERFORMING),
        disbursed_on__lt=dt.date(2026, 10, 1),
    )
    unreported = reportable.exclude(status_reports__as_of=LAST_REPORTED, status_reports__is_current=True)
    assert set(unreported.values_list("institution__code", flat=True)) == {LATE_BANK}
    open_missing = EarlyWarning.objects.filter(kind="monthly_report_missing", resolved_on__isnull=True)
    assert set(open_missing.values_list("filing_id", flat=True)) == set(
        unreported.values_list("pk", flat=True)
    )
    assert set(open_missing.values_list("subject", flat=True)) == {"2026-10"}
    # earlier late reports were warned about, then resolved when they arrived
    resolved = EarlyWarning.objects.filter(kind="monthly_report_missing", resolved_on__isnull=False)
    assert resolved.exists()
    assert set(resolved.values_list("filing__institution__code", flat=True)) == {LATE_BANK}
    # the filing under due diligence is close to its deadline
    assert EarlyWarning.objects.filter(
        kind="due_diligence_deadline", resolved_on__isnull=True, filing__status=FilingStatus.UNDER_REVIEW
    ).exists()


def test_the_business_date_moved_through_the_history(story):
    days = TransitionDate.objects.aggregate(first=Min("on"), last=Max("on"))
    assert days["first"] < dt.date(2024, 2, 1) and days["last"] <= END
    assert len({d.strftime("%Y-%m") for d in TransitionDate.objects.values_list("on", flat=True)}) >= 30
    for filing in LoanFiling.objects.all():
        assert filing.submitted_on <= workdays.add_working_days(filing.disbursed_on, 10)
    for report in StatusReport.objects.all():
        assert report.as_of < report.reported_on <= report.as_of + dt.timedelta(days=25)


def test_ledgers_add_up(story):
    funds = list(Fund.objects.all())
    figures = fund_figures(funds=funds, on=END)
    for fund in funds:
        totals = Counter(
            dict(
                LedgerEntry.objects.filter(fund=fund).values_list("entry_type").annotate(total=Sum("amount"))
            )
        )
        assert totals[EntryType.INTEREST] > 0  # finance booked the deposit interest every quarter
        paid = (
            Claim.objects.filter(fund=fund, paid_amount__isnull=False).aggregate(t=Sum("paid_amount"))["t"]
            or 0
        )
        returned = (
            Recovery.objects.filter(claim__fund=fund, status=RecoveryStatus.RETURNED).aggregate(
                t=Sum("fund_amount")
            )["t"]
            or 0
        )
        assert -totals[EntryType.COMPENSATION_PAID] == paid
        assert totals[EntryType.RECOVERY_RETURNED] == returned
        balance = (
            totals[EntryType.CONTRIBUTION]
            + totals[EntryType.INTEREST]
            + totals[EntryType.COMPENSATION_PAID]
            + totals[EntryType.RECOVERY_RETURNED]
        )
        assert fund_balance(fund=fund) == balance == figures[fund.pk].balance
        assert figures[fund.pk].compensation_paid == paid
        assert figures[fund.pk].recoveries_returned == returned
    # Zhaoqing's city topped its fund up in 2025
    assert figures[Fund.objects.get(code="zhaoqing").pk].contributions == Decimal("10000000.00")


def test_the_kept_fund_book_equals_a_re_sum_of_the_loans(story):
    assert book_drift() == {}
    ids = list(Fund.objects.values_list("pk", flat=True))
    resummed, _cells = book_resummed(fund_ids=ids)
    kept = covered_totals_by_fund(fund_ids=ids)
    for fund_id, (covered, _exposure, _n) in resummed.items():
        assert kept[fund_id][0] == covered


def test_a_second_run_adds_and_changes_nothing(story):
    def rows() -> dict[str, int]:
        return {m._meta.label: m._default_manager.count() for m in apps.get_models()}

    def states() -> list:
        return sorted(
            LoanFiling.objects.values_list("reference", "status", "loan_status", "outstanding_principal")
        ) + sorted(Claim.objects.values_list("reference", "status", "approved_amount", "paid_amount"))

    before, before_states = rows(), states()
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert rows() == before
    assert states() == before_states
    assert "history: the database already holds" in out.getvalue()
    assert "nothing new to load" in out.getvalue()


def test_the_banner_says_what_to_try_first_with_real_references(story):
    out = StringIO()
    call_command("demo_banner", stdout=out)
    text = out.getvalue()
    assert "Try first" in text
    assert Claim.objects.get(status="approved").reference in text
    assert Claim.objects.get(status="committee_review").reference in text
    assert LoanFiling.objects.filter(status=FilingStatus.SUBMITTED).order_by("pk").first().reference in text
    assert LoanFiling.objects.get(status=FilingStatus.UNDER_REVIEW).reference in text
    assert Recovery.objects.get(status=RecoveryStatus.RETURN_DUE).claim.reference in text
    assert "/admin/funds/fund/dashboard/zhaoqing/" in text


def test_the_admin_pages_render_the_history(story, client):
    """Every admin list, each queue and the dashboards render with the history in them, for
    the people the banner sends there; each change page of a sample of records renders too."""
    from django.contrib import admin
    from django.urls import reverse

    from fundmgr.ground.accounts.models import User

    client.force_login(User.objects.get(username="admin"))
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        response = client.get(reverse("admin:{}_{}_changelist".format(*info)))
        assert response.status_code == 200, info
        sample = model._default_manager.order_by("pk").last()
        if sample is not None:
            response = client.get(reverse("admin:{}_{}_change".format(*info), args=[sample.pk]))
            assert response.status_code == 200, (info, sample.pk)
    pages = {
        "officer": [
            "/admin/loans/loanfiling/?queue=submitted",
            "/admin/loans/loanfiling/?queue=non_performing",
        ],
        "approver": ["/admin/loans/loanfiling/?queue=under_review", "/admin/banks/cooperationagreement/"],
        "committee": ["/admin/loans/claim/?queue=committee"],
        "finance": ["/admin/loans/claim/?queue=approved", "/admin/loans/recovery/?queue=return_due"],
        "regulator-zhaoqing": ["/admin/funds/fund/dashboard/zhaoqing/", "/admin/reports/storedreport/"],
    }
    for username, urls in pages.items():
        client.force_login(User.objects.get(username=username))
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (username, url)
    # the regulator's dashboard shows its fund's claims pipeline and the paid compensation
    text = client.get("/admin/funds/fund/dashboard/zhaoqing/").content.decode()
    assert Claim.objects.get(status="approved").approved_amount.to_integral() > 0
    assert "肇庆" in text


# --- 投融对接与政策宣传 -------------------------------------------------------------------------------


def test_financing_needs_in_every_status_with_their_priority_classes(story):
    from matching.models import EnterpriseHonour, FinancingNeed, NeedPriority, NeedSource, NeedStatus

    assert "9 financing needs, 3 outreach events" in story
    needs = FinancingNeed.objects.all()
    assert by(needs, "status") == Counter(
        {
            NeedStatus.OPEN: 2,
            NeedStatus.IN_TALKS: 3,
            NeedStatus.FILED: 1,
            NeedStatus.CLOSED: 1,
            NeedStatus.WITHDRAWN: 1,
            NeedStatus.EXPIRED: 1,
        }
    )
    assert by(needs, "source") == Counter(
        {NeedSource.INSTITUTION: 5, NeedSource.EVENT: 3, NeedSource.STAFF: 1}
    )
    # a bank's interest (or a signing) moved the needs in talks; the filed one names a pending
    # filing, the closed one an accepted loan
    for need in needs.filter(status=NeedStatus.IN_TALKS):
        assert need.interests.exists(), need
    (filed,) = needs.get(status=NeedStatus.FILED).filings.all()
    assert filed.status == FilingStatus.SUBMITTED
    (financed,) = needs.get(status=NeedStatus.CLOSED).filings.all()
    assert financed.status == FilingStatus.ACCEPTED
    assert needs.get(status=NeedStatus.WITHDRAWN).consent_on is not None
    # the honours staff recorded put needs in priority classes, shown with their reasons
    assert EnterpriseHonour.objects.count() == 5
    classes = set(NeedPriority.objects.values_list("priority_class__code", flat=True))
    assert {"ip_demonstration", "well_known_trademark", "high_tech", "tech_sme", "city_industry"} <= classes
    assert all(p.reason for p in NeedPriority.objects.all())


def test_an_event_of_each_kind_with_participants_and_a_signing_realised_by_a_loan(story):
    from matching import selectors
    from matching.models import EventKind, EventSigning, OutreachEvent

    events = OutreachEvent.objects.all()
    assert by(events, "kind") == Counter({kind: 1 for kind in EventKind.values})
    for event in events:
        assert event.enterprises.exists() and event.institutions.exists(), event
        assert event.signings.exists(), event
        # the parties of each signing are among the participants
        for signing in event.signings.all():
            assert event.enterprises.filter(pk=signing.enterprise_id).exists()
            assert event.institutions.filter(pk=signing.institution_id).exists()
    realised = [
        s for s in EventSigning.objects.all() if selectors.signing_filings(s).filter(status="accepted")
    ]
    assert len(realised) == 1 and realised[0].event.kind == EventKind.MATCHMAKING
    assert EventSigning.objects.count() == 4


def test_the_quarters_funnel_and_the_staffs_queues_hold_the_story(story, client):
    from fundmgr.ground.accounts.models import User
    from fundmgr.ground.accounts.principals import principal_for
    from fundmgr.top.reports.services import outreach_report
    from matching import selectors

    officer = User.objects.get(username="officer")
    report = outreach_report(principal=principal_for(officer), fund_code="zhaoqing", year=2026, quarter=4)
    (zhaoqing,) = report["funnel"]
    assert zhaoqing["needs"] >= 4 and zhaoqing["needs_filed"] == 2 and zhaoqing["needs_accepted"] == 1
    assert report["events_total"]["events"] == 2 and report["events_total"]["realised_signings"] == 1
    client.force_login(User.objects.get(username="regulator-zhaoqing"))
    html = client.get("/admin/funds/fund/dashboard/zhaoqing/").content.decode()
    assert '<tr class="funnel-step"><td>受理入池</td><td class="num">1</td>' in html
    # the officer's 工作台: a bank's interest to follow up, needs nobody touched
    interest = selectors.needs_interest_queue(today=END, limit=10)
    untouched = selectors.needs_untouched_queue(today=END, limit=10)
    assert interest.count == 1 and untouched.count >= 1
    client.force_login(officer)
    for queue, summary in (("interest", interest), ("untouched", untouched)):
        listing = client.get(f"/admin/matching/financingneed/?queue={queue}")
        assert listing.context["cl"].result_count == summary.count, queue
    out = StringIO()
    call_command("demo_banner", stdout=out)
    assert "/admin/matching/financingneed/?queue=interest" in out.getvalue()
