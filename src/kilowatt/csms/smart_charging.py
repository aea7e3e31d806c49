"""K Smart charging, the CSMS's side: charging profiles as data the CSMS keeps and checks.

The rules and the schedule math are ``kilowatt.smartcharging``'s, the functions the station
runs, so the CSMS learns before it sends a profile whether (and by which requirement) a station
would refuse it, and knows which composite schedule a station should report.

What the CSMS knows of a station comes from its store:

- the profiles it set and the station accepted (source "csms"), and those the station reported
  (source "station", ReportChargingProfiles);
- the external limits the station notified (NotifyChargingLimit), until they are cleared;
- the station's shape (``station_limits``): its EVSEs, their maximum power and phases, and the
  SmartChargingCtrlr sizes, from the device model it reported (NotifyReport), with the
  defaults of ``StationLimits`` where a variable is unknown;
- the transactions running on its EVSEs.

``set_charging_profile``, ``clear_charging_profile``, ``get_charging_profiles`` and
``composite_schedules`` are the operator's use cases; ``offer_tx_profile`` and
``check_ev_schedule`` answer an EV's ISO 15118 needs (K15) and schedule (K17).
"""

from __future__ import annotations

import logging
import math
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import msgspec
from msgspec import UNSET

from kilowatt.csms.context import Services
from kilowatt.csms.store import (
    PROFILE_REPORTED_BY_STATION,
    PROFILE_SET_BY_CSMS,
    ChargingLimitRecord,
    ChargingProfileRecord,
    Notification,
    Store,
)
from kilowatt.messages import decode, encode, v201
from kilowatt.smartcharging import (
    ActiveTransaction,
    EvseLimits,
    InstalledProfile,
    Rejected,
    StationLimits,
    UnknownEvseError,
    clear,
    composite_schedule,
    validate_profile,
)

if TYPE_CHECKING:
    from kilowatt.csms.app import Csms
    from kilowatt.csms.commands import CommandBus

__all__ = [
    "COMPOSITE_MISMATCH",
    "LIMIT_TOLERANCE",
    "CompositeComparison",
    "ProfileRefused",
    "active_transactions",
    "check_ev_schedule",
    "clear_charging_profile",
    "composite_schedules",
    "expected_schedule",
    "get_charging_profiles",
    "known_profiles",
    "offer_tx_profile",
    "plan_tx_profile",
    "profile_of",
    "profile_record",
    "same_schedule",
    "schedule_json",
    "send_charging_profile",
    "set_charging_profile",
    "station_limits",
]

logger = logging.getLogger(__name__)

Purpose = v201.ChargingProfilePurposeEnumType
Unit = v201.ChargingRateUnitEnumType

# The kind of the notification recorded when a station's composite schedule is not the one
# the CSMS expects.
COMPOSITE_MISMATCH = "CompositeScheduleMismatch"
# How far two limits may be apart and still be the same: one tenth, the resolution of a
# composite schedule (its limits are floored to one decimal, K08), in the schedule's unit.
LIMIT_TOLERANCE = 0.1
# A limit no EV or EVSE reaches: "unlimited" when only a TxProfile is compared (K17).
_UNLIMITED = Decimal(10**9)
_DAY = 86_400


class ProfileRefused(ValueError):
    """The CSMS does not send a profile the station would refuse: the K01 rule it breaks.

    Attributes:
        requirement: the requirement id, e.g. "K04.FR.03".
        reason_code: the StatusInfo reason code the station would answer with.
        detail: what is wrong, precisely.
    """

    def __init__(self, verdict: Rejected) -> None:
        super().__init__(verdict.additional_info)
        self.requirement = verdict.requirement
        self.reason_code = verdict.reason_code
        self.detail = verdict.detail


# -- records and profiles ---------------------------------------------------------------------


def profile_record(
    station_id: str,
    evse_id: int,
    profile: v201.ChargingProfileType,
    *,
    source: str,
    at: datetime,
    charging_limit_source: str = "CSO",
    request_id: int | None = None,
) -> ChargingProfileRecord:
    """A profile as the store keeps it."""
    return ChargingProfileRecord(
        station_id=station_id,
        source=source,
        profile_id=profile.id,
        evse_id=evse_id,
        purpose=str(profile.charging_profile_purpose),
        stack_level=profile.stack_level,
        charging_limit_source=charging_limit_source,
        profile=encode(profile).decode(),
        updated_at=at,
        transaction_id=profile.transaction_id if profile.transaction_id is not UNSET else None,
        request_id=request_id,
    )


