"""The structure the names promise: the layer contracts hold, events are declared once, and
no app keeps an empty placeholder module."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = [
    ROOT / "enterprises",
    ROOT / "banks",
    ROOT / "matching",
    ROOT / "loans",
    *sorted((ROOT / "fundmgr" / "ground").iterdir()),
    *sorted((ROOT / "fundmgr" / "top").iterdir()),
]


def test_layer_contracts_hold():
    """pyproject.toml [tool.importlinter]: every import, at module level or inside a function,
    points down the layers."""
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout and "KEPT" in result.stdout


def test_no_placeholder_modules():
    """A room exists when it has something in it: no module that is only a docstring."""
    empty = []
    for app in APPS:
        if not app.is_dir():
            continue
        for module in app.rglob("*.py"):
            if module.name == "__init__.py" or "migrations" in module.parts:
                continue
            code = [
                line
                for line in module.read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.strip().startswith("#")
            ]
            if len(code) <= 1:
                empty.append(str(module.relative_to(ROOT)))
    assert empty == []


def test_business_events_have_subscribers_in_notifications():
    """Each event the business apps declare is handled above them (else a notice is lost)."""
    from fundmgr.ground.lib.events import declared

    events = declared()
    assert {
        "filing.decided",
        "claim.decided",
        "agreement.filings_suspended",
        "recovery.overdue",
        "warning.raised",
        "institution.changed",
    } <= set(events)
    for name, event in events.items():
        assert event.handlers, f"{name} has no subscriber"
