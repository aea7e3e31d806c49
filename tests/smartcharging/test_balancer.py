"""The load balancer: hand-computed tables, then properties over random sites and sessions.

The properties recompute what they check from the topology and the sessions (node loads through
``Site.path``, caps from the EVs and EVSEs), not from the figures the allocation reports.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from kilowatt.smartcharging.balancer import (
    Allocation,
    Change,
    Evse,
    Group,
    Limit,
    NodeKey,
    Policy,
    Session,
    SessionKey,
    Site,
    Station,
    Threshold,
    allocate,
    changes,
    failsafe_limits,
    limit_at,
    limits_at,
    next_boundary,
)

NOW = datetime(2025, 1, 6, 8, tzinfo=UTC)
KW22 = 22_000
MIN_3P = 4_140  # 6 A x 230 V x 3
MIN_1P = 1_380
EXACT = Policy(threshold=Threshold(0, Decimal(0)))  # no value kept for stability's sake


def station(name: str, *hardware: int, limit: Limit | None = None) -> Station:
    return Station(name, tuple(Evse(i, w) for i, w in enumerate(hardware, 1)), limit)


def watts(value: int) -> Limit:
    return Limit(watts=value)


def ev(name: str, evse: int = 1, **fields: object) -> Session:
    return Session(name, evse, f"tx-{name}-{evse}", **fields)  # type: ignore[arg-type]


def powers(allocation: Allocation) -> dict[str, int]:
    return {f"{k.station_id}/{k.evse_id}": v for k, v in allocation.power.items()}


def flat_site(limit: int, count: int, hardware: int = KW22) -> Site:
    return Site("site", tuple(station(f"s{i}", hardware) for i in range(count)), watts(limit))


# --- tables ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("limit", "ev_max", "expected"),
    [
        # fair share of 30 kW among four 11 kW EVs
        (30_000, [11_000] * 4, [7_500] * 4),
        # the 3.7 kW EV is at its max; the others share the rest: 26300 / 3 = 8766.67,
        # rounded down and the 2 W left go one each to the first two in key order
        (30_000, [3_700, 11_000, KW22, KW22], [3_700, 8_767, 8_767, 8_766]),
        # supply exceeds demand: everyone at its max, the rest unused
        (100_000, [3_700, 11_000, None], [3_700, 11_000, KW22]),
        # a limit of 0 stops everyone
        (0, [11_000, 11_000], [0, 0]),
    ],
)
def test_one_site_fair_share(limit: int, ev_max: list[int | None], expected: list[int]) -> None:
    site = flat_site(limit, len(ev_max))
    sessions = [ev(f"s{i}", max_power=m) for i, m in enumerate(ev_max)]
    result = allocate(site, {}, sessions, NOW)
    assert list(powers(result).values()) == expected
    assert result.loads["site"] <= limit


def test_two_level_groups() -> None:
    # site 50 kW > floor F (30 kW) > feeder F1 (12 kW) with two EVs, and two EVs on F directly;
    # group G (no limit of its own) with one EV. All EVs and EVSEs 22 kW.
    site = Site(
        "site",
        (
            Group(
                "F",
                (Group("F1", (station("a", KW22, KW22),), watts(12_000)), station("b", KW22, KW22)),
                watts(30_000),
            ),
            Group("G", (station("c", KW22),)),
        ),
        watts(50_000),
    )
    sessions = [ev("a", 1), ev("a", 2), ev("b", 1), ev("b", 2), ev("c", 1)]
    result = allocate(site, {}, sessions, NOW)
    assert powers(result) == {"a/1": 6_000, "a/2": 6_000, "b/1": 9_000, "b/2": 9_000, "c/1": 20_000}
    assert [result.loads[n] for n in ("site", "F", "F1", "G")] == [50_000, 30_000, 12_000, 20_000]


def test_a_feeder_saturated_leaves_the_rest_to_the_others() -> None:
    # G1 (10 kW) holds three EVs: 3333.33 each, the odd watt to the first key; G2's two EVs share
    # what the 40 kW site has left: 15 kW each.
    site = Site(
        "site",
        (
            Group(
                "G1", (station("a", KW22), station("b", KW22), station("c", KW22)), watts(10_000)
            ),
            Group("G2", (station("d", KW22), station("e", KW22))),
        ),
        watts(40_000),
    )
    result = allocate(site, {}, [ev(n) for n in "abcde"], NOW)
    assert powers(result) == {
        "a/1": 3_334,
        "b/1": 3_333,
        "c/1": 3_333,
        "d/1": 15_000,
        "e/1": 15_000,
    }


@pytest.mark.parametrize(
    ("low_min", "expected"),
    [
        # priority 1 is served first up to its maxima (2 x 11 kW); priority 0 shares the 8 kW left
        (0, {"s0/1": 11_000, "s1/1": 11_000, "s2/1": 2_667, "s3/1": 2_667, "s4/1": 2_666}),
        # with a 4140 W minimum only one low-priority EV fits in 8 kW: the first by key takes it
        (MIN_3P, {"s0/1": 11_000, "s1/1": 11_000, "s2/1": 8_000, "s3/1": 0, "s4/1": 0}),
    ],
)
def test_priorities(low_min: int, expected: dict[str, int]) -> None:
    site = flat_site(30_000, 5)
    sessions = [ev("s0", priority=1, max_power=11_000), ev("s1", priority=1, max_power=11_000)]
    sessions += [ev(f"s{i}", min_power=low_min) for i in (2, 3, 4)]
    assert powers(allocate(site, {}, sessions, NOW)) == expected


def test_priority_does_not_take_what_it_cannot_use() -> None:
    # The priority EV sits behind a 5 kW feeder: the low-priority EV elsewhere gets the rest.
    site = Site("site", (Group("G", (station("a", KW22),), watts(5_000)), station("b", KW22)),
                watts(20_000))  # fmt: skip
    result = allocate(site, {}, [ev("a", priority=5), ev("b")], NOW)
    assert powers(result) == {"a/1": 5_000, "b/1": 15_000}


@pytest.mark.parametrize(
    ("limit", "minima", "expected"),
    [
        # 10 kW, three 3-phase EVs at 4140 W minimum: two fit, they share 5 kW each
        (10_000, [MIN_3P] * 3, [5_000, 5_000, 0]),
        # the smaller minimum is admitted first: all three fit (1380 + 2 x 4140 = 9660), and
        # the water level (1720) stays below the 3-phase minima, which keep their floor
        (10_000, [MIN_3P, MIN_3P, MIN_1P], [MIN_3P, MIN_3P, 1_720]),
        # not even one minimum fits: nobody charges
        (4_000, [MIN_3P] * 2, [0, 0]),
    ],
)
def test_min_rate_rule(limit: int, minima: list[int], expected: list[int]) -> None:
    site = flat_site(limit, len(minima))
    sessions = [ev(f"s{i}", min_power=m, max_power=11_000) for i, m in enumerate(minima)]
    assert list(powers(allocate(site, {}, sessions, NOW)).values()) == expected


def test_min_rate_keeps_charging_the_ev_that_was() -> None:
    site = flat_site(10_000, 2)
    sessions = [ev("s0", min_power=6_000), ev("s1", min_power=6_000)]
    assert powers(allocate(site, {}, sessions, NOW)) == {"s0/1": 10_000, "s1/1": 0}
    held = {sessions[0].key: 0, sessions[1].key: 10_000}
    result = allocate(site, {}, sessions, NOW, previous=held)
    assert powers(result) == {"s0/1": 0, "s1/1": 10_000}


def test_smaller_minima_are_admitted_first() -> None:
    # 10 kW: by minimum, 1380 (1-phase EV, 3680 max) then 4140 fit, and 6000 no longer does
    sessions = [
        ev("s0", min_power=6_000),
        ev("s1", min_power=MIN_1P, max_power=3_680),
        ev("s2", min_power=MIN_3P),
    ]
    result = allocate(flat_site(10_000, 3), {}, sessions, NOW)
    assert powers(result) == {"s0/1": 0, "s1/1": 3_680, "s2/1": 6_320}


def test_ev_min_above_its_cap_cannot_charge() -> None:
    site = Site("site", (station("a", 3_680), station("b", KW22)), watts(50_000))
    result = allocate(site, {}, [ev("a", min_power=MIN_3P), ev("b")], NOW)
    assert powers(result) == {"a/1": 0, "b/1": KW22}


@pytest.mark.parametrize(
    ("evse", "ev_max", "expected"),
    [
        (Evse(1, 7_400), 11_000, 7_400),  # the EVSE's hardware
        (Evse(1, KW22), 11_000, 11_000),  # the EV's own maximum
        (Evse(1, KW22, phases=1, limit=Limit(amps=16, phases=1)), None, 3_680),  # 16 x 230 x 1
        (Evse(1, 7_400, limit=watts(9_000)), None, 7_400),  # a limit above the hardware
    ],
)
def test_ev_and_evse_maxima(evse: Evse, ev_max: int | None, expected: int) -> None:
    site = Site("site", (Station("a", (evse,)),), watts(100_000))
    assert allocate(site, {}, [ev("a", max_power=ev_max)], NOW).of(ev("a")) == expected


@pytest.mark.parametrize(
    ("limit", "expected_watts"),
    [
        (Limit(amps=32), 22_080),  # 32 A x 230 V x 3
        (Limit(amps=32, phases=1), 7_360),
        (Limit(amps=Decimal("10.5"), voltage=Decimal("231.5")), 7_292),  # 7292.25, rounded down
        (Limit(watts=Decimal("9999.9")), 9_999),
    ],
)
def test_limits_in_amps_and_phases(limit: Limit, expected_watts: int) -> None:
    assert limit.in_watts == expected_watts
    site = Site("site", (station("a", 50_000), station("b", 50_000)), limit)
    result = allocate(site, {}, [ev("a"), ev("b")], NOW)
    assert result.loads["site"] == expected_watts
    assert result.limits["site"] == expected_watts


def test_limit_is_given_once() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        Limit(watts=1, amps=1)
    with pytest.raises(ValueError, match="exactly one"):
        Limit()


@pytest.mark.parametrize(
    ("dynamic", "expected"),
    [
        ({}, 22_080),
        ({"site": 15_000}, 15_000),  # a grid signal lowers the fuse's limit
        ({"site": 50_000}, 22_080),  # ...and never raises it
        ({"site": None}, 22_080),  # no time-varying limit at this instant
        ({("a", 1): 2_000}, 2_000 + 20_080),  # one EVSE limited: the other takes the rest
    ],
)
def test_time_varying_limits(dynamic: Mapping[NodeKey, int | None], expected: int) -> None:
    site = Site("site", (station("a", KW22), station("b", KW22)), Limit(amps=32))
    assert allocate(site, dynamic, [ev("a"), ev("b")], NOW).loads["site"] == expected


def test_unknown_nodes_and_evses_are_refused() -> None:
    site = flat_site(10_000, 1)
    with pytest.raises(ValueError, match="not a node"):
        allocate(site, {"nowhere": 1}, [], NOW)
    with pytest.raises(ValueError, match="no EVSE"):
        allocate(site, {}, [ev("s0", 2)], NOW)
    with pytest.raises(ValueError, match="two sessions"):
        allocate(site, {}, [ev("s0"), replace(ev("s0"), transaction_id="other")], NOW)
    with pytest.raises(ValueError, match="called 'x'"):
        Site("x", (station("x", 1),))


# Headroom: a 22 kW site, two 22 kW EVs held at 11 kW each; a draws 3 kW.
HEADROOM_SITE = flat_site(KW22, 2)


@pytest.mark.parametrize(
    ("held", "drawn", "expected"),
    [
        # 3000 + max(1000, 300) <= 11000: a is capped at 4000, b takes the rest
        ((11_000, 11_000), 3_000, (4_000, 18_000)),
        # next re-plan, a still draws 3 kW: the same cap, nothing changes (no oscillation)
        ((4_000, 18_000), 3_000, (4_000, 18_000)),
        # a draws one watt more: 3001 + 1000 > 4000, it may want more: its fair share again
        ((4_000, 18_000), 3_001, (11_000, 11_000)),
        # a's draw came up near its cap: it wants more, and gets its fair share back
        ((4_000, 18_000), 3_500, (11_000, 11_000)),
        # nothing held for a (a new transaction): no reason to cap it
        (None, 3_000, (11_000, 11_000)),
        # no meter values: no cap
        ((11_000, 11_000), None, (11_000, 11_000)),
    ],
)
def test_headroom_reuse(
    held: tuple[int, int] | None, drawn: int | None, expected: tuple[int, int]
) -> None:
    sessions = [ev("s0", drawn=drawn), ev("s1")]
    previous = None if held is None else dict(zip([s.key for s in sessions], held, strict=True))
    result = allocate(HEADROOM_SITE, {}, sessions, NOW, previous=previous, policy=EXACT)
    assert (result.of(sessions[0]), result.of(sessions[1])) == expected


def test_headroom_margin_is_a_tenth_of_a_large_draw() -> None:
    # 30 kW site: a held at 20 kW draws 13 kW; margin max(1000, 1300) = 1300: a is capped at
    # 14300 (below its fair share of 15 kW), b gets 15700.
    sessions = [ev("s0", drawn=13_000), ev("s1")]
    held = {sessions[0].key: 20_000, sessions[1].key: 10_000}
    result = allocate(flat_site(30_000, 2), {}, sessions, NOW, previous=held, policy=EXACT)
    assert (result.of(sessions[0]), result.of(sessions[1])) == (14_300, 15_700)


def test_headroom_cap_never_below_the_minimum() -> None:
    sessions = [ev("s0", drawn=0, min_power=MIN_3P), ev("s1")]
    held = {sessions[0].key: 11_000, sessions[1].key: 11_000}
    result = allocate(HEADROOM_SITE, {}, sessions, NOW, previous=held, policy=EXACT)
    assert (result.of(sessions[0]), result.of(sessions[1])) == (MIN_3P, KW22 - MIN_3P)


def departing(name: str, energy: int | None, hours: float, **fields: object) -> Session:
    return ev(name, energy_needed=energy, departure=NOW + timedelta(hours=hours), **fields)


@pytest.mark.parametrize(
    ("urgent", "expected"),
    [
        # 16 kWh in 2 h needs 8 kW > the fair share (6667): a gets 8 kW, the others share 12
        (departing("s0", 16_000, 2), (8_000, 6_000, 6_000)),
        # 30 kWh in 2 h needs 15 kW: a is raised to its 11 kW maximum first
        (departing("s0", 30_000, 2, max_power=11_000), (11_000, 4_500, 4_500)),
        # 8 kWh in 2 h needs 4 kW < the fair share: the fair share it is
        (departing("s0", 8_000, 2), (6_667, 6_667, 6_666)),
        # departure passed: no longer urgent
        (departing("s0", 16_000, -1), (6_667, 6_667, 6_666)),
        # no energy need known: not urgent
        (departing("s0", None, 2), (6_667, 6_667, 6_666)),
    ],
)
def test_departure_urgency(urgent: Session, expected: tuple[int, int, int]) -> None:
    sessions = [urgent, ev("s1"), ev("s2")]
    result = allocate(flat_site(20_000, 3), {}, sessions, NOW)
    assert tuple(result.of(s) for s in sessions) == expected


def test_urgent_sessions_share_fairly_when_not_all_fit() -> None:
    # both need 15 kW within 20 kW: 10 kW each; the third EV is not urgent and gets nothing
    sessions = [departing("s0", 30_000, 2), departing("s1", 15_000, 1), ev("s2")]
    result = allocate(flat_site(20_000, 3), {}, sessions, NOW)
    assert tuple(result.of(s) for s in sessions) == (10_000, 10_000, 0)


def test_urgent_sessions_are_admitted_first_earliest_departure_first() -> None:
    # Only one 6 kW minimum fits in 10 kW: the urgent EV, not the first by key...
    sessions = [ev("s0", min_power=6_000), departing("s1", 10_000, 4, min_power=6_000)]
    result = allocate(flat_site(10_000, 2), {}, sessions, NOW)
    assert (result.of(sessions[0]), result.of(sessions[1])) == (0, 10_000)
    # ...and of two urgent EVs, the one leaving first
    sessions = [
        departing("s0", 2_000, 4, min_power=6_000),
        departing("s1", 2_000, 1, min_power=6_000),
    ]
    result = allocate(flat_site(10_000, 2), {}, sessions, NOW)
    assert (result.of(sessions[0]), result.of(sessions[1])) == (0, 10_000)


@pytest.mark.parametrize(
    ("held", "expected_changes"),
    [
        # within the threshold and feasible: the stations keep what they hold
        ((10_050, 9_950, 10_000), []),
        # a station holds a little more than its share and the site would go over: sent
        ((10_050, 10_000, 10_000), [("s0", 10_000)]),
        # over the threshold: sent
        ((10_200, 9_800, 10_000), [("s0", 10_000), ("s1", 10_000)]),
    ],
)
def test_previous_values_are_kept_within_the_threshold(
    held: tuple[int, int, int], expected_changes: list[tuple[str, int]]
) -> None:
    sessions = [ev(f"s{i}") for i in range(3)]
    previous = dict(zip([s.key for s in sessions], held, strict=True))
    result = allocate(flat_site(30_000, 3), {}, sessions, NOW, previous=previous)
    assert result.loads["site"] <= 30_000
    assert [(c.station_id, c.power) for c in changes(previous, result)] == expected_changes


@pytest.mark.parametrize(
    ("held", "expected"),
    [
        # the limit fell to 29.85 kW: fresh shares 9950. Kept as held (all within 100 W) the
        # sum is 29940, 90 W over: undoing the largest decrease (s0's, 90 W) is enough
        ((10_040, 9_870, 10_030), [9_950, 9_870, 10_030]),
        ((10_030, 9_870, 10_040), [10_030, 9_870, 9_950]),
        # 10040 + 9900 + 10030 = 29970, 120 W over: the two decreases are undone
        ((10_040, 9_900, 10_030), [9_950, 9_900, 9_950]),
    ],
)
def test_overflow_is_resolved_by_the_largest_decreases_first(
    held: tuple[int, int, int], expected: list[int]
) -> None:
    sessions = [ev(f"s{i}") for i in range(3)]
    previous = dict(zip([s.key for s in sessions], held, strict=True))
    result = allocate(flat_site(29_850, 3), {}, sessions, NOW, previous=previous)
    assert [result.of(s) for s in sessions] == expected


@pytest.mark.parametrize(
    ("before", "after", "sent"),
    [
        (None, 5_000, True),  # a new transaction
        (10_000, 9_999, True),  # any decrease
        (10_000, 10_099, False),  # an increase below max(100 W, 1 %)
        (10_000, 10_100, True),
        (20_000, 20_199, False),  # 1 % of 20 kW is 200 W
        (20_000, 20_200, True),
        (10_000, 10_000, False),
    ],
)
def test_changes(before: int | None, after: int, sent: bool) -> None:
    key = SessionKey("a", 1, "t")
    current = Allocation({key: after}, {}, {})
    previous = {} if before is None else {key: before}
    assert changes(previous, current) == ([Change("a", 1, "t", after)] if sent else [])


def test_changes_ignore_ended_sessions() -> None:
    current = Allocation({SessionKey("a", 1, "t2"): 5}, {}, {})
    assert changes({SessionKey("a", 1, "t1"): 5}, current) == [Change("a", 1, "t2", 5)]


def test_failsafe_tables() -> None:
    # 100 kW site: group A (20 kW) with 10 EVSEs, 10 more EVSEs directly on the site. A's get
    # 2 kW each, the others share the 80 kW left (8 kW each), where a plain
    # "limit / EVSEs below" rule would give them 5 kW.
    group = Group("A", tuple(station(f"a{i}", KW22) for i in range(10)), watts(20_000))
    others = tuple(station(f"b{i}", KW22) for i in range(10))
    site = Site("site", (group, *others), watts(100_000))
    failsafe = failsafe_limits(site)
    assert {failsafe[(f"a{i}", 1)] for i in range(10)} == {2_000}
    assert {failsafe[(f"b{i}", 1)] for i in range(10)} == {8_000}
    # the lowest value each schedule will reach lowers it further
    assert set(failsafe_limits(site, {"site": 40_000}).values()) == {2_000}
    # EVSEs with small hardware leave their share to the others
    small = Site("site", (station("x", 3_680, 3_680), station("y", KW22)), watts(30_000))
    assert failsafe_limits(small) == {("x", 1): 3_680, ("x", 2): 3_680, ("y", 1): KW22}


SCHEDULE = [
    (NOW, 50_000),
    (NOW + timedelta(hours=2), None),
    (NOW + timedelta(hours=1), Decimal("30000.7")),
    (NOW + timedelta(hours=3), None),
]


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [(-1, None), (0, 50_000), (59, 50_000), (60, 30_000), (119, 30_000), (120, None), (500, None)],
)
def test_limit_at(minutes: int, expected: int | None) -> None:
    assert limit_at(SCHEDULE, NOW + timedelta(minutes=minutes)) == expected


def test_next_boundary_and_limits_at() -> None:
    other = [(NOW + timedelta(minutes=90), 10_000)]
    assert next_boundary([SCHEDULE, other], NOW - timedelta(1)) == NOW
    assert next_boundary([SCHEDULE, other], NOW) == NOW + timedelta(hours=1)
    assert next_boundary([SCHEDULE, other], NOW + timedelta(hours=1)) == NOW + timedelta(minutes=90)
    # the start at 3 h changes nothing (None after None): not a boundary
    assert next_boundary([SCHEDULE, other], NOW + timedelta(hours=2)) is None
    at = NOW + timedelta(minutes=100)
    assert limits_at({"site": SCHEDULE, "G": other}, at) == {"site": 30_000, "G": 10_000}


# --- properties ------------------------------------------------------------------------------

HARDWARE = st.sampled_from([3_680, 7_400, 11_000, KW22, 50_000])


@st.composite
def limits(draw: st.DrawFn, high: int) -> Limit | None:
    kind = draw(st.sampled_from(["none", "watts", "amps"]))
    if kind == "none":
        return None
    if kind == "watts":
        return Limit(watts=draw(st.integers(0, high)))
    phases = draw(st.sampled_from([1, 3]))
    return Limit(amps=draw(st.integers(0, high // (230 * phases))), phases=phases)


@st.composite
def sites(draw: st.DrawFn) -> Site:
    counter = iter(range(1_000))

    def node(depth: int) -> Group | Station:
        name = f"n{next(counter)}"
        if depth >= 3 or draw(st.booleans()):
            evses = tuple(Evse(i, draw(HARDWARE)) for i in range(1, draw(st.integers(1, 3)) + 1))
            return Station(name, evses, draw(limits(60_000)))
        children = tuple(node(depth + 1) for _ in range(draw(st.integers(1, 3))))
        return Group(name, children, draw(limits(100_000)))

    children = tuple(node(1) for _ in range(draw(st.integers(1, 4))))
    return Site("site", children, draw(limits(150_000)))


def evse_keys(site: Site) -> list[tuple[str, int]]:
    return [k for k in site.nodes() if isinstance(k, tuple)]


@st.composite
def scenarios(
    draw: st.DrawFn, *, with_drawn: bool = True
) -> tuple[Site, dict[NodeKey, int | None], list[Session]]:
    site = draw(sites())
    dynamic: dict[NodeKey, int | None] = {}
    for key in site.nodes():
        if draw(st.integers(0, 5)) == 0:
            dynamic[key] = draw(st.none() | st.integers(0, 80_000))
    sessions = []
    for station_id, evse_id in evse_keys(site):
        if not draw(st.booleans()):
            continue
        energy = draw(st.none() | st.integers(0, 60_000))
        sessions.append(
            Session(
                station_id,
                evse_id,
                f"tx{len(sessions)}",
                priority=draw(st.integers(0, 2)),
                min_power=draw(st.sampled_from([0, 0, MIN_1P, MIN_3P, 6_000])),
                max_power=draw(st.none() | st.sampled_from([3_700, 7_400, 11_000, KW22])),
                energy_needed=energy,
                departure=draw(st.none() | st.integers(-60, 600).map(
                    lambda m: NOW + timedelta(minutes=m))),
                drawn=draw(st.none() | st.integers(0, KW22)) if with_drawn else None,
            )
        )  # fmt: skip
    return site, dynamic, sessions


@st.composite
def helds(
    draw: st.DrawFn, scenario: tuple[Site, dict[NodeKey, int | None], list[Session]]
) -> dict[SessionKey, int] | None:
    """Nothing; or what stations hold: some arbitrary values, most near the fresh allocation."""
    site, dynamic, sessions = scenario
    if draw(st.integers(0, 3)) == 0:
        return None
    fresh = allocate(site, dynamic, sessions, NOW).power
    held = {}
    for session in sessions:
        kind = draw(st.sampled_from(["none", "any", "near", "near"]))
        if kind == "any":
            held[session.key] = draw(st.sampled_from([0, 3_000, 4_200, 7_400, 11_000, 11_050]))
        elif kind == "near":
            held[session.key] = max(0, fresh[session.key] + draw(st.integers(-150, 150)))
    return held


def effective_limit(site: Site, dynamic: Mapping[NodeKey, int | None], node: NodeKey) -> int | None:
    values = [site.static_limit(node), dynamic.get(node)]
    known = [v for v in values if v is not None]
    return min(known) if known else None


def cap(site: Site, dynamic: Mapping[NodeKey, int | None], session: Session) -> int:
    """The session's cap without the headroom rule: the EV's and the EVSE's maxima."""
    evse = effective_limit(site, dynamic, (session.station_id, session.evse_id))
    assert evse is not None
    return evse if session.max_power is None else min(evse, int(session.max_power))