def profile_of(record: ChargingProfileRecord) -> v201.ChargingProfileType:
    """The ChargingProfileType a stored record holds."""
    return decode(record.profile, v201.ChargingProfileType)


def _installed(record: ChargingProfileRecord) -> InstalledProfile:
    return InstalledProfile(
        profile=profile_of(record),
        evse_id=record.evse_id,
        source=v201.ChargingLimitSourceEnumType(record.charging_limit_source),
    )


async def known_profiles(store: Store, station_id: str) -> tuple[InstalledProfile, ...]:
    """The profiles the CSMS counts as installed at a station: those it set, and the external
    constraints the station reported (which a profile of the CSMS may not replace, K01.FR.05)."""
    records = await store.charging_profiles(station_id)
    mine = [r for r in records if r.source == PROFILE_SET_BY_CSMS]
    ids = {r.profile_id for r in mine}
    external = [
        r
        for r in records
        if r.source == PROFILE_REPORTED_BY_STATION
        and r.purpose == Purpose.CHARGING_STATION_EXTERNAL_CONSTRAINTS
        and r.profile_id not in ids
    ]
    return tuple(_installed(record) for record in (*mine, *external))


def _limit_profiles(limits: Iterable[ChargingLimitRecord]) -> list[InstalledProfile]:
    """External limits (NotifyChargingLimit) as ChargingStationExternalConstraints profiles.

    A schedule without startSchedule holds from the time it was notified. The ids are negative,
    so that they meet no profile of the station's.
    """
    found: list[InstalledProfile] = []
    for limit in limits:
        for schedule_json in limit.schedules or ():
            schedule = decode(msgspec.json.encode(schedule_json), v201.ChargingScheduleType)
            if schedule.start_schedule is UNSET:
                schedule = replace(schedule, start_schedule=limit.received_at)
            found.append(
                InstalledProfile(
                    profile=v201.ChargingProfileType(
                        id=-(len(found) + 1),
                        stack_level=0,
                        charging_profile_purpose=Purpose.CHARGING_STATION_EXTERNAL_CONSTRAINTS,
                        charging_profile_kind=v201.ChargingProfileKindEnumType.ABSOLUTE,
                        charging_schedule=[schedule],
                    ),
                    evse_id=limit.evse_id,
                    source=v201.ChargingLimitSourceEnumType(limit.charging_limit_source),
                )
            )
    return found


def schedule_json(schedule: v201.ChargingScheduleType) -> dict[str, Any]:
    """A ChargingScheduleType as on the wire, for the store's JSON column."""
    value: dict[str, Any] = msgspec.json.decode(encode(schedule))
    return value


# -- what the CSMS knows of a station -----------------------------------------------------------


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _decimal(text: str | None) -> Decimal | None:
    try:
        return Decimal(text) if text is not None else None
    except InvalidOperation:
        return None


