"""Block F, Remote control, with a charging station under test: remote start and stop,
unlocking a connector, and messages triggered by the CSMS."""

from __future__ import annotations

from msgspec import UNSET

from kilowatt.harness.case import case
from kilowatt.harness.cases.common_cs import (
    CONNECTOR,
    EVSE,
    ended,
    expect,
    next_id,
    present,
    started,
    tidy,
    token,
)
from kilowatt.harness.context import Context
from kilowatt.messages import v201

__all__: list[str] = []

Event = v201.TransactionEventRequest
StartStop = v201.RequestStartStopStatusEnumType
Trigger = v201.TriggerReasonEnumType
TriggerStatus = v201.TriggerMessageStatusEnumType
Message = v201.MessageTriggerEnumType
Unlock = v201.UnlockStatusEnumType
NO_SUCH_CONNECTOR = 99  # a connector id no EVSE has


@case(
    "TC_F_01_CS",
    "Remote start with the EV plugged in first",
    use_cases=("F01",),
    prerequisites="The station is idle; the driver can plug in and unplug.",
)
async def remote_start(ctx: Context) -> None:
    """An EV is plugged in at EVSE 1. The harness asks for a transaction there with a card
    and a remoteStartId (RequestStartTransaction): Accepted. (A station that authorizes
    remote starts asks Authorize first; the harness accepts.) An event of a transaction then
    carries the remoteStartId, with the card and triggerReason RemoteStart. (The EV is then
    unplugged and the transaction ends.)"""
    peer = await ctx.station()
    mark = peer.mark()
    card = token("HARNESSF01")
    remote_start_id = next_id()
    try:
        await ctx.act("plug_in", evse_id=EVSE)
        answer = await peer.call(
            v201.RequestStartTransactionRequest(
                id_token=card, remote_start_id=remote_start_id, evse_id=EVSE
            )
        )
        ctx.check(
            answer.status == StartStop.ACCEPTED,
            f"RequestStartTransaction at an idle EVSE: expected Accepted, got {answer.status}",
        )
        event = await expect(
            ctx,
            peer,
            Event,
            f"a TransactionEvent with remoteStartId {remote_start_id}",
            since=mark,
            where=lambda e: e.transaction_info.remote_start_id == remote_start_id,
        )
        ctx.check(
            event.trigger_reason == Trigger.REMOTE_START,
            f"the event with the remoteStartId: expected triggerReason RemoteStart, got "
            f"{event.trigger_reason}",
        )
        carried = event.id_token.id_token if event.id_token is not UNSET else None
        ctx.check(
            carried == card.id_token,
            f"the event with the remoteStartId must carry card {card.id_token}, had {carried}",
        )
    finally:
        await tidy(ctx, peer, mark)


@case(
    "TC_F_02_CS",
    "Remote stop, and a stop of a transaction that is not running",
    use_cases=("F03",),
    prerequisites="The station is idle; the driver can plug in, unplug and present a card.",
)
async def remote_stop(ctx: Context) -> None:
    """An EV is plugged in at EVSE 1 and a card presented: a transaction starts. The harness
    asks to stop it (RequestStopTransaction): Accepted, and an Ended event comes with
    triggerReason RemoteStop and stoppedReason Remote. Asked again to stop that transaction,
    which no longer runs, the station answers Rejected. (The EV is then unplugged.)"""
    peer = await ctx.station()
    mark = peer.mark()
    card = token("HARNESSF02")
    try:
        await ctx.act("plug_in", evse_id=EVSE)
        await present(ctx, card)
        start = await started(ctx, peer, since=mark, why="EV plugged in, card presented")
        transaction_id = start.transaction_info.transaction_id
        answer = await peer.call(v201.RequestStopTransactionRequest(transaction_id=transaction_id))
        ctx.check(
            answer.status == StartStop.ACCEPTED,
            f"RequestStopTransaction of a running transaction: expected Accepted, got "
            f"{answer.status}",
        )
        end = await ended(ctx, peer, transaction_id, why="RequestStopTransaction")
        ctx.check(
            end.trigger_reason == Trigger.REMOTE_STOP,
            f"stopped remotely: expected triggerReason RemoteStop, got {end.trigger_reason}",
        )
        reason = end.transaction_info.stopped_reason
        ctx.check(
            reason == v201.ReasonEnumType.REMOTE,
            f"stopped remotely: expected stoppedReason Remote, got {reason}",
        )
        again = await peer.call(v201.RequestStopTransactionRequest(transaction_id=transaction_id))
        ctx.check(
            again.status == StartStop.REJECTED,
            f"RequestStopTransaction of an ended transaction: expected Rejected, got "
            f"{again.status}",
        )
    finally:
        await tidy(ctx, peer, mark)


