"""What an operator has the CSMS do at a station, with a CSMS under test: reset (B), device
model variables and reports (B), unlock and trigger (F), availability (G), meter values (J),
firmware (L), logs (N), and the station's own StatusNotification, MeterValues and DataTransfer.

Each command goes through the driver's ``send``: the harness's station must get exactly the
request the operator gave, once, valid (the Peer checks the schema), and the operator must be
told the station's answer. The harness answers with something a CSMS could not make up (a note
in statusInfo, values of its own), so that a CSMS that reports an answer it did not get fails.
"""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any, TypeVar

from kilowatt.harness.case import case
from kilowatt.harness.context import Context
from kilowatt.harness.drivers import DriverError
from kilowatt.harness.peer import Peer
from kilowatt.messages import Request, Response, decode, encode, v201
from kilowatt.rpc.errors import RpcError

__all__ = ["CONNECTOR_ID", "EVSE_ID", "command", "harness_note", "whole_seconds"]

Q = TypeVar("Q", bound=Request[Any])

EVSE_ID, CONNECTOR_ID = 1, 1  # the harness's station has one EVSE with one connector


def harness_note(case_id: str) -> v201.StatusInfoType:
    """A statusInfo only the harness's station gives: the operator must be told it."""
    return v201.StatusInfoType(reason_code="HarnessAnswer", additional_info=case_id)


def whole_seconds(ctx: Context, offset: timedelta = timedelta()) -> str:
    """Now (plus ``offset``) in ISO 8601 without a fraction: a time a CSMS keeps exactly."""
    return (ctx.now() + offset).replace(microsecond=0).isoformat()


async def command(
    ctx: Context, peer: Peer, request_type: type[Q], payload: dict[str, Any], answer: Response
) -> Q:
    """The operator has the CSMS send ``payload`` as a ``request_type`` to the harness's
    station, which answers ``answer``.

    Checks that the station got exactly that request, once, and that the driver reported the
    station's answer (when the driver reports answers at all: an interactive one cannot).
    Returns the request the station got.
    """
    action = request_type.ACTION
    expected = decode(json.dumps(payload), request_type)  # as the station should read it
    peer.answer(request_type, lambda _: answer)
    mark = peer.mark()
    params = {"station_id": ctx.target.station_id, "action": action, "payload": payload}
    try:
        result = await ctx.act("send", **params)
    except DriverError:
        # The CSMS may have sent something the station refused (a broken rule): its fault.
        for broken in ctx.violations():
            ctx.check(False, f"{action}: the CSMS broke a rule: {broken.rule}: {broken.detail}")
        raise
    try:
        got = await peer.next(request_type, since=mark, timeout=ctx.timeout)
    except TimeoutError:
        ctx.check(False, f"{action}: the operator's request never reached the station")
        raise
    count = len(peer.received(request_type, since=mark))
    ctx.check(count == 1, f"{action}: the station got {count} {action} requests, not 1")
    ctx.check(
        got == expected,
        f"{action}: the station got {encode(got).decode()}, the operator gave "
        f"{json.dumps(payload)}",
    )
    _reported(ctx, action, result, answer)
    return got


def _reported(ctx: Context, action: str, result: Any, answer: Response) -> None:
    if result is None:
        ctx.note(f"{action}: the driver reports no answer; the station's answer is not checked")
        return
    reported = result.get("response", result) if isinstance(result, dict) else result
    told = json.dumps(reported)
    try:
        decoded = decode(told, type(answer))
    except RpcError as error:
        ctx.check(False, f"{action}: the operator was told {told}, no {action} answer: {error}")
        raise
    ctx.check(
        decoded == answer,
        f"{action}: the station answered {encode(answer).decode()}, the operator was told {told}",
    )


def _status(ctx: Context, status: v201.ConnectorStatusEnumType) -> v201.StatusNotificationRequest:
    return v201.StatusNotificationRequest(
        timestamp=ctx.now(), connector_status=status, evse_id=EVSE_ID, connector_id=CONNECTOR_ID
    )


