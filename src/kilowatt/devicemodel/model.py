"""The device model as an immutable value: definitions shared, values copied on write.

OCPP 2.0.1 Part 1 §3 (device model): a Component (name, instance, EVSE/connector) holds
Variables (name, instance); a Variable has up to four attributes (Actual, Target, MinSet, MaxSet),
each with a mutability, persistent and constant flag, and one set of characteristics.

A `DeviceModel` splits into what never changes while the station runs (the definitions, built
once from the catalogue and shared by every version of the model) and what does (the values, one
dict keyed by (component, variable, attribute)). A change makes a new model with a new values dict
and the same definitions: copying a few hundred references costs microseconds, and in exchange a
station that swaps its model reference once per request never shows a half-applied SetVariables,
a report or the persisted file is a consistent snapshot, and every operation is a pure function
that tests can compare before and after.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple, TypeVar

from msgspec import UNSET, UnsetType

from kilowatt.messages import v201

__all__ = [
    "ACTUAL",
    "AttributeDefinition",
    "AttributeKey",
    "Characteristics",
    "ComponentKey",
    "DeviceModel",
    "Monitor",
    "Monitoring",
    "VariableDefinition",
    "VariableKey",
    "build_model",
    "component_key",
    "component_type",
    "variable_key",
    "variable_type",
]

T = TypeVar("T")
ACTUAL = v201.AttributeEnumType.ACTUAL
Mutability = v201.MutabilityEnumType
DataType = v201.DataEnumType


class ComponentKey(NamedTuple):
    """A component's address: name, instance, and the EVSE (and connector) it belongs to."""

    name: str
    instance: str | None = None
    evse: int | None = None
    connector: int | None = None


class VariableKey(NamedTuple):
    name: str
    instance: str | None = None


class AttributeKey(NamedTuple):
    component: ComponentKey
    variable: VariableKey
    attribute: v201.AttributeEnumType


def component_key(component: v201.ComponentType) -> ComponentKey:
    evse = component.evse
    if evse is UNSET:
        return ComponentKey(component.name, _optional(component.instance))
    return ComponentKey(
        component.name, _optional(component.instance), evse.id, _optional(evse.connector_id)
    )


def variable_key(variable: v201.VariableType) -> VariableKey:
    return VariableKey(variable.name, _optional(variable.instance))


def component_type(key: ComponentKey) -> v201.ComponentType:
    evse: v201.EVSEType | None = None
    if key.evse is not None:
        if key.connector is None:
            evse = v201.EVSEType(id=key.evse)
        else:
            evse = v201.EVSEType(id=key.evse, connector_id=key.connector)
    return v201.ComponentType(
        name=key.name,
        instance=UNSET if key.instance is None else key.instance,
        evse=UNSET if evse is None else evse,
    )


def variable_type(key: VariableKey) -> v201.VariableType:
    return v201.VariableType(
        name=key.name, instance=UNSET if key.instance is None else key.instance
    )


def _optional(value: T | UnsetType) -> T | None:
    return None if isinstance(value, UnsetType) else value


@dataclass(frozen=True, slots=True)
class Characteristics:
    """VariableCharacteristicsType; for a string, max_limit is its maximum length."""

    data_type: v201.DataEnumType
    unit: str | None = None
    min_limit: Decimal | None = None
    max_limit: Decimal | None = None
    values_list: tuple[str, ...] | None = None
    supports_monitoring: bool = False

    @property
    def numeric(self) -> bool:
        return self.data_type in (DataType.INTEGER, DataType.DECIMAL)


@dataclass(frozen=True, slots=True)
class AttributeDefinition:
    mutability: v201.MutabilityEnumType = Mutability.READ_WRITE
    persistent: bool = True
    constant: bool = False


@dataclass(frozen=True, slots=True)
class VariableDefinition:
    """One variable of one component: what it accepts and which attributes it has."""

    component: ComponentKey
    variable: VariableKey
    characteristics: Characteristics
    attributes: Mapping[v201.AttributeEnumType, AttributeDefinition]
    # B05.FR.09 (RebootRequired): a new value is stored but takes effect after a reboot.
    reboot_required: bool = False


@dataclass(frozen=True, slots=True)
class Monitor:
    """A VariableMonitoring setting (block N) and the state its trigger logic keeps.

    `tripped` is whether a threshold monitor has fired and not cleared yet; it is persisted so
    that a threshold that cleared across a reboot is still reported cleared (N07.FR.14).
    `reference` is the value a Delta monitor measures change from: the value when it was set or
    last fired (N07.FR.18). `anchor` is when a periodic monitor was set or last fired (N08.FR.06).
    """

    id: int
    component: ComponentKey
    variable: VariableKey
    type: v201.MonitorEnumType
    value: float
    severity: int
    kind: v201.EventNotificationEnumType = v201.EventNotificationEnumType.CUSTOM_MONITOR
    transaction: bool = False
    tripped: bool = False
    reference: str | None = None
    anchor: datetime | None = None


