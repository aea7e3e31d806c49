"""The OCPP 2.0.1 device model of a charging station, as pure functions on an immutable value.

    model = standard_model(StationShape(identity="CS-1", vendor_name="Acme", model="M1"))
    outcome = set_variables(model, request.set_variable_data)
    model = outcome.model                     # swap once per request
    for change in outcome.changes:            # react: restart the heartbeat timer, ...
        ...
    model, events = check_monitors(model, now, outcome.changes)

Every operation returns a new model (see model.py for why); times are arguments.
"""

from kilowatt.devicemodel.catalogue import ConnectorShape, EvseShape, StationShape, standard_model
from kilowatt.devicemodel.model import (
    AttributeDefinition,
    AttributeKey,
    Characteristics,
    ComponentKey,
    DeviceModel,
    Monitor,
    Monitoring,
    VariableDefinition,
    VariableKey,
    build_model,
)
from kilowatt.devicemodel.monitoring import (
    MonitoringReport,
    active_level,
    check_monitors,
    clear_variable_monitoring,
    due,
    monitoring_report,
    periodic_events,
    set_monitoring_base,
    set_monitoring_level,
    set_variable_monitoring,
    split_monitoring_report,
    update_actual,
)
from kilowatt.devicemodel.persistence import from_json, to_json
from kilowatt.devicemodel.reports import (
    ReportResult,
    base_report,
    notify_reports,
    report,
    report_limits,
    split_report,
)
from kilowatt.devicemodel.variables import (
    Change,
    SetVariablesOutcome,
    get_variables,
    set_variables,
    store,
)

__all__ = [
    "AttributeDefinition",
    "AttributeKey",
    "Change",
    "Characteristics",
    "ComponentKey",
    "ConnectorShape",
    "DeviceModel",
    "EvseShape",
    "Monitor",
    "Monitoring",
    "MonitoringReport",
    "ReportResult",
    "SetVariablesOutcome",
    "StationShape",
    "VariableDefinition",
    "VariableKey",
    "active_level",
    "base_report",
    "build_model",
    "check_monitors",
    "clear_variable_monitoring",
    "due",
    "from_json",
    "get_variables",
    "monitoring_report",
    "notify_reports",
    "periodic_events",
    "report",
    "report_limits",
    "set_monitoring_base",
    "set_monitoring_level",
    "set_variable_monitoring",
    "set_variables",
    "split_monitoring_report",
    "split_report",
    "standard_model",
    "store",
    "to_json",
    "update_actual",
]
