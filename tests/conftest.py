"""Shared test configuration: hypothesis profiles and the differential test's tally."""

from __future__ import annotations

import os
import sys

import pytest
from hypothesis import settings

# "dev" for quick local runs, "ci" for .ci/run; both bounded so the suite stays within budget.
settings.register_profile("dev", max_examples=15, deadline=None)
settings.register_profile("ci", max_examples=25, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    module = sys.modules.get("tests.messages.test_differential")
    tally = getattr(module, "TALLY", None)
    if not tally:
        return
    schemas = len(module.CASES)
    terminalreporter.section("schema differential test")
    terminalreporter.write_line(f"schemas (action x request/response x version): {schemas}")
    for label, count in sorted(tally.items()):
        terminalreporter.write_line(f"{label}: {count}")
