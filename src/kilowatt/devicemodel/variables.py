"""GetVariables and SetVariables (B06, B05), and the station's own writes.

`set_variables` returns the new model with the list of changes, so that the station can apply
what changed (a new HeartbeatInterval restarts its heartbeat timer) after swapping its model, and
pass the changes on to `check_monitors`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from msgspec import UNSET, UnsetType

from kilowatt.devicemodel.model import (
    ACTUAL,
    AttributeKey,
    ComponentKey,
    DeviceModel,
    Mutability,
    VariableDefinition,
    VariableKey,
    component_key,
    variable_key,
)
from kilowatt.devicemodel.values import Refusal, check_value
from kilowatt.messages import v201

__all__ = [
    "Change",
    "SetVariablesOutcome",
    "get_variables",
    "reporting_value_size",
    "set_variables",
    "store",
]

DEVICE_DATA = ComponentKey("DeviceDataCtrlr")
# The schema's own limits: SetVariableData.attributeValue <= 1000, reported values <= 2500.
_SCHEMA_CONFIGURATION_SIZE = 1000
_SCHEMA_REPORTING_SIZE = 2500

GetStatus = v201.GetVariableStatusEnumType
SetStatus = v201.SetVariableStatusEnumType


@dataclass(frozen=True, slots=True)
class Change:
    """One attribute that took a new value."""

    key: AttributeKey
    value: str
    reboot_required: bool = False

    @property
    def component(self) -> ComponentKey:
        return self.key.component

    @property
    def variable(self) -> VariableKey:
        return self.key.variable


@dataclass(frozen=True, slots=True)
class SetVariablesOutcome:
    model: DeviceModel
    results: list[v201.SetVariableResultType]
    changes: list[Change]


def attribute_of(attribute_type: v201.AttributeEnumType | UnsetType) -> v201.AttributeEnumType:
    # Absent attributeType means Actual (Part 2, GetVariableDataType/SetVariableDataType).
    return ACTUAL if isinstance(attribute_type, UnsetType) else attribute_type


def _size_limit(model: DeviceModel, variable: str, schema_limit: int) -> int:
    limit = schema_limit
    for name in (variable, "ValueSize"):
        definition = model.definition(DEVICE_DATA, name)
        if definition is not None and ACTUAL in definition.attributes:
            value = model.value(DEVICE_DATA, name)
            if value.isdigit():
                limit = min(limit, int(value))
    return limit


def reporting_value_size(model: DeviceModel) -> int:
    """How many characters of a value GetVariables and reports give (ReportingValueSize)."""
    return _size_limit(model, "ReportingValueSize", _SCHEMA_REPORTING_SIZE)


def _lookup(
    model: DeviceModel, component: ComponentKey, variable: VariableKey
) -> VariableDefinition | GetStatus:
    definition = model.definitions.get((component, variable))
    if definition is not None:
        return definition
    if component in model.components:
        return GetStatus.UNKNOWN_VARIABLE  # B06.FR.07, B05.FR.05
    return GetStatus.UNKNOWN_COMPONENT  # B06.FR.06, B05.FR.04


def get_variables(
    model: DeviceModel, items: Iterable[v201.GetVariableDataType]
) -> list[v201.GetVariableResultType]:
    """One result per item, in order, echoing its component and variable (B06.FR.01/02)."""
    value_size = reporting_value_size(model)
    results = []
    for item in items:
        attribute = attribute_of(item.attribute_type)
        found = _lookup(model, component_key(item.component), variable_key(item.variable))
        value: str | UnsetType = UNSET
        info: v201.StatusInfoType | UnsetType = UNSET
        if isinstance(found, GetStatus):
            status = found
        elif attribute not in found.attributes:
            status = GetStatus.NOT_SUPPORTED_ATTRIBUTE_TYPE  # B06.FR.08
        elif found.attributes[attribute].mutability == Mutability.WRITE_ONLY:
            status = GetStatus.REJECTED  # B06.FR.09: a WriteOnly value is never given out
            info = v201.StatusInfoType(reason_code="WriteOnly")
        else:
            status = GetStatus.ACCEPTED
            # B06.FR.13: a supported attribute without a value reads as the empty string.
            key = AttributeKey(found.component, found.variable, attribute)
            value = model.values[key][:value_size]
        results.append(
            v201.GetVariableResultType(
                attribute_status=status,
                attribute_status_info=info,
                attribute_type=item.attribute_type,
                attribute_value=value,
                component=item.component,
                variable=item.variable,
            )
        )
    return results


def set_variables(
    model: DeviceModel, items: Sequence[v201.SetVariableDataType]
) -> SetVariablesOutcome:
    """Apply the items in order; each is accepted or refused on its own (B05.FR.01/02)."""
    value_size = _size_limit(model, "ConfigurationValueSize", _SCHEMA_CONFIGURATION_SIZE)
    pending: dict[AttributeKey, str] = {}
    changes: list[Change] = []
    results = []
    for item in items:
        attribute = attribute_of(item.attribute_type)
        found = _lookup(model, component_key(item.component), variable_key(item.variable))
        refusal: Refusal | None = None
        if isinstance(found, GetStatus):
            status = SetStatus(found.value)
        elif attribute not in found.attributes:
            status = SetStatus.NOT_SUPPORTED_ATTRIBUTE_TYPE  # B05.FR.06
        else:
            refusal = _refusal(found, attribute, item.attribute_value, value_size)
            if refusal is not None:
                status = SetStatus.REJECTED  # B05.FR.07, B05.FR.08
            else:
                key = AttributeKey(found.component, found.variable, attribute)
                if pending.get(key, model.values[key]) != item.attribute_value:
                    pending[key] = item.attribute_value
                    changes.append(Change(key, item.attribute_value, found.reboot_required))
                # B05.FR.09: stored now, in effect after the reboot.
                status = SetStatus.REBOOT_REQUIRED if found.reboot_required else SetStatus.ACCEPTED
        results.append(
            v201.SetVariableResultType(
                attribute_type=item.attribute_type,
                attribute_status=status,
                attribute_status_info=_status_info(refusal),
                component=item.component,
                variable=item.variable,
            )
        )
    return SetVariablesOutcome(model.with_values(pending), results, changes)


def _refusal(
    definition: VariableDefinition,
    attribute: v201.AttributeEnumType,
    value: str,
    value_size: int,
) -> Refusal | None:
    flags = definition.attributes[attribute]
    if flags.mutability == Mutability.READ_ONLY or flags.constant:
        return Refusal("ReadOnly", f"{definition.variable.name} is read-only")
    if len(value) > value_size:
        return Refusal(
            "TooLargeElement", f"{len(value)} characters, ConfigurationValueSize is {value_size}"
        )
    return check_value(definition.characteristics, value)


def _status_info(refusal: Refusal | None) -> v201.StatusInfoType | UnsetType:
    if refusal is None:
        return UNSET
    return v201.StatusInfoType(
        reason_code=refusal.reason_code, additional_info=refusal.additional_info[:512]
    )


def store(
    model: DeviceModel,
    component: ComponentKey | str,
    variable: VariableKey | str,
    value: str,
    attribute: v201.AttributeEnumType = ACTUAL,
) -> tuple[DeviceModel, list[Change]]:
    """The station's own write (a measured Power, a new AvailabilityState): mutability does not
    apply, the characteristics do.

    Raises:
        KeyError: the model has no such attribute.
        ValueError: the value does not fit the variable's characteristics.
    """
    component = ComponentKey(component) if isinstance(component, str) else component
    variable = VariableKey(variable) if isinstance(variable, str) else variable
    key = AttributeKey(component, variable, attribute)
    definition = model.definitions[(component, variable)]
    if attribute not in definition.attributes:
        raise KeyError(key)
    refusal = check_value(definition.characteristics, value)
    if refusal is not None:
        raise ValueError(f"{component.name}.{variable.name}: {refusal.additional_info}")
    if model.values[key] == value:
        return model, []
    return model.with_values({key: value}), [Change(key, value, definition.reboot_required)]
