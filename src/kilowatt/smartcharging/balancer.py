"""Load balancing under shared limits: how much power each running transaction of a site may draw.

A site (a parking garage, a depot) has a grid connection smaller than the sum of its chargers.
Its topology is a tree: the ``Site`` at the root, ``Group``s of any depth below it (a floor behind
a feeder), then ``Station``s, then their ``Evse``s. Any node may carry a limit, in W or in A per
phase; an EVSE always has its hardware maximum. ``allocate`` shares what the limits allow among
the sessions (one per EVSE with a transaction running) as a pure function of the topology, the
limits at one instant, the sessions and, optionally, what the stations hold now. The CSMS turns
the result into TxProfiles (``changes``) and gives every station a TxDefaultProfile
(``failsafe_limits``) that keeps every limit when the CSMS is gone.

Units and rounding
    Everything is whole watts (``int``). An A limit is A x V x phases (230 V by default). Limits
    and maxima are rounded down, minima up, so no rounding can take a sum over a limit.

The limit of a node at an instant
    The lower of its static limit (``limit`` of the node: the fuse, the contract) and its
    time-varying limit at that instant (``limits[key]`` given to ``allocate``, e.g. a grid
    operator's signal or a solar forecast evaluated by ``limits_at``). A time-varying limit can
    lower a static one, never raise it. An EVSE's limit is also never above its hardware maximum.

The policy of ``allocate``
    1. **Caps.** A session's cap is the lowest of the EV's maximum, its EVSE's limit (hardware
       maximum, static and time-varying limits) and, under the headroom rule, what it draws plus
       a margin.
    2. **Headroom rule.** An EV seen drawing clearly less than it was allowed leaves power that
       others can use. If the stations' current allocation of a session (``previous``) is at
       least ``drawn + margin``, with margin = max(``Policy.headroom_margin`` (1000 W),
       ``Policy.headroom_fraction`` (10 %) of ``drawn``), the session is capped at
       ``drawn + margin`` (never below its minimum). An EV that draws up to within the margin of
       its allocation is not capped, and gets its full share again at the next re-plan; one that
       keeps drawing the same keeps the same cap, so the rule does not oscillate. ``drawn`` must
       be measured while ``previous`` was in force at the station; where that is not known, pass
       ``None``.
    3. **Priority first.** Priority levels are served one after the other, highest first: a
       level shares what the levels above it left, so a lower level gets power only where no
       higher-priority EV below its cap could use it.
    4. **Minimum rate (admission).** An EV charges at its minimum rate or more, or not at all.
       Within a level, sessions are admitted one by one at their minimum while it fits under
       every limit on their path (and under their cap); the others get 0. The order: urgent
       sessions first, earliest departure first; then sessions that were charging in
       ``previous`` (so an EV is not stopped to start another); then the smaller minimum (more
       EVs charge); then the key (station, EVSE, transaction).
    5. **Urgency.** A session whose energy need (Wh) and departure are both known, with the
       departure ahead, needs ``energy / time left`` W to finish in time. Within its level it is
       first raised towards that need (the urgent sessions sharing fairly if not all fit) before
       the other sessions of the level get more than their minimum. Past its departure a session
       is no longer urgent.
    6. **Fair share.** Then every admitted session of the level is raised along one common
       water level (max-min fairness): each gets ``max(its floor, min(level, its cap))``, where a
       node saturates the level stops for the sessions below it and rises on for the others.
       So an urgent EV gets the larger of its need and the fair share.
    7. **Work-conserving.** The water levels are found exactly in whole watts, and the watts
       that rounding leaves are handed out one by one in key order. When the sessions want more
       than the limits allow, power stays unused only where a node on the path is saturated, an
       EV is at its cap, or an EV's minimum does not fit (rule 4).
    8. **Stability.** With the same inputs, the same output (every order is by key). Given
       ``previous`` (what the stations hold), a session whose new value differs from its
       previous one by less than ``Policy.threshold`` (max(100 W, 1 %) of the previous value)
       keeps the previous one if that is under its cap and keeps every limit: an increase is
       always kept (the station draws less than allowed: safe, and at most the threshold is left
       unused per session); a decrease is kept unless a node would go over its limit, in which
       case the decreases under that node with the largest differences are applied first until
       it fits. This is what spares SetChargingProfile messages.

The failsafe (``failsafe_limits``)
    Each EVSE gets the fair share it would have if every EVSE charged at its hardware maximum at
    once: the same water-filling with no minima. If every EVSE draws its failsafe value with the
    CSMS gone, every node's limit holds. The value may be below an EV's minimum rate; such an EV
    then does not charge on the failsafe (it waits), which keeps the limit. An EV charging on a
    TxProfile when the CSMS goes away keeps that profile: the caller should give TxProfiles a
    bounded validity so that stations fall back to the failsafe (open point of issue 5).

Limits in A of a multi-phase node are turned into W assuming the phases are loaded evenly; the
balancer does not track single-phase EVs phase by phase.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import NamedTuple

__all__ = [
    "Allocation",
    "Change",
    "Evse",
    "Group",
    "Limit",
    "NodeKey",
    "Policy",
    "Schedule",
    "Session",
    "SessionKey",
    "Site",
    "Station",
    "Threshold",
    "allocate",
    "changes",
    "failsafe_limits",
    "limit_at",
    "limits_at",
    "next_boundary",
]

Number = int | Decimal
# A node: the id of the site, a group or a station (unique in the site), or (station id, EVSE id).
NodeKey = str | tuple[str, int]
# A node's limit over time: from each start on, a limit in W (None: no time-varying limit).
Schedule = Sequence[tuple[datetime, Number | None]]

_VOLTAGE = Decimal(230)


def _floor(value: Number) -> int:
    return math.floor(value)


def _ceil(value: Number) -> int:
    return math.ceil(value)


# --- topology --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limit:
    """A node's static limit: ``watts`` (all phases), or ``amps`` per phase on ``phases``."""

    watts: Number | None = None
    amps: Number | None = None
    phases: int = 3
    voltage: Number = _VOLTAGE

    def __post_init__(self) -> None:
        if (self.watts is None) == (self.amps is None):
            raise ValueError("a limit is given in W or in A, exactly one")
        if self.phases not in (1, 2, 3):
            raise ValueError(f"phases must be 1, 2 or 3, not {self.phases}")
        if self.voltage <= 0 or (self.watts or 0) < 0 or (self.amps or 0) < 0:
            raise ValueError("limits and voltage must not be negative")

    @property
    def in_watts(self) -> int:
        """The limit in W, rounded down; A limits as A x V x phases."""
        if self.watts is not None:
            return _floor(self.watts)
        assert self.amps is not None
        return _floor(Decimal(self.amps) * Decimal(self.voltage) * self.phases)


