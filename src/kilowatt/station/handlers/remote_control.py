"""Block F: remote start and stop, unlock, trigger message."""

from __future__ import annotations

from msgspec import UNSET

from kilowatt.messages import v201
from kilowatt.messages.v201 import (
    AuthorizationStatusEnumType as AuthStatus,
    MessageTriggerEnumType as Message,
    RequestStartStopStatusEnumType as StartStop,
    TriggerMessageStatusEnumType as TriggerStatus,
    TriggerReasonEnumType as Trigger,
)
from kilowatt.station.station import Station

__all__ = [
    "request_start_transaction",
    "request_stop_transaction",
    "trigger_message",
    "unlock_connector",
]


async def request_start_transaction(
    request: v201.RequestStartTransactionRequest, station: Station
) -> v201.RequestStartTransactionResponse:
    """F01/F02: authorize the token for an EVSE; the transaction starts per TxStartPoint."""
    group = request.group_id_token if request.group_id_token is not UNSET else None
    if request.evse_id is UNSET:
        free = [
            e
            for e in station.evses.values()
            if e.authorized is None
            and e.operative
            and station.reservations.allows(e, request.id_token, group)
        ]
        evse = free[0] if free else None
    else:
        evse = station.evses.get(request.evse_id)
    if evse is None or evse.authorized is not None or not evse.operative:
        return v201.RequestStartTransactionResponse(status=StartStop.REJECTED)
    # H03/F01: an EVSE reserved for another driver does not start for this one.
    if not station.reservations.allows(evse, request.id_token, group):
        return v201.RequestStartTransactionResponse(status=StartStop.REJECTED)
    if any(
        evse.status(c) == v201.ConnectorStatusEnumType.FAULTED for c in evse.connectors.values()
    ):
        return v201.RequestStartTransactionResponse(status=StartStop.REJECTED)
    if request.charging_profile is not UNSET and not station.accept_start_profile(
        evse, request.charging_profile
    ):
        return v201.RequestStartTransactionResponse(status=StartStop.REJECTED)

    async def start() -> None:
        # F01.FR.02: with AuthorizeRemoteStart the token is authorized like a local one first.
        if station.bool_var("AuthCtrlr", "AuthorizeRemoteStart"):
            info = await station.authorize(request.id_token)
            if info.status != AuthStatus.ACCEPTED:
                station.log.append(f"remote start {request.remote_start_id}: {info.status}")
                return
        else:
            info = v201.IdTokenInfoType(status=AuthStatus.ACCEPTED)
        station.authorize_remote(evse, request.id_token, info, request.remote_start_id)

    # F01.FR.?: an EV already plugged with a transaction running: answer with its id.
    running = evse.transaction.id if evse.transaction is not None else UNSET
    station.spawn(start())
    return v201.RequestStartTransactionResponse(status=StartStop.ACCEPTED, transaction_id=running)


async def request_stop_transaction(
    request: v201.RequestStopTransactionRequest, station: Station
) -> v201.RequestStopTransactionResponse:
    """F03: stop a transaction by id; Rejected when none runs with that id."""
    for evse in station.evses.values():
        if evse.transaction is not None and evse.transaction.id == request.transaction_id:
            station.end_transaction(evse, Trigger.REMOTE_STOP, v201.ReasonEnumType.REMOTE)
            return v201.RequestStopTransactionResponse(status=StartStop.ACCEPTED)
    return v201.RequestStopTransactionResponse(status=StartStop.REJECTED)


async def unlock_connector(
    request: v201.UnlockConnectorRequest, station: Station
) -> v201.UnlockConnectorResponse:
    """F05: unlock the cable; not while an authorized transaction runs there (F05.FR.02)."""
    evse = station.evses.get(request.evse_id)
    if evse is None or request.connector_id not in evse.connectors:
        return v201.UnlockConnectorResponse(status=v201.UnlockStatusEnumType.UNKNOWN_CONNECTOR)
    if evse.transaction is not None and evse.authorized is not None:
        return v201.UnlockConnectorResponse(
            status=v201.UnlockStatusEnumType.ONGOING_AUTHORIZED_TRANSACTION
        )
    return v201.UnlockConnectorResponse(status=v201.UnlockStatusEnumType.UNLOCKED)


async def trigger_message(
    request: v201.TriggerMessageRequest, station: Station
) -> v201.TriggerMessageResponse:
    """F06: answer, then send the requested message."""
    evse_id = request.evse.id if request.evse is not UNSET else None
    if evse_id is not None and evse_id not in station.evses:
        return v201.TriggerMessageResponse(status=TriggerStatus.REJECTED)
    evses = [station.evses[evse_id]] if evse_id is not None else list(station.evses.values())
    wanted = request.requested_message
    if wanted == Message.BOOT_NOTIFICATION:
        # F06.FR.17: a station accepted already does not boot again on request.
        if station.registration == v201.RegistrationStatusEnumType.ACCEPTED:
            return v201.TriggerMessageResponse(status=TriggerStatus.REJECTED)
        station.trigger_boot()
    elif wanted == Message.HEARTBEAT:
        station.spawn(station.send(v201.HeartbeatRequest()))
    elif wanted == Message.STATUS_NOTIFICATION:
        connector_id = request.evse.connector_id if request.evse is not UNSET else UNSET
        if evse_id is None or connector_id is UNSET:
            # F06.FR.12: StatusNotification needs the connector it is about.
            return v201.TriggerMessageResponse(status=TriggerStatus.REJECTED)
        connector = evses[0].connectors.get(connector_id)
        if connector is None:
            return v201.TriggerMessageResponse(status=TriggerStatus.REJECTED)
        station.spawn(station.send(station.status_notification(evses[0], connector)))
    elif wanted == Message.METER_VALUES:
        ids = [evse.id for evse in evses]
        station.spawn(station.send_meter_values(v201.ReadingContextEnumType.TRIGGER, evse_ids=ids))
    elif wanted == Message.TRANSACTION_EVENT:
        # F06.FR.?: an Updated event with trigger Trigger for each running transaction.
        for evse in evses:
            if evse.transaction is not None:
                station.meter_event(evse, Trigger.TRIGGER)
    elif not station.trigger_other(wanted, evses):
        return v201.TriggerMessageResponse(status=TriggerStatus.NOT_IMPLEMENTED)
    return v201.TriggerMessageResponse(status=TriggerStatus.ACCEPTED)
