"""Block N, monitoring: set, clear and report monitors; the base and the severity level.

The bookkeeping is ``kilowatt.devicemodel``'s; each handler adopts the model it returns. Events
go out through ``station.monitors`` (station/monitoring.py).
"""

from __future__ import annotations

from msgspec import UNSET

from kilowatt.devicemodel import (
    clear_variable_monitoring as clear_monitors,
    monitoring_report,
    report_limits,
    set_monitoring_base as set_base,
    set_monitoring_level as set_level,
    set_variable_monitoring as set_monitors,
    split_monitoring_report,
)
from kilowatt.messages import v201
from kilowatt.messages.v201 import GenericDeviceModelStatusEnumType as ReportStatus
from kilowatt.station.monitoring import MONITORING
from kilowatt.station.station import Station

__all__ = [
    "clear_variable_monitoring",
    "get_monitoring_report",
    "set_monitoring_base",
    "set_monitoring_level",
    "set_variable_monitoring",
]


def _supported(station: Station) -> bool:
    """Monitoring is there when the model has a MonitoringCtrlr."""
    return station.model.definition(MONITORING, "ActiveMonitoringLevel") is not None


def _not_enabled() -> v201.StatusInfoType:
    return v201.StatusInfoType(
        reason_code="NotEnabled", additional_info="MonitoringCtrlr.Enabled is false"
    )


async def set_variable_monitoring(
    request: v201.SetVariableMonitoringRequest, station: Station
) -> v201.SetVariableMonitoringResponse:
    """N04: one result per item; then every threshold is evaluated, so that one set below the
    current value reports at once (N07.FR.11)."""
    if not station.monitors.enabled():
        return v201.SetVariableMonitoringResponse(
            set_monitoring_result=[
                v201.SetMonitoringResultType(
                    status=v201.SetMonitoringStatusEnumType.REJECTED,
                    status_info=_not_enabled(),
                    type=item.type,
                    severity=item.severity,
                    component=item.component,
                    variable=item.variable,
                )
                for item in request.set_monitoring_data
            ]
        )
    model, results = set_monitors(station.model, request.set_monitoring_data, station.clock.now())
    station.set_model(model)
    station.monitors.evaluate()
    station.monitors.wake()  # a periodic monitor may be due earlier now
    return v201.SetVariableMonitoringResponse(set_monitoring_result=results)


async def set_monitoring_base(
    request: v201.SetMonitoringBaseRequest, station: Station
) -> v201.SetMonitoringBaseResponse:
    """N03: All, FactoryDefault or HardWiredOnly."""
    if not _supported(station):
        return v201.SetMonitoringBaseResponse(status=ReportStatus.NOT_SUPPORTED)
    if not station.monitors.enabled():
        return v201.SetMonitoringBaseResponse(
            status=ReportStatus.REJECTED, status_info=_not_enabled()
        )
    model, status = set_base(station.model, request.monitoring_base)
    station.set_model(model)
    if status == ReportStatus.ACCEPTED:
        station.monitors.evaluate()
        station.monitors.wake()
    return v201.SetMonitoringBaseResponse(status=status)


async def set_monitoring_level(
    request: v201.SetMonitoringLevelRequest, station: Station
) -> v201.SetMonitoringLevelResponse:
    """N05: report only events of severity <= the level; out of 0..9 is Rejected."""
    model, status = set_level(station.model, request.severity)
    station.set_model(model)
    return v201.SetMonitoringLevelResponse(status=status)


async def clear_variable_monitoring(
    request: v201.ClearVariableMonitoringRequest, station: Station
) -> v201.ClearVariableMonitoringResponse:
    """N06: Accepted, NotFound, or Rejected for a hard-wired monitor, per id."""
    model, results = clear_monitors(station.model, request.id)
    station.set_model(model)
    station.monitors.wake()
    return v201.ClearVariableMonitoringResponse(clear_monitoring_result=results)


async def get_monitoring_report(
    request: v201.GetMonitoringReportRequest, station: Station
) -> v201.GetMonitoringReportResponse:
    """N02: Accepted then NotifyMonitoringReport parts, or EmptyResultSet; Rejected while
    MonitoringCtrlr.Enabled is false, NotSupported on a station without monitoring."""
    if not _supported(station):
        return v201.GetMonitoringReportResponse(status=ReportStatus.NOT_SUPPORTED)
    if not station.monitors.enabled():
        return v201.GetMonitoringReportResponse(
            status=ReportStatus.REJECTED, status_info=_not_enabled()
        )
    criteria = request.monitoring_criteria if request.monitoring_criteria is not UNSET else []
    selectors = request.component_variable if request.component_variable is not UNSET else []
    result = monitoring_report(station.model, criteria, selectors)
    if result.status != ReportStatus.ACCEPTED:
        return v201.GetMonitoringReportResponse(status=result.status)
    items, size = report_limits(station.model)
    reports = split_monitoring_report(
        result.data,
        request_id=request.request_id,
        generated_at=station.clock.now(),
        items_per_message=items,
        bytes_per_message=size,
    )

    async def send() -> None:
        for report in reports:
            await station.send(report)

    station.spawn(send())
    return v201.GetMonitoringReportResponse(status=ReportStatus.ACCEPTED)
