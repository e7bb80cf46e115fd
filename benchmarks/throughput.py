"""Filings per second through the real stack: gunicorn (2 workers) on the bench database, four
banks' clients POSTing /api/v1/filings/ with an API key, every check run.

Each filing is for one of `borrowers` generated here (so no borrower reaches the per-enterprise
cap) and pledges a patent of its own (so the IP lock never refuses). The figure is the 201s
per second of wall time while the clients run; any other answer is counted and printed.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import subprocess
import sys
import threading
import time

PORT = 8798


def prepare(*, today: dt.date, borrowers: int, per_borrower: int) -> tuple[str, list[bytes]]:
    """Borrowers with patents of their own, an API key for their bank; the request bodies."""
    from banks.models import Institution
    from enterprises.models import IPAsset
    from fundmgr.ground.accounts.services import api_key_issue
    from fundmgr.top.demo.scale import district_of, enterprise_uscc, spare_borrower
    from tests.factories import patent_with_check

    spare = spare_borrower()
    fund = spare.fund
    bank = Institution.objects.get(pk=spare.submitted_by_id)
    _key, raw = api_key_issue(institution=bank, name="bench throughput")
    day = dt.timedelta(days=1)
    bodies = []
    assets = []
    for b in range(borrowers):
        serial = 9_999_000 + b
        borrower = type(spare).objects.get(pk=spare.pk)
        borrower.pk = borrower.id = None
        borrower.uscc = enterprise_uscc(fund.region_code, serial)
        borrower.region_code = district_of(fund.region_code, serial)
        borrower.name = f"压测借款企业{b:03d}"
        borrower.save()
        for i in range(per_borrower):
            number = patent_with_check(f"{today.year - 1}1{7_000_000 + b * 1000 + i:07d}")
            assets.append(
                IPAsset(
                    enterprise=borrower,
                    kind="invention_patent",
                    number=number,
                    title=number,
                    owner_name=borrower.name,
                    expires_on=today + 3000 * day,
                )  # fmt: skip
            )
            bodies.append(
                json.dumps(
                    {
                        "fund": fund.code,
                        "enterprise_uscc": borrower.uscc,
                        "contract_no": f"TP-{number}",
                        "principal": "100000.00",
                        "pledge_type": "ip_only",
                        "annual_rate": "4.3500",
                        "disbursed_on": str(today - 3 * day),
                        "matures_on": str(today + 360 * day),
                        "pledges": [
                            {
                                "kind": "invention_patent",
                                "number": number,
                                "registration_no": f"Y{today.year}44{number[5:12]}",
                                "registered_on": str(today - 8 * day),
                            }
                        ],
                    }
                ).encode()  # fmt: skip
            )
    IPAsset.objects.bulk_create(assets, batch_size=2000)
    return raw, bodies


def _serve(database_url: str, today: dt.date, workers: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": "",
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-not-a-secret-0123456789abcdefghijklmnop",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "API_THROTTLE_RATE": "100000000/hour",
        "FUNDMGR_BUSINESS_DATE": today.isoformat(),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "fundmgr.wsgi:application", "-w", str(workers),
         "-b", f"127.0.0.1:{PORT}", "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
            conn.request("GET", "/readyz")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError(
        f"gunicorn did not answer: {server.stderr.read().decode()[-2000:] if server.stderr else ''}"
    )


def filings_per_second(
    *, database_url: str, today: dt.date, clients: int = 4, workers: int = 2, seconds: float = 15.0
) -> dict:
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        return {"skipped": "gunicorn is not installed (pip install -e '.[prod]')"}
    per_borrower = 40
    raw, bodies = prepare(today=today, borrowers=100, per_borrower=per_borrower)  # more than 15 s need
    server = _serve(database_url, today, workers)
    statuses: dict[int, int] = {}
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    # Client k takes every clients-th body: no two clients file the same contract.
    shares = [bodies[k::clients] for k in range(clients)]

    def client(share: list[bytes]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        headers = {"Authorization": f"Api-Key {raw}", "Content-Type": "application/json"}
        for body in share:
            if time.monotonic() >= stop:
                break
            conn.request("POST", "/api/v1/filings/", body=body, headers=headers)
            response = conn.getresponse()
            text = response.read()
            with lock:
                statuses[response.status] = statuses.get(response.status, 0) + 1
                if response.status != 201 and len(errors) < 3:
                    errors.append(text[:300].decode(errors="replace"))

    try:
        started = time.monotonic()
        threads = [threading.Thread(target=client, args=(share,)) for share in shares]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(timeout=10)
    created = statuses.get(201, 0)
    return {
        "per_second": created / elapsed,
        "created": created,
        "elapsed": elapsed,
        "statuses": statuses,
        "errors": errors,
        "exhausted": created >= len(bodies),
    }
