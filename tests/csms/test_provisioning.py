"""Boot and provisioning: B01-B03, the SecurityError gate, reconnects, reports."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from kilowatt.csms.commands import get_report, get_variables, set_variable_monitoring
from kilowatt.csms.store import VariableRecord
from kilowatt.messages import v201
from kilowatt.rpc.errors import CallFailed

from .conftest import World

NOW = datetime(2025, 1, 1, tzinfo=UTC)
STATUS = v201.StatusNotificationRequest(
    timestamp=NOW,
    connector_status=v201.ConnectorStatusEnumType.AVAILABLE,
    evse_id=1,
    connector_id=1,
)


async def test_cold_boot_accepted_is_stored(world: World) -> None:
    station = await world.station(heartbeat_interval=120)
    answer = await station.boot()
    assert answer.status is v201.RegistrationStatusEnumType.ACCEPTED
    assert answer.interval == 120
    stored = await world.store.get_station("CP-1")
    assert stored is not None
    assert (stored.boot_status, stored.vendor_name, stored.model, stored.serial_number) == (
        "Accepted",
        "kilowatt",
        "KW-22",
        "S1",
    )
    await station.call(STATUS)
    statuses = await world.store.connector_statuses("CP-1")
    assert [(s.evse_id, s.connector_id, s.status) for s in statuses] == [(1, 1, "Available")]


@pytest.mark.parametrize("registration", ["Pending", "Rejected"])
async def test_calls_before_acceptance_get_security_error(world: World, registration: str) -> None:
    station = await world.station(registration_status=registration)
    answer = await station.boot()
    assert answer.status == registration
    for request in (STATUS, v201.HeartbeatRequest()):
        with pytest.raises(CallFailed) as caught:
            await station.call(request)
        assert caught.value.code == "SecurityError"


async def test_call_before_any_boot_gets_security_error(world: World) -> None:
    station = await world.station()
    with pytest.raises(CallFailed) as caught:
        await station.call(v201.HeartbeatRequest())
    assert caught.value.code == "SecurityError"


async def test_reconnect_after_accepted_boot_needs_no_new_boot(world: World) -> None:
    first = await world.station()
    await first.boot()
    await first.disconnect()
    second = await world.station()
    answer = await second.call(v201.HeartbeatRequest())
    assert answer.current_time == world.clock.now()


async def test_pending_then_provisioning_then_accepted(world: World) -> None:
    """B02: while Pending the CSMS reads the device model; NotifyReport is let through."""
    reports: list[v201.NotifyReportRequest] = []

    async def answer(request: object) -> object:
        assert isinstance(request, v201.GetBaseReportRequest)
        report = v201.NotifyReportRequest(
            request_id=request.request_id,
            generated_at=NOW,
            seq_no=0,
            report_data=[
                v201.ReportDataType(
                    component=v201.ComponentType(name="DeviceDataCtrlr"),
                    variable=v201.VariableType(name="ItemsPerMessage", instance="GetVariables"),
                    variable_attribute=[v201.VariableAttributeType(value="2")],
                )
            ],
        )
        reports.append(report)
        return v201.GetBaseReportResponse(status=v201.GenericDeviceModelStatusEnumType.ACCEPTED)

    station = await world.station(registration_status="Pending", handler=answer)
    assert (await station.boot()).status is v201.RegistrationStatusEnumType.PENDING
    result = await world.csms.commands.call(
        "CP-1",
        v201.GetBaseReportRequest(request_id=7, report_base=v201.ReportBaseEnumType.FULL_INVENTORY),
    )
    assert result.status is v201.GenericDeviceModelStatusEnumType.ACCEPTED
    await station.call(reports[0])
    variables = await world.store.variables("CP-1")
    assert [(v.component, v.variable, v.variable_instance, v.value) for v in variables] == [
        ("DeviceDataCtrlr", "ItemsPerMessage", "GetVariables", "2")
    ]
    with pytest.raises(CallFailed):  # still Pending: other CALLs are refused
        await station.call(STATUS)
    await world.csms.update_station("CP-1", registration_status="Accepted")
    assert (await station.boot()).status is v201.RegistrationStatusEnumType.ACCEPTED
    await station.call(STATUS)


async def test_get_variables_is_split_by_items_per_message(world: World) -> None:
    seen: list[int] = []

    async def answer(request: object) -> object:
        assert isinstance(request, v201.GetVariablesRequest)
        seen.append(len(request.get_variable_data))
        return v201.GetVariablesResponse(
            get_variable_result=[
                v201.GetVariableResultType(
                    attribute_status=v201.GetVariableStatusEnumType.ACCEPTED,
                    attribute_value="1",
                    component=item.component,
                    variable=item.variable,
                )
                for item in request.get_variable_data
            ]
        )

    station = await world.station(handler=answer)
    await station.boot()
    limits = {"ItemsPerMessage": "2", "BytesPerMessage": "4000"}
    await world.store.put_variables(
        [
            VariableRecord(
                "CP-1", "DeviceDataCtrlr", name, variable_instance="GetVariables", value=value
            )
            for name, value in limits.items()
        ]
    )
    names = ["HeartbeatInterval", "MessageTimeout", "OfflineThreshold", "ResetRetries", "Pings"]
    items = [
        v201.GetVariableDataType(
            component=v201.ComponentType(name="OCPPCommCtrlr"),
            variable=v201.VariableType(name=name),
        )
        for name in names
    ]
    results = await get_variables(world.csms.commands, world.store, "CP-1", items)
    assert seen == [2, 2, 1]
    assert [r.variable.name for r in results] == [i.variable.name for i in items]


async def test_unknown_limits_are_read_from_the_station_first(world: World) -> None:
    seen: list[list[str]] = []

    async def answer(request: object) -> object:
        assert isinstance(request, v201.GetVariablesRequest)
        names = [item.variable.name for item in request.get_variable_data]
        seen.append(names)
        value = {"ItemsPerMessage": "1", "BytesPerMessage": "500"}
        return v201.GetVariablesResponse(
            get_variable_result=[
                v201.GetVariableResultType(
                    attribute_status=v201.GetVariableStatusEnumType.ACCEPTED,
                    attribute_value=value.get(item.variable.name, "x"),
                    component=item.component,
                    variable=item.variable,
                )
                for item in request.get_variable_data
            ]
        )

    station = await world.station(handler=answer)
    await station.boot()
    items = [
        v201.GetVariableDataType(
            component=v201.ComponentType(name="OCPPCommCtrlr"), variable=v201.VariableType(name=n)
        )
        for n in ("HeartbeatInterval", "MessageTimeout")
    ]
    await get_variables(world.csms.commands, world.store, "CP-1", items)
    assert seen == [
        ["ItemsPerMessage", "BytesPerMessage"],
        ["HeartbeatInterval"],
        ["MessageTimeout"],
    ]
    await asyncio.sleep(0)


async def test_get_report_and_set_variable_monitoring_are_split(world: World) -> None:
    requests: list[object] = []

    async def answer(request: object) -> object:
        requests.append(request)
        if isinstance(request, v201.GetReportRequest):
            return v201.GetReportResponse(status=v201.GenericDeviceModelStatusEnumType.ACCEPTED)
        assert isinstance(request, v201.SetVariableMonitoringRequest)
        return v201.SetVariableMonitoringResponse(
            set_monitoring_result=[
                v201.SetMonitoringResultType(
                    status=v201.SetMonitoringStatusEnumType.ACCEPTED,
                    type=item.type,
                    severity=item.severity,
                    component=item.component,
                    variable=item.variable,
                )
                for item in request.set_monitoring_data
            ]
        )

    station = await world.station(handler=answer)
    await station.boot()
    await world.store.put_variables(
        [
            VariableRecord("CP-1", component, name, variable_instance=instance, value=value)
            for component, instance in (
                ("DeviceDataCtrlr", "GetReport"),
                ("MonitoringCtrlr", "SetVariableMonitoring"),
            )
            for name, value in (("ItemsPerMessage", "2"), ("BytesPerMessage", "10000"))
        ]
    )
    pairs = [
        v201.ComponentVariableType(component=v201.ComponentType(name=name))
        for name in ("EVSE", "Connector", "TxCtrlr")
    ]
    answers = await get_report(world.csms.commands, world.store, "CP-1", 10, pairs)
    assert [request_id for request_id, _ in answers] == [10, 11]
    monitors = [
        v201.SetMonitoringDataType(
            value=float(limit),
            type=v201.MonitorEnumType.UPPER_THRESHOLD,
            severity=5,
            component=v201.ComponentType(name="EVSE"),
            variable=v201.VariableType(name="Power"),
        )
        for limit in (10, 20, 30, 40, 50)
    ]
    results = await set_variable_monitoring(world.csms.commands, world.store, "CP-1", monitors)
    assert len(results) == 5
    sizes = [
        len(r.component_variable or [])
        if isinstance(r, v201.GetReportRequest)
        else len(r.set_monitoring_data)  # type: ignore[attr-defined]
        for r in requests
    ]
    assert sizes == [2, 1, 2, 2, 1]
