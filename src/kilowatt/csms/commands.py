"""CSMS-initiated requests: "send this CALL to station X, wherever it is connected".

Everything that reaches a station from outside its own connection (the REST API, the UI, the
smart-charging planner) goes through a CommandBus. Today's bus is in-process: the station's
session is in this process's registry. A multi-node deployment adds a bus that forwards the CALL
to the node holding the socket; callers do not change.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol, TypeVar

from msgspec import UNSET

from kilowatt.csms import local_lists
from kilowatt.csms.local_lists import LocalListSent, NoLocalList, NotSynchronized
from kilowatt.csms.registry import StationRegistry
from kilowatt.csms.session import PENDING, StationSession
from kilowatt.csms.store import Store
from kilowatt.messages import Message, Request, Response, decode, encode, v21, v201
from kilowatt.rpc.errors import ConnectionLost

__all__ = ["CommandBus", "InProcessCommandBus", "StationNotConnected"]

R = TypeVar("R", bound=Response)


class StationNotConnected(ConnectionLost):
    """The station has no live connection to this CSMS."""


class CommandBus(Protocol):
    async def call(self, station_id: str, request: Request[R]) -> R:
        """Send a CALL to a station and return its answer.

        Raises:
            StationNotConnected: the station is not connected.
            CallFailed: the station answered with a CALLERROR.
            CallTimeout: no answer within the call timeout.
            ConnectionLost: the connection dropped while the CALL waited.
            InvalidResponse: the station's answer broke the schema.
        """
        ...


# What a CSMS request makes a Pending station send (B02: the CSMS may provision it meanwhile).
_ANSWERED_WITH = {
    "GetBaseReport": "NotifyReport",
    "GetReport": "NotifyReport",
    "GetMonitoringReport": "NotifyMonitoringReport",
    "CustomerInformation": "NotifyCustomerInformation",
    "GetDisplayMessages": "NotifyDisplayMessages",
    "GetChargingProfiles": "ReportChargingProfiles",
    "GetLog": "LogStatusNotification",
    "UpdateFirmware": "FirmwareStatusNotification",
    "PublishFirmware": "PublishFirmwareStatusNotification",
}
_TRIGGERED = {
    "BootNotification": "BootNotification",
    "LogStatusNotification": "LogStatusNotification",
    "FirmwareStatusNotification": "FirmwareStatusNotification",
    "Heartbeat": "Heartbeat",
    "MeterValues": "MeterValues",
    "SignChargingStationCertificate": "SignCertificate",
    "SignV2GCertificate": "SignCertificate",
    "StatusNotification": "StatusNotification",
    "TransactionEvent": "TransactionEvent",
    "SignCombinedCertificate": "SignCertificate",
    "PublishFirmwareStatusNotification": "PublishFirmwareStatusNotification",
}


def _allow_answers(session: StationSession, request: Request[Response]) -> None:
    if session.station.boot_status != PENDING:
        return
    if isinstance(request, v201.TriggerMessageRequest | v21.TriggerMessageRequest):
        action = _TRIGGERED.get(str(request.requested_message))
    else:
        action = _ANSWERED_WITH.get(request.ACTION)
    if action is not None:
        session.allow_while_pending(action)


class InProcessCommandBus:
    """Reaches the stations connected to this process."""

    def __init__(self, registry: StationRegistry) -> None:
        self._registry = registry

    async def call(self, station_id: str, request: Request[R]) -> R:
        session = self._registry.get(station_id)
        if session is None or session.connection is None:
            raise StationNotConnected(f"station {station_id} is not connected")
        _allow_answers(session, request)
        return await session.connection.call(request)


def request_from_json(
    requests: dict[str, type[Request[Response]]], action: str, payload: bytes
) -> Request[Response]:
    """Decode an operator's raw payload into the action's request type, validating it.

    Raises:
        KeyError: no such action.
        RpcError: the payload breaks the request schema (the description names the field).
    """
    return decode(payload, requests[action])


# ItemsPerMessage / BytesPerMessage of DeviceDataCtrlr (B05, B06, B08, TC_B_08_CSMS), of
# MonitoringCtrlr (N04) and of LocalAuthListCtrlr (D01.FR.11): the requests the CSMS builds are
# split to fit the station's limits.
_DEVICE_DATA = "DeviceDataCtrlr"
_MONITORING = "MonitoringCtrlr"
_LOCAL_AUTH_LIST = "LocalAuthListCtrlr"

T = TypeVar("T", bound=Message)


async def _limits(
    bus: CommandBus, store: Store, station_id: str, component: str, instance: str
) -> tuple[int | None, int | None]:
    """ItemsPerMessage and BytesPerMessage[instance] of a component ("": no instance), from
    the stored device model; read from the station first when unknown."""
    known = {
        (v.variable, v.variable_instance): v.value
        for v in await store.variables(station_id)
        if v.component == component and v.attribute_type == "Actual"
    }
    wanted = [("ItemsPerMessage", instance), ("BytesPerMessage", instance)]
    if any(key not in known for key in wanted):
        answer = await bus.call(
            station_id,
            v201.GetVariablesRequest(
                get_variable_data=[
                    v201.GetVariableDataType(
                        component=v201.ComponentType(name=component),
                        variable=v201.VariableType(name=name, instance=inst or UNSET),
                    )
                    for name, inst in wanted
                ]
            ),
        )
        for result in answer.get_variable_result:
            if result.attribute_status == v201.GetVariableStatusEnumType.ACCEPTED:
                key = (result.variable.name, result.variable.instance or "")
                known[key] = result.attribute_value or None
    items, size = (known.get(key) for key in wanted)
    return (int(items) if items else None, int(size) if size else None)


def split(
    items: Sequence[T], *, max_items: int | None, max_bytes: int | None, envelope: int
) -> list[list[T]]:
    """Split items into consecutive chunks of at most max_items items whose JSON, with the
    request's ``envelope`` bytes around them, fits max_bytes. An item too large alone goes
    alone (the station then refuses it, which the operator sees)."""
    chunks: list[list[T]] = []
    current: list[T] = []
    size = envelope
    limit_items = max_items or math.inf
    limit_bytes = max_bytes or math.inf
    for item in items:
        item_size = len(encode(item)) + 1  # the comma between items
        if current and (len(current) >= limit_items or size + item_size > limit_bytes):
            chunks.append(current)
            current, size = [], envelope
        current.append(item)
        size += item_size
    if current:
        chunks.append(current)
    return chunks


async def _chunks(
    bus: CommandBus,
    store: Store,
    station_id: str,
    limits: tuple[str, str],
    items: Sequence[T],
    empty: Message,
) -> list[list[T]]:
    max_items, max_bytes = await _limits(bus, store, station_id, *limits)
    return split(items, max_items=max_items, max_bytes=max_bytes, envelope=len(encode(empty)))


async def get_variables(
    bus: CommandBus, store: Store, station_id: str, items: Sequence[v201.GetVariableDataType]
) -> list[v201.GetVariableResultType]:
    """B06: GetVariables for any number of items, split by the station's limits."""
    empty = v201.GetVariablesRequest(get_variable_data=[])
    results: list[v201.GetVariableResultType] = []
    limits = (_DEVICE_DATA, "GetVariables")
    for chunk in await _chunks(bus, store, station_id, limits, items, empty):
        answer = await bus.call(station_id, v201.GetVariablesRequest(get_variable_data=chunk))
        results.extend(answer.get_variable_result)
    return results


