"""The load balancer's inputs: a site's limits in force, lowered by the external limits its
stations report (K12), and reported schedules turned into watts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from msgspec import UNSET

from kilowatt.csms.balancing import limits_in_force, watts_schedule
from kilowatt.csms.sites import parse_site
from kilowatt.messages import v201

T0 = datetime(2026, 5, 1, 12, tzinfo=UTC)
PLAN = parse_site(
    {
        "id": "site",
        "limit": {"watts": 50000},
        "schedule": [{"start": "2026-05-01T13:00:00Z", "watts": 40000}],
        "children": [{"station": "CS-1"}, {"station": "CS-2"}],
    }
)


def amps(limit: float, start: int = 0, duration: int | None = None) -> v201.ChargingScheduleType:
    return v201.ChargingScheduleType(
        id=1,
        start_schedule=T0,
        duration=duration if duration is not None else UNSET,
        charging_rate_unit=v201.ChargingRateUnitEnumType.A,
        charging_schedule_period=[v201.ChargingSchedulePeriodType(start_period=start, limit=limit)],
    )


def test_a_reported_schedule_in_amps_becomes_watts_until_its_end() -> None:
    schedule = watts_schedule(amps(16, duration=600), T0 - timedelta(hours=1))
    assert schedule == ((T0, 16 * 230 * 3), (T0 + timedelta(seconds=600), None))


def test_external_limits_lower_the_nodes_they_apply_to() -> None:
    external = {
        ("CS-1", "EMS"): watts_schedule(amps(10, duration=3600), T0),
        (("CS-2", 1), "SO"): ((T0, 5000),),
        ("elsewhere", "EMS"): ((T0, 1),),  # a station of another site: ignored
    }
    at_noon = limits_in_force(PLAN, external, T0)
    assert at_noon["CS-1"] == 10 * 230 * 3
    assert at_noon[("CS-2", 1)] == 5000
    assert "elsewhere" not in at_noon
    later = limits_in_force(PLAN, external, T0 + timedelta(hours=1, minutes=1))
    assert later.get("CS-1") is None  # the EMS limit ended
    assert later["site"] == 40000  # the site's own schedule
    # Where the site's own schedule and a report both limit a node, the lower wins.
    lower = limits_in_force(PLAN, {("site", "SO"): ((T0, 30000),)}, T0 + timedelta(hours=2))
    assert lower["site"] == 30000