@dataclass(frozen=True)
class Evse:
    """An EVSE: its hardware maximum (W, all phases), the phases it charges on, its own limit."""

    id: int
    max_power: Number
    phases: int = 3
    limit: Limit | None = None


@dataclass(frozen=True)
class Station:
    id: str
    evses: tuple[Evse, ...]
    limit: Limit | None = None


@dataclass(frozen=True)
class Group:
    """A node between the site and its stations (a feeder, a floor): groups nest."""

    id: str
    children: tuple[Group | Station, ...]
    limit: Limit | None = None


@dataclass(frozen=True)
class _Index:
    keys: tuple[NodeKey, ...]  # pre-order: a parent comes before its children
    parents: tuple[int, ...]  # -1 for the root
    static: tuple[int | None, ...]  # W; an EVSE's includes its hardware maximum
    depth: tuple[int, ...]
    position: Mapping[NodeKey, int]
    evses: tuple[int, ...]  # the nodes that are EVSEs, in pre-order


@dataclass(frozen=True)
class Site:
    """The root of a topology. Ids of the site, groups and stations must be distinct."""

    id: str
    children: tuple[Group | Station, ...]
    limit: Limit | None = None
    _index: _Index = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        keys: list[NodeKey] = []
        parents: list[int] = []
        static: list[int | None] = []
        depth: list[int] = []
        evses: list[int] = []

        def add(key: NodeKey, parent: int, limit: int | None) -> int:
            keys.append(key)
            parents.append(parent)
            static.append(limit)
            depth.append(depth[parent] + 1 if parent >= 0 else 0)
            return len(keys) - 1

        def walk(node: Group | Station, parent: int) -> None:
            here = add(node.id, parent, node.limit.in_watts if node.limit else None)
            if isinstance(node, Group):
                for child in node.children:
                    walk(child, here)
                return
            for evse in node.evses:
                hardware = _floor(evse.max_power)
                own = evse.limit.in_watts if evse.limit else hardware
                evses.append(add((node.id, evse.id), here, min(hardware, own)))

        root = add(self.id, -1, self.limit.in_watts if self.limit else None)
        for child in self.children:
            walk(child, root)
        position: dict[NodeKey, int] = {}
        for i, key in enumerate(keys):
            if position.setdefault(key, i) != i:
                raise ValueError(f"two nodes of the site are called {key!r}")
        index = _Index(
            tuple(keys), tuple(parents), tuple(static), tuple(depth), position, tuple(evses)
        )
        object.__setattr__(self, "_index", index)

    def nodes(self) -> tuple[NodeKey, ...]:
        """Every node's key, the site first, each parent before its children."""
        return self._index.keys

    def path(self, node: NodeKey) -> tuple[NodeKey, ...]:
        """The keys from ``node`` up to the site."""
        index = self._index
        i = index.position[node]
        found = []
        while i >= 0:
            found.append(index.keys[i])
            i = index.parents[i]
        return tuple(found)

    def static_limit(self, node: NodeKey) -> int | None:
        """The node's static limit in W (an EVSE's includes its hardware maximum)."""
        return self._index.static[self._index.position[node]]