async def set_variables(
    bus: CommandBus, store: Store, station_id: str, items: Sequence[v201.SetVariableDataType]
) -> list[v201.SetVariableResultType]:
    """B05: SetVariables for any number of items, split by the station's limits."""
    empty = v201.SetVariablesRequest(set_variable_data=[])
    results: list[v201.SetVariableResultType] = []
    limits = (_DEVICE_DATA, "SetVariables")
    for chunk in await _chunks(bus, store, station_id, limits, items, empty):
        answer = await bus.call(station_id, v201.SetVariablesRequest(set_variable_data=chunk))
        results.extend(answer.set_variable_result)
    return results


async def get_report(
    bus: CommandBus,
    store: Store,
    station_id: str,
    first_request_id: int,
    items: Sequence[v201.ComponentVariableType],
    criteria: Sequence[v201.ComponentCriterionEnumType] = (),
) -> list[tuple[int, v201.GetReportResponse]]:
    """B08: GetReport for any number of component/variable pairs, split by the station's
    limits; each part gets its own requestId (first_request_id, +1, ...), which the station's
    NotifyReport messages carry."""
    extra = {"component_criteria": list(criteria)} if criteria else {}
    empty = v201.GetReportRequest(request_id=first_request_id, **extra)  # type: ignore[arg-type]
    answers = []
    limits = (_DEVICE_DATA, "GetReport")
    for offset, chunk in enumerate(await _chunks(bus, store, station_id, limits, items, empty)):
        request_id = first_request_id + offset
        request = v201.GetReportRequest(
            request_id=request_id,
            component_variable=chunk,
            **extra,  # type: ignore[arg-type]
        )
        answers.append((request_id, await bus.call(station_id, request)))
    return answers