async def station_limits(store: Store, station_id: str) -> StationLimits:
    """The station as smart charging sees it, from the device model it reported.

    - EVSEs: those of the device model (component EVSE), else those of its StatusNotifications;
      each with EVSE.Power's MaxSet as its maximum power and EVSE.SupplyPhases as its phases
      (0 is DC).
    - ChargingStation.SupplyPhases; SmartChargingCtrlr.RateUnit, PeriodsPerSchedule,
      ProfileStackLevel, ACPhaseSwitchingSupported (Actual values).
    - The default limit in W, where nothing limits: the sum of the EVSEs' maximum power when
      every EVSE's is known.

    Anything unknown keeps the default of ``StationLimits``.
    """
    variables = await store.variables(station_id)
    values: dict[tuple[str, int, str, str], str | None] = {}
    for variable in variables:
        key = (variable.component, variable.evse_id, variable.variable, variable.attribute_type)
        if variable.component_instance == "" and variable.variable_instance == "":
            values.setdefault(key, variable.value)

    def value(component: str, variable: str, evse: int = -1, attribute: str = "Actual") -> Any:
        return values.get((component, evse, variable, attribute))

    defaults = StationLimits()
    supply_phases = _int(value("ChargingStation", "SupplyPhases"))
    if supply_phases is None or not 1 <= supply_phases <= 3:
        supply_phases = defaults.supply_phases
    evse_ids = {v.evse_id for v in variables if v.component == "EVSE" and v.evse_id > 0}
    if not evse_ids:
        statuses = await store.connector_statuses(station_id)
        evse_ids = {status.evse_id for status in statuses if status.evse_id > 0}
    evses = {}
    for evse_id in sorted(evse_ids):
        phases = _int(value("EVSE", "SupplyPhases", evse_id))
        max_power = _decimal(value("EVSE", "Power", evse_id, "MaxSet"))
        evses[evse_id] = EvseLimits(
            max_power=max_power if max_power is not None and max_power >= 0 else None,
            phases=phases if phases is not None and 1 <= phases <= 3 else supply_phases,
            direct_current=phases == 0,
        )
    smart = "SmartChargingCtrlr"
    units = frozenset(
        Unit(unit.strip())
        for unit in (value(smart, "RateUnit") or "").split(",")
        if unit.strip() in {u.value for u in Unit}
    )
    powers = [evse.max_power for evse in evses.values() if evse.max_power is not None]
    default_watts = (
        sum(powers, Decimal(0))
        if powers and len(powers) == len(evses)
        else defaults.default_limit_watts
    )
    return StationLimits(
        evses=evses,
        supply_phases=supply_phases,
        rate_units=units or defaults.rate_units,
        periods_per_schedule=_int(value(smart, "PeriodsPerSchedule"))
        or defaults.periods_per_schedule,
        profile_stack_level=_stack_level(value(smart, "ProfileStackLevel"), defaults),
        ac_phase_switching_supported=str(value(smart, "ACPhaseSwitchingSupported")).lower()
        == "true",
        default_limit_watts=default_watts,
    )


def _stack_level(text: str | None, defaults: StationLimits) -> int:
    level = _int(text)
    return level if level is not None and level >= 0 else defaults.profile_stack_level


def _with_evse(limits: StationLimits, evse_id: int) -> StationLimits:
    """When the CSMS knows none of a station's EVSEs, it does not refuse one it is asked about:
    the station judges (K01.FR.28)."""
    if limits.evses or evse_id <= 0:
        return limits
    return replace(limits, evses={evse_id: EvseLimits(phases=limits.supply_phases)})


async def active_transactions(
    store: Store, station_id: str, now: datetime
) -> dict[int, ActiveTransaction]:
    """The transaction running on each EVSE of the station, as far as the CSMS knows (the
    newest, should the store hold two not ended on one EVSE)."""
    running: dict[int, ActiveTransaction] = {}
    for record in await store.list_transactions(station_id=station_id, active=True, limit=1000):
        if record.evse_id is not None and record.evse_id not in running:
            running[record.evse_id] = ActiveTransaction(
                record.transaction_id, record.started_at or now
            )
    return running


def _bus(services: Services) -> CommandBus:
    if services.commands is None:
        raise RuntimeError("the CSMS's services have no command bus")
    return services.commands


# -- K01 SetChargingProfile --------------------------------------------------------------------


async def set_charging_profile(
    csms: Csms, station_id: str, evse_id: int, profile: v201.ChargingProfileType
) -> v201.SetChargingProfileResponse:
    """K01: check a profile by the rules the station applies, send it, and keep it once the
    station accepts it.

    Raises:
        ProfileRefused: the station would refuse it (nothing is sent).
        And the errors of ``CommandBus.call``.
    """
    return await send_charging_profile(csms.services, station_id, evse_id, profile)


async def send_charging_profile(
    services: Services, station_id: str, evse_id: int, profile: v201.ChargingProfileType
) -> v201.SetChargingProfileResponse:
    """``set_charging_profile`` with the CSMS's services (for handlers' follow-ups)."""
    store = services.store
    now = services.clock.now()
    limits = _with_evse(await station_limits(store, station_id), evse_id)
    running = await active_transactions(store, station_id, now)
    verdict = validate_profile(
        profile,
        evse_id,
        installed=await known_profiles(store, station_id),
        station=limits,
        active_transactions={evse: tx.transaction_id for evse, tx in running.items()},
        now=now,
    )
    if isinstance(verdict, Rejected):
        raise ProfileRefused(verdict)
    request = v201.SetChargingProfileRequest(evse_id=evse_id, charging_profile=profile)
    answer = await _bus(services).call(station_id, request)
    if answer.status == v201.ChargingProfileStatusEnumType.ACCEPTED:
        await store.put_charging_profile(
            profile_record(
                station_id, evse_id, profile, source=PROFILE_SET_BY_CSMS, at=services.clock.now()
            )
        )
    return answer