# --- sessions, results -----------------------------------------------------------------------


class SessionKey(NamedTuple):
    station_id: str
    evse_id: int
    transaction_id: str


class Change(NamedTuple):
    """One SetChargingProfile to send: the transaction's new limit in W."""

    station_id: str
    evse_id: int
    transaction_id: str
    power: int


@dataclass(frozen=True)
class Session:
    """A transaction running on an EVSE, as the balancer sees it (powers in W, energy in Wh)."""

    station_id: str
    evse_id: int
    transaction_id: str
    priority: int = 0  # higher first (from the id token's group)
    min_power: Number = 0  # below it the EV cannot charge: it gets 0 or at least this
    max_power: Number | None = None  # None: as much as the EVSE allows
    energy_needed: Number | None = None  # Wh still wanted
    departure: datetime | None = None
    drawn: Number | None = None  # W seen in recent meter values, under ``previous``

    @property
    def key(self) -> SessionKey:
        return SessionKey(self.station_id, self.evse_id, self.transaction_id)


@dataclass(frozen=True)
class Threshold:
    """A change below max(``watts``, ``fraction`` of the old value) is not worth a message."""

    watts: int = 100
    fraction: Decimal = Decimal("0.01")

    def of(self, previous: int) -> int:
        return max(self.watts, _floor(self.fraction * previous))


@dataclass(frozen=True)
class Policy:
    headroom_margin: int = 1_000  # W
    headroom_fraction: Decimal = Decimal("0.1")
    threshold: Threshold = Threshold()


DEFAULT_POLICY = Policy()


@dataclass(frozen=True)
class Allocation:
    """The power (W) each session may draw, with every node's load and effective limit."""

    power: Mapping[SessionKey, int]
    loads: Mapping[NodeKey, int]  # the sum of the allocations below each node
    limits: Mapping[NodeKey, int]  # the effective limit of each node that has one

    def of(self, session: Session | SessionKey) -> int:
        key = session.key if isinstance(session, Session) else session
        return self.power[key]

    def saturated(self, node: NodeKey) -> bool:
        limit = self.limits.get(node)
        return limit is not None and self.loads[node] >= limit


# --- the allocation --------------------------------------------------------------------------


@dataclass
class _Entry:
    session: Session
    key: SessionKey
    path: tuple[int, ...]  # the limited nodes above the EVSE, nearest first
    cap: int
    minimum: int
    need: int  # W to finish by the departure, 0 if not urgent
    seconds_left: float
    was_on: bool
    power: int = 0