@dataclass(frozen=True, slots=True)
class Monitoring:
    """Active monitors by id, the factory set (hard-wired and preconfigured), and id counters.

    The event id counter lives here, in the model, so that it is persisted with the model and
    eventIds keep increasing across restarts without the caller tracking anything.
    """

    active: Mapping[int, Monitor] = field(default_factory=dict)
    factory: tuple[Monitor, ...] = ()
    next_monitor_id: int = 1
    next_event_id: int = 1


@dataclass(frozen=True, slots=True)
class DeviceModel:
    """Definitions (static) and values (per attribute) of a station's components and variables.

    Values are the wire strings; typed accessors parse them. Build one with `build_model` or the
    catalogue's `standard_model`; change it with the operations of this package, each of which
    returns a new model.
    """

    definitions: Mapping[tuple[ComponentKey, VariableKey], VariableDefinition]
    components: frozenset[ComponentKey]
    values: Mapping[AttributeKey, str]
    monitoring: Monitoring = field(default_factory=Monitoring)

    def definition(
        self, component: ComponentKey | str, variable: VariableKey | str
    ) -> VariableDefinition | None:
        return self.definitions.get((_component(component), _variable(variable)))

    def value(
        self,
        component: ComponentKey | str,
        variable: VariableKey | str,
        attribute: v201.AttributeEnumType = ACTUAL,
    ) -> str:
        """The attribute's value; KeyError when the model has no such attribute."""
        return self.values[AttributeKey(_component(component), _variable(variable), attribute)]

    def int_value(
        self,
        component: ComponentKey | str,
        variable: VariableKey | str,
        attribute: v201.AttributeEnumType = ACTUAL,
    ) -> int:
        return int(self.value(component, variable, attribute))

    def decimal_value(
        self,
        component: ComponentKey | str,
        variable: VariableKey | str,
        attribute: v201.AttributeEnumType = ACTUAL,
    ) -> Decimal:
        return Decimal(self.value(component, variable, attribute))

    def bool_value(
        self,
        component: ComponentKey | str,
        variable: VariableKey | str,
        attribute: v201.AttributeEnumType = ACTUAL,
    ) -> bool:
        return self.value(component, variable, attribute) == "true"

    def list_value(
        self,
        component: ComponentKey | str,
        variable: VariableKey | str,
        attribute: v201.AttributeEnumType = ACTUAL,
    ) -> tuple[str, ...]:
        """The members of a MemberList/SequenceList (in order), or of any comma-separated value."""
        return split_list(self.value(component, variable, attribute))

    def with_values(self, changes: Mapping[AttributeKey, str]) -> DeviceModel:
        if not changes:
            return self
        return replace(self, values={**self.values, **changes})


def split_list(value: str) -> tuple[str, ...]:
    if not value.strip():
        return ()
    return tuple(member.strip() for member in value.split(","))


def _component(component: ComponentKey | str) -> ComponentKey:
    return ComponentKey(component) if isinstance(component, str) else component


def _variable(variable: VariableKey | str) -> VariableKey:
    return VariableKey(variable) if isinstance(variable, str) else variable


def build_model(
    variables: Iterable[tuple[VariableDefinition, Mapping[v201.AttributeEnumType, str]]],
    factory_monitors: Iterable[Monitor] = (),
) -> DeviceModel:
    """A model from variable definitions and their initial values (missing values are "").

    Factory monitors (hard-wired and preconfigured) are active from the start; custom monitor ids
    are numbered after the highest factory id.
    """
    definitions: dict[tuple[ComponentKey, VariableKey], VariableDefinition] = {}
    values: dict[AttributeKey, str] = {}
    for definition, initial in variables:
        key = (definition.component, definition.variable)
        if key in definitions:
            raise ValueError(f"variable defined twice: {key}")
        definitions[key] = definition
        for attribute in definition.attributes:
            values[AttributeKey(*key, attribute)] = initial.get(attribute, "")
    factory = tuple(factory_monitors)
    for monitor in factory:
        if monitor.kind == v201.EventNotificationEnumType.CUSTOM_MONITOR:
            raise ValueError(f"factory monitor {monitor.id} is a CustomMonitor")
        if (monitor.component, monitor.variable) not in definitions:
            raise ValueError(f"factory monitor {monitor.id} watches an unknown variable")
    ids = [monitor.id for monitor in factory]
    if len(set(ids)) != len(ids):
        raise ValueError("factory monitor ids repeat")
    # A Delta monitor measures change from the value it started with (N07.FR.18).
    active = {
        monitor.id: replace(
            monitor, reference=values[AttributeKey(monitor.component, monitor.variable, ACTUAL)]
        )
        for monitor in factory
    }
    monitoring = Monitoring(
        active=active,
        factory=factory,
        next_monitor_id=max(ids, default=0) + 1,
    )
    return DeviceModel(
        definitions=definitions,
        components=frozenset(component for component, _ in definitions),
        values=values,
        monitoring=monitoring,
    )