# -- K10 ClearChargingProfile ------------------------------------------------------------------


async def clear_charging_profile(
    csms: Csms,
    station_id: str,
    *,
    profile_id: int | None = None,
    evse_id: int | None = None,
    purpose: v201.ChargingProfilePurposeEnumType | None = None,
    stack_level: int | None = None,
) -> v201.ClearChargingProfileResponse:
    """K10: clear by id, else by the criteria given (none: every profile). Once the station
    accepts, the CSMS forgets the same profiles, set by it or reported, by the station's rule
    (``kilowatt.smartcharging.clear``).

    Raises:
        The errors of ``CommandBus.call``.
    """
    if profile_id is not None:
        request = v201.ClearChargingProfileRequest(charging_profile_id=profile_id)
    elif evse_id is None and purpose is None and stack_level is None:
        request = v201.ClearChargingProfileRequest()
    else:
        request = v201.ClearChargingProfileRequest(
            charging_profile_criteria=v201.ClearChargingProfileType(
                evse_id=evse_id if evse_id is not None else UNSET,
                charging_profile_purpose=purpose if purpose is not None else UNSET,
                stack_level=stack_level if stack_level is not None else UNSET,
            )
        )
    answer = await csms.commands.call(station_id, request)
    if answer.status == v201.ClearChargingProfileStatusEnumType.ACCEPTED:
        records = await csms.store.charging_profiles(station_id)
        for source in (PROFILE_SET_BY_CSMS, PROFILE_REPORTED_BY_STATION):
            held = [_installed(record) for record in records if record.source == source]
            cleared = clear(
                held,
                profile_id=profile_id,
                evse_id=evse_id,
                purpose=purpose,
                stack_level=stack_level,
            )
            kept = {entry.profile.id for entry in cleared.remaining}
            gone = [entry.profile.id for entry in held if entry.profile.id not in kept]
            await csms.store.delete_charging_profiles(station_id, source, gone)
    return answer


# -- K09 GetChargingProfiles -------------------------------------------------------------------


async def get_charging_profiles(
    csms: Csms,
    station_id: str,
    *,
    evse_id: int | None = None,
    criteria: v201.ChargingProfileCriterionType | None = None,
    request_id: int | None = None,
) -> tuple[int, v201.GetChargingProfilesResponse]:
    """K09: ask the station for its profiles; it reports them in ReportChargingProfiles
    messages carrying the returned requestId, which the handler stores.

    When the station has none at all (NoProfiles to a request without criteria), the profiles
    it reported before for that EVSE (or, without one, for any) are forgotten.

    Raises:
        The errors of ``CommandBus.call``.
    """
    criteria = criteria if criteria is not None else v201.ChargingProfileCriterionType()
    if request_id is None:
        request_id = secrets.randbelow(2**31 - 1) + 1
    request = v201.GetChargingProfilesRequest(
        request_id=request_id,
        evse_id=evse_id if evse_id is not None else UNSET,
        charging_profile=criteria,
    )
    answer = await csms.commands.call(station_id, request)
    unfiltered = criteria == v201.ChargingProfileCriterionType()
    if answer.status == v201.GetChargingProfileStatusEnumType.NO_PROFILES and unfiltered:
        reported = await csms.store.charging_profiles(
            station_id, evse_id=evse_id, source=PROFILE_REPORTED_BY_STATION
        )
        await csms.store.delete_charging_profiles(
            station_id, PROFILE_REPORTED_BY_STATION, [r.profile_id for r in reported]
        )
    return request_id, answer


# -- K08 GetCompositeSchedule ------------------------------------------------------------------


@dataclass(frozen=True)
class CompositeComparison:
    """The station's answer to GetCompositeSchedule, the schedule the CSMS expects from what it
    knows, and whether they agree (None: the station gave no schedule, or the CSMS has none to
    expect, as for an EVSE it does not know)."""

    station: v201.GetCompositeScheduleResponse
    expected: v201.CompositeScheduleType | None
    matches: bool | None