# -- B: reset and the device model ---------------------------------------------------------


@case(
    "TC_B_20_CSMS",
    "Reset on idle: the request as given, the answer reported, the reboot served",
    use_cases=("B11",),
    prerequisites="The station's boot is Accepted; no transaction is ongoing.",
)
async def reset_on_idle(ctx: Context) -> None:
    """The operator resets the station when idle. The station gets that Reset, answers
    Accepted (with a note of its own), and the operator is told that answer. The station
    then restarts: a new connection and a BootNotification with reason RemoteReset, which the
    CSMS accepts."""
    peer = await ctx.booted()
    answer = v201.ResetResponse(
        status=v201.ResetStatusEnumType.ACCEPTED, status_info=harness_note(ctx.case.id)
    )
    await command(ctx, peer, v201.ResetRequest, {"type": "OnIdle"}, answer)
    await peer.close()
    again = await ctx.connect()
    boot = await ctx.boot(again, v201.BootReasonEnumType.REMOTE_RESET)
    ctx.check(
        boot.status == v201.RegistrationStatusEnumType.ACCEPTED,
        f"the boot after the reset: expected Accepted, got {boot.status}",
    )


@case(
    "TC_B_07_CSMS",
    "Get variables: two at once, the station's values reported",
    use_cases=("B06",),
    prerequisites="The station's boot is Accepted.",
)
async def get_variables(ctx: Context) -> None:
    """The operator asks for two variables in one GetVariables: the heartbeat interval and the
    availability of EVSE 1. The station gets both, as given, answers each with a value of its
    own, and the operator is told both values."""
    peer = await ctx.booted()
    payload = {
        "getVariableData": [
            {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}},
            {
                "component": {"name": "EVSE", "evse": {"id": EVSE_ID}},
                "variable": {"name": "AvailabilityState"},
            },
        ]
    }
    answer = v201.GetVariablesResponse(
        get_variable_result=[
            v201.GetVariableResultType(
                attribute_status=v201.GetVariableStatusEnumType.ACCEPTED,
                attribute_value="347",
                component=v201.ComponentType(name="OCPPCommCtrlr"),
                variable=v201.VariableType(name="HeartbeatInterval"),
            ),
            v201.GetVariableResultType(
                attribute_status=v201.GetVariableStatusEnumType.ACCEPTED,
                attribute_value="Available",
                component=v201.ComponentType(name="EVSE", evse=v201.EVSEType(id=EVSE_ID)),
                variable=v201.VariableType(name="AvailabilityState"),
            ),
        ]
    )
    await command(ctx, peer, v201.GetVariablesRequest, payload, answer)


@case(
    "TC_B_09_CSMS",
    "Set a variable: the value as given, the station's result reported",
    use_cases=("B05",),
    prerequisites="The station's boot is Accepted.",
)
async def set_variable(ctx: Context) -> None:
    """The operator sets the station's EV connection timeout to 75 seconds. The station gets
    that SetVariables, as given, accepts it (with a note of its own), and the operator is told
    the result."""
    peer = await ctx.booted()
    payload = {
        "setVariableData": [
            {
                "attributeValue": "75",
                "component": {"name": "TxCtrlr"},
                "variable": {"name": "EVConnectionTimeOut"},
            }
        ]
    }
    answer = v201.SetVariablesResponse(
        set_variable_result=[
            v201.SetVariableResultType(
                attribute_status=v201.SetVariableStatusEnumType.ACCEPTED,
                attribute_status_info=harness_note(ctx.case.id),
                component=v201.ComponentType(name="TxCtrlr"),
                variable=v201.VariableType(name="EVConnectionTimeOut"),
            )
        ]
    )
    await command(ctx, peer, v201.SetVariablesRequest, payload, answer)


