"""The standard catalogue: every standardized component with its required variables."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kilowatt.devicemodel import (
    AttributeDefinition,
    Characteristics,
    ComponentKey,
    DeviceModel,
    Monitor,
    VariableDefinition,
    VariableKey,
    build_model,
)
from kilowatt.devicemodel.model import ACTUAL
from kilowatt.devicemodel.values import check_value
from kilowatt.messages import v201

# The required variables of ocpp-notes.md §6.2 (Part 2 appendix), and the optional ones the
# station's behaviour depends on.
REQUIRED: dict[str, list[str | tuple[str, str]]] = {
    "OCPPCommCtrlr": [
        "FileTransferProtocols", ("MessageTimeout", "Default"),
        ("MessageAttemptInterval", "TransactionEvent"), ("MessageAttempts", "TransactionEvent"),
        "NetworkConfigurationPriority", "NetworkProfileConnectionAttempts", "OfflineThreshold",
        "ResetRetries", "RetryBackOffRandomRange", "RetryBackOffRepeatTimes",
        "RetryBackOffWaitMinimum", "UnlockOnEVSideDisconnect", "WebSocketPingInterval",
        "HeartbeatInterval",
    ],
    "DeviceDataCtrlr": [
        (name, instance)
        for name in ("ItemsPerMessage", "BytesPerMessage")
        for instance in ("GetReport", "GetVariables", "SetVariables")
    ],
    "SecurityCtrlr": [
        "CertificateEntries", "Identity", "OrganizationName", "SecurityProfile",
        "BasicAuthPassword",
    ],
    "AuthCtrlr": ["AuthorizeRemoteStart", "LocalAuthorizeOffline", "LocalPreAuthorize"],
    "AuthCacheCtrlr": ["Enabled", "LifeTime", "Policy"],
    "LocalAuthListCtrlr": ["Entries", "ItemsPerMessage", "BytesPerMessage", "Enabled"],
    "TxCtrlr": [
        "EVConnectionTimeOut", "StopTxOnEVSideDisconnect", "StopTxOnInvalidId", "TxStartPoint",
        "TxStopPoint",
    ],
    "SampledDataCtrlr": [
        "TxEndedMeasurands", "TxEndedInterval", "TxStartedMeasurands", "TxUpdatedMeasurands",
        "TxUpdatedInterval",
    ],
    "AlignedDataCtrlr": ["Interval", "Measurands", "TxEndedInterval", "TxEndedMeasurands"],
    "ClockCtrlr": ["DateTime", "TimeSource"],
    "SmartChargingCtrlr": [
        ("Entries", "ChargingProfiles"), "LimitChangeSignificance", "PeriodsPerSchedule",
        "ProfileStackLevel", "RateUnit",
    ],
    "ReservationCtrlr": ["Enabled"],
    "TariffCostCtrlr": ["Currency", "TariffFallbackMessage", "TotalCostFallbackMessage"],
    "DisplayMessageCtrlr": ["DisplayMessages", "SupportedFormats", "SupportedPriorities"],
    "MonitoringCtrlr": [
        ("ItemsPerMessage", "SetVariableMonitoring"), ("BytesPerMessage", "SetVariableMonitoring"),
        "ActiveMonitoringBase", "ActiveMonitoringLevel",
    ],
    "ChargingStation": ["AvailabilityState", "Available", "SupplyPhases"],
}  # fmt: skip


@pytest.mark.parametrize("component", sorted(REQUIRED))
def test_required_variables_are_there(model: DeviceModel, component: str) -> None:
    for entry in REQUIRED[component]:
        name, instance = (entry, None) if isinstance(entry, str) else entry
        assert model.definition(component, VariableKey(name, instance)) is not None, entry


def test_one_evse_component_per_evse_and_one_connector_per_connector(model: DeviceModel) -> None:
    evse1, evse2 = ComponentKey("EVSE", evse=1), ComponentKey("EVSE", evse=2)
    assert model.decimal_value(evse1, "Power", v201.AttributeEnumType.MAX_SET) == 22000
    assert model.int_value(evse2, "SupplyPhases") == 1
    assert model.value(evse1, "AvailabilityState") == "Available"
    connectors = sorted((c.evse, c.connector) for c in model.components if c.name == "Connector")
    assert connectors == [(1, 1), (1, 2), (2, 1)]
    for evse, connector in connectors:
        plug = ComponentKey("Connector", evse=evse, connector=connector)
        for name in ("Available", "AvailabilityState", "ConnectorType", "SupplyPhases"):
            assert model.definition(plug, name) is not None
    assert model.value(ComponentKey("Connector", evse=2, connector=1), "ConnectorType") == "sType2"
    assert model.int_value("ChargingStation", "SupplyPhases") == 3
    assert model.value("SecurityCtrlr", "Identity") == "CS-1"
    assert model.int_value("SecurityCtrlr", "SecurityProfile") == 2


def test_typed_accessors(model: DeviceModel) -> None:
    assert model.int_value("OCPPCommCtrlr", "HeartbeatInterval") == 300
    assert model.int_value("OCPPCommCtrlr", VariableKey("MessageTimeout", "Default")) == 30
    assert model.bool_value("TxCtrlr", "StopTxOnInvalidId") is True
    assert model.bool_value("AuthCtrlr", "LocalPreAuthorize") is False
    assert model.decimal_value("SmartChargingCtrlr", "LimitChangeSignificance") == Decimal("1.0")
    assert model.list_value("TxCtrlr", "TxStopPoint") == ("EVConnected", "Authorized")
    assert model.list_value("ClockCtrlr", "DateTime") == ()
    with pytest.raises(KeyError):
        model.value("OCPPCommCtrlr", "MessageTimeout")


def test_every_default_fits_its_own_characteristics(model: DeviceModel) -> None:
    for (component, variable, attribute), value in model.values.items():
        definition = model.definitions[(component, variable)]
        characteristics = definition.characteristics
        if value:
            assert check_value(characteristics, value) is None, (component, variable, attribute)
        if characteristics.values_list is not None:
            assert len(",".join(characteristics.values_list)) <= 1000


def test_only_physical_components_support_monitoring(model: DeviceModel) -> None:
    physical = {"ChargingStation", "EVSE", "Connector"}
    for definition in model.definitions.values():
        if definition.characteristics.supports_monitoring:
            assert definition.component.name in physical


def definition(name: str) -> VariableDefinition:
    return VariableDefinition(
        ComponentKey("X"),
        VariableKey(name),
        Characteristics(v201.DataEnumType.INTEGER, supports_monitoring=True),
        {ACTUAL: AttributeDefinition()},
    )


def test_build_model_refuses_a_variable_twice() -> None:
    with pytest.raises(ValueError, match="twice"):
        build_model([(definition("A"), {}), (definition("A"), {})])


def monitor(monitor_id: int, kind: v201.EventNotificationEnumType, name: str = "A") -> Monitor:
    return Monitor(
        monitor_id, ComponentKey("X"), VariableKey(name), v201.MonitorEnumType.DELTA, 1, 5, kind
    )


@pytest.mark.parametrize(
    ("monitors", "message"),
    [
        ([monitor(1, v201.EventNotificationEnumType.CUSTOM_MONITOR)], "CustomMonitor"),
        ([monitor(1, v201.EventNotificationEnumType.HARD_WIRED_MONITOR, "B")], "unknown"),
        (
            [
                monitor(1, v201.EventNotificationEnumType.HARD_WIRED_MONITOR),
                monitor(1, v201.EventNotificationEnumType.PRECONFIGURED_MONITOR),
            ],
            "repeat",
        ),
    ],
)
def test_build_model_checks_factory_monitors(monitors: list[Monitor], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_model([(definition("A"), {ACTUAL: "0"})], monitors)


def test_custom_monitor_ids_follow_the_factory_ones() -> None:
    kind = v201.EventNotificationEnumType.PRECONFIGURED_MONITOR
    model = build_model([(definition("A"), {ACTUAL: "0"})], [monitor(41, kind)])
    assert model.monitoring.next_monitor_id == 42
    assert list(model.monitoring.active) == [41]
