"""Block N: setting, clearing, reporting monitors, and when they fire (N02-N08)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from msgspec import UNSET

from kilowatt.devicemodel import (
    AttributeDefinition,
    Characteristics,
    ComponentKey,
    DeviceModel,
    Monitor,
    VariableDefinition,
    VariableKey,
    build_model,
    check_monitors,
    clear_variable_monitoring,
    due,
    monitoring_report,
    periodic_events,
    set_monitoring_base,
    set_monitoring_level,
    set_variable_monitoring,
    split_monitoring_report,
    standard_model,
    store,
    update_actual,
)
from kilowatt.devicemodel.model import ACTUAL
from kilowatt.messages import encode, v201

from .conftest import SHAPE, T0, component, variable

Type = v201.MonitorEnumType
Status = v201.SetMonitoringStatusEnumType
Kind = v201.EventNotificationEnumType
Trigger = v201.EventTriggerEnumType
Criterion = v201.MonitoringCriterionEnumType
EVSE1 = ComponentKey("EVSE", evse=1)
POWER = VariableKey("Power")
PROBLEM = (ComponentKey("ChargingStation"), VariableKey("Problem"))
HARD_WIRED = Monitor(1, *PROBLEM, Type.DELTA, 1, 1, Kind.HARD_WIRED_MONITOR)
PRECONFIGURED = Monitor(2, EVSE1, POWER, Type.UPPER_THRESHOLD, 20000, 5, Kind.PRECONFIGURED_MONITOR)


@pytest.fixture
def model() -> DeviceModel:
    return standard_model(SHAPE, [HARD_WIRED, PRECONFIGURED])


def item(
    monitor_type: Type,
    value: float,
    severity: int = 4,
    comp: v201.ComponentType | None = None,
    var: v201.VariableType | None = None,
    *,
    monitor_id: int | None = None,
    transaction: bool | None = None,
) -> v201.SetMonitoringDataType:
    return v201.SetMonitoringDataType(
        id=UNSET if monitor_id is None else monitor_id,
        transaction=UNSET if transaction is None else transaction,
        value=value,
        type=monitor_type,
        severity=severity,
        component=comp or component("EVSE", evse=1),
        variable=var or variable("Power"),
    )


def install(model: DeviceModel, *items: v201.SetMonitoringDataType) -> tuple[DeviceModel, int]:
    """The model with the monitors set, and the id of the last one."""
    model, results = set_variable_monitoring(model, items, T0)
    assert all(r.status == Status.ACCEPTED for r in results), results
    last = results[-1].id
    assert isinstance(last, int)
    return model, last


def power(
    model: DeviceModel, watts: str, transactions: Mapping[int, str] | None = None
) -> tuple[DeviceModel, list[v201.EventDataType]]:
    """EVSE 1 measures a new Power, at T0."""
    return update_actual(model, EVSE1, POWER, watts, T0, transactions or {})


STATE = variable("AvailabilityState")
SET_CASES = [
    (item(Type.UPPER_THRESHOLD, 10000), Status.ACCEPTED, None),
    (item(Type.LOWER_THRESHOLD, 0), Status.ACCEPTED, None),
    (item(Type.DELTA, 0), Status.ACCEPTED, None),
    (item(Type.PERIODIC, 60), Status.ACCEPTED, None),
    (item(Type.PERIODIC_CLOCK_ALIGNED, 900), Status.ACCEPTED, None),
    (item(Type.DELTA, 1, comp=component("EVSE", evse=1), var=STATE), Status.ACCEPTED, None),
    (item(Type.UPPER_THRESHOLD, 1, comp=component("NoSuch")), Status.UNKNOWN_COMPONENT, None),
    (item(Type.UPPER_THRESHOLD, 1, comp=component("EVSE", evse=9)), Status.UNKNOWN_COMPONENT,
     None),
    (item(Type.UPPER_THRESHOLD, 1, var=variable("Voltage")), Status.UNKNOWN_VARIABLE, None),
    (item(Type.DELTA, 1, comp=component("OCPPCommCtrlr"), var=variable("HeartbeatInterval")),
     Status.REJECTED, "NoMonitoring"),
    # N04.FR.05: a threshold on something that is not a number
    (item(Type.UPPER_THRESHOLD, 1, var=STATE), Status.UNSUPPORTED_MONITOR_TYPE, None),
    (item(Type.DELTA, -1), Status.REJECTED, "ValuePositiveOnly"),  # N04.FR.14
    (item(Type.UPPER_THRESHOLD, 30000), Status.REJECTED, "ValueOutOfRange"),  # N04.FR.06
    (item(Type.LOWER_THRESHOLD, -1), Status.REJECTED, "ValueOutOfRange"),
    (item(Type.PERIODIC, 0), Status.REJECTED, "ValueZeroNotAllowed"),
    (item(Type.UPPER_THRESHOLD, 1, severity=10), Status.REJECTED, "ValueOutOfRange"),
    (item(Type.UPPER_THRESHOLD, 1, severity=-1), Status.REJECTED, "ValueOutOfRange"),
    (item(Type.UPPER_THRESHOLD, 1, monitor_id=99), Status.REJECTED, "UnknownMonitorId"),
    (item(Type.UPPER_THRESHOLD, 1, comp=component("EVSE", evse=2), monitor_id=2),
     Status.REJECTED, "OtherVariable"),  # N04.FR.16
    (item(Type.DELTA, 1, comp=component("ChargingStation"), var=variable("Problem"),
          monitor_id=1), Status.REJECTED, "HardWiredMonitor"),  # N04.FR.18
    # N04.FR.10: the preconfigured UpperThreshold of severity 5 is already there
    (item(Type.UPPER_THRESHOLD, 15000, severity=5), Status.DUPLICATE, None),
]  # fmt: skip


@pytest.mark.parametrize(("data", "status", "reason"), SET_CASES)
def test_set_variable_monitoring(
    model: DeviceModel, data: v201.SetMonitoringDataType, status: Status, reason: str | None
) -> None:
    updated, [result] = set_variable_monitoring(model, [data], T0)
    assert result.status == status
    assert (result.type, result.severity) == (data.type, data.severity)
    assert (result.component, result.variable) == (data.component, data.variable)
    if reason is None:
        assert result.status_info is UNSET
    else:
        assert result.status_info == v201.StatusInfoType(reason_code=reason)
    if status == Status.ACCEPTED:
        assert result.id == 3  # N04.FR.11: after the factory ids
        assert updated.monitoring.active[3].kind == Kind.CUSTOM_MONITOR
    else:
        assert result.id is UNSET
        assert updated.monitoring.active == model.monitoring.active


def test_replacing_a_preconfigured_monitor_makes_it_custom(model: DeviceModel) -> None:
    model, monitor_id = install(model, item(Type.UPPER_THRESHOLD, 15000, severity=5, monitor_id=2))
    assert monitor_id == 2  # N04.FR.12
    assert model.monitoring.active[2].kind == Kind.CUSTOM_MONITOR  # N04.FR.15
    assert model.monitoring.active[2].value == 15000
    assert model.monitoring.next_monitor_id == 3


def test_items_of_one_request_see_each_other(model: DeviceModel) -> None:
    same = item(Type.LOWER_THRESHOLD, 100, severity=3)
    _, results = set_variable_monitoring(model, [same, same, item(Type.DELTA, 5)], T0)
    assert [(r.status, r.id) for r in results] == [
        (Status.ACCEPTED, 3),
        (Status.DUPLICATE, UNSET),
        (Status.ACCEPTED, 4),
    ]


def test_upper_threshold_fires_once_above_and_clears_back_within(model: DeviceModel) -> None:
    model, monitor_id = install(model, item(Type.UPPER_THRESHOLD, 10000))
    model, events = power(model, "10000")
    assert events == []  # N07.FR.16: above, not at
    model, events = power(model, "10000.5")
    [event] = events
    assert (event.trigger, event.cleared, event.actual_value) == (
        Trigger.ALERTING,
        False,
        "10000.5",
    )
    assert event.variable_monitoring_id == monitor_id
    assert event.event_notification_type == Kind.CUSTOM_MONITOR
    assert event.component == component("EVSE", evse=1)
    assert event.variable == variable("Power")
    assert event.timestamp == T0
    model, events = power(model, "15000")
    assert events == []
    model, events = power(model, "10000")
    [event] = events
    assert (event.trigger, event.cleared) == (Trigger.ALERTING, True)  # N07.FR.02


def test_lower_threshold_fires_below_and_clears(model: DeviceModel) -> None:
    model, _ = store(model, EVSE1, POWER, "5000")
    model, _ = install(model, item(Type.LOWER_THRESHOLD, 1000))
    model, events = power(model, "1000")
    assert events == []  # N07.FR.17: below, not at
    model, events = power(model, "999")
    assert [(e.cleared, e.actual_value) for e in events] == [(False, "999")]
    model, events = power(model, "500")
    assert events == []
    model, events = power(model, "1000")
    assert [(e.cleared, e.actual_value) for e in events] == [(True, "1000")]


def test_numeric_delta_fires_on_a_change_by_its_value(model: DeviceModel) -> None:
    model, _ = install(model, item(Type.DELTA, 500))
    fired = []
    for watts in ["400", "500", "700", "1000", "1001", "0"]:
        model, events = power(model, watts)
        fired += [(e.trigger, e.actual_value) for e in events]
    # From 0: 400 no, 500 yes; from 500: 700 no, 1000 yes; from 1000: 1001 no, 0 yes.
    assert fired == [(Trigger.DELTA, "500"), (Trigger.DELTA, "1000"), (Trigger.DELTA, "0")]


def test_non_numeric_delta_fires_on_every_change(model: DeviceModel) -> None:
    model, _ = install(model, item(Type.DELTA, 1, comp=component("EVSE", evse=1), var=STATE))
    fired = []
    for state in ["Occupied", "Occupied", "Available", "Faulted"]:
        model, events = update_actual(model, EVSE1, "AvailabilityState", state, T0)
        fired += [e.actual_value for e in events]
    assert fired == ["Occupied", "Available", "Faulted"]  # N07.FR.19


def test_check_monitors_without_changes_evaluates_every_monitor(model: DeviceModel) -> None:
    model, _ = store(model, EVSE1, POWER, "12000")
    model, monitor_id = install(model, item(Type.UPPER_THRESHOLD, 10000), item(Type.DELTA, 1))
    model, events = check_monitors(model, T0)
    # The new threshold is crossed already; the delta sees no change since it was set.
    assert [(e.variable_monitoring_id, e.trigger) for e in events] == [(3, Trigger.ALERTING)]
    # N07.FR.11: raising the threshold above the value clears it.
    model, _ = install(model, item(Type.UPPER_THRESHOLD, 15000, monitor_id=3))
    model, events = check_monitors(model, T0)
    assert [(e.variable_monitoring_id, e.cleared) for e in events] == [(3, True)]
    assert monitor_id == 4


def test_changes_of_other_variables_trip_nothing(model: DeviceModel) -> None:
    model, _ = install(model, item(Type.UPPER_THRESHOLD, 10000))
    model, _ = store(model, EVSE1, POWER, "12000")
    _, changes = store(model, "OCPPCommCtrlr", "HeartbeatInterval", "60")
    assert check_monitors(model, T0, changes)[1] == []


def test_severity_above_the_level_is_not_reported(model: DeviceModel) -> None:
    model, status = set_monitoring_level(model, 3)
    assert status == v201.GenericStatusEnumType.ACCEPTED
    assert model.int_value("MonitoringCtrlr", "ActiveMonitoringLevel") == 3
    model, _ = install(model, item(Type.UPPER_THRESHOLD, 10000, severity=4))
    model, _ = install(model, item(Type.UPPER_THRESHOLD, 12000, severity=3))
    model, events = power(model, "11000")
    assert events == []  # N05.FR.03
    assert model.monitoring.active[3].tripped  # its state moved on all the same
    model, events = power(model, "13000")
    assert [(e.variable_monitoring_id, e.event_id) for e in events] == [(4, 1)]


@pytest.mark.parametrize("severity", [-1, 10])
def test_a_level_out_of_range_is_rejected(model: DeviceModel, severity: int) -> None:
    updated, status = set_monitoring_level(model, severity)
    assert status == v201.GenericStatusEnumType.REJECTED  # N05.FR.02
    assert updated is model


def test_event_ids_keep_increasing(model: DeviceModel) -> None:
    model, _ = install(model, item(Type.DELTA, 1))
    ids = []
    for watts in ["10", "20", "30"]:
        model, events = power(model, watts)
        ids += [e.event_id for e in events]
    assert ids == [1, 2, 3]
    assert model.monitoring.next_event_id == 4


def test_transaction_monitors_watch_only_during_a_transaction(model: DeviceModel) -> None:
    model, _ = install(model, item(Type.DELTA, 1, transaction=True))
    model, events = power(model, "100")
    assert events == []
    model, events = power(model, "200", transactions={2: "TX-2"})
    assert events == []
    model, events = power(model, "300", transactions={1: "TX-1"})
    assert [(e.actual_value, e.transaction_id) for e in events] == [("300", "TX-1")]


def test_an_event_on_a_write_only_variable_has_no_value() -> None:
    secret = VariableDefinition(
        ComponentKey("Vault"),
        VariableKey("Code"),
        Characteristics(v201.DataEnumType.STRING, supports_monitoring=True),
        {ACTUAL: AttributeDefinition(v201.MutabilityEnumType.WRITE_ONLY)},
    )
    model = build_model([(secret, {ACTUAL: "old"})])
    model, _ = install(model, item(Type.DELTA, 1, comp=component("Vault"), var=variable("Code")))
    model, [event] = update_actual(model, "Vault", "Code", "new", T0)
    assert event.actual_value == ""  # N07.FR.10


# --- periodic (N08) ----------------------------------------------------------------------------


def test_periodic_fires_every_interval_from_when_it_was_set(model: DeviceModel) -> None:
    model, monitor_id = install(model, item(Type.PERIODIC, 60))
    model, _ = store(model, EVSE1, POWER, "7000")
    assert due(model, T0) == T0 + timedelta(seconds=60)
    model, events = periodic_events(model, T0 + timedelta(seconds=59))
    assert events == []
    model, [event] = periodic_events(model, T0 + timedelta(seconds=60))
    assert (event.trigger, event.actual_value, event.variable_monitoring_id) == (
        Trigger.PERIODIC,
        "7000",
        monitor_id,
    )
    assert event.cleared is UNSET
    assert due(model, T0) == T0 + timedelta(seconds=120)
    # Woken late, inside the next period: fires once, and keeps to the schedule.
    model, events = periodic_events(model, T0 + timedelta(seconds=125))
    assert len(events) == 1
    assert due(model, T0) == T0 + timedelta(seconds=180)
    # Woken after missing whole periods: fires once, and counts from now.
    late = T0 + timedelta(seconds=1000)
    model, events = periodic_events(model, late)
    assert len(events) == 1
    assert due(model, late) == late + timedelta(seconds=60)


def test_clock_aligned_fires_on_multiples_of_the_interval() -> None:
    model = standard_model(SHAPE)
    set_at = datetime(2025, 3, 1, 8, 7, 30, tzinfo=UTC)
    model, _ = set_variable_monitoring(model, [item(Type.PERIODIC_CLOCK_ALIGNED, 900)], set_at)
    quarter = datetime(2025, 3, 1, 8, 15, tzinfo=UTC)
    assert due(model, set_at) == quarter  # N08.FR.07
    model, events = periodic_events(model, quarter)
    assert [e.trigger for e in events] == [Trigger.PERIODIC]
    assert due(model, quarter) == datetime(2025, 3, 1, 8, 30, tzinfo=UTC)


def test_clock_aligned_starts_again_at_midnight() -> None:
    model = standard_model(SHAPE)
    set_at = datetime(2025, 3, 1, 22, 0, tzinfo=UTC)
    model, _ = set_variable_monitoring(model, [item(Type.PERIODIC_CLOCK_ALIGNED, 7 * 3600)], set_at)
    assert due(model, set_at) == datetime(2025, 3, 2, 0, 0, tzinfo=UTC)


def test_a_factory_periodic_monitor_starts_when_first_asked() -> None:
    periodic = Monitor(1, EVSE1, POWER, Type.PERIODIC, 300, 8, Kind.PRECONFIGURED_MONITOR)
    model = standard_model(SHAPE, [periodic])
    assert due(model, T0) == T0 + timedelta(seconds=300)
    model, events = periodic_events(model, T0)
    assert events == []
    assert due(model, T0 + timedelta(seconds=10)) == T0 + timedelta(seconds=300)


def test_no_periodic_monitor_no_due_time(model: DeviceModel) -> None:
    assert due(model, T0) is None
    assert periodic_events(model, T0) == (model, [])


# --- clear, base, report (N06, N03, N02) -------------------------------------------------------


def test_clear_variable_monitoring(model: DeviceModel) -> None:
    Clear = v201.ClearMonitoringStatusEnumType
    model, custom = install(model, item(Type.UPPER_THRESHOLD, 10000))
    model, _ = power(model, "11000")
    model, results = clear_variable_monitoring(model, [custom, 2, 1, 77])
    assert [(r.id, r.status) for r in results] == [
        (custom, Clear.ACCEPTED),
        (2, Clear.ACCEPTED),
        (1, Clear.REJECTED),  # N06.FR.03
        (77, Clear.NOT_FOUND),  # N06.FR.02
    ]
    assert list(model.monitoring.active) == [1]
    # N07.FR.12: a cleared tripped threshold does not report cleared.
    assert power(model, "0")[1] == []


def test_monitoring_base(model: DeviceModel) -> None:
    Base = v201.MonitoringBaseEnumType
    Generic = v201.GenericDeviceModelStatusEnumType
    model, custom = install(model, item(Type.DELTA, 10))
    model, _ = clear_variable_monitoring(model, [2])

    restored, status = set_monitoring_base(model, Base.ALL)
    assert status == Generic.ACCEPTED
    assert sorted(restored.monitoring.active) == [1, 2, custom]  # N03.FR.03

    factory, _ = set_monitoring_base(model, Base.FACTORY_DEFAULT)
    assert factory.monitoring.active == {  # N03.FR.04
        1: replace(HARD_WIRED, reference="false"),
        2: replace(PRECONFIGURED, reference="0"),
    }
    assert factory.value("MonitoringCtrlr", "ActiveMonitoringBase") == "FactoryDefault"

    hard, _ = set_monitoring_base(restored, Base.HARD_WIRED_ONLY)
    assert list(hard.monitoring.active) == [1]  # N03.FR.05

    unchanged, status = set_monitoring_base(model, "None")
    assert (unchanged, status) == (model, Generic.NOT_SUPPORTED)


def test_all_keeps_a_replaced_preconfigured_monitor(model: DeviceModel) -> None:
    model, _ = install(model, item(Type.UPPER_THRESHOLD, 15000, severity=5, monitor_id=2))
    restored, _ = set_monitoring_base(model, v201.MonitoringBaseEnumType.ALL)
    assert restored.monitoring.active[2].value == 15000


def test_monitoring_report_by_criteria_and_variable(model: DeviceModel) -> None:
    model, _ = install(
        model,
        item(Type.DELTA, 5),
        item(Type.PERIODIC, 60),
        item(Type.UPPER_THRESHOLD, 1000, comp=component("EVSE", evse=2)),
    )

    def ids(criteria: list[Criterion], selectors: list[v201.ComponentVariableType]) -> list[int]:
        result = monitoring_report(model, criteria, selectors)
        return [m.id for data in result.data for m in data.variable_monitoring]

    assert ids([], []) == [1, 2, 3, 4, 5]  # N02.FR.11
    assert ids([Criterion.THRESHOLD_MONITORING], []) == [2, 5]  # N02.FR.12
    assert ids([Criterion.DELTA_MONITORING], []) == [1, 3]  # N02.FR.13
    assert ids([Criterion.PERIODIC_MONITORING], []) == [4]  # N02.FR.14
    evse_power = v201.ComponentVariableType(component=component("EVSE"), variable=variable("Power"))
    assert ids([], [evse_power]) == [2, 3, 4, 5]  # N02.FR.15
    evse1 = v201.ComponentVariableType(component=component("EVSE", evse=1))
    assert ids([Criterion.THRESHOLD_MONITORING], [evse1]) == [2]  # N02.FR.05/16
    grouped = monitoring_report(model, [], [evse1]).data
    assert [len(d.variable_monitoring) for d in grouped] == [3]
    empty = monitoring_report(model, [], [v201.ComponentVariableType(component=component("X"))])
    assert empty.status == v201.GenericDeviceModelStatusEnumType.EMPTY_RESULT_SET  # N02.FR.10


def test_split_monitoring_report(model: DeviceModel) -> None:
    model, _ = install(model, *(item(Type.DELTA, 1, severity=s) for s in range(6, 10)))
    data = monitoring_report(model).data
    messages = split_monitoring_report(
        data, request_id=3, generated_at=T0, items_per_message=1, bytes_per_message=10_000
    )
    assert [(m.seq_no, m.tbc) for m in messages] == [(0, True), (1, False)]
    assert [d for m in messages for d in m.monitor or []] == data
    assert all(len(encode(m)) <= 10_000 for m in messages)