def _report_part(
    request_id: int, seq_no: int, tbc: bool, name: str, value: str, ctx: Context
) -> v201.NotifyReportRequest:
    return v201.NotifyReportRequest(
        request_id=request_id,
        generated_at=ctx.now(),
        seq_no=seq_no,
        tbc=tbc,
        report_data=[
            v201.ReportDataType(
                component=v201.ComponentType(name="OCPPCommCtrlr"),
                variable=v201.VariableType(name=name),
                variable_attribute=[
                    v201.VariableAttributeType(
                        type=v201.AttributeEnumType.ACTUAL,
                        value=value,
                        mutability=v201.MutabilityEnumType.READ_WRITE,
                    )
                ],
            )
        ],
    )


@case(
    "TC_B_12_CSMS",
    "Base report: requested as given, its two parts answered",
    use_cases=("B07",),
    prerequisites="The station's boot is Accepted.",
)
async def base_report(ctx: Context) -> None:
    """The operator asks for the station's configuration inventory, with a request id. The
    station gets that GetBaseReport, accepts it, and the operator is told so. The station then
    sends its report in two NotifyReport parts with that request id: part 0 with more to come,
    part 1 the last. The CSMS answers each."""
    peer = await ctx.booted()
    request_id = secrets.randbelow(2**31 - 1) + 1
    answer = v201.GetBaseReportResponse(
        status=v201.GenericDeviceModelStatusEnumType.ACCEPTED,
        status_info=harness_note(ctx.case.id),
    )
    await command(
        ctx,
        peer,
        v201.GetBaseReportRequest,
        {"requestId": request_id, "reportBase": "ConfigurationInventory"},
        answer,
    )
    await peer.call(_report_part(request_id, 0, True, "HeartbeatInterval", "300", ctx))
    await peer.call(_report_part(request_id, 1, False, "MessageTimeout", "30", ctx))


# -- F: unlock and trigger ------------------------------------------------------------------


@case(
    "TC_F_06_CSMS",
    "Unlock a connector: the request as given, the station's answer reported",
    use_cases=("F05",),
    prerequisites="The station's boot is Accepted; no transaction on the connector.",
)
async def unlock_connector(ctx: Context) -> None:
    """The operator unlocks connector 1 of EVSE 1. The station gets that UnlockConnector,
    as given, answers Unlocked (with a note of its own), and the operator is told so."""
    peer = await ctx.booted()
    answer = v201.UnlockConnectorResponse(
        status=v201.UnlockStatusEnumType.UNLOCKED, status_info=harness_note(ctx.case.id)
    )
    await command(
        ctx,
        peer,
        v201.UnlockConnectorRequest,
        {"evseId": EVSE_ID, "connectorId": CONNECTOR_ID},
        answer,
    )


@case(
    "TC_F_20_CSMS",
    "Trigger a Heartbeat: the request as given, the triggered Heartbeat answered",
    use_cases=("F06",),
    prerequisites="The station's boot is Accepted.",
)
async def trigger_heartbeat(ctx: Context) -> None:
    """The operator has the station send a Heartbeat. The station gets that TriggerMessage,
    as given, accepts it (with a note of its own), and the operator is told so. The station
    then sends the Heartbeat; the CSMS answers it with its current time."""
    peer = await ctx.booted()
    answer = v201.TriggerMessageResponse(
        status=v201.TriggerMessageStatusEnumType.ACCEPTED, status_info=harness_note(ctx.case.id)
    )
    await command(ctx, peer, v201.TriggerMessageRequest, {"requestedMessage": "Heartbeat"}, answer)
    beat = await peer.call(v201.HeartbeatRequest())
    ctx.check(
        abs(beat.current_time - ctx.now()) < timedelta(minutes=1),
        f"heartbeat: currentTime {beat.current_time.isoformat()} is far from the harness's",
    )


# -- G: availability ---------------------------------------------------------------------------


