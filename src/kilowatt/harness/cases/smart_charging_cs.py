"""Block K, Smart charging, with a charging station under test: installing, reporting and
clearing charging profiles, the composite schedule they make, profiles the station must refuse,
and a transaction's own profile, which limits what the EV draws and ends with it."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import msgspec
from msgspec import UNSET

from kilowatt.harness.case import case
from kilowatt.harness.cases.common_cs import (
    EVSE,
    TOLERANCE,
    expect,
    get_value,
    next_id,
    present,
    restore,
    set_value,
    started,
    tidy,
    token,
)
from kilowatt.harness.context import Context
from kilowatt.harness.peer import Peer
from kilowatt.messages import v201

__all__: list[str] = []

Purpose = v201.ChargingProfilePurposeEnumType
Kind = v201.ChargingProfileKindEnumType
Unit = v201.ChargingRateUnitEnumType
ProfileStatus = v201.ChargingProfileStatusEnumType
GetStatus = v201.GetChargingProfileStatusEnumType
ClearStatus = v201.ClearChargingProfileStatusEnumType
Event = v201.TransactionEventRequest
Measurand = v201.MeasurandEnumType
STATION = 0  # the EVSE id of the station as a whole
# Limits well under what any EVSE gives and above what an EV needs to charge at all.
DEFAULT_LIMIT = {Unit.W: 6000.0, Unit.A: 10.0}
TX_LIMIT = {Unit.W: 4000.0, Unit.A: 8.0}
METERED = {Unit.W: Measurand.POWER_ACTIVE_IMPORT, Unit.A: Measurand.CURRENT_IMPORT}
OVERSHOOT = 0.05  # a meter may read this much above the limit (its accuracy, rounding)
METER_INTERVAL = 1  # seconds: the TxUpdatedInterval K_05 sets
SETTLING = 1.0  # seconds a station has to apply a new limit before its readings must follow it
SAMPLES = 3  # readings after SETTLING that K_05 looks at
DURATION = 600  # seconds of the composite schedule asked
DEFAULT_MEASURAND = Measurand.ENERGY_ACTIVE_IMPORT_REGISTER  # a sampled value without one


async def rate_unit(ctx: Context, peer: Peer) -> v201.ChargingRateUnitEnumType:
    """W if SmartChargingCtrlr.RateUnit lists it (or the station does not say), else A."""
    units = await get_value(ctx, peer, "SmartChargingCtrlr", "RateUnit")
    listed = {u.strip() for u in (units or "").split(",") if u.strip()}
    return Unit.A if listed and "W" not in listed and "A" in listed else Unit.W


def profile(
    ctx: Context,
    purpose: v201.ChargingProfilePurposeEnumType,
    unit: v201.ChargingRateUnitEnumType,
    limit: float,
    *,
    stack_level: int = 0,
    transaction_id: str | None = None,
) -> v201.ChargingProfileType:
    """An Absolute profile of one period, ``limit`` from a minute ago on, with a fresh id."""
    return v201.ChargingProfileType(
        id=next_id(),
        stack_level=stack_level,
        charging_profile_purpose=purpose,
        charging_profile_kind=Kind.ABSOLUTE,
        charging_schedule=[
            v201.ChargingScheduleType(
                id=next_id(),
                start_schedule=ctx.now() - timedelta(minutes=1),
                charging_rate_unit=unit,
                charging_schedule_period=[
                    v201.ChargingSchedulePeriodType(start_period=0, limit=limit)
                ],
            )
        ],
        transaction_id=transaction_id if transaction_id is not None else UNSET,
    )


async def set_profile(
    ctx: Context, peer: Peer, evse_id: int, charging_profile: v201.ChargingProfileType
) -> v201.ChargingProfileStatusEnumType:
    answer = await peer.call(
        v201.SetChargingProfileRequest(evse_id=evse_id, charging_profile=charging_profile)
    )
    return answer.status


async def set_accepted(
    ctx: Context, peer: Peer, evse_id: int, charging_profile: v201.ChargingProfileType
) -> None:
    status = await set_profile(ctx, peer, evse_id, charging_profile)
    ctx.check(
        status == ProfileStatus.ACCEPTED,
        f"SetChargingProfile {charging_profile.charging_profile_purpose} (id "
        f"{charging_profile.id}) on EVSE {evse_id}: expected Accepted, got {status}",
    )


async def reported(
    ctx: Context, peer: Peer, profile_id: int
) -> tuple[v201.GetChargingProfileStatusEnumType, list[v201.ReportChargingProfilesRequest]]:
    """GetChargingProfiles of one profile id: the answer, and when Accepted the
    ReportChargingProfiles parts of its requestId up to the one without tbc."""
    request_id = next_id()
    mark = peer.mark()
    answer = await peer.call(
        v201.GetChargingProfilesRequest(
            request_id=request_id,
            charging_profile=v201.ChargingProfileCriterionType(charging_profile_id=[profile_id]),
        )
    )
    parts: list[v201.ReportChargingProfilesRequest] = []
    if answer.status != GetStatus.ACCEPTED:
        return answer.status, parts
    while not parts or parts[-1].tbc is True:
        parts.append(
            await expect(
                ctx,
                peer,
                v201.ReportChargingProfilesRequest,
                f"ReportChargingProfiles part {len(parts) + 1} of request {request_id}",
                since=mark,
                where=lambda r: r.request_id == request_id and all(r is not p for p in parts),
            )
        )
    return answer.status, parts


async def installed(ctx: Context, peer: Peer, profile_id: int) -> bool:
    """Whether the station reports a profile of this id (GetChargingProfiles)."""
    _, parts = await reported(ctx, peer, profile_id)
    return any(p.id == profile_id for part in parts for p in part.charging_profile)


async def clear_quietly(ctx: Context, peer: Peer, profile_id: int) -> None:
    """Clear a profile the case installed (best effort: noted when it does not work)."""
    try:
        await peer.call(v201.ClearChargingProfileRequest(charging_profile_id=profile_id))
    except Exception as error:
        ctx.note(f"clearing profile {profile_id}: {type(error).__name__}: {error}")


@case(
    "TC_K_01_CS",
    "Install a TxDefaultProfile for the station, and report it",
    use_cases=("K01", "K09"),
    requirements=("K01.FR.05",),
    prerequisites="The station is booted and idle; it supports smart charging.",
)
async def set_and_report_default(ctx: Context) -> None:
    """The harness installs a TxDefaultProfile for the whole station (EVSE 0, stack level 0,
    Absolute, one period, in W if the station lists W among its rate units, else in A):
    Accepted. Asked for the profiles of that id (GetChargingProfiles), the station answers
    Accepted and reports them in ReportChargingProfiles parts of the request's id, the last one
    without tbc: together they hold the profile, once, for EVSE 0, with its purpose, stack
    level and limit. The same id installed again with another limit replaces it: reported
    again, it has the new limit. (The profile is then cleared.)"""
    peer = await ctx.station()
    unit = await rate_unit(ctx, peer)
    default = profile(ctx, Purpose.TX_DEFAULT_PROFILE, unit, DEFAULT_LIMIT[unit])
    try:
        await set_accepted(ctx, peer, STATION, default)
        status, parts = await reported(ctx, peer, default.id)
        ctx.check(
            status == GetStatus.ACCEPTED,
            f"GetChargingProfiles of installed profile {default.id}: expected Accepted, got "
            f"{status}",
        )
        found = [(part, p) for part in parts for p in part.charging_profile if p.id == default.id]
        ctx.check(
            len(found) == 1,
            f"the report must hold profile {default.id} once, held it {len(found)} times",
        )
        part, got = found[0]
        ctx.check(part.evse_id == STATION, f"reported for EVSE {part.evse_id}, not {STATION}")
        ctx.check(
            (got.charging_profile_purpose, got.stack_level) == (Purpose.TX_DEFAULT_PROFILE, 0),
            f"reported as {got.charging_profile_purpose} at stack level {got.stack_level}, "
            "installed as TxDefaultProfile at 0",
        )
        limits = [p.limit for s in got.charging_schedule for p in s.charging_schedule_period]
        ctx.check(
            limits == [DEFAULT_LIMIT[unit]],
            f"reported limits {limits}, installed {DEFAULT_LIMIT[unit]} {unit}",
        )
        lower = DEFAULT_LIMIT[unit] / 2
        replacement = msgspec.structs.replace(
            profile(ctx, Purpose.TX_DEFAULT_PROFILE, unit, lower), id=default.id
        )
        await set_accepted(ctx, peer, STATION, replacement)
        _, parts = await reported(ctx, peer, default.id)
        limits = [
            p.limit
            for part in parts
            for got in part.charging_profile
            if got.id == default.id
            for s in got.charging_schedule
            for p in s.charging_schedule_period
        ]
        ctx.check(
            limits == [lower],
            f"profile {default.id} installed again with limit {lower}: reported limits {limits}",
        )
    finally:
        await clear_quietly(ctx, peer, default.id)


@case(
    "TC_K_02_CS",
    "The composite schedule of an EVSE follows the station's TxDefaultProfile",
    use_cases=("K01", "K08"),
    prerequisites="The station is booted and idle; it supports smart charging.",
)
async def composite_schedule(ctx: Context) -> None:
    """The harness installs a TxDefaultProfile for the whole station (EVSE 0) with a limit
    well under what EVSE 1 can give, then asks for the composite schedule of EVSE 1 for the
    next 600 s in the profile's unit (GetCompositeSchedule): Accepted, with a schedule for
    EVSE 1, in that unit, whose periods start at 0 and all have the profile's limit. (The
    profile is then cleared.)"""
    peer = await ctx.station()
    unit = await rate_unit(ctx, peer)
    limit = DEFAULT_LIMIT[unit]
    default = profile(ctx, Purpose.TX_DEFAULT_PROFILE, unit, limit)
    try:
        await set_accepted(ctx, peer, STATION, default)
        answer = await peer.call(
            v201.GetCompositeScheduleRequest(
                duration=DURATION, evse_id=EVSE, charging_rate_unit=unit
            )
        )
        ctx.check(
            answer.status == v201.GenericStatusEnumType.ACCEPTED,
            f"GetCompositeSchedule of EVSE {EVSE}: expected Accepted, got {answer.status}",
        )
        schedule = answer.schedule
        ctx.check(schedule is not UNSET, "an Accepted GetCompositeSchedule came without schedule")
        assert schedule is not UNSET
        ctx.check(schedule.evse_id == EVSE, f"the schedule is of EVSE {schedule.evse_id}")
        ctx.check(
            schedule.charging_rate_unit == unit,
            f"the schedule was asked in {unit}, came in {schedule.charging_rate_unit}",
        )
        periods = schedule.charging_schedule_period
        ctx.check(
            periods[0].start_period == 0,
            f"the schedule's first period starts at {periods[0].start_period}, not 0",
        )
        limits = [p.limit for p in periods]
        ctx.check(
            all(abs(value - limit) < 0.1 for value in limits),
            f"the profile's limit is {limit} {unit} throughout, the schedule's limits are {limits}",
        )
    finally:
        await clear_quietly(ctx, peer, default.id)


@case(
    "TC_K_03_CS",
    "Profiles that break the rules are rejected and not installed",
    use_cases=("K01",),
    prerequisites="The station is booted and idle (no transaction); it supports smart charging.",
)
async def rejected_profiles(ctx: Context) -> None:
    """The harness sends two profiles a station must refuse: a TxProfile for EVSE 1, where no
    transaction runs (a TxProfile belongs to a transaction), and a ChargingStationMaxProfile
    for EVSE 1 (that purpose is for the station as a whole, EVSE 0 only). Each is Rejected,
    and neither is installed: GetChargingProfiles of its id finds nothing (NoProfiles, or no
    such profile reported)."""
    peer = await ctx.station()
    unit = await rate_unit(ctx, peer)
    wrong = [
        ("a TxProfile without a transaction", profile(ctx, Purpose.TX_PROFILE, unit, 1)),
        (
            "a ChargingStationMaxProfile for EVSE 1",
            profile(ctx, Purpose.CHARGING_STATION_MAX_PROFILE, unit, DEFAULT_LIMIT[unit]),
        ),
    ]
    try:
        for what, charging_profile in wrong:
            status = await set_profile(ctx, peer, EVSE, charging_profile)
            ctx.check(
                status == ProfileStatus.REJECTED,
                f"{what}: expected Rejected, got {status}",
            )
            ctx.check(
                not await installed(ctx, peer, charging_profile.id),
                f"{what} was Rejected, yet the station reports it installed",
            )
    finally:
        for _, charging_profile in wrong:
            await clear_quietly(ctx, peer, charging_profile.id)


@case(
    "TC_K_04_CS",
    "Clear a charging profile by its id, then clear it again",
    use_cases=("K10",),
    prerequisites="The station is booted and idle; it supports smart charging.",
)
async def clear_by_id(ctx: Context) -> None:
    """The harness installs a TxDefaultProfile for the whole station (Accepted), then clears it
    by its id (ClearChargingProfile): Accepted. It is gone: GetChargingProfiles of its id finds
    nothing. Clearing the same id again is answered Unknown."""
    peer = await ctx.station()
    unit = await rate_unit(ctx, peer)
    default = profile(ctx, Purpose.TX_DEFAULT_PROFILE, unit, DEFAULT_LIMIT[unit])
    try:
        await set_accepted(ctx, peer, STATION, default)
        first = await peer.call(v201.ClearChargingProfileRequest(charging_profile_id=default.id))
        ctx.check(
            first.status == ClearStatus.ACCEPTED,
            f"clearing installed profile {default.id}: expected Accepted, got {first.status}",
        )
        ctx.check(
            not await installed(ctx, peer, default.id),
            f"profile {default.id} was cleared, yet the station still reports it",
        )
        again = await peer.call(v201.ClearChargingProfileRequest(charging_profile_id=default.id))
        ctx.check(
            again.status == ClearStatus.UNKNOWN,
            f"clearing profile {default.id} a second time: expected Unknown, got {again.status}",
        )
    finally:
        await clear_quietly(ctx, peer, default.id)


def readings(event: Event, measurand: v201.MeasurandEnumType) -> list[float]:
    """The event's sampled values of ``measurand`` (without a phase, or of each phase)."""
    if event.meter_value is UNSET:
        return []
    return [
        sampled.value
        for meter in event.meter_value
        for sampled in meter.sampled_value
        if (
            sampled.measurand
            if sampled.measurand is not UNSET
            else Measurand.ENERGY_ACTIVE_IMPORT_REGISTER
        )
        == measurand
    ]


