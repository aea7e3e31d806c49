"""B06 GetVariables and B05 SetVariables: every status, every check, and the station's writes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from msgspec import UNSET

from kilowatt.devicemodel import (
    AttributeKey,
    Characteristics,
    ComponentKey,
    DeviceModel,
    get_variables,
    set_variables,
    store,
)
from kilowatt.devicemodel.model import component_key, variable_key
from kilowatt.devicemodel.values import check_value
from kilowatt.messages import v201

from .conftest import component, variable

Get = v201.GetVariableStatusEnumType
Set = v201.SetVariableStatusEnumType
Attr = v201.AttributeEnumType
COMM = "OCPPCommCtrlr"


def get_one(
    model: DeviceModel,
    comp: v201.ComponentType,
    var: v201.VariableType,
    attribute: Attr | None = None,
) -> v201.GetVariableResultType:
    item = v201.GetVariableDataType(
        component=comp, variable=var, attribute_type=UNSET if attribute is None else attribute
    )
    [result] = get_variables(model, [item])
    return result


def set_item(
    comp: v201.ComponentType, var: v201.VariableType, value: str, attribute: Attr | None = None
) -> v201.SetVariableDataType:
    return v201.SetVariableDataType(
        component=comp,
        variable=var,
        attribute_value=value,
        attribute_type=UNSET if attribute is None else attribute,
    )


GET_CASES = [
    (component(COMM), variable("HeartbeatInterval"), None, Get.ACCEPTED, "300"),
    (component(COMM), variable("MessageTimeout", "Default"), None, Get.ACCEPTED, "30"),
    (component(COMM), variable("HeartbeatInterval"), Attr.ACTUAL, Get.ACCEPTED, "300"),
    (component("EVSE", evse=1), variable("Power"), Attr.MAX_SET, Get.ACCEPTED, "22000.0"),
    (component("EVSE", evse=2), variable("SupplyPhases"), None, Get.ACCEPTED, "1"),
    (component("Connector", evse=1, connector=2), variable("ConnectorType"), None, Get.ACCEPTED,
     "cCCS2"),
    (component("SecurityCtrlr"), variable("SecurityProfile"), None, Get.ACCEPTED, "2"),
    (component("ChargingStation"), variable("VendorName"), None, Get.ACCEPTED, "Acme"),
    # B06.FR.13: supported but without a value yet.
    (component("ClockCtrlr"), variable("DateTime"), None, Get.ACCEPTED, ""),
    (component("NoSuchCtrlr"), variable("HeartbeatInterval"), None, Get.UNKNOWN_COMPONENT, None),
    (component("EVSE", evse=3), variable("Power"), None, Get.UNKNOWN_COMPONENT, None),
    (component(COMM, instance="Other"), variable("HeartbeatInterval"), None,
     Get.UNKNOWN_COMPONENT, None),
    (component(COMM), variable("NoSuchVariable"), None, Get.UNKNOWN_VARIABLE, None),
    (component(COMM), variable("MessageTimeout"), None, Get.UNKNOWN_VARIABLE, None),
    (component(COMM), variable("HeartbeatInterval"), Attr.MAX_SET,
     Get.NOT_SUPPORTED_ATTRIBUTE_TYPE, None),
    (component("EVSE", evse=1), variable("Power"), Attr.TARGET,
     Get.NOT_SUPPORTED_ATTRIBUTE_TYPE, None),
    (component("SecurityCtrlr"), variable("BasicAuthPassword"), None, Get.REJECTED, None),
]  # fmt: skip


@pytest.mark.parametrize(("comp", "var", "attribute", "status", "value"), GET_CASES)
def test_get_variables(
    model: DeviceModel,
    comp: v201.ComponentType,
    var: v201.VariableType,
    attribute: Attr | None,
    status: Get,
    value: str | None,
) -> None:
    result = get_one(model, comp, var, attribute)
    assert result.attribute_status == status
    assert result.attribute_value == (UNSET if value is None else value)
    # B06.FR.02/03: the result names what was asked, as it was asked.
    assert result.component == comp
    assert result.variable == var
    assert result.attribute_type == (UNSET if attribute is None else attribute)


def test_get_answers_every_item_in_order(model: DeviceModel) -> None:
    names = ["HeartbeatInterval", "Nope", "OfflineThreshold", "ResetRetries"]
    items = [
        v201.GetVariableDataType(component=component(COMM), variable=variable(n)) for n in names
    ]
    results = get_variables(model, items)
    assert [r.variable.name for r in results] == names
    assert [r.attribute_status for r in results] == [
        Get.ACCEPTED,
        Get.UNKNOWN_VARIABLE,
        Get.ACCEPTED,
        Get.ACCEPTED,
    ]


def test_write_only_is_rejected_with_a_reason_and_never_read_back(model: DeviceModel) -> None:
    security = component("SecurityCtrlr")
    outcome = set_variables(model, [set_item(security, variable("BasicAuthPassword"), "s3cr3t-pw")])
    assert outcome.results[0].attribute_status == Set.ACCEPTED
    result = get_one(outcome.model, security, variable("BasicAuthPassword"))
    assert result.attribute_status == Get.REJECTED
    assert result.attribute_value is UNSET
    assert result.attribute_status_info == v201.StatusInfoType(reason_code="WriteOnly")
    assert outcome.model.value("SecurityCtrlr", "BasicAuthPassword") == "s3cr3t-pw"


def test_reported_values_are_cut_to_reporting_value_size(model: DeviceModel) -> None:
    model, _ = store(model, "DeviceDataCtrlr", "ReportingValueSize", "5")
    model, _ = store(model, "ClockCtrlr", "TimeZone", "Europe/Amsterdam")
    result = get_one(model, component("ClockCtrlr"), variable("TimeZone"))
    assert result.attribute_value == "Europe"[:5]


SET_CASES = [
    # integer, with minLimit 1
    (component(COMM), variable("HeartbeatInterval"), None, "60", Set.ACCEPTED, None),
    (component(COMM), variable("HeartbeatInterval"), None, "+60", Set.ACCEPTED, None),
    (component(COMM), variable("HeartbeatInterval"), None, "1", Set.ACCEPTED, None),
    (component(COMM), variable("HeartbeatInterval"), None, "0", Set.REJECTED, "ValueTooLow"),
    (component(COMM), variable("HeartbeatInterval"), None, "-5", Set.REJECTED, "ValueTooLow"),
    (component(COMM), variable("HeartbeatInterval"), None, "abc", Set.REJECTED, "InvalidValue"),
    (component(COMM), variable("HeartbeatInterval"), None, "1.5", Set.REJECTED, "InvalidValue"),
    (component(COMM), variable("HeartbeatInterval"), None, " 60", Set.REJECTED, "InvalidValue"),
    (component(COMM), variable("HeartbeatInterval"), None, "", Set.REJECTED, "InvalidValue"),
    (component(COMM), variable("MessageTimeout", "Default"), None, "45", Set.ACCEPTED, None),
    # integer with maxLimit
    (component("MonitoringCtrlr"), variable("OfflineQueuingSeverity"), None, "9", Set.ACCEPTED,
     None),
    (component("MonitoringCtrlr"), variable("OfflineQueuingSeverity"), None, "10", Set.REJECTED,
     "ValueTooHigh"),
    # decimal, 0..100
    (component("SmartChargingCtrlr"), variable("LimitChangeSignificance"), None, "2.5",
     Set.ACCEPTED, None),
    (component("SmartChargingCtrlr"), variable("LimitChangeSignificance"), None, "100",
     Set.ACCEPTED, None),
    (component("SmartChargingCtrlr"), variable("LimitChangeSignificance"), None, "100.01",
     Set.REJECTED, "ValueTooHigh"),
    (component("SmartChargingCtrlr"), variable("LimitChangeSignificance"), None, "-0.1",
     Set.REJECTED, "ValueTooLow"),
    (component("SmartChargingCtrlr"), variable("LimitChangeSignificance"), None, "1e1",
     Set.REJECTED, "InvalidValue"),
    (component("SmartChargingCtrlr"), variable("LimitChangeSignificance"), None, "NaN",
     Set.REJECTED, "InvalidValue"),
    # boolean
    (component("TxCtrlr"), variable("StopTxOnInvalidId"), None, "false", Set.ACCEPTED, None),
    (component("TxCtrlr"), variable("StopTxOnInvalidId"), None, "False", Set.REJECTED,
     "InvalidValue"),
    (component("TxCtrlr"), variable("StopTxOnInvalidId"), None, "1", Set.REJECTED, "InvalidValue"),
    # OptionList
    (component("AuthCacheCtrlr"), variable("Policy"), None, "LFU", Set.ACCEPTED, None),
    (component("AuthCacheCtrlr"), variable("Policy"), None, "Random", Set.REJECTED,
     "InvalidValue"),
    (component("AuthCacheCtrlr"), variable("Policy"), None, "LRU,LFU", Set.REJECTED,
     "InvalidValue"),
    # MemberList
    (component("TxCtrlr"), variable("TxStartPoint"), None, "EVConnected,Authorized",
     Set.ACCEPTED, None),
    (component("TxCtrlr"), variable("TxStartPoint"), None, "EVConnected,Flying", Set.REJECTED,
     "InvalidValue"),
    (component("TxCtrlr"), variable("TxStartPoint"), None, "Authorized,Authorized", Set.REJECTED,
     "InvalidValue"),
    (component("TxCtrlr"), variable("TxStartPoint"), None, "Authorized,", Set.REJECTED,
     "InvalidValue"),
    # SequenceList, with and without a valuesList
    (component("ClockCtrlr"), variable("TimeSource"), None, "NTP,Heartbeat", Set.ACCEPTED, None),
    (component("ClockCtrlr"), variable("TimeSource"), None, "NTP,Sundial", Set.REJECTED,
     "InvalidValue"),
    (component(COMM), variable("NetworkConfigurationPriority"), None, "1,0", Set.ACCEPTED, None),
    (component(COMM), variable("NetworkConfigurationPriority"), None, "1,,0", Set.REJECTED,
     "InvalidValue"),
    # string, maxLimit = length
    (component("TariffCostCtrlr"), variable("Currency"), None, "USD", Set.ACCEPTED, None),
    (component("TariffCostCtrlr"), variable("Currency"), None, "EURO", Set.REJECTED,
     "TooLargeElement"),
    (component("SecurityCtrlr"), variable("BasicAuthPassword"), None, "x" * 41, Set.REJECTED,
     "TooLargeElement"),
    # mutability (B05.FR.08): ReadOnly and constant attributes
    (component("SecurityCtrlr"), variable("SecurityProfile"), None, "3", Set.REJECTED,
     "ReadOnly"),
    (component("Connector", evse=1, connector=1), variable("ConnectorType"), None, "cType1",
     Set.REJECTED, "ReadOnly"),
    (component("EVSE", evse=1), variable("Power"), Attr.MAX_SET, "1000", Set.REJECTED,
     "ReadOnly"),
    # B05.FR.09
    (component("SecurityCtrlr"), variable("Identity"), None, "CS-2", Set.REBOOT_REQUIRED, None),
    # B05.FR.04-06
    (component("NoSuchCtrlr"), variable("HeartbeatInterval"), None, "60", Set.UNKNOWN_COMPONENT,
     None),
    (component(COMM), variable("HeartBeatInterval"), None, "60", Set.UNKNOWN_VARIABLE, None),
    (component(COMM), variable("HeartbeatInterval"), Attr.TARGET, "60",
     Set.NOT_SUPPORTED_ATTRIBUTE_TYPE, None),
]  # fmt: skip


@pytest.mark.parametrize(("comp", "var", "attribute", "value", "status", "reason"), SET_CASES)
def test_set_variables(
    model: DeviceModel,
    comp: v201.ComponentType,
    var: v201.VariableType,
    attribute: Attr | None,
    value: str,
    status: Set,
    reason: str | None,
) -> None:
    outcome = set_variables(model, [set_item(comp, var, value, attribute)])
    [result] = outcome.results
    assert result.attribute_status == status
    assert result.component == comp
    assert result.variable == var
    assert result.attribute_type == (UNSET if attribute is None else attribute)
    if reason is None:
        assert result.attribute_status_info is UNSET
    else:
        assert not isinstance(result.attribute_status_info, type(UNSET))
        assert result.attribute_status_info.reason_code == reason
        assert result.attribute_status_info.additional_info
    key = AttributeKey(component_key(comp), variable_key(var), attribute or Attr.ACTUAL)
    stored = outcome.model.values.get(key)
    accepted = status in (Set.ACCEPTED, Set.REBOOT_REQUIRED)
    assert (stored == value) == accepted
    assert bool(outcome.changes) == accepted


def test_set_returns_the_changes_and_leaves_the_old_model_alone(model: DeviceModel) -> None:
    items = [
        set_item(component(COMM), variable("HeartbeatInterval"), "60"),
        set_item(component(COMM), variable("OfflineThreshold"), "60"),  # already 60
        set_item(component("SecurityCtrlr"), variable("Identity"), "CS-9"),
        set_item(component(COMM), variable("ResetRetries"), "x"),
    ]
    outcome = set_variables(model, items)
    assert [
        (c.component.name, c.variable.name, c.value, c.reboot_required) for c in outcome.changes
    ] == [
        ("OCPPCommCtrlr", "HeartbeatInterval", "60", False),
        ("SecurityCtrlr", "Identity", "CS-9", True),
    ]
    assert [r.attribute_status for r in outcome.results] == [
        Set.ACCEPTED,
        Set.ACCEPTED,
        Set.REBOOT_REQUIRED,
        Set.REJECTED,
    ]
    assert outcome.model.int_value(COMM, "HeartbeatInterval") == 60
    assert model.int_value(COMM, "HeartbeatInterval") == 300
    assert model.value("SecurityCtrlr", "Identity") == "CS-1"


def test_items_apply_in_order_and_the_last_value_wins(model: DeviceModel) -> None:
    heartbeat = (component(COMM), variable("HeartbeatInterval"))
    outcome = set_variables(model, [set_item(*heartbeat, "60"), set_item(*heartbeat, "300")])
    assert outcome.model.int_value(COMM, "HeartbeatInterval") == 300
    assert [c.value for c in outcome.changes] == ["60", "300"]


def test_a_set_without_any_change_returns_the_same_model(model: DeviceModel) -> None:
    outcome = set_variables(
        model, [set_item(component(COMM), variable("HeartbeatInterval"), "300")]
    )
    assert outcome.model is model
    assert outcome.changes == []


def test_configuration_value_size_limits_what_can_be_set(model: DeviceModel) -> None:
    model, _ = store(model, "DeviceDataCtrlr", "ConfigurationValueSize", "10")
    item = set_item(component("ClockCtrlr"), variable("TimeZone"), "Europe/Paris")
    [result] = set_variables(model, [item]).results
    assert result.attribute_status == Set.REJECTED
    assert not isinstance(result.attribute_status_info, type(UNSET))
    assert result.attribute_status_info.reason_code == "TooLargeElement"


def test_store_is_the_stations_own_write(model: DeviceModel) -> None:
    power = ComponentKey("EVSE", evse=1)
    updated, changes = store(model, power, "Power", "7400.5")
    assert updated.decimal_value(power, "Power") == Decimal("7400.5")
    assert [c.value for c in changes] == ["7400.5"]
    assert store(updated, power, "Power", "7400.5") == (updated, [])
    with pytest.raises(ValueError, match="above the maximum"):
        store(model, power, "Power", "30000")
    with pytest.raises(KeyError):
        store(model, power, "Voltage", "230")
    with pytest.raises(KeyError):
        store(model, power, "Power", "1", v201.AttributeEnumType.TARGET)


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("2025-03-01T08:00:00Z", True),
        ("2025-03-01T08:00:00.123+01:00", True),
        ("2025-03-01T08:00:00", False),  # no offset
        ("2025-03-01 08:00:00Z", False),
        ("2025-02-30T08:00:00Z", False),
        ("yesterday", False),
    ],
)
def test_date_time_values(value: str, valid: bool) -> None:
    refusal = check_value(Characteristics(v201.DataEnumType.DATE_TIME), value)
    assert (refusal is None) == valid


def test_string_without_max_limit_takes_any_length() -> None:
    assert check_value(Characteristics(v201.DataEnumType.STRING), "x" * 5000) is None
    limited = Characteristics(v201.DataEnumType.STRING, max_limit=Decimal(3))
    assert check_value(limited, "abcd") is not None