@case(
    "TC_G_01_CSMS",
    "Connector status changes are answered",
    use_cases=("G01",),
    prerequisites="The station's boot is Accepted.",
)
async def status_notifications(ctx: Context) -> None:
    """The station reports its connector Available, then Occupied (a cable plugged in), then
    Available again (unplugged). The CSMS answers each StatusNotification."""
    peer = await ctx.booted()
    for status in (
        v201.ConnectorStatusEnumType.AVAILABLE,
        v201.ConnectorStatusEnumType.OCCUPIED,
        v201.ConnectorStatusEnumType.AVAILABLE,
    ):
        await peer.call(_status(ctx, status))


@case(
    "TC_G_03_CSMS",
    "Change availability of an EVSE: inoperative, then operative again",
    use_cases=("G03",),
    prerequisites="The station's boot is Accepted; no transaction on EVSE 1.",
)
async def change_availability(ctx: Context) -> None:
    """The operator sets EVSE 1 Inoperative. The station gets that ChangeAvailability, as
    given, accepts it (with a note of its own), the operator is told so, and the station
    reports its connector Unavailable. The operator then sets EVSE 1 Operative again: the same,
    and the connector is reported Available."""
    peer = await ctx.booted()
    for wanted, status in (
        ("Inoperative", v201.ConnectorStatusEnumType.UNAVAILABLE),
        ("Operative", v201.ConnectorStatusEnumType.AVAILABLE),
    ):
        answer = v201.ChangeAvailabilityResponse(
            status=v201.ChangeAvailabilityStatusEnumType.ACCEPTED,
            status_info=harness_note(f"{ctx.case.id} {wanted}"),
        )
        await command(
            ctx,
            peer,
            v201.ChangeAvailabilityRequest,
            {"evse": {"id": EVSE_ID}, "operationalStatus": wanted},
            answer,
        )
        await peer.call(_status(ctx, status))


# -- J: meter values ---------------------------------------------------------------------------


@case(
    "TC_J_01_CSMS",
    "Clock-aligned meter values outside a transaction are answered",
    use_cases=("J01",),
    prerequisites="The station's boot is Accepted; no transaction is ongoing.",
)
async def clock_aligned_meter_values(ctx: Context) -> None:
    """With no transaction, the station sends clock-aligned MeterValues: the main meter's
    (EVSE 0) energy register, then EVSE 1's energy register and power. The CSMS answers
    each."""
    peer = await ctx.booted()
    at = ctx.now().replace(second=0, microsecond=0)
    clock = v201.ReadingContextEnumType.SAMPLE_CLOCK
    energy = v201.MeasurandEnumType.ENERGY_ACTIVE_IMPORT_REGISTER
    await peer.call(
        v201.MeterValuesRequest(
            evse_id=0,
            meter_value=[
                v201.MeterValueType(
                    timestamp=at,
                    sampled_value=[
                        v201.SampledValueType(value=123456.0, context=clock, measurand=energy)
                    ],
                )
            ],
        )
    )
    await peer.call(
        v201.MeterValuesRequest(
            evse_id=EVSE_ID,
            meter_value=[
                v201.MeterValueType(
                    timestamp=at,
                    sampled_value=[
                        v201.SampledValueType(value=45678.0, context=clock, measurand=energy),
                        v201.SampledValueType(
                            value=0.0,
                            context=clock,
                            measurand=v201.MeasurandEnumType.POWER_ACTIVE_IMPORT,
                            unit_of_measure=v201.UnitOfMeasureType(unit="W"),
                        ),
                    ],
                )
            ],
        )
    )


# -- L: firmware ---------------------------------------------------------------------------------


