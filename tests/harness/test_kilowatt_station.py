"""Every case for a charging station under test passes against kilowatt's station: one run
over one long-lived station, in id order, as the harness's CLI runs them."""

from __future__ import annotations

from kilowatt.harness.runner import Result, run_cases, select
from tests.harness.conftest import StationUnderTest

STATION_CASES = select("station")


def _shown(result: Result) -> str:
    lines = [f"{result.case.id}: {result.outcome}: {result.message}"]
    lines += [f"  note: {note}" for note in result.notes]
    lines += [f"  rule broken: {v.rule}: {v.detail}" for v in result.violations]
    lines += [f"  {f.at:8.3f} {f.direction:8} {f.text}" for f in result.frames]
    return "\n".join(lines)


async def test_kilowatt_station_passes_every_case(kilowatt_station: StationUnderTest) -> None:
    assert STATION_CASES, "no case for a station under test is registered"
    results = await run_cases(
        STATION_CASES,
        kilowatt_station.target,
        kilowatt_station.driver,
        link=kilowatt_station.link,
    )
    assert [r.case.id for r in results] == sorted(c.id for c in STATION_CASES)
    failed = [r for r in results if r.outcome != "passed"]
    assert not failed, "\n\n".join(_shown(r) for r in failed)
