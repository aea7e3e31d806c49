"""Every case for a CSMS under test passes against kilowatt's CSMS."""

from __future__ import annotations

import pytest

from kilowatt.harness.runner import run_cases, select
from tests.harness.conftest import CsmsUnderTest

CSMS_CASES = select("csms")


@pytest.mark.parametrize("case", CSMS_CASES, ids=[c.id for c in CSMS_CASES])
async def test_kilowatt_csms_passes(kilowatt_csms: CsmsUnderTest, case: object) -> None:
    (result,) = await run_cases([case], kilowatt_csms.target, kilowatt_csms.driver)  # type: ignore[list-item]
    assert result.outcome == "passed", f"{result.message}\n" + "\n".join(
        f"{f.at:.3f} {f.direction} {f.text}" for f in result.frames
    )