async def set_variable_monitoring(
    bus: CommandBus, store: Store, station_id: str, items: Sequence[v201.SetMonitoringDataType]
) -> list[v201.SetMonitoringResultType]:
    """N04: SetVariableMonitoring for any number of monitors, split by MonitoringCtrlr's
    ItemsPerMessage/BytesPerMessage[SetVariableMonitoring]."""
    empty = v201.SetVariableMonitoringRequest(set_monitoring_data=[])
    results: list[v201.SetMonitoringResultType] = []
    limits = (_MONITORING, "SetVariableMonitoring")
    for chunk in await _chunks(bus, store, station_id, limits, items, empty):
        request = v201.SetVariableMonitoringRequest(set_monitoring_data=chunk)
        answer = await bus.call(station_id, request)
        results.extend(answer.set_monitoring_result)
    return results


async def send_local_list(
    bus: CommandBus, store: Store, station_id: str, update_type: v201.UpdateEnumType
) -> LocalListSent:
    """D01: send the local list the CSMS keeps for a station, split by LocalAuthListCtrlr's
    ItemsPerMessage/BytesPerMessage.

    Full sends the whole list; Differential what changed since the list the station last
    accepted. A list too long for one message goes in parts (D01.FR.11): the first with the
    update type asked for, the others Differential, their versionNumbers rising to the list's
    version (``local_lists.part_versions``). Each part the station accepts is applied to its
    copy in the store; sending stops at the first part it does not accept (Failed,
    VersionMismatch), which leaves its copy as the parts before left it. After an accepted
    Full update, GetLocalListVersion (D02) asks the station which version it now holds.

    Raises:
        NoLocalList: the CSMS keeps no list for the station.
        NotSynchronized: Differential, but the station has accepted no update yet.
        LocalListVersionTooLow: the list's version is lower than the number of parts.
        And the errors of ``CommandBus.call``.
    """
    wanted = await store.local_list(station_id)
    if wanted is None:
        raise NoLocalList(f"the CSMS keeps no local list for station {station_id}")
    full = update_type == v201.UpdateEnumType.FULL
    if full:
        entries = list(wanted.entries)
    else:
        held = await store.accepted_local_list(station_id)
        if held is None:
            raise NotSynchronized(
                f"station {station_id} has accepted no local list update yet: send a Full one"
            )
        entries = local_lists.differential(held.entries, wanted.entries)
    items = [local_lists.authorization_data(entry) for entry in entries]
    # The largest envelope a part can have: the longer update type, the highest version.
    empty = v201.SendLocalListRequest(
        version_number=wanted.version,
        update_type=v201.UpdateEnumType.DIFFERENTIAL,
        local_authorization_list=[],
    )
    # A Full update without entries empties the list; a Differential one without entries only
    # sets the version (D01.FR.05): either is one message.
    chunks = await _chunks(bus, store, station_id, (_LOCAL_AUTH_LIST, ""), items, empty) or [[]]
    versions = local_lists.part_versions(wanted.version, len(chunks))
    messages = []
    start = 0
    for number, (version, chunk) in enumerate(zip(versions, chunks, strict=True)):
        part_type = update_type if number == 0 else v201.UpdateEnumType.DIFFERENTIAL
        request = v201.SendLocalListRequest(
            version_number=version,
            update_type=part_type,
            # The schema allows no empty list: an update without entries leaves it out.
            local_authorization_list=chunk or UNSET,
        )
        answer = await bus.call(station_id, request)
        messages.append((request, answer))
        if answer.status != v201.SendLocalListStatusEnumType.ACCEPTED:
            return LocalListSent(update_type, wanted.version, tuple(messages))
        part = entries[start : start + len(chunk)]
        start += len(chunk)
        await store.put_accepted_local_list(
            station_id, version, part, full=part_type == v201.UpdateEnumType.FULL
        )
    station_version = None
    if full:
        reported = await bus.call(station_id, v201.GetLocalListVersionRequest())
        station_version = reported.version_number
    return LocalListSent(update_type, wanted.version, tuple(messages), station_version)
