"""Block N, Diagnostics (Advanced Device Management: monitoring), with a CSMS under test: the
operator sets monitors on the harness station's variables, asks for a monitoring report, sets
the monitoring base and level, and clears monitors; the station reports monitor events.

Each operator's request goes through the driver's ``send`` (``command``): the station must get
exactly what the operator gave, and the operator must be told the station's answer (monitor
ids the station chose, or a note of its own). The station's own requests must be answered.
"""

from __future__ import annotations

import secrets

from kilowatt.harness.case import case
from kilowatt.harness.cases.remote_control_csms import EVSE_ID, command, harness_note
from kilowatt.harness.context import Context
from kilowatt.messages import v201

__all__: list[str] = []

Monitor = v201.MonitorEnumType


def _id() -> int:
    return secrets.randbelow(2**31 - 1) + 1


def _evse() -> v201.ComponentType:
    return v201.ComponentType(name="EVSE", evse=v201.EVSEType(id=EVSE_ID))


@case(
    "TC_N_08_CSMS",
    "Set variable monitors: two at once as given, the station's results reported",
    use_cases=("N04",),
    prerequisites="The station's boot is Accepted.",
)
async def set_variable_monitoring(ctx: Context) -> None:
    """The operator sets two monitors in one SetVariableMonitoring: an upper threshold of
    22 kW on EVSE 1's power (severity 4, also during transactions) and a delta of 5 on the
    station's temperature (severity 7). The station gets both, as given, accepts the first
    with a monitor id of its own and refuses the second (UnsupportedMonitorType, with a
    note); the operator is told both results, ids included."""
    peer = await ctx.booted()
    payload = {
        "setMonitoringData": [
            {
                "value": 22000.0,
                "type": "UpperThreshold",
                "severity": 4,
                "transaction": True,
                "component": {"name": "EVSE", "evse": {"id": EVSE_ID}},
                "variable": {"name": "Power"},
            },
            {
                "value": 5.0,
                "type": "Delta",
                "severity": 7,
                "component": {"name": "ChargingStation"},
                "variable": {"name": "Temperature"},
            },
        ]
    }
    answer = v201.SetVariableMonitoringResponse(
        set_monitoring_result=[
            v201.SetMonitoringResultType(
                id=_id(),
                status=v201.SetMonitoringStatusEnumType.ACCEPTED,
                type=Monitor.UPPER_THRESHOLD,
                severity=4,
                component=_evse(),
                variable=v201.VariableType(name="Power"),
            ),
            v201.SetMonitoringResultType(
                status=v201.SetMonitoringStatusEnumType.UNSUPPORTED_MONITOR_TYPE,
                status_info=harness_note(ctx.case.id),
                type=Monitor.DELTA,
                severity=7,
                component=v201.ComponentType(name="ChargingStation"),
                variable=v201.VariableType(name="Temperature"),
            ),
        ]
    )
    await command(ctx, peer, v201.SetVariableMonitoringRequest, payload, answer)


@case(
    "TC_N_02_CSMS",
    "Monitoring report: the criteria as given, the station's two-part report answered",
    use_cases=("N02",),
    prerequisites="The station's boot is Accepted.",
)
async def monitoring_report(ctx: Context) -> None:
    """The operator asks for a report of the threshold and delta monitors on EVSE 1's power,
    with a request id. The station gets that GetMonitoringReport, as given, accepts it (with a
    note of its own), and the operator is told so. The station then reports its monitors in
    two NotifyMonitoringReport parts with that request id: part 0 (an upper threshold) with
    more to come, part 1 (a delta) the last. The CSMS answers each."""
    peer = await ctx.booted()
    request_id = _id()
    payload = {
        "requestId": request_id,
        "monitoringCriteria": ["ThresholdMonitoring", "DeltaMonitoring"],
        "componentVariable": [
            {"component": {"name": "EVSE", "evse": {"id": EVSE_ID}}, "variable": {"name": "Power"}}
        ],
    }
    answer = v201.GetMonitoringReportResponse(
        status=v201.GenericDeviceModelStatusEnumType.ACCEPTED,
        status_info=harness_note(ctx.case.id),
    )
    await command(ctx, peer, v201.GetMonitoringReportRequest, payload, answer)
    parts = ((Monitor.UPPER_THRESHOLD, 22000.0, 4), (Monitor.DELTA, 500.0, 8))
    for seq_no, (kind, value, severity) in enumerate(parts):
        await peer.call(
            v201.NotifyMonitoringReportRequest(
                request_id=request_id,
                seq_no=seq_no,
                tbc=seq_no < len(parts) - 1,
                generated_at=ctx.now(),
                monitor=[
                    v201.MonitoringDataType(
                        component=_evse(),
                        variable=v201.VariableType(name="Power"),
                        variable_monitoring=[
                            v201.VariableMonitoringType(
                                id=_id(),
                                transaction=False,
                                value=value,
                                type=kind,
                                severity=severity,
                            )
                        ],
                    )
                ],
            )
        )