@case(
    "TC_L_01_CSMS",
    "Firmware update: the request as given, every status notification answered",
    use_cases=("L01",),
    prerequisites="The station's boot is Accepted; no transaction is ongoing.",
)
async def firmware_update(ctx: Context) -> None:
    """The operator has the station update its firmware from a location, to be fetched now,
    with a request id. The station gets that UpdateFirmware, as given, accepts it (with a note
    of its own), and the operator is told so. The station reports Downloading, Downloaded,
    Installing and InstallRebooting, restarts (a new connection, BootNotification with reason
    FirmwareUpdate, Accepted) and reports Installed, each with the request id; the CSMS answers
    every one."""
    peer = await ctx.booted()
    request_id = secrets.randbelow(2**31 - 1) + 1
    payload = {
        "requestId": request_id,
        "retries": 2,
        "retryInterval": 30,
        "firmware": {
            "location": "https://firmware.invalid/kilowatt-harness/2.0.bin",
            "retrieveDateTime": whole_seconds(ctx),
        },
    }
    answer = v201.UpdateFirmwareResponse(
        status=v201.UpdateFirmwareStatusEnumType.ACCEPTED, status_info=harness_note(ctx.case.id)
    )
    await command(ctx, peer, v201.UpdateFirmwareRequest, payload, answer)
    Status = v201.FirmwareStatusEnumType
    for status in (Status.DOWNLOADING, Status.DOWNLOADED, Status.INSTALLING):
        await peer.call(
            v201.FirmwareStatusNotificationRequest(status=status, request_id=request_id)
        )
    await peer.call(
        v201.FirmwareStatusNotificationRequest(
            status=Status.INSTALL_REBOOTING, request_id=request_id
        )
    )
    await peer.close()
    again = await ctx.connect()
    boot = await ctx.boot(again, v201.BootReasonEnumType.FIRMWARE_UPDATE)
    ctx.check(
        boot.status == v201.RegistrationStatusEnumType.ACCEPTED,
        f"the boot after the update: expected Accepted, got {boot.status}",
    )
    await again.call(
        v201.FirmwareStatusNotificationRequest(status=Status.INSTALLED, request_id=request_id)
    )


# -- N: logs -------------------------------------------------------------------------------------


@case(
    "TC_N_25_CSMS",
    "Diagnostics log upload: the request as given, the upload's progress answered",
    use_cases=("N01",),
    prerequisites="The station's boot is Accepted.",
)
async def diagnostics_log(ctx: Context) -> None:
    """The operator asks for the station's diagnostics log, to be uploaded to a location, with
    a request id. The station gets that GetLog, as given, accepts it with the name of the file
    it will upload, and the operator is told that name. The station reports Uploading, then
    Uploaded, with the request id; the CSMS answers both."""
    peer = await ctx.booted()
    request_id = secrets.randbelow(2**31 - 1) + 1
    payload = {
        "logType": "DiagnosticsLog",
        "requestId": request_id,
        "log": {
            "remoteLocation": "https://logs.invalid/kilowatt-harness/",
            "oldestTimestamp": whole_seconds(ctx, -timedelta(days=1)),
        },
    }
    answer = v201.GetLogResponse(
        status=v201.LogStatusEnumType.ACCEPTED, filename=f"harness-{request_id}.log"
    )
    await command(ctx, peer, v201.GetLogRequest, payload, answer)
    for status in (v201.UploadLogStatusEnumType.UPLOADING, v201.UploadLogStatusEnumType.UPLOADED):
        await peer.call(v201.LogStatusNotificationRequest(status=status, request_id=request_id))


# -- P: data transfer ----------------------------------------------------------------------------


@case(
    "TC_P_02_CSMS",
    "DataTransfer with a vendor the CSMS does not know: UnknownVendorId",
    use_cases=("P01",),
    prerequisites="The station's boot is Accepted.",
)
async def data_transfer_unknown_vendor(ctx: Context) -> None:
    """The station sends a DataTransfer with a vendorId no CSMS knows (random), a message id
    and data. The CSMS answers UnknownVendorId."""
    peer = await ctx.booted()
    vendor = f"org.kilowatt.harness.nobody-{secrets.token_hex(6)}"
    answer = await peer.call(
        v201.DataTransferRequest(vendor_id=vendor, message_id="Ping", data={"n": 1})
    )
    ctx.check(
        answer.status == v201.DataTransferStatusEnumType.UNKNOWN_VENDOR_ID,
        f"DataTransfer from vendor {vendor}: expected UnknownVendorId, got {answer.status}",
    )
