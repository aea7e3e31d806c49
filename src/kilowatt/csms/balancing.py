"""The load balancer at run time: keeps every managed site's transactions within its limits.

The allocation is ``kilowatt.smartcharging.balancer.allocate``, a pure function; this module
feeds it and carries its result out:

- **Inputs**: the site plans (``csms/sites.py``), the transactions running at their stations
  (from the live sessions), what each EV draws (its latest Power.Active.Import reading), the
  id-token groups' priorities, and the time-varying limits at the moment.
- **When**: a change marks the site dirty (a transaction starts or ends, a meter value, a
  station accepted after its boot, a plan or limit changed); a re-plan follows after
  ``debounce`` seconds, so a burst of events costs one re-plan and stations are not flooded.
  Schedule boundaries and the renewal of the profiles' leases wake it too.
- **Output**: one TxProfile per session whose limit changed (decreases first, then increases,
  so that the sum never passes a limit in between), each valid for ``lease`` seconds from its
  start and renewed halfway.
- **The failsafe**: every station of a site holds two station-wide TxDefaultProfiles. The
  *hold* (stack level 5) gives a new transaction 0 W until the lease ends, so that a session
  starting between two re-plans never adds to what the others were given; the balancer gives
  it power within ``debounce``. It is renewed with the leases. Below it the *failsafe* (stack
  level 4, open-ended) gives each EVSE its share of the lowest limits (``failsafe_limits``).
  When the CSMS or the network is lost, the TxProfiles and the hold run out together, and
  every EVSE, old session or new, falls back to the failsafe: every limit holds throughout.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from msgspec import UNSET

from kilowatt.csms.sites import SitePlan
from kilowatt.csms.smart_charging import ProfileRefused, send_charging_profile
from kilowatt.messages import v201
from kilowatt.rpc.errors import OcppError
from kilowatt.smartcharging.balancer import (
    Allocation,
    Change,
    Group,
    NodeKey,
    Policy,
    Schedule,
    Session,
    SessionKey,
    Station,
    allocate,
    changes,
    failsafe_limits,
    limit_at as scheduled_limit,
    limits_at,
    next_boundary,
)

if TYPE_CHECKING:
    from kilowatt.csms.context import Services
    from kilowatt.csms.registry import StationRegistry
    from kilowatt.csms.store import MeterSample, TransactionRecord

__all__ = [
    "BALANCER_STACK_LEVEL",
    "LoadBalancer",
    "SitePoint",
    "limits_in_force",
    "watts_schedule",
]

logger = logging.getLogger(__name__)

# The balancer's profiles: one TxProfile id per EVSE (a new one replaces the old, K01.FR.05),
# one station-wide TxDefaultProfile; the stack level leaves room above and below for the
# operator's own profiles (the catalogue's ProfileStackLevel is 10).
BALANCER_STACK_LEVEL = 5
FAILSAFE_STACK_LEVEL = BALANCER_STACK_LEVEL - 1
TX_PROFILE_ID = 9_000_000  # + the EVSE id
HOLD_PROFILE_ID = 8_999_999
FAILSAFE_PROFILE_ID = 8_999_998
# IEC 61851: an AC EV charges at 6 A per phase or more.
MIN_CURRENT = 6
VOLTAGE = 230
POWER = v201.MeasurandEnumType.POWER_ACTIVE_IMPORT.value
HISTORY = 24 * 60  # points kept per site for the charts (a day at one per minute)
SENDERS = 50  # SetChargingProfile calls in flight at once
# A meter's reading is exact to the watt or so: an EV seen drawing less than it may is given
# what it draws plus a small margin (the pure default, 1 kW or 10 %, is for coarse meters),
# so that what it leaves goes to the others.
POLICY = Policy(headroom_margin=300, headroom_fraction=Decimal("0.03"))


@dataclass(frozen=True)
class SitePoint:
    """One point of a site's history: its limit, what it allocated, what its EVs drew (W)."""

    at: datetime
    limit: int | None
    allocated: int
    drawn: int


