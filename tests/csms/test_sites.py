"""Site documents: parsed into the balancer's topology, or refused with the offending field."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from kilowatt.csms.sites import DEFAULT_EVSE_POWER, SiteDocumentError, parse_site

GARAGE: dict[str, Any] = {
    "id": "garage",
    "name": "Garage P3",
    "limit": {"watts": 100000},
    "schedule": [
        {"start": "2026-11-25T18:00:00Z", "watts": 70000},
        {"start": "2026-11-25T22:00:00Z", "watts": None},
    ],
    "priorities": {"FLEET": 2},
    "children": [
        {
            "group": "floor-1",
            "limit": {"amps": 87, "phases": 3},
            "children": [{"station": "CS-1", "evses": [{"id": 1, "max_power": 11000}]}],
        },
        {"station": "CS-2"},
    ],
}


def test_a_site_document_becomes_a_topology() -> None:
    plan = parse_site(GARAGE)
    site = plan.site
    assert plan.name == "Garage P3"
    assert plan.stations == {"CS-1", "CS-2"}
    assert plan.priorities == {"FLEET": 2}
    assert site.static_limit("garage") == 100000
    assert site.static_limit("floor-1") == 87 * 230 * 3
    assert site.static_limit(("CS-1", 1)) == 11000
    assert site.static_limit(("CS-2", 1)) == DEFAULT_EVSE_POWER
    assert site.path(("CS-1", 1)) == (("CS-1", 1), "CS-1", "floor-1", "garage")
    (start, watts), (end, none) = plan.schedules["garage"]
    assert (start, watts, none) == (datetime(2026, 11, 25, 18, tzinfo=UTC), 70000, None)
    assert end == datetime(2026, 11, 25, 22, tzinfo=UTC)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": 7}, "site: a mapping with a string id"),
        ({"colour": "red"}, r"site: unknown field\(s\) \['colour'\]"),
        (
            {"limit": {"watts": 1, "amps": 2}},
            "site.limit: a limit is given in W or in A, exactly one",
        ),
        ({"limit": {"watts": -5}}, r"site.limit.watts: must be a finite number >= 0"),
        ({"limit": {"amps": 16, "phases": 4}}, "phases must be 1, 2 or 3"),
        ({"schedule": [{"start": "noon", "watts": 1}]}, r"site.schedule\[0\].start: not an ISO"),
        (
            {"schedule": [{"start": "2026-11-25T18:00:00", "watts": 1}]},
            r"site.schedule\[0\].start: needs a time zone",
        ),
        (
            {
                "schedule": [
                    {"start": "2026-11-25T18:00:00Z", "watts": 1},
                    {"start": "2026-11-25T17:00:00Z", "watts": 2},
                ]
            },
            r"site.schedule\[1\].start: starts must increase",
        ),
        ({"children": [{"group": "g", "station": "s"}]}, r"site.children\[0\]: either"),
        ({"children": [{"station": "s", "children": []}]}, r"unknown field\(s\) \['children'\]"),
        ({"children": [{"station": "s", "evses": [{"id": 0}]}]}, "integer id >= 1"),
        ({"children": [{"station": "s", "evses": [{"id": 1}, {"id": 1}]}]}, "EVSE ids repeat"),
        ({"children": [{"station": "garage"}]}, "two nodes of the site are called 'garage'"),
        ({"priorities": {"FLEET": "high"}}, "site.priorities"),
    ],
)
def test_a_broken_document_names_the_field(change: dict[str, Any], message: str) -> None:
    document = {"id": "garage", **change}
    with pytest.raises(SiteDocumentError, match=message):
        parse_site(document)