def allocate(
    topology: Site,
    limits: Mapping[NodeKey, Number | None],
    sessions: Iterable[Session],
    now: datetime,
    *,
    previous: Mapping[SessionKey, int] | Allocation | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> Allocation:
    """Share the site's power among ``sessions`` by the policy of this module's docstring.

    ``limits`` holds the time-varying limits (W) in force at ``now``; ``previous`` what the
    stations hold now (the values last pushed), for the headroom and stability rules.
    """
    index = topology._index
    held = previous.power if isinstance(previous, Allocation) else (previous or {})
    effective = _effective_limits(index, limits)
    entries = _entries(index, effective, sessions, now, held, policy)

    # The limits of the nodes on the sessions' paths (those with none are never on a path).
    bounds = [0 if limit is None else limit for limit in effective]
    used = [0] * len(index.keys)  # the allocations so far under each limited node
    for _, level in itertools.groupby(
        sorted(entries, key=lambda e: -e.session.priority), key=lambda e: e.session.priority
    ):
        _serve(list(level), bounds, used)

    if held:
        _keep_previous(entries, held, bounds, policy.threshold)
    return _result(index, effective, entries)


def _effective_limits(index: _Index, limits: Mapping[NodeKey, Number | None]) -> list[int | None]:
    effective = list(index.static)
    for key, value in limits.items():
        position = index.position.get(key)
        if position is None:
            raise ValueError(f"a limit for {key!r}, which is not a node of the site")
        if value is None:
            continue
        if value < 0:
            raise ValueError(f"the limit of {key!r} is negative")
        static = effective[position]
        effective[position] = _floor(value) if static is None else min(static, _floor(value))
    return effective


def _entries(
    index: _Index,
    effective: list[int | None],
    sessions: Iterable[Session],
    now: datetime,
    held: Mapping[SessionKey, int],
    policy: Policy,
) -> list[_Entry]:
    entries = []
    taken: set[int] = set()
    for session in sessions:
        node = index.position.get((session.station_id, session.evse_id))
        if node is None:
            raise ValueError(f"no EVSE {session.evse_id} on station {session.station_id!r}")
        if node in taken:
            raise ValueError(f"two sessions on EVSE {session.evse_id} of {session.station_id!r}")
        taken.add(node)
        evse_limit = effective[node]
        assert evse_limit is not None
        cap = (
            evse_limit if session.max_power is None else min(evse_limit, _floor(session.max_power))
        )
        minimum = max(0, _ceil(session.min_power))
        key = session.key
        before = held.get(key)
        if session.drawn is not None and before is not None:
            drawn = max(0, _ceil(session.drawn))
            margin = max(policy.headroom_margin, _ceil(policy.headroom_fraction * drawn))
            if drawn + margin <= before:
                cap = min(cap, max(minimum, drawn + margin))
        need, seconds_left = 0, 0.0
        if session.energy_needed is not None and session.departure is not None:
            seconds_left = (session.departure - now).total_seconds()
            if seconds_left > 0 and session.energy_needed > 0:
                need = _ceil(Decimal(session.energy_needed) * 3600 / Decimal(str(seconds_left)))
        path = []
        parent = index.parents[node]
        while parent >= 0:
            if effective[parent] is not None:
                path.append(parent)
            parent = index.parents[parent]
        entries.append(
            _Entry(session, key, tuple(path), cap, minimum, need, seconds_left, bool(before))
        )
    entries.sort(key=lambda e: e.key)
    return entries


def _serve(level: list[_Entry], bounds: list[int], used: list[int]) -> None:
    """Admit the sessions of one priority level at their minimum, then raise them (rules 4-6)."""

    def admission(entry: _Entry) -> tuple[bool, float, bool, int, SessionKey]:
        urgent = entry.need > 0
        return (not urgent, entry.seconds_left if urgent else 0.0, not entry.was_on,
                entry.minimum, entry.key)  # fmt: skip

    admitted = []
    for entry in sorted(level, key=admission):
        if entry.minimum > entry.cap:
            continue
        if all(used[n] + entry.minimum <= bounds[n] for n in entry.path):
            for n in entry.path:
                used[n] += entry.minimum
            entry.power = entry.minimum
            admitted.append(entry)
    admitted.sort(key=lambda e: e.key)
    urgent = [e for e in admitted if e.need > e.power]
    _fill(urgent, [min(e.cap, e.need) for e in urgent], bounds, used)
    _fill(admitted, [e.cap for e in admitted], bounds, used)


def _fill(entries: list[_Entry], caps: list[int], bounds: list[int], used: list[int]) -> None:
    """Raise ``entries`` (in key order) from their power towards ``caps`` along one water level.

    Each limited node's saturation level is found bottom-up: the sessions below it behave as
    clamp(level, floor, cap'), cap' already lowered by the levels of the nodes below it.
    """
    if not entries:
        return
    floors = [e.power for e in entries]
    tops = [max(f, c) for f, c in zip(floors, caps, strict=True)]
    members: dict[int, list[int]] = {}
    for i, entry in enumerate(entries):
        for n in entry.path:
            members.setdefault(n, []).append(i)
    # The room under each node for these entries: its limit less what the others use.
    room = {n: bounds[n] - used[n] + sum(floors[i] for i in m) for n, m in members.items()}
    # Deeper nodes first. A node's depth (its limited ancestors and itself) is read from the
    # path of any session below it.
    depth = {n: len(entries[m[0]].path) - entries[m[0]].path.index(n) for n, m in members.items()}
    depth_first = sorted(members, key=lambda n: (-depth[n], n))
    for n in depth_first:
        mine = members[n]
        level = _level([floors[i] for i in mine], [tops[i] for i in mine], room[n])
        if level is not None:
            for i in mine:
                tops[i] = max(floors[i], min(tops[i], level))
    # Hand out the watts the whole-watt levels left, one at a time, in key order.
    slack = {n: room[n] - sum(tops[i] for i in m) for n, m in members.items()}
    final_caps = [max(f, c) for f, c in zip(floors, caps, strict=True)]
    progress = True
    while progress:
        progress = False
        for i, entry in enumerate(entries):
            if tops[i] < final_caps[i] and all(slack[n] > 0 for n in entry.path):
                tops[i] += 1
                for n in entry.path:
                    slack[n] -= 1
                progress = True
    for i, entry in enumerate(entries):
        for n in entry.path:
            used[n] += tops[i] - floors[i]
        entry.power = tops[i]


def _level(floors: list[int], caps: list[int], room: int) -> int | None:
    """The highest whole level L with sum(clamp(L, floor, cap)) <= room; None if all caps fit."""
    if sum(caps) <= room:
        return None
    fs = sorted(floors)
    cs = sorted(caps)
    f_prefix = [0, *itertools.accumulate(fs)]
    c_prefix = [0, *itertools.accumulate(cs)]
    total_f = f_prefix[-1]
    if total_f >= room:
        return fs[0]

    def load(level: int) -> int:
        jf = bisect.bisect_right(fs, level)
        jc = bisect.bisect_right(cs, level)
        return c_prefix[jc] + total_f - f_prefix[jf] + level * (jf - jc)

    low, high = fs[0], cs[-1]  # load(low) <= room < load(high)
    while high - low > 1:
        middle = (low + high) // 2
        if load(middle) <= room:
            low = middle
        else:
            high = middle
    return low


def _keep_previous(
    entries: list[_Entry],
    held: Mapping[SessionKey, int],
    bounds: list[int],
    threshold: Threshold,
) -> None:
    """Rule 8: keep the value a station holds where the new one is within the threshold."""
    fresh = {id(e): e.power for e in entries}
    for entry in entries:
        before = held.get(entry.key)
        if before is None or before == entry.power:
            continue
        if abs(entry.power - before) >= threshold.of(before) or before > entry.cap:
            continue
        if before == 0 or before >= entry.minimum:
            entry.power = before
    load = [0] * len(bounds)
    below: dict[int, list[_Entry]] = {}
    for entry in entries:
        for n in entry.path:
            load[n] += entry.power
            below.setdefault(n, []).append(entry)
    depth = {n: len(m[0].path) - m[0].path.index(n) for n, m in below.items()}
    for n in sorted(below, key=lambda n: (-depth[n], n)):
        limit = bounds[n]
        if load[n] <= limit:
            continue
        kept_higher = [e for e in below[n] if e.power > fresh[id(e)]]
        kept_higher.sort(key=lambda e: (fresh[id(e)] - e.power, e.key))
        for entry in kept_higher:
            if load[n] <= limit:
                break
            difference = entry.power - fresh[id(entry)]
            entry.power = fresh[id(entry)]
            for m in entry.path:
                load[m] -= difference


def _result(index: _Index, effective: list[int | None], entries: list[_Entry]) -> Allocation:
    loads = [0] * len(index.keys)
    for entry in entries:
        node = index.position[(entry.key.station_id, entry.key.evse_id)]
        while node >= 0:
            loads[node] += entry.power
            node = index.parents[node]
    return Allocation(
        power=MappingProxyType({e.key: e.power for e in entries}),
        loads=MappingProxyType(dict(zip(index.keys, loads, strict=True))),
        limits=MappingProxyType(
            {k: v for k, v in zip(index.keys, effective, strict=True) if v is not None}
        ),
    )


# --- what to send ----------------------------------------------------------------------------


def changes(
    previous: Mapping[SessionKey, int] | Allocation | None,
    current: Allocation,
    threshold: Threshold = DEFAULT_POLICY.threshold,
) -> list[Change]:
    """The TxProfiles to send after a re-plan, in key order.

    ``previous`` is what the stations hold. A new session is always sent, and so is any decrease
    (the power was given to someone else); an increase only from ``threshold`` on: a station
    holding a little less than it may draw keeps every limit. The caller records what it sent
    (``held.update({c[:3]: c.power for c in sent})``) and forgets ended sessions, so that small
    increases skipped now do not add up unseen.
    """
    held = previous.power if isinstance(previous, Allocation) else (previous or {})
    found = []
    for key, power in sorted(current.power.items()):
        before = held.get(key)
        if before is None or power < before or power - before >= threshold.of(before):
            found.append(Change(*key, power))
    return found


# --- the failsafe ----------------------------------------------------------------------------


def failsafe_limits(
    topology: Site, limits: Mapping[NodeKey, Number | None] | None = None
) -> dict[tuple[str, int], int]:
    """Per EVSE, a TxDefaultProfile limit (W) that keeps every node's limit with the CSMS gone.

    Each EVSE gets its fair share as if every EVSE charged at its hardware maximum at once (no
    minima). ``limits`` may lower nodes further: pass the lowest each schedule will reach, so the
    failsafe holds whenever the CSMS is lost. For a station-wide TxDefaultProfile (EVSE 0), take
    the lowest value of the station's EVSEs.
    """
    index = topology._index
    effective = _effective_limits(index, limits or {})
    entries = []
    for node in index.evses:
        key = index.keys[node]
        assert isinstance(key, tuple)
        path = []
        parent = index.parents[node]
        while parent >= 0:
            if effective[parent] is not None:
                path.append(parent)
            parent = index.parents[parent]
        cap = effective[node]
        assert cap is not None
        entries.append(
            _Entry(Session(key[0], key[1], ""), SessionKey(key[0], key[1], ""), tuple(path),
                   cap, 0, 0, 0.0, False)
        )  # fmt: skip
    bounds = [0 if limit is None else limit for limit in effective]
    _fill(entries, [e.cap for e in entries], bounds, [0] * len(index.keys))
    return {(e.key.station_id, e.key.evse_id): e.power for e in entries}


# --- limits over time ------------------------------------------------------------------------


def limit_at(schedule: Schedule, at: datetime) -> int | None:
    """The limit (W, rounded down) a schedule sets at ``at``: that of the last start <= ``at``."""
    found: tuple[datetime, Number | None] | None = None
    for start, value in schedule:
        if start <= at and (found is None or start >= found[0]):
            found = (start, value)
    if found is None or found[1] is None:
        return None
    return _floor(found[1])


def limits_at(schedules: Mapping[NodeKey, Schedule], at: datetime) -> dict[NodeKey, int | None]:
    """Every node's scheduled limit at ``at``: the ``limits`` argument of ``allocate``."""
    return {node: limit_at(schedule, at) for node, schedule in schedules.items()}


def next_boundary(schedules: Iterable[Schedule], after: datetime) -> datetime | None:
    """The first instant after ``after`` at which any schedule's limit changes; None if none."""

    def boundaries() -> Iterator[datetime]:
        for schedule in schedules:
            for start, _ in schedule:
                if start > after and limit_at(schedule, start) != _just_before(schedule, start):
                    yield start

    return min(boundaries(), default=None)


def _just_before(schedule: Schedule, instant: datetime) -> int | None:
    found: tuple[datetime, Number | None] | None = None
    for start, value in schedule:
        if start < instant and (found is None or start >= found[0]):
            found = (start, value)
    return None if found is None or found[1] is None else _floor(found[1])