@case(
    "TC_K_05_CS",
    "A TxProfile limits a running transaction, and ends with it",
    use_cases=("K01", "E02"),
    prerequisites="The station is idle, smart charging supported; the EV draws more than the "
    "limit used; the driver can plug in, unplug and present a card.",
)
async def tx_profile_limits(ctx: Context) -> None:
    """The harness has the station meter power and current every second
    (SampledDataCtrlr.TxUpdatedMeasurands and TxUpdatedInterval). An EV is plugged in at EVSE 1
    and a card presented: a transaction starts. The harness installs a TxProfile for that
    transaction on EVSE 1 with a low limit (4 kW, or 8 A when the station does not do W):
    Accepted. From a second after that on, the transaction's meter values of power (current
    for A) stay at or under the limit (5 % allowed over it), in each of three readings. The EV
    is unplugged and the transaction ends; the profile ends with it: GetChargingProfiles of its
    id finds nothing. (The variables are then set back.)"""
    peer = await ctx.station()
    unit = await rate_unit(ctx, peer)
    measurand = METERED[unit]
    limit = TX_LIMIT[unit]
    measurands = await get_value(ctx, peer, "SampledDataCtrlr", "TxUpdatedMeasurands")
    interval = await get_value(ctx, peer, "SampledDataCtrlr", "TxUpdatedInterval")
    wanted = f"{Measurand.ENERGY_ACTIVE_IMPORT_REGISTER},{measurand}"
    for variable, value in (("TxUpdatedMeasurands", wanted), ("TxUpdatedInterval", "1")):
        status = await set_value(ctx, peer, "SampledDataCtrlr", variable, value)
        ctx.check(
            status == v201.SetVariableStatusEnumType.ACCEPTED,
            f"prerequisite: SampledDataCtrlr.{variable} {value} was {status}",
        )
    mark = peer.mark()
    tx_profile: v201.ChargingProfileType | None = None
    try:
        await ctx.act("plug_in", evse_id=EVSE)
        await present(ctx, token("HARNESSK05"))
        start = await started(ctx, peer, since=mark, why="EV plugged in, card presented")
        transaction_id = start.transaction_info.transaction_id
        of_transaction = peer.mark()
        before = await expect(
            ctx,
            peer,
            Event,
            f"a meter value of {measurand} before the profile",
            since=of_transaction,
            where=lambda e: bool(readings(e, measurand)),
            timeout=METER_INTERVAL + TOLERANCE,
        )
        drawn = max(readings(before, measurand))
        if drawn <= limit:
            ctx.note(f"the EV drew {drawn} {unit} before the profile: under {limit} already")
        tx_profile = profile(ctx, Purpose.TX_PROFILE, unit, limit, transaction_id=transaction_id)
        await set_accepted(ctx, peer, EVSE, tx_profile)
        applied = time.monotonic()
        await asyncio.sleep(SETTLING)
        since = peer.mark()
        seen: list[Event] = []
        values: list[float] = []
        for number in range(SAMPLES):
            event = await expect(
                ctx,
                peer,
                Event,
                f"meter value {number + 1} of {measurand} under the TxProfile",
                since=since,
                where=lambda e: (
                    e.transaction_info.transaction_id == transaction_id
                    and bool(readings(e, measurand))
                    and all(e is not s for s in seen)
                ),
                timeout=METER_INTERVAL + TOLERANCE,
            )
            seen.append(event)
            values += readings(event, measurand)
        ctx.note(
            f"{measurand}: {drawn} before the profile, {values} from "
            f"{time.monotonic() - applied:.1f} s after it"
        )
        ctx.check(
            all(value <= limit * (1 + OVERSHOOT) for value in values),
            f"under a TxProfile of {limit} {unit} the station metered {values}",
        )
        await ctx.act("unplug", evse_id=EVSE)
        await expect(
            ctx,
            peer,
            Event,
            f"the Ended event of transaction {transaction_id} (EV unplugged)",
            since=mark,
            where=lambda e: (
                e.transaction_info.transaction_id == transaction_id
                and e.event_type == v201.TransactionEventEnumType.ENDED
            ),
        )
        ctx.check(
            not await installed(ctx, peer, tx_profile.id),
            f"the transaction ended, yet its TxProfile {tx_profile.id} is still installed",
        )
    finally:
        await tidy(ctx, peer, mark)
        if tx_profile is not None:
            await clear_quietly(ctx, peer, tx_profile.id)
        await restore(ctx, peer, "SampledDataCtrlr", "TxUpdatedMeasurands", measurands)
        await restore(ctx, peer, "SampledDataCtrlr", "TxUpdatedInterval", interval)
