"""to_json / from_json: persistent values and monitors survive; the rest is the catalogue's."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from kilowatt.devicemodel import (
    ComponentKey,
    DeviceModel,
    Monitor,
    VariableKey,
    from_json,
    set_variable_monitoring,
    standard_model,
    store,
    to_json,
    update_actual,
)
from kilowatt.messages import v201

from .conftest import SHAPE, T0, component, variable

EVSE1 = ComponentKey("EVSE", evse=1)
HARD_WIRED = v201.EventNotificationEnumType.HARD_WIRED_MONITOR


def test_round_trip_keeps_persistent_values_only(model: DeviceModel) -> None:
    changed = model
    for comp, var, value in [
        ("OCPPCommCtrlr", "HeartbeatInterval", "42"),
        ("SecurityCtrlr", "BasicAuthPassword", "s3cr3t-pw"),
        ("TxCtrlr", "TxStartPoint", "EVConnected,Authorized"),
        ("ClockCtrlr", "DateTime", "2025-03-01T08:00:00Z"),
    ]:
        changed, _ = store(changed, comp, var, value)
    changed, _ = store(changed, EVSE1, "Power", "7000")
    stored = {entry["at"]["variable"] for entry in json.loads(to_json(changed))["values"]}
    assert {"HeartbeatInterval", "BasicAuthPassword", "TxStartPoint"} <= stored
    assert not {"Power", "DateTime", "VendorName", "ConnectorType"} & stored
    loaded = from_json(to_json(changed), model)
    assert loaded.int_value("OCPPCommCtrlr", "HeartbeatInterval") == 42
    assert loaded.value("SecurityCtrlr", "BasicAuthPassword") == "s3cr3t-pw"
    assert loaded.list_value("TxCtrlr", "TxStartPoint") == ("EVConnected", "Authorized")
    # Not persistent: measured again after the restart.
    assert loaded.value(EVSE1, "Power") == "0"
    assert loaded.value("ClockCtrlr", "DateTime") == ""
    assert loaded.definitions is model.definitions


def test_round_trip_of_the_defaults_is_the_defaults(model: DeviceModel) -> None:
    assert from_json(to_json(model), model) == model


def test_monitors_their_state_and_counters_survive(model: DeviceModel) -> None:
    item = v201.SetMonitoringDataType(
        value=10000,
        type=v201.MonitorEnumType.UPPER_THRESHOLD,
        severity=4,
        component=component("EVSE", evse=1),
        variable=variable("Power"),
        transaction=True,
    )
    model, _ = set_variable_monitoring(model, [item], T0)
    model, events = update_actual(model, EVSE1, "Power", "12000", T0, {1: "TX-1"})
    assert len(events) == 1
    loaded = from_json(to_json(model), standard_model(SHAPE))
    assert loaded.monitoring == model.monitoring
    [monitor] = loaded.monitoring.active.values()
    assert monitor.tripped is True
    assert loaded.monitoring.next_event_id == 2


def test_stale_and_invalid_entries_are_dropped(model: DeviceModel) -> None:
    stored = json.loads(to_json(model))
    stored["futureField"] = {"anything": 1}
    stored["values"] += [
        {"at": {"component": "GoneCtrlr", "variable": "X"}, "value": "1"},
        {"at": {"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval"}, "value": "soon"},
        {"at": {"component": "OCPPCommCtrlr", "variable": "OfflineThreshold"}, "value": "99"},
        {"at": {"component": "ChargingStation", "variable": "VendorName"}, "value": "Other"},
        {"at": {"component": "OCPPCommCtrlr", "variable": "ResetRetries"},
         "attribute": "Target", "value": "5"},
    ]  # fmt: skip
    stored["monitors"] = [
        {"at": {"component": "GoneCtrlr", "variable": "X"}, "id": 5, "type": "Delta",
         "value": 1, "severity": 5, "kind": "CustomMonitor"},
        {"at": {"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval"}, "id": 6,
         "type": "Delta", "value": 1, "severity": 5, "kind": "CustomMonitor"},
        {"at": {"component": "EVSE", "evse": 1, "variable": "Power"}, "id": 7,
         "type": "Delta", "value": 1, "severity": 5, "kind": "HardWiredMonitor"},
        {"at": {"component": "EVSE", "evse": 1, "variable": "Power"}, "id": 8,
         "type": "Delta", "value": 100, "severity": 5, "kind": "CustomMonitor"},
    ]  # fmt: skip
    loaded = from_json(json.dumps(stored).encode(), model)
    assert loaded.int_value("OCPPCommCtrlr", "HeartbeatInterval") == 300  # invalid: default
    assert loaded.int_value("OCPPCommCtrlr", "OfflineThreshold") == 99
    assert loaded.value("ChargingStation", "VendorName") == "Acme"  # constant
    assert list(loaded.monitoring.active) == [8]
    assert loaded.monitoring.next_monitor_id == 9


def test_a_file_from_an_older_version_loads(model: DeviceModel) -> None:
    old = b'{"values": [{"at": {"component": "OCPPCommCtrlr", "variable": "ResetRetries"},'
    old += b' "value": "7"}]}'
    loaded = from_json(old, model)
    assert loaded.int_value("OCPPCommCtrlr", "ResetRetries") == 7
    assert loaded.monitoring == model.monitoring


def test_hard_wired_monitors_come_from_the_firmware() -> None:
    hard_wired = Monitor(
        1, EVSE1, VariableKey("Power"), v201.MonitorEnumType.UPPER_THRESHOLD, 20000, 2, HARD_WIRED
    )
    firmware = standard_model(SHAPE, [hard_wired])
    # A file that says otherwise about the monitor's setting, and that it is tripped.
    edited = replace(hard_wired, value=1.0, tripped=True)
    running = replace(
        firmware,
        monitoring=replace(firmware.monitoring, active={1: edited}, next_event_id=9),
    )
    loaded = from_json(to_json(running), firmware)
    # The setting is the firmware's; the state is the file's.
    assert loaded.monitoring.active == {1: replace(hard_wired, tripped=True)}
    assert loaded.monitoring.next_event_id == 9
    # A file without it still gets it.
    assert from_json(b"{}", firmware).monitoring.active == {1: replace(hard_wired, reference="0")}


@pytest.mark.parametrize("data", [b"", b"not json", b"[]", b'{"values": 3}'])
def test_garbage_is_refused(model: DeviceModel, data: bytes) -> None:
    with pytest.raises(ValueError, match="not a stored device model"):
        from_json(data, model)
