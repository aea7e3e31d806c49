"""The model's persistent state as JSON bytes, and back (the file itself is the station's).

Only what a reboot must keep is written: the values of persistent, non-constant attributes, the
active monitors with their trigger state (monitors persist across reboots, N07.FR.13, and so does
a tripped threshold, N07.FR.14) and the id counters. Definitions are not written: loading starts
from the catalogue model of the running firmware and lays the stored values over it, so a file
written by another version loads as far as it still fits. A value for a variable the firmware no
longer has, or that its characteristics now refuse, is dropped and the default stays; so is a
monitor on a variable that is gone or no longer monitorable.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import msgspec

from kilowatt.devicemodel.model import (
    AttributeKey,
    ComponentKey,
    DeviceModel,
    Monitor,
    Monitoring,
    VariableKey,
)
from kilowatt.devicemodel.values import check_value
from kilowatt.messages import v201

__all__ = ["FORMAT", "from_json", "to_json"]

FORMAT = 1
HARD_WIRED = v201.EventNotificationEnumType.HARD_WIRED_MONITOR


class _Address(msgspec.Struct, frozen=True, omit_defaults=True, rename="camel"):
    component: str
    variable: str
    component_instance: str | None = None
    evse: int | None = None
    connector: int | None = None
    variable_instance: str | None = None

    @classmethod
    def of(cls, component: ComponentKey, variable: VariableKey) -> _Address:
        return cls(
            component.name,
            variable.name,
            component.instance,
            component.evse,
            component.connector,
            variable.instance,
        )

    def keys(self) -> tuple[ComponentKey, VariableKey]:
        return (
            ComponentKey(self.component, self.component_instance, self.evse, self.connector),
            VariableKey(self.variable, self.variable_instance),
        )


class _Value(msgspec.Struct, frozen=True, omit_defaults=True):
    at: _Address
    value: str
    attribute: v201.AttributeEnumType = v201.AttributeEnumType.ACTUAL


class _Monitor(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    at: _Address
    id: int
    type: v201.MonitorEnumType
    value: float
    severity: int
    kind: v201.EventNotificationEnumType
    transaction: bool = False
    tripped: bool = False
    reference: str | None = None
    anchor: datetime | None = None


class _File(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    format: int = FORMAT
    values: list[_Value] = []
    monitors: list[_Monitor] = []
    next_monitor_id: int = 1
    next_event_id: int = 1


def to_json(model: DeviceModel) -> bytes:
    values = [
        _Value(_Address.of(d.component, d.variable), model.values[key], key.attribute)
        for d in model.definitions.values()
        for key in (AttributeKey(d.component, d.variable, a) for a in d.attributes)
        if d.attributes[key.attribute].persistent and not d.attributes[key.attribute].constant
    ]
    monitors = [
        _Monitor(
            at=_Address.of(m.component, m.variable),
            id=m.id,
            type=m.type,
            value=m.value,
            severity=m.severity,
            kind=m.kind,
            transaction=m.transaction,
            tripped=m.tripped,
            reference=m.reference,
            anchor=m.anchor,
        )
        for m in sorted(model.monitoring.active.values(), key=lambda m: m.id)
    ]
    stored = _File(
        values=values,
        monitors=monitors,
        next_monitor_id=model.monitoring.next_monitor_id,
        next_event_id=model.monitoring.next_event_id,
    )
    return msgspec.json.encode(stored)


def from_json(data: bytes, defaults: DeviceModel) -> DeviceModel:
    """`defaults` (the catalogue model) with the stored state laid over it.

    Raises:
        ValueError: the bytes are not a stored model at all (the station then starts from the
            defaults, or refuses to, as it sees fit).
    """
    try:
        stored = msgspec.json.decode(data, type=_File)
    except msgspec.DecodeError as error:  # ValidationError is a DecodeError
        raise ValueError(f"not a stored device model: {error}") from None
    changes: dict[AttributeKey, str] = {}
    for item in stored.values:
        component, variable = item.at.keys()
        definition = defaults.definitions.get((component, variable))
        if definition is None or item.attribute not in definition.attributes:
            continue
        flags = definition.attributes[item.attribute]
        if not flags.persistent or flags.constant:
            continue
        if check_value(definition.characteristics, item.value) is None:
            changes[AttributeKey(component, variable, item.attribute)] = item.value
    model = defaults.with_values(changes)
    return replace(model, monitoring=_monitoring(stored, defaults))


def _monitoring(stored: _File, defaults: DeviceModel) -> Monitoring:
    factory = defaults.monitoring
    hard_wired = {
        m.id: factory.active.get(m.id, m) for m in factory.factory if m.kind == HARD_WIRED
    }
    active: dict[int, Monitor] = {}
    for item in stored.monitors:
        component, variable = item.at.keys()
        definition = defaults.definitions.get((component, variable))
        if definition is None or not definition.characteristics.supports_monitoring:
            continue
        if item.kind == HARD_WIRED:
            # The firmware defines its hard-wired monitors; the file only keeps their state.
            if item.id not in hard_wired:
                continue
            monitor = replace(
                hard_wired[item.id],
                tripped=item.tripped,
                reference=item.reference,
                anchor=item.anchor,
            )
        else:
            monitor = Monitor(
                id=item.id,
                component=component,
                variable=variable,
                type=item.type,
                value=item.value,
                severity=item.severity,
                kind=item.kind,
                transaction=item.transaction,
                tripped=item.tripped,
                reference=item.reference,
                anchor=item.anchor,
            )
        active[monitor.id] = monitor
    for monitor_id, monitor in hard_wired.items():
        active.setdefault(monitor_id, monitor)
    return replace(
        factory,
        active=active,
        next_monitor_id=max(
            [stored.next_monitor_id, factory.next_monitor_id, *(i + 1 for i in active)]
        ),
        next_event_id=max(stored.next_event_id, factory.next_event_id),
    )