@dataclass
class _Managed:
    plan: SitePlan
    held: dict[SessionKey, int] = field(default_factory=dict)  # what the stations hold (W)
    leased_at: dict[SessionKey, datetime] = field(default_factory=dict)
    allocation: Allocation | None = None
    history: deque[SitePoint] = field(default_factory=lambda: deque(maxlen=HISTORY))
    failsafe_sent: set[str] = field(default_factory=set)
    held_until: dict[str, datetime] = field(default_factory=dict)  # station -> hold lease start
    learned_max: dict[SessionKey, int] = field(default_factory=dict)  # W, from the meters
    planned_at: datetime | None = None  # when the last re-plan started


class LoadBalancer:
    """Runs the sites' re-plans; call the ``*_changed`` methods from the CSMS's handlers."""

    def __init__(
        self,
        services: Services,
        registry: StationRegistry,
        *,
        debounce: float = 2.0,
        lease: int = 900,
        policy: Policy = POLICY,
    ) -> None:
        self._services = services
        self._registry = registry
        self.debounce = debounce
        self.lease = lease
        self.policy = policy
        self._sites: dict[str, _Managed] = {}
        self._site_of: dict[str, str] = {}
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()
        # (station, EVSE) -> the latest reading: W, and when it was taken
        self._drawn: dict[tuple[str, int], tuple[float, datetime]] = {}
        self._priority_of_tx: dict[tuple[str, str], int] = {}
        # K12: external limits the stations reported, per (node, source), as W schedules
        self._external: dict[tuple[NodeKey, str], Schedule] = {}
        self._replanning = 0
        self.replans = 0
        self.profiles_sent = 0

    # -- the sites -----------------------------------------------------------------------------

    def put_site(self, plan: SitePlan) -> None:
        old = self._sites.get(plan.site.id)
        for station_id in plan.stations:
            other = self._site_of.get(station_id)
            if other is not None and other != plan.site.id:
                raise ValueError(f"station {station_id} belongs to site {other} already")
        if old is not None:
            for station_id in old.plan.stations - plan.stations:
                self._site_of.pop(station_id, None)
        managed = _Managed(plan)
        if old is not None:
            managed.held, managed.leased_at = old.held, old.leased_at
            managed.history = old.history
        self._sites[plan.site.id] = managed
        for station_id in plan.stations:
            self._site_of[station_id] = plan.site.id
        self._mark(plan.site.id)

    def remove_site(self, site_id: str) -> bool:
        managed = self._sites.pop(site_id, None)
        if managed is None:
            return False
        for station_id in managed.plan.stations:
            self._site_of.pop(station_id, None)
        return True

    def site_of(self, station_id: str) -> str | None:
        return self._site_of.get(station_id)

    def plan(self, site_id: str) -> SitePlan | None:
        managed = self._sites.get(site_id)
        return managed.plan if managed else None

    def allocation(self, site_id: str) -> Allocation | None:
        managed = self._sites.get(site_id)
        return managed.allocation if managed else None

    def held(self, site_id: str) -> dict[SessionKey, int]:
        managed = self._sites.get(site_id)
        return dict(managed.held) if managed else {}

    def history(self, site_id: str) -> list[SitePoint]:
        managed = self._sites.get(site_id)
        return list(managed.history) if managed else []

    def limit_plan(
        self, site_id: str, start: datetime, end: datetime
    ) -> list[tuple[datetime, dict[NodeKey, int | None]]]:
        """The limits in force over ``[start, end)``: at ``start`` and at each boundary where
        a schedule (the site's own, or an external limit) changes: the UI's planned limit."""
        managed = self._sites.get(site_id)
        if managed is None:
            return []
        schedules = [*managed.plan.schedules.values(), *self._external.values()]
        points = [(start, limits_in_force(managed.plan, self._external, start))]
        boundary = next_boundary(schedules, start)
        while boundary is not None and boundary < end:
            points.append((boundary, limits_in_force(managed.plan, self._external, boundary)))
            boundary = next_boundary(schedules, boundary)
        return points

    async def allowance(self, station_id: str, evse_id: int) -> float | None:
        """What the balancer grants an EVSE (the CSMS's ChargingAllowance for K15)."""
        site_id = self._site_of.get(station_id)
        if site_id is None:
            return None
        managed = self._sites[site_id]
        granted = [w for key, w in managed.held.items() if key[:2] == (station_id, evse_id)]
        return float(granted[0]) if granted else None

    # -- what happens at the stations ----------------------------------------------------------

    def transactions_changed(self, station_id: str) -> None:
        self._mark_station(station_id)

    def power_drawn(self, station_id: str, evse_id: int, watts: float, at: datetime) -> None:
        before = self._drawn.get((station_id, evse_id))
        if before is not None and at < before[1]:
            return  # an older reading, sent late
        self._drawn[(station_id, evse_id)] = (watts, at)
        # Only a change the headroom rule may care about is worth a re-plan.
        if before is None or abs(watts - before[0]) >= 500:
            self._mark_station(station_id)

    def samples_seen(self, station_id: str, evse_id: int, samples: Iterable[MeterSample]) -> None:
        """The latest total Power.Active.Import of the EVSE among ``samples``, if any."""
        latest = None
        for sample in samples:
            if (
                sample.measurand == POWER
                and sample.phase is None
                and (latest is None or sample.timestamp >= latest.timestamp)
            ):
                latest = sample
        if latest is not None:
            scale = 1000.0 if latest.unit == "kW" else 1.0
            watts = latest.value * scale * 10.0 ** (latest.multiplier or 0)
            self.power_drawn(station_id, evse_id, watts, latest.timestamp)

    def external_limit(
        self,
        station_id: str,
        evse_id: int,
        source: str,
        schedule: v201.ChargingScheduleType | None,
        received_at: datetime,
    ) -> None:
        """K12: an external limit (an EMS, the grid operator) applies at a station or EVSE; it
        lowers that node's limit in the allocation. Without a schedule its value is unknown,
        and nothing changes."""
        node: NodeKey = station_id if evse_id == 0 else (station_id, evse_id)
        if schedule is None:
            return
        self._external[(node, source)] = watts_schedule(schedule, received_at)
        self._mark_station(station_id)

    def external_limit_cleared(self, station_id: str, evse_id: int, source: str) -> None:
        """K13: the external limit was released."""
        node: NodeKey = station_id if evse_id == 0 else (station_id, evse_id)
        if self._external.pop((node, source), None) is not None:
            self._mark_station(station_id)

    def station_accepted(self, station_id: str) -> None:
        site_id = self._site_of.get(station_id)
        if site_id is not None:
            self._sites[site_id].failsafe_sent.discard(station_id)
            self._mark(site_id)

    def _mark_station(self, station_id: str) -> None:
        site_id = self._site_of.get(station_id)
        if site_id is not None:
            self._mark(site_id)

    def _mark(self, site_id: str) -> None:
        self._dirty.add(site_id)
        self._wake.set()

    @property
    def busy(self) -> bool:
        """Whether a re-plan for a change is waiting or a re-plan is running."""
        return bool(self._dirty) or self._replanning > 0

    def planned_at(self, site_id: str) -> datetime | None:
        """When the site's last re-plan started."""
        managed = self._sites.get(site_id)
        return managed.planned_at if managed else None

    @property
    def waiting(self) -> bool:
        """Whether a re-plan waits for its debounce to pass."""
        return bool(self._dirty) and self._replanning == 0

    # -- the loop ------------------------------------------------------------------------------

    async def run(self) -> None:
        """Re-plan dirty sites, schedule boundaries and lease renewals, until cancelled."""
        clock = self._services.clock
        while True:
            wait = self._seconds_to_next_due(clock.now())
            self._wake.clear()
            sleeper = asyncio.ensure_future(clock.sleep(wait))
            woken = asyncio.ensure_future(self._wake.wait())
            try:
                await asyncio.wait({sleeper, woken}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
                woken.cancel()
            if self._dirty:
                await clock.sleep(self.debounce)  # gather the burst
            now = clock.now()
            due = {site_id for site_id in self._sites if self._due(site_id, now)}
            for site_id in sorted(self._dirty | due):
                self._dirty.discard(site_id)
                if site_id in self._sites:
                    self._replanning += 1
                    try:
                        await self.replan(site_id)
                    except Exception:  # the loop must outlive any one site's failure
                        logger.exception("re-planning site %s failed", site_id)
                    finally:
                        self._replanning -= 1

    def _seconds_to_next_due(self, now: datetime) -> float:
        moments = []
        for managed in self._sites.values():
            schedules = [*managed.plan.schedules.values(), *self._external.values()]
            boundary = next_boundary(schedules, now)
            if boundary is not None:
                moments.append(boundary)
            moments.extend(at + self._renewal for at in managed.leased_at.values())
            moments.extend(at + self._renewal for at in managed.held_until.values())
        if not moments:
            return 3600.0
        return max(0.0, (min(moments) - now).total_seconds())

    @property
    def _renewal(self) -> timedelta:
        return timedelta(seconds=self.lease / 2)

    def _due(self, site_id: str, now: datetime) -> bool:
        managed = self._sites[site_id]
        leases = [*managed.leased_at.values(), *managed.held_until.values()]
        if any(at + self._renewal <= now for at in leases):
            return True
        if managed.planned_at is None:
            return True
        # A schedule boundary passed since the last re-plan.
        schedules = [*managed.plan.schedules.values(), *self._external.values()]
        boundary = next_boundary(schedules, managed.planned_at)
        return boundary is not None and boundary <= now

    # -- one re-plan ---------------------------------------------------------------------------

    async def replan(self, site_id: str) -> Allocation:
        """Allocate the site's power now and push what changed; return the allocation."""
        managed = self._sites[site_id]
        plan = managed.plan
        now = self._services.clock.now()
        managed.planned_at = now
        sessions = await self._sessions(managed)
        limits = limits_in_force(plan, self._external, now)
        live = {session.key for session in sessions}
        for gone in set(managed.held) - live:
            managed.held.pop(gone, None)
            managed.leased_at.pop(gone, None)
            managed.learned_max.pop(gone, None)
            self._priority_of_tx.pop((gone.station_id, gone.transaction_id), None)
        allocation = allocate(
            plan.site, limits, sessions, now, previous=managed.held, policy=self.policy
        )
        managed.allocation = allocation
        self.replans += 1
        wanted = changes(managed.held, allocation, self.policy.threshold)
        renew = [
            Change(*key, allocation.power[key])
            for key, at in managed.leased_at.items()
            if at + self._renewal <= now
            and key in allocation.power
            and key not in {change[:3] for change in wanted}
        ]
        # Lower first, then raise: the sum stays under every limit while the changes land.
        decreases = [c for c in wanted if c.power < managed.held.get(SessionKey(*c[:3]), 0)]
        increases = [c for c in wanted if c not in decreases]
        await self._station_defaults(managed, now)
        await self._push(managed, [*decreases, *renew], now)
        await self._push(managed, increases, now)
        managed.history.append(
            SitePoint(
                at=now,
                limit=allocation.limits.get(plan.site.id),
                allocated=sum(allocation.power.values()),
                drawn=round(
                    sum(self._drawn.get(key[:2], (0.0, now))[0] for key in allocation.power)
                ),
            )
        )
        return allocation

    async def _sessions(self, managed: _Managed) -> list[Session]:
        plan = managed.plan
        evse_phases = {
            (station.id, evse.id): evse.phases
            for station in _stations(plan.site.children)
            for evse in station.evses
        }
        found = []
        for station_id in sorted(plan.stations):
            session = self._registry.get(station_id)
            if session is None:
                continue
            for state in list(session.transactions.values()):
                record = state.record()
                if record.ended_at is not None or record.evse_id is None:
                    continue
                phases = evse_phases.get((station_id, record.evse_id))
                if phases is None:
                    continue  # an EVSE the plan does not know is not managed
                found.append(
                    Session(
                        station_id=station_id,
                        evse_id=record.evse_id,
                        transaction_id=record.transaction_id,
                        priority=await self._priority(plan, station_id, record),
                        min_power=MIN_CURRENT * VOLTAGE * phases,
                        max_power=self._learned_max(managed, station_id, record),
                    )
                )
        return found

    def _learned_max(
        self, managed: _Managed, station_id: str, record: TransactionRecord
    ) -> int | None:
        """What the EV takes at most, learned from its meter: a reading taken under the limit
        the station holds, clearly below it, shows the EV's own maximum (its charger, or its
        battery tapering). It is kept until a reading shows the EV at its limit again, when
        the EV may take more and gets its share back. A reading from before the last profile
        says nothing of it."""
        assert record.evse_id is not None
        key = SessionKey(station_id, record.evse_id, record.transaction_id)
        reading = self._drawn.get((station_id, record.evse_id))
        since, held = managed.leased_at.get(key), managed.held.get(key)
        if reading is not None and since is not None and held is not None and reading[1] > since:
            drawn = reading[0]
            margin = max(self.policy.headroom_margin, float(self.policy.headroom_fraction) * drawn)
            if drawn + margin < held:
                managed.learned_max[key] = int(drawn + margin)
            elif drawn >= held - self.policy.threshold.of(held):
                managed.learned_max.pop(key, None)  # at its limit: it may take more
        return managed.learned_max.get(key)

    async def _priority(self, plan: SitePlan, station_id: str, record: TransactionRecord) -> int:
        id_token, token_type = record.id_token, record.id_token_type
        key = (station_id, record.transaction_id)
        if key not in self._priority_of_tx:
            priority = 0
            if plan.priorities and id_token and token_type:
                token = await self._services.store.get_id_token(id_token, token_type)
                if token is not None and token.group_id_token is not None:
                    priority = plan.priorities.get(token.group_id_token, 0)
            self._priority_of_tx[key] = priority
        return self._priority_of_tx[key]

    async def _push(self, managed: _Managed, wanted: list[Change], now: datetime) -> None:
        gate = asyncio.Semaphore(SENDERS)

        async def send(change: Change) -> None:
            async with gate:
                profile = _tx_profile(change, now, self.lease)
                if await self._send(change.station_id, change.evse_id, profile):
                    key = SessionKey(change.station_id, change.evse_id, change.transaction_id)
                    managed.held[key] = change.power
                    # From the station's answer on, its readings are taken under this limit
                    # (_learned_max); the lease itself counts from ``now``, a little earlier.
                    managed.leased_at[key] = self._services.clock.now()

        await asyncio.gather(*(send(change) for change in wanted))

    async def _station_defaults(self, managed: _Managed, now: datetime) -> None:
        """The failsafe once per connection, and the hold renewed with the leases."""
        values = failsafe_limits(managed.plan.site, _lowest_limits(managed.plan))
        per_station: dict[str, int] = {}
        for (station_id, _), watts in values.items():
            per_station[station_id] = min(watts, per_station.get(station_id, watts))
        for station_id, watts in sorted(per_station.items()):
            if self._registry.get(station_id) is None:
                managed.failsafe_sent.discard(station_id)
                managed.held_until.pop(station_id, None)
                continue
            if station_id not in managed.failsafe_sent:
                profile = _default_profile(FAILSAFE_PROFILE_ID, FAILSAFE_STACK_LEVEL, watts, now)
                if await self._send(station_id, 0, profile):
                    managed.failsafe_sent.add(station_id)
            held = managed.held_until.get(station_id)
            if held is None or held + self._renewal <= now:
                hold = _default_profile(
                    HOLD_PROFILE_ID, BALANCER_STACK_LEVEL, 0, now, duration=self.lease
                )
                if await self._send(station_id, 0, hold):
                    managed.held_until[station_id] = now

    async def _send(self, station_id: str, evse_id: int, profile: v201.ChargingProfileType) -> bool:
        try:
            answer = await send_charging_profile(self._services, station_id, evse_id, profile)
        except (ProfileRefused, OcppError, LookupError) as error:
            logger.warning("profile %d for %s not set: %s", profile.id, station_id, error)
            return False
        self.profiles_sent += 1
        if answer.status != v201.ChargingProfileStatusEnumType.ACCEPTED:
            logger.warning("%s refused profile %d: %s", station_id, profile.id, answer)
            return False
        return True


def _stations(children: Iterable[Group | Station]) -> Iterator[Station]:
    for child in children:
        if isinstance(child, Group):
            yield from _stations(child.children)
        elif isinstance(child, Station):
            yield child


def _lowest_limits(plan: SitePlan) -> dict[NodeKey, int | None]:
    """Per node, the lowest its schedule ever sets: the failsafe must hold at any time."""
    lowest: dict[NodeKey, int | None] = {}
    for node, schedule in plan.schedules.items():
        values = [int(value) for _, value in schedule if value is not None]
        lowest[node] = min(values) if values else None
    return lowest


def _tx_profile(change: Change, now: datetime, lease: int) -> v201.ChargingProfileType:
    return v201.ChargingProfileType(
        id=TX_PROFILE_ID + change.evse_id,
        stack_level=BALANCER_STACK_LEVEL,
        charging_profile_purpose=v201.ChargingProfilePurposeEnumType.TX_PROFILE,
        charging_profile_kind=v201.ChargingProfileKindEnumType.ABSOLUTE,
        transaction_id=change.transaction_id,
        charging_schedule=[
            v201.ChargingScheduleType(
                id=1,
                start_schedule=now.replace(microsecond=0),
                # The lease: past it the station falls back to its failsafe TxDefaultProfile.
                duration=lease,
                charging_rate_unit=v201.ChargingRateUnitEnumType.W,
                charging_schedule_period=[
                    v201.ChargingSchedulePeriodType(start_period=0, limit=float(change.power))
                ],
            )
        ],
    )


def _default_profile(
    profile_id: int, stack_level: int, watts: int, now: datetime, duration: int | None = None
) -> v201.ChargingProfileType:
    return v201.ChargingProfileType(
        id=profile_id,
        stack_level=stack_level,
        charging_profile_purpose=v201.ChargingProfilePurposeEnumType.TX_DEFAULT_PROFILE,
        charging_profile_kind=v201.ChargingProfileKindEnumType.ABSOLUTE,
        charging_schedule=[
            v201.ChargingScheduleType(
                id=1,
                start_schedule=now.replace(microsecond=0),
                duration=duration if duration is not None else UNSET,
                charging_rate_unit=v201.ChargingRateUnitEnumType.W,
                charging_schedule_period=[
                    v201.ChargingSchedulePeriodType(start_period=0, limit=float(watts))
                ],
            )
        ],
    )


def limits_in_force(
    plan: SitePlan, external: Mapping[tuple[NodeKey, str], Schedule], now: datetime
) -> dict[NodeKey, int | None]:
    """The time-varying limits of a site's nodes at ``now``: its own schedules, lowered by the
    external limits its stations reported (K12), the lowest of them where several apply."""
    limits = limits_at(plan.schedules, now)
    nodes = set(plan.site.nodes())
    for (node, _), schedule in external.items():
        value = scheduled_limit(schedule, now)
        if node in nodes and value is not None:
            own = limits.get(node)
            limits[node] = value if own is None else min(own, value)
    return limits


def watts_schedule(schedule: v201.ChargingScheduleType, received_at: datetime) -> Schedule:
    """A reported ChargingSchedule as a balancer schedule in W, from its start (or from when it
    was received); A per phase is A x V x phases, 3 phases unless the period says."""
    start = schedule.start_schedule if schedule.start_schedule is not UNSET else received_at
    entries: list[tuple[datetime, Decimal | None]] = []
    for period in schedule.charging_schedule_period:
        limit = Decimal(str(period.limit))
        if schedule.charging_rate_unit == v201.ChargingRateUnitEnumType.A:
            phases = period.number_phases if period.number_phases is not UNSET else 3
            limit *= VOLTAGE * phases
        entries.append((start + timedelta(seconds=period.start_period), limit))
    if schedule.duration is not UNSET:
        entries.append((start + timedelta(seconds=schedule.duration), None))
    return tuple(entries)