@case(
    "TC_F_05_CS",
    "Unlock a connector; unlock one that does not exist",
    use_cases=("F05",),
    prerequisites="The station is idle.",
)
async def unlock_connector(ctx: Context) -> None:
    """The harness asks to unlock connector 1 of EVSE 1, where no transaction runs: the
    answer is Unlocked or UnlockFailed (not OngoingAuthorizedTransaction, nor
    UnknownConnector). Asked to unlock a connector EVSE 1 does not have, the station answers
    UnknownConnector."""
    peer = await ctx.station()
    answer = await peer.call(v201.UnlockConnectorRequest(evse_id=EVSE, connector_id=CONNECTOR))
    ctx.check(
        answer.status in (Unlock.UNLOCKED, Unlock.UNLOCK_FAILED),
        f"unlocking an idle connector: expected Unlocked or UnlockFailed, got {answer.status}",
    )
    unknown = await peer.call(
        v201.UnlockConnectorRequest(evse_id=EVSE, connector_id=NO_SUCH_CONNECTOR)
    )
    ctx.check(
        unknown.status == Unlock.UNKNOWN_CONNECTOR,
        f"unlocking connector {NO_SUCH_CONNECTOR} of EVSE {EVSE}: expected UnknownConnector, "
        f"got {unknown.status}",
    )


@case(
    "TC_F_06_CS",
    "Trigger a Heartbeat",
    use_cases=("F06",),
    prerequisites="The station is booted.",
)
async def trigger_heartbeat(ctx: Context) -> None:
    """The harness asks for a Heartbeat (TriggerMessage): Accepted, and a Heartbeat
    follows."""
    peer = await ctx.station()
    mark = peer.mark()
    answer = await peer.call(v201.TriggerMessageRequest(requested_message=Message.HEARTBEAT))
    ctx.check(
        answer.status == TriggerStatus.ACCEPTED,
        f"TriggerMessage(Heartbeat): expected Accepted, got {answer.status}",
    )
    await expect(ctx, peer, v201.HeartbeatRequest, "the triggered Heartbeat", since=mark)


@case(
    "TC_F_07_CS",
    "Trigger the StatusNotification of a connector",
    use_cases=("F06", "G01"),
    prerequisites="The station is idle.",
)
async def trigger_status(ctx: Context) -> None:
    """The harness asks for the status of connector 1 of EVSE 1 (TriggerMessage with that
    EVSE and connector): Accepted, and a StatusNotification of that connector follows,
    Available as the station is idle."""
    peer = await ctx.station()
    mark = peer.mark()
    answer = await peer.call(
        v201.TriggerMessageRequest(
            requested_message=Message.STATUS_NOTIFICATION,
            evse=v201.EVSEType(id=EVSE, connector_id=CONNECTOR),
        )
    )
    ctx.check(
        answer.status == TriggerStatus.ACCEPTED,
        f"TriggerMessage(StatusNotification): expected Accepted, got {answer.status}",
    )
    status = await expect(
        ctx,
        peer,
        v201.StatusNotificationRequest,
        f"the triggered StatusNotification of EVSE {EVSE} connector {CONNECTOR}",
        since=mark,
        where=lambda r: (r.evse_id, r.connector_id) == (EVSE, CONNECTOR),
    )
    ctx.check(
        status.connector_status == v201.ConnectorStatusEnumType.AVAILABLE,
        f"an idle connector: expected Available, got {status.connector_status}",
    )