@case(
    "TC_N_03_CSMS",
    "Set the monitoring base and level: each request as given, each answer reported",
    use_cases=("N03", "N05"),
    prerequisites="The station's boot is Accepted.",
)
async def monitoring_base_and_level(ctx: Context) -> None:
    """The operator sets the station's monitoring base to FactoryDefault: the station gets
    that SetMonitoringBase, as given, accepts it (with a note of its own), and the operator is
    told so. The operator then has the station report only events of severity 3 or more
    urgent: the station gets that SetMonitoringLevel, as given, accepts it (with another note),
    and the operator is told so."""
    peer = await ctx.booted()
    base = v201.SetMonitoringBaseResponse(
        status=v201.GenericDeviceModelStatusEnumType.ACCEPTED,
        status_info=harness_note(f"{ctx.case.id} base"),
    )
    await command(
        ctx, peer, v201.SetMonitoringBaseRequest, {"monitoringBase": "FactoryDefault"}, base
    )
    level = v201.SetMonitoringLevelResponse(
        status=v201.GenericStatusEnumType.ACCEPTED,
        status_info=harness_note(f"{ctx.case.id} level"),
    )
    await command(ctx, peer, v201.SetMonitoringLevelRequest, {"severity": 3}, level)


@case(
    "TC_N_06_CSMS",
    "Clear variable monitors: the ids as given, each monitor's result reported",
    use_cases=("N06",),
    prerequisites="The station's boot is Accepted.",
)
async def clear_variable_monitoring(ctx: Context) -> None:
    """The operator clears three monitors by id. The station gets that
    ClearVariableMonitoring with the three ids, as given, clears the first, has no second
    (NotFound) and refuses the third, a hard-wired one (Rejected, with a note); the operator is
    told each result."""
    peer = await ctx.booted()
    ids = [_id(), _id(), _id()]
    Status = v201.ClearMonitoringStatusEnumType
    answer = v201.ClearVariableMonitoringResponse(
        clear_monitoring_result=[
            v201.ClearMonitoringResultType(id=ids[0], status=Status.ACCEPTED),
            v201.ClearMonitoringResultType(id=ids[1], status=Status.NOT_FOUND),
            v201.ClearMonitoringResultType(
                id=ids[2], status=Status.REJECTED, status_info=harness_note(ctx.case.id)
            ),
        ]
    )
    await command(ctx, peer, v201.ClearVariableMonitoringRequest, {"id": ids}, answer)


@case(
    "TC_N_47_CSMS",
    "Monitor events: an alert and its clearing, in two parts, answered",
    use_cases=("N07", "N08"),
    prerequisites="The station's boot is Accepted.",
)
async def notify_event(ctx: Context) -> None:
    """A custom monitor on EVSE 1's power trips: the station sends NotifyEvent in two parts
    (part 0 with more to come: the threshold exceeded, the actual value, a technical code;
    part 1: a hard-wired problem of the connector), then, once the power is back under the
    threshold, another NotifyEvent saying the first event cleared. The CSMS answers all
    three."""
    peer = await ctx.booted()
    Trigger = v201.EventTriggerEnumType
    Kind = v201.EventNotificationEnumType
    tripped, monitor_id = _id(), _id()
    power = v201.VariableType(name="Power")
    parts = [
        v201.EventDataType(
            event_id=tripped,
            timestamp=ctx.now(),
            trigger=Trigger.ALERTING,
            actual_value="22480.5",
            tech_code="HARNESS-P01",
            tech_info="power above the threshold of the harness's monitor",
            component=_evse(),
            variable=power,
            variable_monitoring_id=monitor_id,
            event_notification_type=Kind.CUSTOM_MONITOR,
        ),
        v201.EventDataType(
            event_id=_id(),
            timestamp=ctx.now(),
            trigger=Trigger.DELTA,
            cause=tripped,
            actual_value="true",
            component=v201.ComponentType(
                name="Connector", evse=v201.EVSEType(id=EVSE_ID, connector_id=1)
            ),
            variable=v201.VariableType(name="Problem"),
            event_notification_type=Kind.HARD_WIRED_NOTIFICATION,
        ),
    ]
    for seq_no, data in enumerate(parts):
        await peer.call(
            v201.NotifyEventRequest(
                generated_at=ctx.now(), seq_no=seq_no, tbc=seq_no == 0, event_data=[data]
            )
        )
    await peer.call(
        v201.NotifyEventRequest(
            generated_at=ctx.now(),
            seq_no=0,
            event_data=[
                v201.EventDataType(
                    event_id=_id(),
                    timestamp=ctx.now(),
                    trigger=Trigger.ALERTING,
                    cause=tripped,
                    actual_value="11000",
                    cleared=True,
                    component=_evse(),
                    variable=power,
                    variable_monitoring_id=monitor_id,
                    event_notification_type=Kind.CUSTOM_MONITOR,
                )
            ],
        )
    )