def same_schedule(
    reported: v201.CompositeScheduleType, expected: v201.CompositeScheduleType
) -> bool:
    """Whether two composite schedules agree: the same unit and the same periods, period by
    period: equal startPeriod and numberPhases (absent is 3), limits within LIMIT_TOLERANCE."""
    if reported.charging_rate_unit != expected.charging_rate_unit:
        return False
    ours, theirs = expected.charging_schedule_period, reported.charging_schedule_period
    if len(ours) != len(theirs):
        return False
    return all(
        a.start_period == b.start_period
        and abs(a.limit - b.limit) <= LIMIT_TOLERANCE + 1e-9
        and (a.number_phases or 3) == (b.number_phases or 3)
        for a, b in zip(ours, theirs, strict=True)
    )


async def expected_schedule(
    services: Services,
    station_id: str,
    evse_id: int,
    *,
    start: datetime,
    duration: int,
    unit: v201.ChargingRateUnitEnumType,
) -> v201.CompositeScheduleType | None:
    """The composite schedule the CSMS expects of an EVSE (0: the station) from the profiles it
    set, the external constraints the station reported and the external limits it notified;
    None for an EVSE the CSMS does not know."""
    store = services.store
    installed = [
        *await known_profiles(store, station_id),
        *_limit_profiles(await store.charging_limits(station_id)),
    ]
    try:
        return composite_schedule(
            installed,
            evse_id=evse_id,
            start=start,
            duration=duration,
            unit=unit,
            station=await station_limits(store, station_id),
            transactions=await active_transactions(store, station_id, start),
        )
    except UnknownEvseError:
        return None


async def composite_schedules(
    csms: Csms,
    station_id: str,
    evse_id: int,
    duration: int,
    unit: v201.ChargingRateUnitEnumType | None = None,
) -> CompositeComparison:
    """K08: the station's composite schedule, the one the CSMS expects, and whether they agree.

    The expected schedule is computed over the station's window (its scheduleStart) in its unit,
    so that only a difference in the limits counts. A station whose schedule differs is logged
    and recorded as a notification of kind COMPOSITE_MISMATCH.

    Raises:
        The errors of ``CommandBus.call``.
    """
    request = v201.GetCompositeScheduleRequest(
        duration=duration,
        charging_rate_unit=unit if unit is not None else UNSET,
        evse_id=evse_id,
    )
    answer = await csms.commands.call(station_id, request)
    reported = answer.schedule if answer.schedule is not UNSET else None
    if reported is not None:
        start, expected_unit = reported.schedule_start, reported.charging_rate_unit
    else:
        limits = await station_limits(csms.store, station_id)
        start = csms.clock.now()
        expected_unit = unit or (Unit.W if Unit.W in limits.rate_units else Unit.A)
    expected = await expected_schedule(
        csms.services, station_id, evse_id, start=start, duration=duration, unit=expected_unit
    )
    matches = None
    if reported is not None and expected is not None:
        matches = same_schedule(reported, expected)
        if not matches:
            logger.warning(
                "station %s reports a composite schedule for EVSE %d other than expected",
                station_id,
                evse_id,
            )
            await csms.store.record_notification(
                Notification(
                    station_id=station_id,
                    action=COMPOSITE_MISMATCH,
                    received_at=csms.clock.now(),
                    payload=msgspec.json.encode(
                        {
                            "evseId": evse_id,
                            "station": msgspec.json.decode(encode(reported)),
                            "expected": msgspec.json.decode(encode(expected)),
                        }
                    ).decode(),
                )
            )
    return CompositeComparison(station=answer, expected=expected, matches=matches)


# -- K15 NotifyEVChargingNeeds, K17 NotifyEVChargingSchedule -----------------------------------


def _floor_tenth(value: Fraction) -> float:
    return math.floor(value * 10) / 10


def _ceil_tenth(value: Fraction) -> float:
    return math.ceil(value * 10) / 10


