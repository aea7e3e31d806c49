"""The station's monitoring (block N): the handlers, and NotifyEvent for every monitor type."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from msgspec import UNSET

from kilowatt.clock import ManualClock
from kilowatt.devicemodel import (
    AttributeKey,
    ComponentKey,
    EvseShape,
    Monitor,
    StationShape,
    VariableKey,
    standard_model,
)
from kilowatt.messages import Request, v201
from kilowatt.messages.v201 import (
    EventNotificationEnumType as Kind,
    EventTriggerEnumType as Trigger,
    GenericDeviceModelStatusEnumType as ReportStatus,
    MonitorEnumType as MonitorType,
    SetMonitoringStatusEnumType as SetStatus,
)
from kilowatt.station.config import StationConfig
from kilowatt.station.evse import Transaction
from kilowatt.station.handlers import ocpp201_router
from kilowatt.station.monitoring import follow_monitors, set_measured
from kilowatt.station.station import Station

T0 = datetime(2025, 1, 6, tzinfo=UTC)  # midnight
SHAPE = StationShape(
    identity="CS-N", vendor_name="Acme", model="M1", evses=(EvseShape(22000.0), EvseShape(11000.0))
)
ACTUAL = v201.AttributeEnumType.ACTUAL
EVSE1 = ComponentKey("EVSE", evse=1)
MONITORING = ComponentKey("MonitoringCtrlr")
ROUTER = ocpp201_router()


@dataclass
class Rig:
    station: Station
    clock: ManualClock
    sent: list[Any] = field(default_factory=list)
    online: bool = True

    async def call(self, request: Request[Any]) -> Any:
        return await ROUTER.handler_for(request)(request, self.station)

    def set_value(self, component: ComponentKey, variable: VariableKey, value: str) -> None:
        key = AttributeKey(component, variable, ACTUAL)
        self.station.set_model(self.station.model.with_values({key: value}))

    def events(self) -> list[Any]:
        """(trigger, monitor id, actual value, cleared) of every event sent, in order."""
        return [
            (e.trigger, e.variable_monitoring_id, e.actual_value, e.cleared)
            for message in self.sent
            if isinstance(message, v201.NotifyEventRequest)
            for e in message.event_data
        ]

    async def monitor(
        self,
        monitor_type: MonitorType,
        value: float,
        *,
        severity: int = 5,
        component: ComponentKey = EVSE1,
        variable: str = "Power",
    ) -> int:
        response = await self.call(
            v201.SetVariableMonitoringRequest(
                set_monitoring_data=[data(monitor_type, value, severity, component, variable)]
            )
        )
        (result,) = response.set_monitoring_result
        assert result.status == SetStatus.ACCEPTED, result
        return int(result.id)

    async def measure(self, value: str, variable: str = "Power") -> None:
        set_measured(self.station, EVSE1, variable, value)
        await settle()


def data(
    monitor_type: MonitorType,
    value: float,
    severity: int = 5,
    component: ComponentKey = EVSE1,
    variable: str = "Power",
    monitor_id: int | None = None,
) -> v201.SetMonitoringDataType:
    return v201.SetMonitoringDataType(
        id=monitor_id if monitor_id is not None else UNSET,
        value=value,
        type=monitor_type,
        severity=severity,
        component=v201.ComponentType(
            name=component.name,
            instance=component.instance if component.instance is not None else UNSET,
            evse=v201.EVSEType(id=component.evse) if component.evse is not None else UNSET,
        ),
        variable=v201.VariableType(name=variable),
    )


@pytest.fixture
def rig(monkeypatch: pytest.MonkeyPatch) -> Rig:
    clock = ManualClock(T0)
    station = Station(
        StationConfig(shape=SHAPE, csms_url="ws://unused"), ROUTER.handler_for, clock=clock
    )
    rig = Rig(station, clock)

    async def send(request: Request[Any]) -> Any:
        if not rig.online:
            return None
        rig.sent.append(request)
        return object()  # an answer: the station only checks that there is one

    monkeypatch.setattr(station, "send", send)
    return rig


@pytest.fixture
async def following(rig: Rig) -> AsyncIterator[Rig]:
    """The rig with ``follow_monitors`` running."""
    task = asyncio.create_task(follow_monitors(rig.station))
    await settle()
    yield rig
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


# -- SetVariableMonitoring (N04) ---------------------------------------------------------------


async def test_each_item_gets_its_own_status(rig: Rig) -> None:
    response = await rig.call(
        v201.SetVariableMonitoringRequest(
            set_monitoring_data=[
                data(MonitorType.UPPER_THRESHOLD, 10000),
                data(MonitorType.UPPER_THRESHOLD, 12000),  # same type and severity
                data(MonitorType.DELTA, 1, component=ComponentKey("NoSuchThing")),
                data(MonitorType.DELTA, 1, variable="NoSuchVariable"),
                data(MonitorType.UPPER_THRESHOLD, 1, variable="Problem"),  # a boolean
                data(
                    MonitorType.DELTA,
                    1,
                    component=ComponentKey("OCPPCommCtrlr"),
                    variable="HeartbeatInterval",
                ),
            ]
        )
    )

    assert [(r.status, r.id) for r in response.set_monitoring_result] == [
        (SetStatus.ACCEPTED, 1),
        (SetStatus.DUPLICATE, UNSET),
        (SetStatus.UNKNOWN_COMPONENT, UNSET),
        (SetStatus.UNKNOWN_VARIABLE, UNSET),
        (SetStatus.UNSUPPORTED_MONITOR_TYPE, UNSET),
        (SetStatus.REJECTED, UNSET),  # a controller variable is not monitored
    ]
    assert list(rig.station.model.monitoring.active) == [1]


async def test_monitoring_disabled_rejects_every_item(rig: Rig) -> None:
    rig.set_value(MONITORING, VariableKey("Enabled"), "false")

    response = await rig.call(
        v201.SetVariableMonitoringRequest(set_monitoring_data=[data(MonitorType.DELTA, 1)])
    )

    assert [r.status for r in response.set_monitoring_result] == [SetStatus.REJECTED]
    assert response.set_monitoring_result[0].status_info.reason_code == "NotEnabled"
    assert rig.station.model.monitoring.active == {}


async def test_a_threshold_crossed_already_reports_when_it_is_set(rig: Rig) -> None:
    await rig.measure("15000")

    monitor_id = await rig.monitor(MonitorType.UPPER_THRESHOLD, 10000)
    await settle()

    assert rig.events() == [(Trigger.ALERTING, monitor_id, "15000", False)]


# -- NotifyEvent for each monitor type (N07, N08) ----------------------------------------------


async def test_an_upper_threshold_trips_once_and_clears_once(rig: Rig) -> None:
    monitor_id = await rig.monitor(MonitorType.UPPER_THRESHOLD, 10000)

    for value in ("9000", "10000", "12000", "13000", "9500", "8000"):
        await rig.measure(value)

    assert rig.events() == [
        (Trigger.ALERTING, monitor_id, "12000", False),
        (Trigger.ALERTING, monitor_id, "9500", True),
    ]
    (first, second) = rig.sent
    assert (first.seq_no, first.tbc, first.generated_at) == (0, False, T0)
    event = first.event_data[0]
    assert event.event_notification_type == Kind.CUSTOM_MONITOR
    assert (event.component.name, event.component.evse.id, event.variable.name) == (
        "EVSE",
        1,
        "Power",
    )
    assert second.event_data[0].event_id == event.event_id + 1


async def test_a_lower_threshold_trips_once_and_clears_once(rig: Rig) -> None:
    await rig.measure("5000")
    monitor_id = await rig.monitor(MonitorType.LOWER_THRESHOLD, 1000)

    for value in ("1000", "500", "0", "1500", "2000"):
        await rig.measure(value)

    assert rig.events() == [
        (Trigger.ALERTING, monitor_id, "500", False),
        (Trigger.ALERTING, monitor_id, "1500", True),
    ]


async def test_a_numeric_delta_reports_a_change_of_at_least_its_value(rig: Rig) -> None:
    monitor_id = await rig.monitor(MonitorType.DELTA, 1000)

    for value in ("500", "1000", "1800", "2500"):
        await rig.measure(value)

    assert rig.events() == [
        (Trigger.DELTA, monitor_id, "1000", UNSET),
        (Trigger.DELTA, monitor_id, "2500", UNSET),
    ]


async def test_a_boolean_delta_reports_every_change(rig: Rig) -> None:
    monitor_id = await rig.monitor(MonitorType.DELTA, 1, variable="Problem")

    for value in ("true", "true", "false"):
        await rig.measure(value, variable="Problem")

    assert rig.events() == [
        (Trigger.DELTA, monitor_id, "true", UNSET),
        (Trigger.DELTA, monitor_id, "false", UNSET),
    ]


async def test_events_of_one_change_go_in_one_message_with_the_transaction(rig: Rig) -> None:
    rig.station.evses[1].transaction = Transaction(id="tx-1", started_at=T0)
    upper = await rig.monitor(MonitorType.UPPER_THRESHOLD, 10000)
    delta = await rig.monitor(MonitorType.DELTA, 1000)

    await rig.measure("12000")

    (message,) = rig.sent
    assert (message.seq_no, message.tbc) == (0, False)
    assert sorted(e.variable_monitoring_id for e in message.event_data) == [upper, delta]
    assert {e.transaction_id for e in message.event_data} == {"tx-1"}


async def test_a_periodic_monitor_reports_every_period(following: Rig) -> None:
    rig = following
    monitor_id = await rig.monitor(MonitorType.PERIODIC, 60)
    await rig.measure("3000")
    await settle()
    assert rig.events() == []

    await rig.clock.advance(59)
    assert rig.events() == []
    await rig.clock.advance(1)
    await rig.measure("4000")
    await rig.clock.advance(60)

    assert rig.events() == [
        (Trigger.PERIODIC, monitor_id, "3000", UNSET),
        (Trigger.PERIODIC, monitor_id, "4000", UNSET),
    ]
    assert [m.generated_at for m in rig.sent] == [
        T0 + timedelta(seconds=60),
        T0 + timedelta(seconds=120),
    ]


async def test_a_clock_aligned_monitor_reports_on_the_clock(following: Rig) -> None:
    rig = following
    await rig.clock.advance(100)  # 00:01:40
    monitor_id = await rig.monitor(MonitorType.PERIODIC_CLOCK_ALIGNED, 900)
    await settle()

    await rig.clock.advance(799)  # 00:14:59
    assert rig.events() == []
    await rig.clock.advance(1 + 900)  # 00:15, 00:30

    assert rig.events() == [(Trigger.PERIODIC, monitor_id, "0", UNSET)] * 2
    assert [m.generated_at for m in rig.sent] == [
        T0 + timedelta(minutes=15),
        T0 + timedelta(minutes=30),
    ]


async def test_a_cleared_periodic_monitor_stops_reporting(following: Rig) -> None:
    rig = following
    monitor_id = await rig.monitor(MonitorType.PERIODIC, 60)
    await settle()
    await rig.call(v201.ClearVariableMonitoringRequest(id=[monitor_id]))
    await settle()

    await rig.clock.advance(300)

    assert rig.events() == []


async def test_a_monitor_on_a_configuration_variable_fires_on_set_variables(rig: Rig) -> None:
    heartbeat = Monitor(
        id=1,
        component=ComponentKey("OCPPCommCtrlr"),
        variable=VariableKey("HeartbeatInterval"),
        type=MonitorType.DELTA,
        value=1,
        severity=4,
        kind=Kind.PRECONFIGURED_MONITOR,
    )
    rig.station.set_model(standard_model(SHAPE, factory_monitors=[heartbeat]))

    await rig.call(
        v201.SetVariablesRequest(
            set_variable_data=[
                v201.SetVariableDataType(
                    attribute_value="120",
                    component=v201.ComponentType(name="OCPPCommCtrlr"),
                    variable=v201.VariableType(name="HeartbeatInterval"),
                )
            ]
        )
    )
    await settle()

    assert rig.events() == [(Trigger.DELTA, 1, "120", UNSET)]
    assert rig.sent[0].event_data[0].event_notification_type == Kind.PRECONFIGURED_MONITOR


async def test_events_above_the_level_are_not_sent(rig: Rig) -> None:
    await rig.monitor(MonitorType.DELTA, 1000, severity=5)
    urgent = await rig.monitor(MonitorType.UPPER_THRESHOLD, 10000, severity=2)

    accepted = await rig.call(v201.SetMonitoringLevelRequest(severity=3))
    refused = await rig.call(v201.SetMonitoringLevelRequest(severity=10))
    await rig.measure("12000")

    assert accepted.status == v201.GenericStatusEnumType.ACCEPTED
    assert refused.status == v201.GenericStatusEnumType.REJECTED
    assert rig.station.model.value(MONITORING, "ActiveMonitoringLevel") == "3"
    assert rig.events() == [(Trigger.ALERTING, urgent, "12000", False)]


async def test_no_events_while_monitoring_is_disabled(rig: Rig) -> None:
    await rig.monitor(MonitorType.DELTA, 1000)
    rig.set_value(MONITORING, VariableKey("Enabled"), "false")

    await rig.measure("5000")

    assert rig.sent == []


async def test_events_kept_offline_up_to_the_queuing_severity_are_sent_later(rig: Rig) -> None:
    kept = await rig.monitor(MonitorType.UPPER_THRESHOLD, 10000, severity=2)
    await rig.monitor(MonitorType.DELTA, 1000, severity=5)  # above OfflineQueuingSeverity 2
    rig.online = False

    await rig.measure("12000")
    assert rig.sent == []

    rig.online = True
    task = asyncio.create_task(follow_monitors(rig.station))
    await settle()
    task.cancel()

    assert rig.events() == [(Trigger.ALERTING, kept, "12000", False)]
    assert rig.station.monitors.pending == []


# -- SetMonitoringBase, ClearVariableMonitoring (N03, N06) ------------------------------------


def hard_wired_rig(rig: Rig) -> Monitor:
    monitor = Monitor(
        id=1,
        component=EVSE1,
        variable=VariableKey("Problem"),
        type=MonitorType.DELTA,
        value=1,
        severity=1,
        kind=Kind.HARD_WIRED_MONITOR,
    )
    rig.station.set_model(standard_model(SHAPE, factory_monitors=[monitor]))
    return monitor


async def test_clearing_answers_per_id(rig: Rig) -> None:
    hard_wired_rig(rig)
    custom = await rig.monitor(MonitorType.DELTA, 1000)

    response = await rig.call(v201.ClearVariableMonitoringRequest(id=[custom, 1, 77]))

    Status = v201.ClearMonitoringStatusEnumType
    assert [(r.id, r.status) for r in response.clear_monitoring_result] == [
        (custom, Status.ACCEPTED),
        (1, Status.REJECTED),
        (77, Status.NOT_FOUND),
    ]
    assert list(rig.station.model.monitoring.active) == [1]


async def test_the_monitoring_base_keeps_what_it_names(rig: Rig) -> None:
    hard_wired_rig(rig)
    await rig.monitor(MonitorType.DELTA, 1000)

    all_ = await rig.call(
        v201.SetMonitoringBaseRequest(monitoring_base=v201.MonitoringBaseEnumType.ALL)
    )
    assert sorted(rig.station.model.monitoring.active) == [1, 2]
    hard_wired = await rig.call(
        v201.SetMonitoringBaseRequest(monitoring_base=v201.MonitoringBaseEnumType.HARD_WIRED_ONLY)
    )

    assert all_.status == hard_wired.status == ReportStatus.ACCEPTED
    assert list(rig.station.model.monitoring.active) == [1]
    assert rig.station.model.value(MONITORING, "ActiveMonitoringBase") == "HardWiredOnly"


async def test_the_monitoring_base_is_rejected_while_disabled(rig: Rig) -> None:
    await rig.monitor(MonitorType.DELTA, 1000)
    rig.set_value(MONITORING, VariableKey("Enabled"), "false")

    response = await rig.call(
        v201.SetMonitoringBaseRequest(monitoring_base=v201.MonitoringBaseEnumType.FACTORY_DEFAULT)
    )

    assert response.status == ReportStatus.REJECTED
    assert list(rig.station.model.monitoring.active) == [1]


# -- GetMonitoringReport (N02) -----------------------------------------------------------------


def report_request(
    request_id: int = 5,
    criteria: Sequence[v201.MonitoringCriterionEnumType] | None = None,
) -> v201.GetMonitoringReportRequest:
    return v201.GetMonitoringReportRequest(
        request_id=request_id, monitoring_criteria=list(criteria) if criteria else UNSET
    )


async def test_the_report_follows_the_answer_in_parts(rig: Rig) -> None:
    await rig.monitor(MonitorType.UPPER_THRESHOLD, 10000)
    await rig.monitor(MonitorType.DELTA, 100, variable="Problem")
    await rig.monitor(
        MonitorType.PERIODIC, 60, component=ComponentKey("ChargingStation"), variable="Problem"
    )
    rig.set_value(ComponentKey("DeviceDataCtrlr"), VariableKey("ItemsPerMessage", "GetReport"), "2")

    response = await rig.call(report_request(request_id=9))
    assert rig.sent == []
    await settle()

    assert response.status == ReportStatus.ACCEPTED
    parts = [(m.request_id, m.seq_no, m.tbc, len(m.monitor)) for m in rig.sent]
    assert parts == [(9, 0, True, 2), (9, 1, False, 1)]
    assert [
        (d.variable.name, [v.type for v in d.variable_monitoring])
        for m in rig.sent
        for d in m.monitor
    ] == [
        ("Power", [MonitorType.UPPER_THRESHOLD]),
        ("Problem", [MonitorType.DELTA]),
        ("Problem", [MonitorType.PERIODIC]),
    ]


async def test_a_report_of_nothing_is_an_empty_result_set(rig: Rig) -> None:
    await rig.monitor(MonitorType.DELTA, 100)

    response = await rig.call(
        report_request(criteria=[v201.MonitoringCriterionEnumType.PERIODIC_MONITORING])
    )
    await settle()

    assert response.status == ReportStatus.EMPTY_RESULT_SET
    assert rig.sent == []


async def test_the_report_is_rejected_while_monitoring_is_disabled(rig: Rig) -> None:
    await rig.monitor(MonitorType.DELTA, 100)
    rig.set_value(MONITORING, VariableKey("Enabled"), "false")

    response = await rig.call(report_request())
    await settle()

    assert response.status == ReportStatus.REJECTED
    assert rig.sent == []


async def test_a_station_without_monitoring_does_not_support_it(rig: Rig) -> None:
    model = rig.station.model
    rig.station.set_model(
        dataclasses.replace(
            model,
            definitions={k: v for k, v in model.definitions.items() if k[0] != MONITORING},
            components=frozenset(c for c in model.components if c != MONITORING),
            values={k: v for k, v in model.values.items() if k.component != MONITORING},
        )
    )

    report = await rig.call(report_request())
    base = await rig.call(
        v201.SetMonitoringBaseRequest(monitoring_base=v201.MonitoringBaseEnumType.ALL)
    )

    assert report.status == ReportStatus.NOT_SUPPORTED
    assert base.status == ReportStatus.NOT_SUPPORTED


async def test_a_measured_value_outside_the_variable_is_refused(rig: Rig) -> None:
    with pytest.raises(ValueError, match="Power"):
        set_measured(rig.station, EVSE1, "Power", "23000")  # above the EVSE's 22 kW
    with pytest.raises(KeyError):
        set_measured(rig.station, EVSE1, "Temperature", "40")
    assert rig.station.model.value(EVSE1, "Power") == "0"
