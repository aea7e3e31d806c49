"""Block E, Transactions, with a CSMS under test (and F's remote start and stop): a local
transaction from start to end, an event sent twice, events queued while offline, and a
transaction started and stopped by the operator.

Each case uses a transaction id of its own (random), ends the transactions it starts, and a
token of the harness's that the driver sets to Accepted first (``set_id_token``).
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta

from msgspec import UNSET, UnsetType

from kilowatt.harness.case import case
from kilowatt.harness.cases.remote_control_csms import (
    CONNECTOR_ID,
    EVSE_ID,
    command,
    harness_note,
)
from kilowatt.harness.context import Context
from kilowatt.harness.peer import Peer
from kilowatt.messages import v201

__all__: list[str] = []

Event = v201.TransactionEventEnumType
Trigger = v201.TriggerReasonEnumType
State = v201.ChargingStateEnumType
Reading = v201.ReadingContextEnumType
TOKEN = "04484152000010"  # an ISO14443 UID of the harness's
TOKEN_TYPE = v201.IdTokenEnumType.ISO14443


def _token() -> v201.IdTokenType:
    return v201.IdTokenType(id_token=TOKEN, type=TOKEN_TYPE)


def _meter(
    at: datetime, wh: float, context: v201.ReadingContextEnumType
) -> list[v201.MeterValueType]:
    values = [
        v201.SampledValueType(
            value=wh,
            context=context,
            measurand=v201.MeasurandEnumType.ENERGY_ACTIVE_IMPORT_REGISTER,
            unit_of_measure=v201.UnitOfMeasureType(unit="Wh"),
        )
    ]
    if context == Reading.SAMPLE_PERIODIC:
        values.append(
            v201.SampledValueType(
                value=7200.0,
                context=context,
                measurand=v201.MeasurandEnumType.POWER_ACTIVE_IMPORT,
                unit_of_measure=v201.UnitOfMeasureType(unit="W"),
            )
        )
    return [v201.MeterValueType(timestamp=at, sampled_value=values)]


def _event(
    kind: v201.TransactionEventEnumType,
    transaction_id: str,
    seq_no: int,
    trigger: v201.TriggerReasonEnumType,
    at: datetime,
    *,
    state: v201.ChargingStateEnumType | UnsetType = UNSET,
    token: bool = False,
    meter: list[v201.MeterValueType] | UnsetType = UNSET,
    offline: bool | UnsetType = UNSET,
    stopped: v201.ReasonEnumType | UnsetType = UNSET,
    remote_start_id: int | UnsetType = UNSET,
) -> v201.TransactionEventRequest:
    return v201.TransactionEventRequest(
        event_type=kind,
        timestamp=at,
        trigger_reason=trigger,
        seq_no=seq_no,
        offline=offline,
        meter_value=meter,
        transaction_info=v201.TransactionType(
            transaction_id=transaction_id,
            charging_state=state,
            stopped_reason=stopped,
            remote_start_id=remote_start_id,
        ),
        evse=v201.EVSEType(id=EVSE_ID, connector_id=CONNECTOR_ID)
        if kind == Event.STARTED
        else UNSET,
        id_token=_token() if token else UNSET,
    )


async def _send(
    ctx: Context, peer: Peer, event: v201.TransactionEventRequest
) -> v201.TransactionEventResponse:
    """Send an event; one that carries an idToken must be answered with the token's status,
    Accepted (the token is the harness's accepted one)."""
    answer = await peer.call(event)
    what = f"{event.event_type} seqNo {event.seq_no}"
    if event.id_token is not UNSET:
        info = answer.id_token_info
        ctx.check(
            not isinstance(info, UnsetType),
            f"{what}: the event carried an idToken, the answer no idTokenInfo",
        )
        assert not isinstance(info, UnsetType)
        ctx.check(
            info.status == v201.AuthorizationStatusEnumType.ACCEPTED,
            f"{what}: token {TOKEN} is Accepted at the CSMS, the answer said {info.status}",
        )
    return answer


async def _accept_token(ctx: Context) -> None:
    await ctx.act("set_id_token", id_token=TOKEN, type=TOKEN_TYPE.value, status="Accepted")


def _connector(
    ctx: Context, status: v201.ConnectorStatusEnumType
) -> v201.StatusNotificationRequest:
    return v201.StatusNotificationRequest(
        timestamp=ctx.now(), connector_status=status, evse_id=EVSE_ID, connector_id=CONNECTOR_ID
    )


@case(
    "TC_E_04_CSMS",
    "Local transaction: started with a token, periodic meter values, ended",
    use_cases=("E01", "E02", "E06", "J02"),
    prerequisites="The station's boot is Accepted; the operator can set id tokens.",
)
async def local_transaction(ctx: Context) -> None:
    """The operator has the CSMS accept the harness's token. A cable is plugged in (connector
    Occupied) and the driver presents the token: the station sends TransactionEvent Started
    (trigger Authorized, the token, the energy register at the start), then two Updated events
    with periodic meter values (energy and power), then Ended (trigger StopAuthorized, the
    token again, stoppedReason Local, the register at the end), and the connector is Available
    again. The CSMS answers every event; those carrying the token with its status, Accepted."""
    await _accept_token(ctx)
    peer = await ctx.booted()
    tx = str(uuid.uuid4())
    await peer.call(_connector(ctx, v201.ConnectorStatusEnumType.OCCUPIED))
    await _send(
        ctx,
        peer,
        _event(
            Event.STARTED,
            tx,
            0,
            Trigger.AUTHORIZED,
            ctx.now(),
            state=State.CHARGING,
            token=True,
            meter=_meter(ctx.now(), 0.0, Reading.TRANSACTION_BEGIN),
        ),
    )
    for seq_no, wh in ((1, 1000.0), (2, 2000.0)):
        await _send(
            ctx,
            peer,
            _event(
                Event.UPDATED,
                tx,
                seq_no,
                Trigger.METER_VALUE_PERIODIC,
                ctx.now(),
                meter=_meter(ctx.now(), wh, Reading.SAMPLE_PERIODIC),
            ),
        )
    await _send(
        ctx,
        peer,
        _event(
            Event.ENDED,
            tx,
            3,
            Trigger.STOP_AUTHORIZED,
            ctx.now(),
            state=State.EV_CONNECTED,
            token=True,
            stopped=v201.ReasonEnumType.LOCAL,
            meter=_meter(ctx.now(), 2500.0, Reading.TRANSACTION_END),
        ),
    )
    await peer.call(_connector(ctx, v201.ConnectorStatusEnumType.AVAILABLE))


@case(
    "TC_E_40_CSMS",
    "An event sent twice (the same seqNo) is answered both times",
    use_cases=("E01",),
    prerequisites="The station's boot is Accepted; the operator can set id tokens.",
)
async def event_sent_twice(ctx: Context) -> None:
    """The station sends TransactionEvent Started with the harness's (accepted) token, and,
    as if the first answer had been lost, sends the very same event (same seqNo) again. The
    CSMS answers both, each with the token Accepted, not an error. The station then ends the
    transaction (seqNo 1), which is answered too."""
    await _accept_token(ctx)
    peer = await ctx.booted()
    tx = str(uuid.uuid4())
    started = _event(
        Event.STARTED,
        tx,
        0,
        Trigger.AUTHORIZED,
        ctx.now(),
        state=State.CHARGING,
        token=True,
        meter=_meter(ctx.now(), 0.0, Reading.TRANSACTION_BEGIN),
    )
    await _send(ctx, peer, started)
    await _send(ctx, peer, started)
    await _send(
        ctx,
        peer,
        _event(
            Event.ENDED,
            tx,
            1,
            Trigger.EV_COMMUNICATION_LOST,
            ctx.now(),
            state=State.IDLE,
            stopped=v201.ReasonEnumType.EV_DISCONNECTED,
            meter=_meter(ctx.now(), 10.0, Reading.TRANSACTION_END),
        ),
    )


@case(
    "TC_E_41_CSMS",
    "A transaction while offline: its queued events answered when back online",
    use_cases=("E04",),
    prerequisites="The station's boot is Accepted; the operator can set id tokens.",
)
async def offline_transaction(ctx: Context) -> None:
    """The station boots and loses its connection. While offline, a transaction runs from
    start to end with the harness's (accepted) token: Started 10 minutes ago, a periodic meter
    value 6 minutes ago, Ended 2 minutes ago, each marked offline. The station reconnects
    (no reboot, so no BootNotification) and sends the three events in order, with their old
    timestamps. The CSMS answers each; the two carrying the token with Accepted."""
    await _accept_token(ctx)
    first = await ctx.booted()
    await first.close()
    tx = str(uuid.uuid4())
    now = ctx.now()
    started, updated, ended = (
        now - timedelta(minutes=10),
        now - timedelta(minutes=6),
        now - timedelta(minutes=2),
    )
    queued = [
        _event(
            Event.STARTED,
            tx,
            0,
            Trigger.AUTHORIZED,
            started,
            state=State.CHARGING,
            token=True,
            offline=True,
            meter=_meter(started, 0.0, Reading.TRANSACTION_BEGIN),
        ),
        _event(
            Event.UPDATED,
            tx,
            1,
            Trigger.METER_VALUE_PERIODIC,
            updated,
            offline=True,
            meter=_meter(updated, 4800.0, Reading.SAMPLE_PERIODIC),
        ),
        _event(
            Event.ENDED,
            tx,
            2,
            Trigger.STOP_AUTHORIZED,
            ended,
            state=State.EV_CONNECTED,
            token=True,
            offline=True,
            stopped=v201.ReasonEnumType.LOCAL,
            meter=_meter(ended, 9600.0, Reading.TRANSACTION_END),
        ),
    ]
    peer = await ctx.connect()
    for event in queued:
        await _send(ctx, peer, event)


@case(
    "TC_F_03_CSMS",
    "Remote start: the request as given, then the started transaction answered",
    use_cases=("F02",),
    prerequisites="The station's boot is Accepted; the operator can set id tokens.",
)
async def remote_start(ctx: Context) -> None:
    """The operator has the CSMS accept the harness's token and starts a transaction for it
    on EVSE 1, with a remoteStartId. The station gets that RequestStartTransaction, as given,
    accepts it (with a note of its own), and the operator is told so. The cable is plugged in
    and the station sends TransactionEvent Started (trigger RemoteStart) with that
    remoteStartId and the token: the CSMS answers it with the token Accepted. The station
    then ends the transaction, which is answered too."""
    await _accept_token(ctx)
    peer = await ctx.booted()
    remote_start_id = secrets.randbelow(2**31 - 1) + 1
    payload = {
        "idToken": {"idToken": TOKEN, "type": TOKEN_TYPE.value},
        "remoteStartId": remote_start_id,
        "evseId": EVSE_ID,
    }
    answer = v201.RequestStartTransactionResponse(
        status=v201.RequestStartStopStatusEnumType.ACCEPTED,
        status_info=harness_note(ctx.case.id),
    )
    await command(ctx, peer, v201.RequestStartTransactionRequest, payload, answer)
    tx = str(uuid.uuid4())
    await peer.call(_connector(ctx, v201.ConnectorStatusEnumType.OCCUPIED))
    await _send(
        ctx,
        peer,
        _event(
            Event.STARTED,
            tx,
            0,
            Trigger.REMOTE_START,
            ctx.now(),
            state=State.CHARGING,
            token=True,
            remote_start_id=remote_start_id,
            meter=_meter(ctx.now(), 0.0, Reading.TRANSACTION_BEGIN),
        ),
    )
    await _send(
        ctx,
        peer,
        _event(
            Event.ENDED,
            tx,
            1,
            Trigger.STOP_AUTHORIZED,
            ctx.now(),
            state=State.EV_CONNECTED,
            stopped=v201.ReasonEnumType.LOCAL,
            meter=_meter(ctx.now(), 500.0, Reading.TRANSACTION_END),
        ),
    )
    await peer.call(_connector(ctx, v201.ConnectorStatusEnumType.AVAILABLE))


@case(
    "TC_E_21_CSMS",
    "Remote stop: the request names the transaction, the ended transaction answered",
    use_cases=("F03", "E06"),
    prerequisites="The station's boot is Accepted; the operator can set id tokens.",
)
async def remote_stop(ctx: Context) -> None:
    """A transaction runs at the station, started locally with the harness's (accepted)
    token. The operator stops it: the station gets a RequestStopTransaction with that
    transaction's id, as given, accepts it (with a note of its own), and the operator is told
    so. The station sends TransactionEvent Ended (trigger RemoteStop, stoppedReason Remote);
    the CSMS answers it."""
    await _accept_token(ctx)
    peer = await ctx.booted()
    tx = str(uuid.uuid4())
    await _send(
        ctx,
        peer,
        _event(
            Event.STARTED,
            tx,
            0,
            Trigger.AUTHORIZED,
            ctx.now(),
            state=State.CHARGING,
            token=True,
            meter=_meter(ctx.now(), 0.0, Reading.TRANSACTION_BEGIN),
        ),
    )
    answer = v201.RequestStopTransactionResponse(
        status=v201.RequestStartStopStatusEnumType.ACCEPTED,
        status_info=harness_note(ctx.case.id),
    )
    await command(ctx, peer, v201.RequestStopTransactionRequest, {"transactionId": tx}, answer)
    await _send(
        ctx,
        peer,
        _event(
            Event.ENDED,
            tx,
            1,
            Trigger.REMOTE_STOP,
            ctx.now(),
            state=State.EV_CONNECTED,
            stopped=v201.ReasonEnumType.REMOTE,
            meter=_meter(ctx.now(), 800.0, Reading.TRANSACTION_END),
        ),
    )