def plan_tx_profile(
    request: v201.NotifyEVChargingNeedsRequest,
    *,
    profile_id: int,
    stack_level: int,
    transaction_id: str,
    now: datetime,
    allowance_w: float | None,
    phases: int = 3,
    voltage: Decimal = Decimal(230),
) -> v201.ChargingProfileType | None:
    """The TxProfile that fits an EV's needs (K15) within what the CSMS grants its EVSE.

    - The unit is the EV's: A (per phase) for AC, from acChargingParameters; W for DC.
    - The limit is the lower of the EV's maximum (AC evMaxCurrent; DC evMaxPower, else
      evMaxCurrent x evMaxVoltage) and ``allowance_w`` (converted to A with ``voltage`` and
      ``phases`` for AC), floored to one decimal.
    - With a departureTime and an energyAmount, the schedule delivers the energy by then at a
      constant rate (energy / time, rounded up to one decimal, at least the EV's minimum
      current), then the limit; when that rate reaches the limit, the limit throughout.

    None when no limit can be set: the EV gives no maximum and nothing is granted.
    """
    needs = request.charging_needs
    ac, dc = needs.ac_charging_parameters, needs.dc_charging_parameters
    ev_max: Fraction | None = None
    ev_min = Fraction(0)
    energy_wh: int | None = None
    if ac is not UNSET:
        unit, per_unit_w = Unit.A, Fraction(voltage) * phases
        ev_max, ev_min, energy_wh = (
            Fraction(ac.ev_max_current),
            Fraction(ac.ev_min_current),
            (ac.energy_amount),
        )
    elif dc is not UNSET:
        unit, per_unit_w = Unit.W, Fraction(1)
        ev_max = Fraction(
            dc.ev_max_power
            if dc.ev_max_power is not UNSET
            else dc.ev_max_current * dc.ev_max_voltage
        )
        energy_wh = dc.energy_amount if dc.energy_amount is not UNSET else None
    elif str(needs.requested_energy_transfer).startswith("AC"):
        unit, per_unit_w = Unit.A, Fraction(voltage) * phases
    else:
        unit, per_unit_w = Unit.W, Fraction(1)
    caps = [ev_max] if ev_max is not None else []
    if allowance_w is not None:
        caps.append(Fraction(Decimal(repr(allowance_w))) / per_unit_w)
    if not caps:
        return None
    limit = _floor_tenth(max(min(caps), Fraction(0)))
    periods = [v201.ChargingSchedulePeriodType(start_period=0, limit=limit)]
    start = now.replace(microsecond=0)
    departure = needs.departure_time
    if departure is not UNSET and energy_wh:
        seconds = int((departure - start).total_seconds())
        if seconds > 0:
            rate = max(Fraction(energy_wh * 3600, seconds) / per_unit_w, ev_min)
            steady = _ceil_tenth(rate)
            if steady < limit:
                periods = [v201.ChargingSchedulePeriodType(start_period=0, limit=steady)]
                tuples = request.max_schedule_tuples
                if tuples is UNSET or tuples >= 2:
                    periods.append(
                        v201.ChargingSchedulePeriodType(start_period=seconds, limit=limit)
                    )
    return v201.ChargingProfileType(
        id=profile_id,
        stack_level=stack_level,
        charging_profile_purpose=Purpose.TX_PROFILE,
        charging_profile_kind=v201.ChargingProfileKindEnumType.ABSOLUTE,
        charging_schedule=[
            v201.ChargingScheduleType(
                id=1,
                start_schedule=start,
                charging_rate_unit=unit,
                charging_schedule_period=periods,
            )
        ],
        transaction_id=transaction_id,
    )


async def _allowance_w(services: Services, station_id: str, evse_id: int) -> float | None:
    """What the CSMS grants the EVSE: the ChargingAllowance hook's answer, else the EVSE's
    maximum power from the device model, else None (the EV's maximum then rules)."""
    hook = services.charging_allowance
    if hook is not None:
        granted = await hook(station_id, evse_id)
        if granted is not None:
            return granted
    evse = (await station_limits(services.store, station_id)).evses.get(evse_id)
    if evse is not None and evse.max_power is not None:
        return float(evse.max_power)
    return None


def _csms_tx_profiles(
    records: Sequence[ChargingProfileRecord], evse_id: int, transaction_id: str
) -> list[ChargingProfileRecord]:
    return [
        r
        for r in records
        if r.source == PROFILE_SET_BY_CSMS
        and r.purpose == Purpose.TX_PROFILE
        and r.evse_id == evse_id
        and r.transaction_id == transaction_id
    ]


