"""Block K, Smart Charging, with a CSMS under test: the operator sets, asks for and clears the
harness station's charging profiles and asks for its composite schedule; the station reports
its profiles, an external limit set and released, and an EV's charging needs.

Each operator's request goes through the driver's ``send`` (``command``): the station must get
exactly the profile or criteria the operator gave, and the operator must be told the station's
answer (with a note or a schedule of its own). The station's own requests must be answered,
not refused. Profile and schedule ids are random, so that two runs never share one.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta
from typing import Any

from msgspec import UNSET

from kilowatt.harness.case import case
from kilowatt.harness.cases.remote_control_csms import (
    CONNECTOR_ID,
    EVSE_ID,
    command,
    harness_note,
    whole_seconds,
)
from kilowatt.harness.context import Context
from kilowatt.harness.peer import Peer
from kilowatt.messages import v201

__all__: list[str] = []

Purpose = v201.ChargingProfilePurposeEnumType
PROFILE_WAIT = 2.0  # seconds a profile for an EV's accepted needs is waited for


def _id() -> int:
    return secrets.randbelow(2**31 - 1) + 1


def _tx_default_profile(ctx: Context, profile_id: int) -> dict[str, Any]:
    """A daily TxDefaultProfile in amperes: 16 A on three phases, 10 A on one from 18:00."""
    midnight = ctx.now().replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "id": profile_id,
        "stackLevel": 1,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Recurring",
        "recurrencyKind": "Daily",
        "validFrom": whole_seconds(ctx),
        "chargingSchedule": [
            {
                "id": _id(),
                "startSchedule": midnight.isoformat(),
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [
                    {"startPeriod": 0, "limit": 16.0, "numberPhases": 3},
                    {"startPeriod": 18 * 3600, "limit": 10.5, "numberPhases": 1},
                ],
            }
        ],
    }


def _profile_status(note: str) -> v201.SetChargingProfileResponse:
    return v201.SetChargingProfileResponse(
        status=v201.ChargingProfileStatusEnumType.ACCEPTED, status_info=harness_note(note)
    )


async def _start_transaction(ctx: Context, peer: Peer) -> str:
    """An EV plugged into EVSE 1 starts a transaction (no token: it starts on the cable)."""
    tx = str(uuid.uuid4())
    await peer.call(_connector(ctx, v201.ConnectorStatusEnumType.OCCUPIED))
    await peer.call(
        v201.TransactionEventRequest(
            event_type=v201.TransactionEventEnumType.STARTED,
            timestamp=ctx.now(),
            trigger_reason=v201.TriggerReasonEnumType.CABLE_PLUGGED_IN,
            seq_no=0,
            transaction_info=v201.TransactionType(
                transaction_id=tx, charging_state=v201.ChargingStateEnumType.EV_CONNECTED
            ),
            evse=v201.EVSEType(id=EVSE_ID, connector_id=CONNECTOR_ID),
        )
    )
    return tx


async def _end_transaction(ctx: Context, peer: Peer, tx: str) -> None:
    """The EV is unplugged: the transaction ends, the connector is Available again."""
    await peer.call(
        v201.TransactionEventRequest(
            event_type=v201.TransactionEventEnumType.ENDED,
            timestamp=ctx.now(),
            trigger_reason=v201.TriggerReasonEnumType.EV_COMMUNICATION_LOST,
            seq_no=1,
            transaction_info=v201.TransactionType(
                transaction_id=tx,
                charging_state=v201.ChargingStateEnumType.IDLE,
                stopped_reason=v201.ReasonEnumType.EV_DISCONNECTED,
            ),
        )
    )
    await peer.call(_connector(ctx, v201.ConnectorStatusEnumType.AVAILABLE))


def _connector(
    ctx: Context, status: v201.ConnectorStatusEnumType
) -> v201.StatusNotificationRequest:
    return v201.StatusNotificationRequest(
        timestamp=ctx.now(), connector_status=status, evse_id=EVSE_ID, connector_id=CONNECTOR_ID
    )


@case(
    "TC_K_01_CSMS",
    "Set a TxDefaultProfile: the profile as given, the station's answer reported",
    use_cases=("K01",),
    prerequisites="The station's boot is Accepted.",
)
async def set_tx_default_profile(ctx: Context) -> None:
    """The operator sets a daily recurring TxDefaultProfile on EVSE 1: 16 A on three phases
    from midnight, 10.5 A on one phase from 18:00, valid from now, at stack level 1. The
    station gets that SetChargingProfile, as given, accepts it (with a note of its own), and
    the operator is told so."""
    peer = await ctx.booted()
    payload = {"evseId": EVSE_ID, "chargingProfile": _tx_default_profile(ctx, _id())}
    await command(ctx, peer, v201.SetChargingProfileRequest, payload, _profile_status(ctx.case.id))


@case(
    "TC_K_02_CSMS",
    "Set a TxProfile for a running transaction: the profile as given, the answer reported",
    use_cases=("K01",),
    requirements=("K01.FR.03",),
    prerequisites="The station's boot is Accepted.",
)
async def set_tx_profile(ctx: Context) -> None:
    """An EV is plugged into EVSE 1 and a transaction starts (the CSMS answers its events).
    The operator sets a TxProfile for that transaction on EVSE 1: relative to its start, 11 kW
    for half an hour, then 7.4 kW, with a minimum rate. The station gets that
    SetChargingProfile, as given (with the transaction's id), accepts it (with a note of its
    own), and the operator is told so. The EV is then unplugged and the transaction ends."""
    peer = await ctx.booted()
    tx = await _start_transaction(ctx, peer)
    payload = {
        "evseId": EVSE_ID,
        "chargingProfile": {
            "id": _id(),
            "stackLevel": 0,
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Relative",
            "transactionId": tx,
            "chargingSchedule": [
                {
                    "id": _id(),
                    "duration": 7200,
                    "chargingRateUnit": "W",
                    "minChargingRate": 1400.0,
                    "chargingSchedulePeriod": [
                        {"startPeriod": 0, "limit": 11000.0},
                        {"startPeriod": 1800, "limit": 7400.0},
                    ],
                }
            ],
        },
    }
    await command(ctx, peer, v201.SetChargingProfileRequest, payload, _profile_status(ctx.case.id))
    await _end_transaction(ctx, peer, tx)


@case(
    "TC_K_09_CSMS",
    "Get charging profiles: the criteria as given, the station's two-part report answered",
    use_cases=("K09",),
    prerequisites="The station's boot is Accepted.",
)
async def get_charging_profiles(ctx: Context) -> None:
    """The operator asks the station for its TxDefaultProfiles at stack level 1, on every
    EVSE, with a request id. The station gets that GetChargingProfiles, as given, accepts it
    (with a note of its own), and the operator is told so. The station then reports in two
    ReportChargingProfiles with that request id: EVSE 0's profile with more to come, then
    EVSE 1's, the last. The CSMS answers both."""
    peer = await ctx.booted()
    request_id = _id()
    payload = {
        "requestId": request_id,
        "chargingProfile": {"chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 1},
    }
    answer = v201.GetChargingProfilesResponse(
        status=v201.GetChargingProfileStatusEnumType.ACCEPTED,
        status_info=harness_note(ctx.case.id),
    )
    await command(ctx, peer, v201.GetChargingProfilesRequest, payload, answer)
    for evse_id, tbc in ((0, True), (EVSE_ID, False)):
        profile = v201.ChargingProfileType(
            id=_id(),
            stack_level=1,
            charging_profile_purpose=Purpose.TX_DEFAULT_PROFILE,
            charging_profile_kind=v201.ChargingProfileKindEnumType.ABSOLUTE,
            charging_schedule=[
                v201.ChargingScheduleType(
                    id=_id(),
                    start_schedule=ctx.now().replace(microsecond=0),
                    charging_rate_unit=v201.ChargingRateUnitEnumType.A,
                    charging_schedule_period=[
                        v201.ChargingSchedulePeriodType(start_period=0, limit=32.0 - 16 * evse_id)
                    ],
                )
            ],
        )
        await peer.call(
            v201.ReportChargingProfilesRequest(
                request_id=request_id,
                charging_limit_source=v201.ChargingLimitSourceEnumType.CSO,
                charging_profile=[profile],
                tbc=tbc,
                evse_id=evse_id,
            )
        )


@case(
    "TC_K_10_CSMS",
    "Clear charging profiles: by id, then by criteria, each answer reported",
    use_cases=("K10",),
    prerequisites="The station's boot is Accepted.",
)
async def clear_charging_profile(ctx: Context) -> None:
    """The operator clears a charging profile by its id: the station gets that
    ClearChargingProfile, as given, clears it (Accepted, with a note of its own), and the
    operator is told so. The operator then clears the TxDefaultProfiles at stack level 1 on
    EVSE 1: the station gets those criteria, as given, has none (Unknown, with another note),
    and the operator is told that."""
    peer = await ctx.booted()
    Status = v201.ClearChargingProfileStatusEnumType
    await command(
        ctx,
        peer,
        v201.ClearChargingProfileRequest,
        {"chargingProfileId": _id()},
        v201.ClearChargingProfileResponse(
            status=Status.ACCEPTED, status_info=harness_note(f"{ctx.case.id} by id")
        ),
    )
    await command(
        ctx,
        peer,
        v201.ClearChargingProfileRequest,
        {
            "chargingProfileCriteria": {
                "evseId": EVSE_ID,
                "chargingProfilePurpose": "TxDefaultProfile",
                "stackLevel": 1,
            }
        },
        v201.ClearChargingProfileResponse(
            status=Status.UNKNOWN, status_info=harness_note(f"{ctx.case.id} by criteria")
        ),
    )


@case(
    "TC_K_08_CSMS",
    "Composite schedule: the request as given, the station's schedule reported",
    use_cases=("K08",),
    prerequisites="The station's boot is Accepted.",
)
async def get_composite_schedule(ctx: Context) -> None:
    """The operator asks for EVSE 1's composite schedule for the next hour, in watts. The
    station gets that GetCompositeSchedule, as given, and answers Accepted with a schedule of
    its own (starting now: 11040 W, then 7360.5 W after 20 minutes, then 4140 W on one phase
    after 45); the operator is told that schedule, period by period."""
    peer = await ctx.booted()
    payload = {"duration": 3600, "chargingRateUnit": "W", "evseId": EVSE_ID}
    answer = v201.GetCompositeScheduleResponse(
        status=v201.GenericStatusEnumType.ACCEPTED,
        schedule=v201.CompositeScheduleType(
            evse_id=EVSE_ID,
            duration=3600,
            schedule_start=ctx.now().replace(microsecond=0),
            charging_rate_unit=v201.ChargingRateUnitEnumType.W,
            charging_schedule_period=[
                v201.ChargingSchedulePeriodType(start_period=0, limit=11040.0),
                v201.ChargingSchedulePeriodType(start_period=1200, limit=7360.5),
                v201.ChargingSchedulePeriodType(start_period=2700, limit=4140.0, number_phases=1),
            ],
        ),
    )
    await command(ctx, peer, v201.GetCompositeScheduleRequest, payload, answer)


@case(
    "TC_K_43_CSMS",
    "An external charging limit, set and then released, is answered",
    use_cases=("K12", "K13"),
    prerequisites="The station's boot is Accepted.",
)
async def external_charging_limit(ctx: Context) -> None:
    """An energy management system limits EVSE 1: the station sends NotifyChargingLimit (source
    EMS, grid critical) with the limit's schedule, 6 kW from now for two hours. The CSMS
    answers it. The EMS then releases the limit: the station sends ClearedChargingLimit
    (source EMS, EVSE 1), which the CSMS answers too (so it keeps no limit of the harness's)."""
    peer = await ctx.booted()
    source = v201.ChargingLimitSourceEnumType.EMS
    await peer.call(
        v201.NotifyChargingLimitRequest(
            evse_id=EVSE_ID,
            charging_limit=v201.ChargingLimitType(
                charging_limit_source=source, is_grid_critical=True
            ),
            charging_schedule=[
                v201.ChargingScheduleType(
                    id=_id(),
                    start_schedule=ctx.now().replace(microsecond=0),
                    duration=7200,
                    charging_rate_unit=v201.ChargingRateUnitEnumType.W,
                    charging_schedule_period=[
                        v201.ChargingSchedulePeriodType(start_period=0, limit=6000.0)
                    ],
                )
            ],
        )
    )
    await peer.call(v201.ClearedChargingLimitRequest(charging_limit_source=source, evse_id=EVSE_ID))


@case(
    "TC_K_53_CSMS",
    "An EV's charging needs during a transaction are answered",
    use_cases=("K15",),
    requirements=("K01.FR.03",),
    prerequisites="The station's boot is Accepted.",
)
async def ev_charging_needs(ctx: Context) -> None:
    """An EV is plugged into EVSE 1 and a transaction starts. Over ISO 15118 the EV tells its
    needs: AC three-phase, 30 kWh, between 6 and 32 A at up to 400 V, leaving in four hours.
    The station sends NotifyEVChargingNeeds; the CSMS answers it with a valid status (which
    one is its policy). Should the CSMS then set a charging profile (waited for a moment after
    an Accepted; the harness's station declines it, with a note), it must be a TxProfile on
    EVSE 1 for that transaction. The EV is then unplugged and the transaction ends."""
    peer = await ctx.booted()
    peer.answer(
        v201.SetChargingProfileRequest,
        lambda _: v201.SetChargingProfileResponse(
            status=v201.ChargingProfileStatusEnumType.REJECTED,
            status_info=harness_note(f"{ctx.case.id}: the harness keeps no profile"),
        ),
    )
    tx = await _start_transaction(ctx, peer)
    mark = peer.mark()
    answer = await peer.call(
        v201.NotifyEVChargingNeedsRequest(
            evse_id=EVSE_ID,
            max_schedule_tuples=3,
            charging_needs=v201.ChargingNeedsType(
                requested_energy_transfer=v201.EnergyTransferModeEnumType.AC_THREE_PHASE,
                departure_time=ctx.now().replace(microsecond=0) + timedelta(hours=4),
                ac_charging_parameters=v201.ACChargingParametersType(
                    energy_amount=30000, ev_min_current=6, ev_max_current=32, ev_max_voltage=400
                ),
            ),
        )
    )
    ctx.note(f"NotifyEVChargingNeeds answered {answer.status}")
    if answer.status == v201.NotifyEVChargingNeedsStatusEnumType.ACCEPTED:
        # A profile for the needs may follow the answer: a moment for it, while the EV charges.
        try:
            await peer.next(v201.SetChargingProfileRequest, since=mark, timeout=PROFILE_WAIT)
        except TimeoutError:
            ctx.note("no charging profile followed the Accepted needs (not required)")
    await _end_transaction(ctx, peer, tx)
    for request in peer.received(v201.SetChargingProfileRequest, since=mark):
        profile = request.charging_profile
        ctx.check(
            profile.charging_profile_purpose == Purpose.TX_PROFILE
            and profile.transaction_id == tx
            and request.evse_id == EVSE_ID,
            f"the profile set for the EV's needs must be a TxProfile on EVSE {EVSE_ID} for "
            f"transaction {tx} (K01.FR.03): got {profile.charging_profile_purpose} on EVSE "
            f"{request.evse_id} for "
            f"{'no transaction' if profile.transaction_id is UNSET else profile.transaction_id}",
        )
