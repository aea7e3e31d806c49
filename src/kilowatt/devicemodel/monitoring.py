"""Variable monitoring (block N): setting, clearing and reporting monitors, and when they fire.

The trigger logic is pure. The station calls `check_monitors` with the changes it made (from
`set_variables` or `store`; `update_actual` does both), `periodic_events` when `due` says, and
gets NotifyEvent eventData back along with the new model. Event ids come from a counter kept in
the model (and persisted with it), so they increase across calls and restarts.

Monitors watch the Actual attribute (N07.FR.16-19). Events of monitors whose severity is above
MonitoringCtrlr.ActiveMonitoringLevel are not reported (N05.FR.03), but the monitor's state moves
on all the same, so that lowering the level later does not report stale crossings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from msgspec import UNSET, UnsetType

from kilowatt.devicemodel.model import (
    ACTUAL,
    AttributeKey,
    ComponentKey,
    DeviceModel,
    Monitor,
    Mutability,
    VariableDefinition,
    VariableKey,
    component_key,
    component_type,
    variable_key,
    variable_type,
)
from kilowatt.devicemodel.reports import matches
from kilowatt.devicemodel.splitting import split_items
from kilowatt.devicemodel.values import parse_number
from kilowatt.devicemodel.variables import Change, store
from kilowatt.messages import v201

__all__ = [
    "MonitoringReport",
    "active_level",
    "check_monitors",
    "clear_variable_monitoring",
    "due",
    "monitoring_report",
    "periodic_events",
    "set_monitoring_base",
    "set_monitoring_level",
    "set_variable_monitoring",
    "split_monitoring_report",
    "update_actual",
]

MonitorType = v201.MonitorEnumType
Kind = v201.EventNotificationEnumType
SetStatus = v201.SetMonitoringStatusEnumType
Trigger = v201.EventTriggerEnumType
MONITORING = ComponentKey("MonitoringCtrlr")
LEVEL = VariableKey("ActiveMonitoringLevel")
BASE = VariableKey("ActiveMonitoringBase")
MAX_SEVERITY = 9
THRESHOLDS = (MonitorType.UPPER_THRESHOLD, MonitorType.LOWER_THRESHOLD)
PERIODIC = (MonitorType.PERIODIC, MonitorType.PERIODIC_CLOCK_ALIGNED)
Transactions = Mapping[int, str]
_NO_TRANSACTIONS: Transactions = {}


# --- SetVariableMonitoring (N04) ---------------------------------------------------------------


def set_variable_monitoring(
    model: DeviceModel, items: Sequence[v201.SetMonitoringDataType], now: datetime
) -> tuple[DeviceModel, list[v201.SetMonitoringResultType]]:
    """Install or replace monitors, one result per item in order (N04.FR.01/02).

    `now` starts the period of a periodic monitor (N08.FR.06).
    """
    monitoring = model.monitoring
    active = dict(monitoring.active)
    next_id = monitoring.next_monitor_id
    results = []
    for item in items:
        status, reason, monitor_id = _set_one(model, active, item, now, next_id)
        if monitor_id == next_id:
            next_id += 1
        results.append(
            v201.SetMonitoringResultType(
                id=UNSET if monitor_id is None else monitor_id,
                status=status,
                status_info=UNSET if reason is None else v201.StatusInfoType(reason_code=reason),
                type=item.type,
                severity=item.severity,
                component=item.component,
                variable=item.variable,
            )
        )
    monitoring = replace(monitoring, active=active, next_monitor_id=next_id)
    return replace(model, monitoring=monitoring), results


def _set_one(
    model: DeviceModel,
    active: dict[int, Monitor],
    item: v201.SetMonitoringDataType,
    now: datetime,
    next_id: int,
) -> tuple[SetStatus, str | None, int | None]:
    """Status, reasonCode and the id of the monitor set (None when refused)."""
    component, variable = component_key(item.component), variable_key(item.variable)
    definition = model.definitions.get((component, variable))
    if definition is None:
        if component in model.components:
            return SetStatus.UNKNOWN_VARIABLE, None, None  # N04.FR.04
        return SetStatus.UNKNOWN_COMPONENT, None, None  # N04.FR.03
    existing: Monitor | None = None
    if not isinstance(item.id, UnsetType):
        existing = active.get(item.id)
        if existing is None:
            return SetStatus.REJECTED, "UnknownMonitorId", None  # N04.FR.13
        if (existing.component, existing.variable) != (component, variable):
            return SetStatus.REJECTED, "OtherVariable", None  # N04.FR.16
        if existing.kind == Kind.HARD_WIRED_MONITOR:
            return SetStatus.REJECTED, "HardWiredMonitor", None  # N04.FR.18
    characteristics = definition.characteristics
    if not characteristics.supports_monitoring:
        return SetStatus.REJECTED, "NoMonitoring", None
    if item.type in THRESHOLDS and not characteristics.numeric:
        return SetStatus.UNSUPPORTED_MONITOR_TYPE, None, None  # N04.FR.05
    reason = _value_refusal(item, definition)
    if reason is not None:
        return SetStatus.REJECTED, reason, None
    replaced_id = None if existing is None else existing.id
    for other in active.values():
        same_place = (other.component, other.variable) == (component, variable)
        if (
            same_place
            and other.id != replaced_id
            and (other.type, other.severity)
            == (
                item.type,
                item.severity,
            )
        ):
            return SetStatus.DUPLICATE, None, None  # N04.FR.10
    current = model.values.get(AttributeKey(component, variable, ACTUAL))
    if existing is None:
        monitor_id = next_id  # N04.FR.11
        tripped = False
    else:
        monitor_id = existing.id  # N04.FR.12
        # N07.FR.11: a changed threshold keeps the tripped state, so that the next evaluation
        # reports it cleared if the new threshold is no longer crossed.
        tripped = existing.tripped
    active[monitor_id] = Monitor(
        id=monitor_id,
        component=component,
        variable=variable,
        type=item.type,
        value=item.value,
        severity=item.severity,
        # N04.FR.15: a replaced preconfigured monitor becomes a custom one.
        kind=Kind.CUSTOM_MONITOR,
        transaction=item.transaction is True,
        tripped=tripped,
        reference=current,
        anchor=now,
    )
    return SetStatus.ACCEPTED, None, monitor_id  # N04.FR.08


def _value_refusal(item: v201.SetMonitoringDataType, definition: VariableDefinition) -> str | None:
    if not 0 <= item.severity <= MAX_SEVERITY:
        return "ValueOutOfRange"
    if item.type == MonitorType.DELTA and item.value < 0:
        return "ValuePositiveOnly"  # N04.FR.14
    if item.type in PERIODIC and item.value <= 0:
        return "ValueZeroNotAllowed"
    if item.type in THRESHOLDS:
        # N04.FR.06: a threshold outside the variable's range could never be crossed.
        low, high = definition.characteristics.min_limit, definition.characteristics.max_limit
        threshold = _decimal(item.value)
        if (low is not None and threshold < low) or (high is not None and threshold > high):
            return "ValueOutOfRange"
    return None


def _decimal(value: float) -> Decimal:
    return Decimal(repr(value))


# --- SetMonitoringBase, SetMonitoringLevel, ClearVariableMonitoring (N03, N05, N06) -----------


def set_monitoring_base(
    model: DeviceModel, base: str
) -> tuple[DeviceModel, v201.GenericDeviceModelStatusEnumType]:
    """All keeps custom monitors and restores the preconfigured ones (N03.FR.03); FactoryDefault
    drops custom monitors and restores the factory set (N03.FR.04); HardWiredOnly keeps only
    the hard-wired monitors (N03.FR.05)."""
    monitoring = model.monitoring
    hard_wired = {m.id: m for m in monitoring.factory if m.kind == Kind.HARD_WIRED_MONITOR}
    preconfigured = {m.id: m for m in monitoring.factory if m.kind == Kind.PRECONFIGURED_MONITOR}
    if base == v201.MonitoringBaseEnumType.ALL:
        active = {**_restarted(model, preconfigured), **monitoring.active}
    elif base == v201.MonitoringBaseEnumType.FACTORY_DEFAULT:
        active = _restarted(model, {**hard_wired, **preconfigured})
    elif base == v201.MonitoringBaseEnumType.HARD_WIRED_ONLY:
        active = dict(hard_wired)
    else:
        return model, v201.GenericDeviceModelStatusEnumType.NOT_SUPPORTED  # N03.FR.02
    # A hard-wired monitor that stays keeps its state: it never stopped watching.
    for monitor_id in hard_wired:
        active[monitor_id] = monitoring.active.get(monitor_id, hard_wired[monitor_id])
    model = replace(model, monitoring=replace(monitoring, active=active))
    if model.definition(MONITORING, BASE) is not None:
        model = model.with_values({AttributeKey(MONITORING, BASE, ACTUAL): base})
    return model, v201.GenericDeviceModelStatusEnumType.ACCEPTED  # N03.FR.01


def _restarted(model: DeviceModel, monitors: Mapping[int, Monitor]) -> dict[int, Monitor]:
    """Factory monitors as they start again: a Delta from the current value, untripped."""
    return {
        monitor_id: replace(
            monitor,
            reference=model.values[AttributeKey(monitor.component, monitor.variable, ACTUAL)],
        )
        for monitor_id, monitor in monitors.items()
    }


def set_monitoring_level(
    model: DeviceModel, severity: int
) -> tuple[DeviceModel, v201.GenericStatusEnumType]:
    """Report only events of severity <= `severity` from now on (N05.FR.01/03); a severity out
    of 0..9, or a model without MonitoringCtrlr.ActiveMonitoringLevel, is Rejected (N05.FR.02)."""
    if not 0 <= severity <= MAX_SEVERITY or model.definition(MONITORING, LEVEL) is None:
        return model, v201.GenericStatusEnumType.REJECTED
    model = model.with_values({AttributeKey(MONITORING, LEVEL, ACTUAL): str(severity)})
    return model, v201.GenericStatusEnumType.ACCEPTED


def active_level(model: DeviceModel) -> int:
    """The highest severity reported; every severity when the model has no level variable."""
    if model.definition(MONITORING, LEVEL) is None:
        return MAX_SEVERITY
    return model.int_value(MONITORING, LEVEL)


def clear_variable_monitoring(
    model: DeviceModel, ids: Iterable[int]
) -> tuple[DeviceModel, list[v201.ClearMonitoringResultType]]:
    """One result per id (N06.FR.05): Accepted and removed, NotFound (N06.FR.02), or Rejected
    for a hard-wired monitor (N06.FR.03). A cleared tripped threshold reports no cleared event
    (N07.FR.12): it is simply gone."""
    Status = v201.ClearMonitoringStatusEnumType
    active = dict(model.monitoring.active)
    results = []
    for monitor_id in ids:
        monitor = active.get(monitor_id)
        if monitor is None:
            status = Status.NOT_FOUND
        elif monitor.kind == Kind.HARD_WIRED_MONITOR:
            status = Status.REJECTED
        else:
            del active[monitor_id]
            status = Status.ACCEPTED  # N06.FR.01
        results.append(v201.ClearMonitoringResultType(status=status, id=monitor_id))
    return replace(model, monitoring=replace(model.monitoring, active=active)), results


# --- GetMonitoringReport (N02) -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MonitoringReport:
    status: v201.GenericDeviceModelStatusEnumType
    data: list[v201.MonitoringDataType]


_CRITERIA = {
    v201.MonitoringCriterionEnumType.THRESHOLD_MONITORING: THRESHOLDS,  # N02.FR.12
    v201.MonitoringCriterionEnumType.DELTA_MONITORING: (MonitorType.DELTA,),  # N02.FR.13
    v201.MonitoringCriterionEnumType.PERIODIC_MONITORING: PERIODIC,  # N02.FR.14
}


def monitoring_report(
    model: DeviceModel,
    criteria: Sequence[v201.MonitoringCriterionEnumType] = (),
    component_variables: Sequence[v201.ComponentVariableType] = (),
) -> MonitoringReport:
    """The active monitors of the given kinds on the given variables (each filter: all when
    empty, N02.FR.05/06/08/11), grouped per variable; EmptyResultSet when none (N02.FR.10)."""
    types = {t for criterion in criteria for t in _CRITERIA[criterion]}
    grouped: dict[tuple[ComponentKey, VariableKey], list[v201.VariableMonitoringType]] = {}
    for monitor in sorted(model.monitoring.active.values(), key=lambda m: m.id):
        if types and monitor.type not in types:
            continue
        if component_variables and not any(
            matches(selector, monitor.component, monitor.variable)
            for selector in component_variables
        ):
            continue
        grouped.setdefault((monitor.component, monitor.variable), []).append(
            v201.VariableMonitoringType(
                id=monitor.id,
                transaction=monitor.transaction,
                value=monitor.value,
                type=monitor.type,
                severity=monitor.severity,
            )
        )
    data = [
        v201.MonitoringDataType(
            component=component_type(component),
            variable=variable_type(variable),
            variable_monitoring=monitors,
        )
        for (component, variable), monitors in grouped.items()
    ]
    status = v201.GenericDeviceModelStatusEnumType
    return MonitoringReport(status.ACCEPTED if data else status.EMPTY_RESULT_SET, data)


def split_monitoring_report(
    data: Sequence[v201.MonitoringDataType],
    *,
    request_id: int,
    generated_at: datetime,
    items_per_message: int,
    bytes_per_message: int,
) -> list[v201.NotifyMonitoringReportRequest]:
    """NotifyMonitoringReport payloads carrying `data` in order, within the given limits."""

    def build(
        chunk: list[v201.MonitoringDataType], seq_no: int, tbc: bool
    ) -> v201.NotifyMonitoringReportRequest:
        return v201.NotifyMonitoringReportRequest(
            request_id=request_id, generated_at=generated_at, monitor=chunk, seq_no=seq_no, tbc=tbc
        )

    return split_items(data, build, items_per_message, bytes_per_message)


# --- Trigger logic (N07, N08) ------------------------------------------------------------------


class _Events:
    """Collects the events of one evaluation, numbering those the active level lets through."""

    def __init__(self, model: DeviceModel, now: datetime, transactions: Transactions) -> None:
        self.model = model
        self.now = now
        self.transactions = transactions
        self.level = active_level(model)
        self.next_event_id = model.monitoring.next_event_id
        self.active = dict(model.monitoring.active)
        self.events: list[v201.EventDataType] = []

    def watching(self, monitor: Monitor) -> bool:
        """A transaction monitor watches only while a transaction runs where it looks."""
        if not monitor.transaction:
            return True
        evse = monitor.component.evse
        return bool(self.transactions) if evse is None else evse in self.transactions

    def add(self, monitor: Monitor, trigger: Trigger, cleared: bool | None = None) -> None:
        if monitor.severity > self.level:
            return  # N05.FR.03, N07.FR.15
        definition = self.model.definitions[(monitor.component, monitor.variable)]
        flags = definition.attributes.get(ACTUAL)
        actual = ""
        # N07.FR.10: the value of a WriteOnly variable is not given out in an event either.
        if flags is not None and flags.mutability != Mutability.WRITE_ONLY:
            actual = self.model.values[AttributeKey(monitor.component, monitor.variable, ACTUAL)]
        evse = monitor.component.evse
        transaction_id = None if evse is None else self.transactions.get(evse)
        self.events.append(
            v201.EventDataType(
                event_id=self.next_event_id,
                timestamp=self.now,
                trigger=trigger,
                actual_value=actual[:2500],
                cleared=UNSET if cleared is None else cleared,
                transaction_id=UNSET if transaction_id is None else transaction_id,
                component=component_type(monitor.component),
                variable_monitoring_id=monitor.id,  # N07.FR.06
                event_notification_type=monitor.kind,
                variable=variable_type(monitor.variable),
            )
        )
        self.next_event_id += 1

    def result(self) -> tuple[DeviceModel, list[v201.EventDataType]]:
        monitoring = replace(
            self.model.monitoring, active=self.active, next_event_id=self.next_event_id
        )
        return replace(self.model, monitoring=monitoring), self.events


def check_monitors(
    model: DeviceModel,
    now: datetime,
    changes: Iterable[Change] | None = None,
    transactions: Transactions = _NO_TRANSACTIONS,
) -> tuple[DeviceModel, list[v201.EventDataType]]:
    """The threshold and delta events that the current Actual values cause.

    Args:
        changes: what changed (only the monitors of those variables are evaluated); None
            evaluates every threshold and delta monitor, e.g. after SetVariableMonitoring
            (N07.FR.11) or after a restart (N07.FR.14).
        transactions: the transactionId running on each EVSE id: transaction monitors watch
            only then, and events on an EVSE's components carry its transactionId.
    """
    changed = None
    if changes is not None:
        changed = {(c.component, c.variable) for c in changes if c.key.attribute == ACTUAL}
    events = _Events(model, now, transactions)
    for monitor in model.monitoring.active.values():
        if monitor.type in PERIODIC or not events.watching(monitor):
            continue
        if changed is not None and (monitor.component, monitor.variable) not in changed:
            continue
        definition = model.definitions[(monitor.component, monitor.variable)]
        value = model.values[AttributeKey(monitor.component, monitor.variable, ACTUAL)]
        if monitor.type == MonitorType.DELTA:
            _check_delta(events, monitor, definition, value)
        else:
            _check_threshold(events, monitor, definition, value)
    return events.result()


def _check_threshold(
    events: _Events, monitor: Monitor, definition: VariableDefinition, value: str
) -> None:
    number = parse_number(value, definition.characteristics.data_type)
    if number is None:
        return
    threshold = _decimal(monitor.value)
    # N07.FR.16/17: beyond the threshold, not at it.
    if monitor.type == MonitorType.UPPER_THRESHOLD:
        beyond = number > threshold
    else:
        beyond = number < threshold
    if beyond == monitor.tripped:
        return
    events.active[monitor.id] = replace(monitor, tripped=beyond)
    # Fires once when crossing, and once more, cleared, when back within (N07.FR.02).
    events.add(monitor, Trigger.ALERTING, cleared=not beyond)


def _check_delta(
    events: _Events, monitor: Monitor, definition: VariableDefinition, value: str
) -> None:
    if value == monitor.reference:
        return
    data_type = definition.characteristics.data_type
    if definition.characteristics.numeric and monitor.reference is not None:
        number = parse_number(value, data_type)
        reference = parse_number(monitor.reference, data_type)
        # N07.FR.18: a number fires when it moved by the monitor's value since the reference.
        if number is None or (
            reference is not None and abs(number - reference) < _decimal(monitor.value)
        ):
            return
    # N07.FR.19: any other value fires on every change, whatever the monitor's value.
    events.active[monitor.id] = replace(monitor, reference=value)
    events.add(monitor, Trigger.DELTA)


def update_actual(
    model: DeviceModel,
    component: ComponentKey | str,
    variable: VariableKey | str,
    value: str,
    now: datetime,
    transactions: Transactions = _NO_TRANSACTIONS,
) -> tuple[DeviceModel, list[v201.EventDataType]]:
    """The station's own write of an Actual value (`store`), then its monitors' events."""
    model, changes = store(model, component, variable, value)
    if not changes:
        return model, []
    return check_monitors(model, now, changes, transactions)


def _next_fire(monitor: Monitor, anchor: datetime) -> datetime:
    interval = timedelta(seconds=monitor.value)
    if monitor.type == MonitorType.PERIODIC:
        return anchor + interval  # N08.FR.06
    # N08.FR.07: on the clock: multiples of the interval from midnight (of the anchor's own
    # offset), starting again at each midnight when the interval does not divide a day.
    midnight = anchor.replace(hour=0, minute=0, second=0, microsecond=0)
    elapsed = anchor - midnight
    aligned = midnight + interval * (elapsed // interval + 1)
    return min(aligned, midnight + timedelta(days=1))


def due(model: DeviceModel, now: datetime) -> datetime | None:
    """When `periodic_events` next has something to do; None without periodic monitors.

    A periodic monitor that has no start yet (a factory one) counts from `now`: call
    `periodic_events` at the time given, which starts it.
    """
    times = [
        _next_fire(monitor, now if monitor.anchor is None else monitor.anchor)
        for monitor in model.monitoring.active.values()
        if monitor.type in PERIODIC
    ]
    return min(times, default=None)


def periodic_events(
    model: DeviceModel, now: datetime, transactions: Transactions = _NO_TRANSACTIONS
) -> tuple[DeviceModel, list[v201.EventDataType]]:
    """The Periodic events due at `now` (N08.FR.05-07), each reporting the current value.

    A periodic monitor without a start is started at `now`. One that is late fires once, and
    its next time counts from when it was due, or from `now` if it missed a whole period.
    """
    events = _Events(model, now, transactions)
    for monitor in model.monitoring.active.values():
        if monitor.type not in PERIODIC:
            continue
        if monitor.anchor is None:
            events.active[monitor.id] = replace(monitor, anchor=now)
            continue
        scheduled = _next_fire(monitor, monitor.anchor)
        if scheduled > now:
            continue
        anchor = scheduled if _next_fire(monitor, scheduled) > now else now
        events.active[monitor.id] = replace(monitor, anchor=anchor)
        if events.watching(monitor):
            events.add(monitor, Trigger.PERIODIC)
    return events.result()
