"""GetBaseReport and GetReport (B07, B08): the ReportData lists, and the NotifyReport messages.

The value of a WriteOnly attribute is never reported: the attribute is listed with its
mutability and without its value (B08.FR.03 as amended by the 2.0.1 errata).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from msgspec import UNSET, UnsetType

from kilowatt.devicemodel.model import (
    ACTUAL,
    AttributeKey,
    ComponentKey,
    DeviceModel,
    Mutability,
    VariableDefinition,
    VariableKey,
    component_type,
    variable_type,
)
from kilowatt.devicemodel.splitting import split_items
from kilowatt.devicemodel.variables import DEVICE_DATA, reporting_value_size
from kilowatt.messages import v201

__all__ = [
    "ReportResult",
    "base_report",
    "matches",
    "notify_reports",
    "report",
    "report_limits",
    "split_report",
]

Status = v201.GenericDeviceModelStatusEnumType
Criterion = v201.ComponentCriterionEnumType
Base = v201.ReportBaseEnumType
# SummaryInventory: what tells the charging availability (AvailabilityState, Available) and any
# problem condition (a Problem variable that is true).
_AVAILABILITY = frozenset({"AvailabilityState", "Available"})


@dataclass(frozen=True, slots=True)
class ReportResult:
    """The GetBaseReport/GetReport status and, when Accepted, the data to send."""

    status: v201.GenericDeviceModelStatusEnumType
    data: list[v201.ReportDataType]


AttributeFilter = Callable[[VariableDefinition, v201.AttributeEnumType], bool]


def _every_attribute(definition: VariableDefinition, attribute: v201.AttributeEnumType) -> bool:
    return True


def _writable(definition: VariableDefinition, attribute: v201.AttributeEnumType) -> bool:
    return definition.attributes[attribute].mutability != Mutability.READ_ONLY


def base_report(model: DeviceModel, report_base: str) -> ReportResult:
    """The report of a GetBaseReport (B07).

    ConfigurationInventory lists the attributes the operator can set (ReadWrite, WriteOnly);
    FullInventory lists everything; SummaryInventory the availability and problem variables.
    A base this function does not know is NotSupported.
    """
    if report_base == Base.FULL_INVENTORY:
        return _result(_collect(model, list(model.definitions.values()), _every_attribute))
    if report_base == Base.CONFIGURATION_INVENTORY:
        return _result(_collect(model, list(model.definitions.values()), _writable))
    if report_base == Base.SUMMARY_INVENTORY:
        chosen = [
            definition
            for definition in model.definitions.values()
            if definition.variable.name in _AVAILABILITY
            or (definition.variable.name == "Problem" and _is_true(model, definition))
        ]
        return _result(_collect(model, chosen, _every_attribute))
    return ReportResult(Status.NOT_SUPPORTED, [])


def report(
    model: DeviceModel,
    component_variables: Sequence[v201.ComponentVariableType] = (),
    criteria: Sequence[v201.ComponentCriterionEnumType] = (),
) -> ReportResult:
    """The report of a GetReport (B08): the variables named by `component_variables` (all when
    empty) of the components meeting any of `criteria` (all when empty).

    A component meets Active, Available or Enabled when that variable is true or when it has no
    such variable (a component that cannot be switched off is on), and Problem when its Problem
    variable is true.
    """
    met: dict[ComponentKey, bool] = {}
    chosen = []
    for definition in model.definitions.values():
        component = definition.component
        if criteria:
            if component not in met:
                met[component] = any(_meets(model, component, c) for c in criteria)
            if not met[component]:
                continue
        if component_variables and not any(
            matches(selector, component, definition.variable) for selector in component_variables
        ):
            continue
        chosen.append(definition)
    return _result(_collect(model, chosen, _every_attribute))


def matches(
    selector: v201.ComponentVariableType, component: ComponentKey, variable: VariableKey
) -> bool:
    """Whether a ComponentVariable names this variable. What it leaves out matches anything:
    any instance, any EVSE or connector, any variable (B08, like N02.FR.15-17 for monitors)."""
    wanted = selector.component
    if wanted.name != component.name:
        return False
    if not isinstance(wanted.instance, UnsetType) and wanted.instance != component.instance:
        return False
    evse = wanted.evse
    if not isinstance(evse, UnsetType):
        if evse.id != component.evse:
            return False
        if (
            not isinstance(evse.connector_id, UnsetType)
            and evse.connector_id != component.connector
        ):
            return False
    wanted_variable = selector.variable
    if isinstance(wanted_variable, UnsetType):
        return True
    if wanted_variable.name != variable.name:
        return False
    return isinstance(wanted_variable.instance, UnsetType) or (
        wanted_variable.instance == variable.instance
    )


def _meets(model: DeviceModel, component: ComponentKey, criterion: Criterion) -> bool:
    definition = model.definitions.get((component, VariableKey(criterion.value)))
    if definition is None or ACTUAL not in definition.attributes:
        return criterion != Criterion.PROBLEM
    return _is_true(model, definition)


def _is_true(model: DeviceModel, definition: VariableDefinition) -> bool:
    key = AttributeKey(definition.component, definition.variable, ACTUAL)
    return model.values.get(key) == "true"


def _result(data: list[v201.ReportDataType]) -> ReportResult:
    return ReportResult(Status.ACCEPTED if data else Status.EMPTY_RESULT_SET, data)


def _collect(
    model: DeviceModel, definitions: Sequence[VariableDefinition], keep: AttributeFilter
) -> list[v201.ReportDataType]:
    value_size = reporting_value_size(model)
    data = []
    for definition in definitions:
        attributes = [
            _attribute(model, definition, attribute, value_size)
            for attribute in definition.attributes
            if keep(definition, attribute)
        ]
        if attributes:
            data.append(
                v201.ReportDataType(
                    component=component_type(definition.component),
                    variable=variable_type(definition.variable),
                    variable_attribute=attributes,
                    variable_characteristics=_characteristics(definition),
                )
            )
    return data


def _attribute(
    model: DeviceModel,
    definition: VariableDefinition,
    attribute: v201.AttributeEnumType,
    value_size: int,
) -> v201.VariableAttributeType:
    flags = definition.attributes[attribute]
    value: str | UnsetType = UNSET
    if flags.mutability != Mutability.WRITE_ONLY:
        key = AttributeKey(definition.component, definition.variable, attribute)
        value = model.values[key][:value_size]
    return v201.VariableAttributeType(
        type=attribute,
        value=value,
        mutability=flags.mutability,
        persistent=flags.persistent,
        constant=flags.constant,
    )


def _characteristics(definition: VariableDefinition) -> v201.VariableCharacteristicsType:
    c = definition.characteristics
    return v201.VariableCharacteristicsType(
        data_type=c.data_type,
        unit=UNSET if c.unit is None else c.unit,
        min_limit=UNSET if c.min_limit is None else float(c.min_limit),
        max_limit=UNSET if c.max_limit is None else float(c.max_limit),
        values_list=UNSET if c.values_list is None else ",".join(c.values_list),
        supports_monitoring=c.supports_monitoring,
    )


def split_report(
    data: Sequence[v201.ReportDataType],
    *,
    request_id: int,
    generated_at: datetime,
    items_per_message: int,
    bytes_per_message: int,
) -> list[v201.NotifyReportRequest]:
    """NotifyReport payloads carrying `data` in order, within the given limits."""

    def build(chunk: list[v201.ReportDataType], seq_no: int, tbc: bool) -> v201.NotifyReportRequest:
        return v201.NotifyReportRequest(
            request_id=request_id,
            generated_at=generated_at,
            report_data=chunk,
            seq_no=seq_no,
            tbc=tbc,
        )

    return split_items(data, build, items_per_message, bytes_per_message)


def report_limits(model: DeviceModel) -> tuple[int, int]:
    """ItemsPerMessage[GetReport] and BytesPerMessage[GetReport] of the model."""
    return (
        model.int_value(DEVICE_DATA, VariableKey("ItemsPerMessage", "GetReport")),
        model.int_value(DEVICE_DATA, VariableKey("BytesPerMessage", "GetReport")),
    )


def notify_reports(
    model: DeviceModel,
    data: Sequence[v201.ReportDataType],
    *,
    request_id: int,
    generated_at: datetime,
) -> list[v201.NotifyReportRequest]:
    """`split_report` with the model's own DeviceDataCtrlr limits for GetReport."""
    items, size = report_limits(model)
    return split_report(
        data,
        request_id=request_id,
        generated_at=generated_at,
        items_per_message=items,
        bytes_per_message=size,
    )
