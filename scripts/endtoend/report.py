"""The result block: every check and observation by scenario, then the one summary line.

The last line, `e2e: PASS|FAIL: N/M checks passed in S s`, is what people and CI read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
import os
import platform
from typing import TYPE_CHECKING

from .mqtt import SCENARIOS

if TYPE_CHECKING:
    from .harness import Harness


@dataclass
class Result:
    """One check on Heat Pump Reset, or one observation of the script."""

    scenario: str
    subject: str  # "ours" or "script"
    name: str
    ok: bool | None  # None: an observation, not a check
    detail: str = ""


def report(harness: Harness, error: str | None, seconds: float) -> bool:
    """Print the result block; return whether everything passed."""
    import homeassistant.const as ha_const

    checks = [r for r in harness.results if r.ok is not None]
    failed = [r for r in checks if not r.ok]
    ok = error is None and not failed and bool(checks)
    print("\n===== e2e result =====")
    print(f"command:  scripts/e2e   date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine:  Python {platform.python_version()}, Home Assistant {ha_const.__version__}, "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs; clock x{harness.speed:g}"
    )
    for scenario in ("setup", "restart", "offline", *SCENARIOS):
        rows = [r for r in harness.results if r.scenario == scenario]
        if rows:
            print(f"-- {scenario}")
        for row in rows:
            tag = "script" if row.ok is None else ("PASS" if row.ok else "FAIL")
            print(f"  {tag:6} {row.name}{': ' if row.detail else ''}{row.detail}")
    if error:
        print(f"ERROR: {error}")
    print(
        f"e2e: {'PASS' if ok else 'FAIL'}: {len(checks) - len(failed)}/{len(checks)} checks passed"
        f" in {seconds:.0f} s"
    )
    return ok