async def offer_tx_profile(
    services: Services, station_id: str, request: v201.NotifyEVChargingNeedsRequest
) -> v201.SetChargingProfileResponse | None:
    """K15: send the TxProfile ``plan_tx_profile`` makes for the transaction on the EVSE.

    It replaces the TxProfile the CSMS set for the transaction before, if any (same id and
    stackLevel); otherwise it gets a new id, above every id the CSMS knows at the station, at
    stackLevel 0. Returns the station's answer; None when nothing was sent (no transaction, no
    limit to set, or a profile the station would refuse, which is logged).
    """
    store, now = services.store, services.clock.now()
    evse_id = request.evse_id
    transaction = (await active_transactions(store, station_id, now)).get(evse_id)
    if transaction is None:
        logger.warning("%s: no transaction on EVSE %d for the EV's needs", station_id, evse_id)
        return None
    records = await store.charging_profiles(station_id)
    previous = _csms_tx_profiles(records, evse_id, transaction.transaction_id)
    if previous:
        latest = max(previous, key=lambda r: r.stack_level)
        profile_id, stack_level = latest.profile_id, latest.stack_level
    else:
        profile_id = max((r.profile_id for r in records), default=0) + 1
        stack_level = 0
    limits = await station_limits(store, station_id)
    profile = plan_tx_profile(
        request,
        profile_id=profile_id,
        stack_level=stack_level,
        transaction_id=transaction.transaction_id,
        now=now,
        allowance_w=await _allowance_w(services, station_id, evse_id),
        phases=limits.evse_phases(evse_id),
        voltage=limits.supply_voltage,
    )
    if profile is None:
        logger.warning("%s: no limit known for the EV on EVSE %d", station_id, evse_id)
        return None
    try:
        return await send_charging_profile(services, station_id, evse_id, profile)
    except ProfileRefused as refused:
        logger.warning("%s: the TxProfile for the EV's needs breaks %s", station_id, refused)
        return None


async def check_ev_schedule(
    services: Services, station_id: str, request: v201.NotifyEVChargingScheduleRequest
) -> v201.NotifyEVChargingScheduleResponse:
    """K17: Accepted when every period of the EV's schedule stays within the TxProfiles the CSMS
    set for the transaction on the EVSE (converted to the EV's unit, within LIMIT_TOLERANCE);
    Rejected, naming the first period above, otherwise (the station then renegotiates). With no
    such TxProfile there is nothing to exceed: Accepted."""
    accepted = v201.NotifyEVChargingScheduleResponse(status=v201.GenericStatusEnumType.ACCEPTED)
    store = services.store
    evse_id = request.evse_id
    time_base = request.time_base
    transaction = (await active_transactions(store, station_id, time_base)).get(evse_id)
    if transaction is None:
        return accepted
    records = _csms_tx_profiles(
        await store.charging_profiles(station_id, evse_id=evse_id),
        evse_id,
        transaction.transaction_id,
    )
    if not records:
        return accepted
    # Only the TxProfiles count: no physical limit, and no limit where none of them applies.
    limits = _with_evse(await station_limits(store, station_id), evse_id)
    evses = {
        number: replace(evse, max_current=None, max_power=None)
        for number, evse in limits.evses.items()
    }
    if evse_id not in evses:
        evses[evse_id] = EvseLimits(phases=limits.supply_phases)
    only_tx = replace(
        limits, evses=evses, default_limit_amps=_UNLIMITED, default_limit_watts=_UNLIMITED
    )
    ev = request.charging_schedule
    periods = ev.charging_schedule_period
    # A schedule without a duration lasts: its last period is checked for a day.
    span = max(ev.duration if ev.duration is not UNSET else _DAY, periods[-1].start_period + 1)
    allowed = composite_schedule(
        [InstalledProfile(profile_of(record), evse_id) for record in records],
        evse_id=evse_id,
        start=time_base,
        duration=span,
        unit=ev.charging_rate_unit,
        station=only_tx,
        transactions={evse_id: transaction},
    ).charging_schedule_period
    for index, period in enumerate(periods):
        end = periods[index + 1].start_period if index + 1 < len(periods) else span
        ceiling = min(
            step.limit
            for number, step in enumerate(allowed)
            if step.start_period < end
            and (
                number + 1 == len(allowed) or allowed[number + 1].start_period > period.start_period
            )
        )
        if period.limit > ceiling + LIMIT_TOLERANCE + 1e-9:
            return v201.NotifyEVChargingScheduleResponse(
                status=v201.GenericStatusEnumType.REJECTED,
                status_info=v201.StatusInfoType(
                    reason_code="ExceedsProfile",
                    additional_info=(
                        f"K17: period at {period.start_period} s asks {period.limit:g} "
                        f"{ev.charging_rate_unit}, the TxProfile allows {ceiling:g}"
                    ),
                ),
            )
    return accepted