def headroom_cap(session: Session, held: Mapping[SessionKey, int] | None) -> int | None:
    before = (held or {}).get(session.key)
    if session.drawn is None or before is None:
        return None
    drawn = int(session.drawn)
    limit = drawn + max(1_000, -(-drawn // 10))
    return max(int(session.min_power), limit) if limit <= before else None


def node_loads(site: Site, power: Mapping[SessionKey, int]) -> dict[NodeKey, int]:
    loads = dict.fromkeys(site.nodes(), 0)
    for key, value in power.items():
        for node in site.path((key.station_id, key.evse_id)):
            loads[node] += value
    return loads


def upper_nodes(site: Site, session: Session) -> tuple[NodeKey, ...]:
    return site.path((session.station_id, session.evse_id))[1:]


def assert_within_limits(
    site: Site, dynamic: Mapping[NodeKey, int | None], power: Mapping[SessionKey, int]
) -> None:
    for node, load in node_loads(site, power).items():
        limit = effective_limit(site, dynamic, node)
        assert limit is None or load <= limit, (node, load, limit)


@given(scenarios(), st.data())
def test_every_limit_maximum_and_minimum_holds(
    scenario: tuple[Site, dict[NodeKey, int | None], list[Session]], data: st.DataObject
) -> None:
    site, dynamic, sessions = scenario
    held = data.draw(helds(scenario))
    result = allocate(site, dynamic, sessions, NOW, previous=held)
    assert set(result.power) == {s.key for s in sessions}
    assert_within_limits(site, dynamic, result.power)
    assert result.loads == node_loads(site, result.power)
    for session in sessions:
        power = result.of(session)
        assert 0 <= power <= cap(site, dynamic, session)
        assert power == 0 or power >= session.min_power
        headroom = headroom_cap(session, held)
        assert headroom is None or power <= headroom


@given(scenarios(), st.data())
def test_work_conserving_and_priority_first(
    scenario: tuple[Site, dict[NodeKey, int | None], list[Session]], data: st.DataObject
) -> None:
    """Power is left unused only where a node, a cap or a minimum forces it; and then the
    saturated node gives nothing to lower priorities."""
    site, dynamic, sessions = scenario
    held = data.draw(helds(scenario))
    result = allocate(site, dynamic, sessions, NOW, previous=held, policy=EXACT)
    loads = node_loads(site, result.power)

    def room(node: NodeKey) -> int | None:
        limit = effective_limit(site, dynamic, node)
        return None if limit is None else limit - loads[node]

    for session in sessions:
        power = result.of(session)
        limit = cap(site, dynamic, session)
        headroom = headroom_cap(session, held)
        if headroom is not None:
            limit = min(limit, headroom)
        if power >= limit:
            continue
        rooms = [r for r in map(room, upper_nodes(site, session)) if r is not None]
        if power == 0 and session.min_power > 0:
            # the minimum rule: it does not fit under its cap or under some node
            assert session.min_power > limit or session.min_power > min(rooms, default=10**9)
            continue
        saturated = [n for n in upper_nodes(site, session) if room(n) == 0]
        assert saturated, (session, power, limit)
        lower = [s for s in sessions if s.priority < session.priority and result.of(s) > 0]
        assert any(
            all(n not in site.path((s.station_id, s.evse_id)) for s in lower) for n in saturated
        ), (session, lower)


@given(scenarios(with_drawn=False), st.randoms(use_true_random=False))
def test_deterministic_and_stable(
    scenario: tuple[Site, dict[NodeKey, int | None], list[Session]], rnd: random.Random
) -> None:
    site, dynamic, sessions = scenario
    first = allocate(site, dynamic, sessions, NOW)
    shuffled = list(sessions)
    rnd.shuffle(shuffled)
    assert allocate(site, dynamic, shuffled, NOW) == first
    again = allocate(site, dynamic, shuffled, NOW, previous=first)
    assert again == first
    assert changes(first, again) == []


@given(scenarios(), st.data())
def test_what_stations_hold_after_the_changes_keeps_every_limit(
    scenario: tuple[Site, dict[NodeKey, int | None], list[Session]], data: st.DataObject
) -> None:
    site, dynamic, sessions = scenario
    held = data.draw(helds(scenario)) or {}
    result = allocate(site, dynamic, sessions, NOW, previous=held)
    threshold = Threshold()
    now_held = {k: v for k, v in held.items() if k in result.power}
    now_held.update({SessionKey(*c[:3]): c.power for c in changes(held, result, threshold)})
    assert now_held.keys() == result.power.keys()
    for key, value in now_held.items():
        assert 0 <= result.power[key] - value < threshold.of(value)
    assert_within_limits(site, dynamic, now_held)


@given(scenarios(with_drawn=False), st.data())
def test_small_increases_are_not_sent(
    scenario: tuple[Site, dict[NodeKey, int | None], list[Session]], data: st.DataObject
) -> None:
    """Stations holding a little less than their fresh share (under the threshold) keep it."""
    site, dynamic, sessions = scenario
    fresh = allocate(site, dynamic, sessions, NOW).power
    held = {}
    for session in sessions:
        value = fresh[session.key] - data.draw(st.integers(0, 99))
        held[session.key] = value if value >= session.min_power else fresh[session.key]
    result = allocate(site, dynamic, sessions, NOW, previous=held)
    assert dict(result.power) == held
    assert changes(held, result) == []


@given(sites(), st.data())
def test_failsafe_keeps_every_limit(site: Site, data: st.DataObject) -> None:
    dynamic = {
        k: data.draw(st.none() | st.integers(0, 50_000)) for k in site.nodes() if k == "site"
    }
    failsafe = failsafe_limits(site, dynamic)
    assert set(failsafe) == set(evse_keys(site))
    power = {SessionKey(s, e, ""): w for (s, e), w in failsafe.items()}
    assert_within_limits(site, dynamic, power)
    loads = node_loads(site, power)
    for (station_id, evse_id), value in failsafe.items():
        evse_limit = effective_limit(site, dynamic, (station_id, evse_id))
        assert evse_limit is not None and 0 <= value <= evse_limit
        if value < evse_limit:  # as much as the limits allow: some node above is full
            nodes = site.path((station_id, evse_id))[1:]
            assert any(loads[n] == effective_limit(site, dynamic, n) for n in nodes)


@given(
    st.lists(st.tuples(st.integers(0, 20), st.none() | st.integers(0, 3)), max_size=6),
    st.integers(-1, 21),
)
def test_next_boundary_is_the_first_change(
    entries: list[tuple[int, int | None]], start: int
) -> None:
    schedule = [(NOW + timedelta(minutes=m), v) for m, v in entries]

    def value(minute: int) -> int | None:
        return limit_at(schedule, NOW + timedelta(minutes=minute))

    found = next_boundary([schedule], NOW + timedelta(minutes=start))
    changed = [m for m in range(start + 1, 22) if value(m) != value(m - 1)]
    assert found == (NOW + timedelta(minutes=changed[0]) if changed else None)
