"""B07 GetBaseReport, B08 GetReport, and cutting reports into NotifyReport messages."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise

import pytest
from hypothesis import given, strategies as st
from msgspec import UNSET

from kilowatt.devicemodel import (
    ComponentKey,
    DeviceModel,
    VariableKey,
    base_report,
    notify_reports,
    report,
    split_report,
    standard_model,
    store,
)
from kilowatt.messages import decode, encode, v201

from .conftest import SHAPE, T0, component, variable

Status = v201.GenericDeviceModelStatusEnumType
Base = v201.ReportBaseEnumType
Criterion = v201.ComponentCriterionEnumType
Mutability = v201.MutabilityEnumType


def names(data: list[v201.ReportDataType]) -> list[tuple[str, str]]:
    return [(d.component.name, d.variable.name) for d in data]


def find(data: list[v201.ReportDataType], comp: str, var: str) -> v201.ReportDataType:
    [found] = [d for d in data if (d.component.name, d.variable.name) == (comp, var)]
    return found


def test_full_inventory_lists_every_variable_once(model: DeviceModel) -> None:
    result = base_report(model, Base.FULL_INVENTORY)
    assert result.status == Status.ACCEPTED
    assert len(result.data) == len(model.definitions)
    power = [d for d in result.data if d.variable.name == "Power"]
    assert [d.component.evse for d in power] == [v201.EVSEType(id=1), v201.EVSEType(id=2)]
    assert [(a.type, a.value) for a in power[0].variable_attribute] == [
        (v201.AttributeEnumType.ACTUAL, "0"),
        (v201.AttributeEnumType.MAX_SET, "22000.0"),
    ]
    characteristics = power[0].variable_characteristics
    assert not isinstance(characteristics, type(UNSET))
    assert characteristics.unit == "W"
    assert characteristics.max_limit == 22000.0
    assert characteristics.supports_monitoring is True
    start = find(result.data, "TxCtrlr", "TxStartPoint").variable_characteristics
    assert not isinstance(start, type(UNSET))
    assert start.values_list == (
        "ParkingBayOccupancy,EVConnected,Authorized,DataSigned,PowerPathClosed,EnergyTransfer"
    )


@pytest.mark.parametrize("base", [Base.FULL_INVENTORY, Base.CONFIGURATION_INVENTORY])
def test_write_only_values_are_never_reported(model: DeviceModel, base: Base) -> None:
    model, _ = store(model, "SecurityCtrlr", "BasicAuthPassword", "s3cr3t-pw")
    data = base_report(model, base).data
    [attribute] = find(data, "SecurityCtrlr", "BasicAuthPassword").variable_attribute
    assert attribute.mutability == Mutability.WRITE_ONLY
    assert attribute.value is UNSET
    assert b"s3cr3t-pw" not in b"".join(encode(d) for d in data)


def test_configuration_inventory_lists_what_the_operator_can_set(model: DeviceModel) -> None:
    data = base_report(model, Base.CONFIGURATION_INVENTORY).data
    listed = names(data)
    assert ("OCPPCommCtrlr", "HeartbeatInterval") in listed
    assert ("SecurityCtrlr", "SecurityProfile") not in listed
    assert ("EVSE", "Power") not in listed
    assert all(
        attribute.mutability in (Mutability.READ_WRITE, Mutability.WRITE_ONLY)
        for d in data
        for attribute in d.variable_attribute
    )


def test_summary_inventory_lists_availability_and_problems(model: DeviceModel) -> None:
    result = base_report(model, Base.SUMMARY_INVENTORY)
    assert result.status == Status.ACCEPTED
    evses = sum(1 for _ in SHAPE.evses)
    connectors = sum(len(e.connectors) for e in SHAPE.evses)
    states = [d for d in result.data if d.variable.name == "AvailabilityState"]
    assert len(states) == 1 + evses + connectors
    assert all(d.variable.name in ("AvailabilityState", "Available") for d in result.data)

    model, _ = store(model, ComponentKey("EVSE", evse=2), "Problem", "true")
    problems = [
        d for d in base_report(model, Base.SUMMARY_INVENTORY).data if d.variable.name == "Problem"
    ]
    assert [d.component.evse for d in problems] == [v201.EVSEType(id=2)]


def test_an_unknown_report_base_is_not_supported(model: DeviceModel) -> None:
    assert base_report(model, "EverythingInventory").status == Status.NOT_SUPPORTED


def test_report_without_filters_is_the_full_inventory(model: DeviceModel) -> None:
    assert report(model) == base_report(model, Base.FULL_INVENTORY)


SELECTIONS = [
    # EVSE with no evse: every EVSE (B08, like N02.FR.15)
    ([(component("EVSE"), variable("Power"))], [("EVSE", 1, None), ("EVSE", 2, None)]),
    ([(component("EVSE", evse=2), variable("Power"))], [("EVSE", 2, None)]),
    # connectorId left out: every connector of that EVSE
    ([(component("Connector", evse=1), variable("ConnectorType"))],
     [("Connector", 1, 1), ("Connector", 1, 2)]),
    ([(component("Connector", evse=1, connector=2), variable("ConnectorType"))],
     [("Connector", 1, 2)]),
    ([(component("Connector", evse=3), variable("ConnectorType"))], []),
]  # fmt: skip


@pytest.mark.parametrize(("selectors", "expected"), SELECTIONS)
def test_report_selects_by_component_and_evse(
    model: DeviceModel,
    selectors: list[tuple[v201.ComponentType, v201.VariableType]],
    expected: list[tuple[str, int, int | None]],
) -> None:
    wanted = [v201.ComponentVariableType(component=c, variable=v) for c, v in selectors]
    result = report(model, wanted)
    found = [
        (d.component.name, d.component.evse.id, d.component.evse.connector_id or None)
        for d in result.data
        if not isinstance(d.component.evse, type(UNSET))
    ]
    assert found == [(name, evse, connector) for name, evse, connector in expected]
    assert len(result.data) == len(expected)
    assert result.status == (Status.ACCEPTED if expected else Status.EMPTY_RESULT_SET)


def test_report_without_variable_instance_gives_every_instance(model: DeviceModel) -> None:
    wanted = [
        v201.ComponentVariableType(
            component=component("DeviceDataCtrlr"), variable=variable("ItemsPerMessage")
        )
    ]
    instances = [d.variable.instance for d in report(model, wanted).data]
    assert instances == ["GetReport", "GetVariables", "SetVariables"]


def test_report_without_variable_gives_every_variable_of_the_component(model: DeviceModel) -> None:
    wanted = [v201.ComponentVariableType(component=component("ReservationCtrlr"))]
    assert names(report(model, wanted).data) == [
        ("ReservationCtrlr", "Enabled"),
        ("ReservationCtrlr", "Available"),
        ("ReservationCtrlr", "NonEvseSpecific"),
    ]


def components_meeting(model: DeviceModel, criteria: list[Criterion]) -> set[ComponentKey]:
    data = report(model, criteria=criteria).data
    return {
        ComponentKey(
            d.component.name,
            None,
            None if isinstance(d.component.evse, type(UNSET)) else d.component.evse.id,
            None
            if isinstance(d.component.evse, type(UNSET))
            else (d.component.evse.connector_id or None),
        )
        for d in data
    }


def test_criteria_enabled_available_active(model: DeviceModel) -> None:
    model, _ = store(model, "AuthCacheCtrlr", "Enabled", "false")
    model, _ = store(model, ComponentKey("EVSE", evse=2), "Available", "false")
    everything = {key for key, _ in model.definitions}
    enabled = components_meeting(model, [Criterion.ENABLED])
    assert enabled == everything - {ComponentKey("AuthCacheCtrlr")}
    available = components_meeting(model, [Criterion.AVAILABLE])
    assert available == everything - {ComponentKey("EVSE", evse=2)}
    # No component has an Active variable: none can be inactive.
    assert components_meeting(model, [Criterion.ACTIVE]) == everything


def test_criteria_problem_and_criteria_combine_with_or(model: DeviceModel) -> None:
    assert report(model, criteria=[Criterion.PROBLEM]).status == Status.EMPTY_RESULT_SET
    model, _ = store(model, "ChargingStation", "Problem", "true")
    model, _ = store(model, "AuthCacheCtrlr", "Enabled", "false")
    assert components_meeting(model, [Criterion.PROBLEM]) == {ComponentKey("ChargingStation")}
    either = components_meeting(model, [Criterion.PROBLEM, Criterion.ENABLED])
    assert ComponentKey("ChargingStation") in either
    assert ComponentKey("AuthCacheCtrlr") not in either


def test_criteria_and_component_variables_together(model: DeviceModel) -> None:
    """TC_B_18: Problem components' EVSE #1 AvailabilityState is empty, Available ones' is not."""
    wanted = [
        v201.ComponentVariableType(
            component=component("EVSE", evse=1), variable=variable("AvailabilityState")
        )
    ]
    assert report(model, wanted, [Criterion.PROBLEM]).status == Status.EMPTY_RESULT_SET
    result = report(model, wanted, [Criterion.AVAILABLE])
    assert result.status == Status.ACCEPTED
    assert names(result.data) == [("EVSE", "AvailabilityState")]


# --- splitting -------------------------------------------------------------------------------


def check_split(
    messages: list[v201.NotifyReportRequest],
    data: list[v201.ReportDataType],
    items_limit: int,
    bytes_limit: int,
    generated_at: datetime = T0,
) -> None:
    assert [m.seq_no for m in messages] == list(range(len(messages)))
    assert [m.tbc for m in messages] == [True] * (len(messages) - 1) + [False]
    assert all(m.request_id == 7 and m.generated_at == generated_at for m in messages)
    joined = [item for m in messages for item in m.report_data or []]
    assert joined == data
    for m in messages:
        raw = encode(m)
        assert len(raw) <= bytes_limit
        assert 1 <= len(m.report_data or []) <= items_limit
        assert decode(raw, v201.NotifyReportRequest) == m


def split(data: list[v201.ReportDataType], items: int, size: int) -> list[v201.NotifyReportRequest]:
    return split_report(
        data, request_id=7, generated_at=T0, items_per_message=items, bytes_per_message=size
    )


def test_split_by_items(model: DeviceModel) -> None:
    data = base_report(model, Base.FULL_INVENTORY).data[:10]
    messages = split(data, 3, 1_000_000)
    assert [len(m.report_data or []) for m in messages] == [3, 3, 3, 1]
    check_split(messages, data, 3, 1_000_000)


def test_split_by_bytes(model: DeviceModel) -> None:
    data = base_report(model, Base.FULL_INVENTORY).data
    messages = split(data, 1000, 3000)
    assert len(messages) > 5
    check_split(messages, data, 1000, 3000)
    # Greedy: the next message's first item would not have fitted in the one before.
    for before, after in pairwise(messages):
        merged = v201.NotifyReportRequest(
            request_id=7,
            generated_at=T0,
            report_data=[*(before.report_data or []), *(after.report_data or [])[:1]],
            seq_no=before.seq_no,
            tbc=True,
        )
        assert len(encode(merged)) > 3000 - 8


def test_split_at_every_limit_near_the_edge(model: DeviceModel) -> None:
    """Sweeping the byte limit byte by byte puts some message within a byte of it: the size
    reckoning (envelope, items, commas, seqNo digits, tbc) must be exact or on the safe side."""
    data = base_report(model, Base.FULL_INVENTORY).data
    for limit in [*range(1200, 1400), *range(4000, 4300)]:
        check_split(split(data, 1000, limit), data, 1000, limit)


def test_one_message_when_everything_fits(model: DeviceModel) -> None:
    data = base_report(model, Base.FULL_INVENTORY).data
    [message] = split(data, len(data), 10_000_000)
    assert message.tbc is False
    assert message.report_data == data


def test_an_item_larger_than_the_limit_goes_alone(model: DeviceModel) -> None:
    data = base_report(model, Base.FULL_INVENTORY).data[:3]
    messages = split(data, 10, 50)
    assert [m.report_data for m in messages] == [[d] for d in data]


def test_split_of_nothing_is_no_message() -> None:
    assert split([], 10, 1000) == []


@pytest.mark.parametrize(("items", "size"), [(0, 1000), (10, 0)])
def test_split_refuses_limits_below_one(model: DeviceModel, items: int, size: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        split(base_report(model, Base.FULL_INVENTORY).data, items, size)


def test_notify_reports_use_the_models_limits(model: DeviceModel) -> None:
    items = ComponentKey("DeviceDataCtrlr")
    model, _ = store(model, items, VariableKey("ItemsPerMessage", "GetReport"), "7")
    model, _ = store(model, items, VariableKey("BytesPerMessage", "GetReport"), "4000")
    data = base_report(model, Base.FULL_INVENTORY).data
    messages = notify_reports(model, data, request_id=7, generated_at=T0)
    check_split(messages, data, 7, 4000)
    assert max(len(m.report_data or []) for m in messages) == 7


FULL = base_report(standard_model(SHAPE), Base.FULL_INVENTORY).data


@given(
    picks=st.lists(st.integers(min_value=0, max_value=len(FULL) - 1), max_size=60),
    items_limit=st.integers(min_value=1, max_value=25),
    extra_bytes=st.integers(min_value=0, max_value=6000),
    seconds=st.integers(min_value=0, max_value=10**9),
)
def test_split_property(picks: list[int], items_limit: int, extra_bytes: int, seconds: int) -> None:
    """Every item once, in order; every message within both limits; seqNo 0..n; tbc."""
    data = [FULL[p] for p in picks]
    generated_at = datetime.fromtimestamp(seconds, tz=UTC)
    # The limit admits the largest single item, so that no item has to go over it.
    alone = [
        encode(
            split_report(
                [d],
                request_id=7,
                generated_at=generated_at,
                items_per_message=1,
                bytes_per_message=1,
            )[0]
        )
        for d in data
    ]
    bytes_limit = max(map(len, alone), default=1) + extra_bytes
    messages = split_report(
        data,
        request_id=7,
        generated_at=generated_at,
        items_per_message=items_limit,
        bytes_per_message=bytes_limit,
    )
    if data:
        check_split(messages, data, items_limit, bytes_limit, generated_at)
    else:
        assert messages == []
