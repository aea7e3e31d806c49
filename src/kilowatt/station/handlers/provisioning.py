"""Block B, provisioning: variables, reports, reset."""

from __future__ import annotations

from msgspec import UNSET

from kilowatt.devicemodel import (
    base_report,
    get_variables as read_variables,
    notify_reports,
    report,
    set_variables as write_variables,
)
from kilowatt.messages import v201
from kilowatt.messages.v201 import GenericDeviceModelStatusEnumType as ReportStatus
from kilowatt.station.station import Station

__all__ = ["get_base_report", "get_report", "get_variables", "reset", "set_variables"]


async def get_variables(
    request: v201.GetVariablesRequest, station: Station
) -> v201.GetVariablesResponse:
    return v201.GetVariablesResponse(
        get_variable_result=read_variables(station.model, request.get_variable_data)
    )


async def set_variables(
    request: v201.SetVariablesRequest, station: Station
) -> v201.SetVariablesResponse:
    outcome = write_variables(station.model, request.set_variable_data)
    station.set_model(outcome.model)
    station.variables_changed(outcome.changes)
    return v201.SetVariablesResponse(set_variable_result=outcome.results)


async def get_base_report(
    request: v201.GetBaseReportRequest, station: Station
) -> v201.GetBaseReportResponse:
    result = base_report(station.model, request.report_base)
    if result.status == ReportStatus.ACCEPTED:
        _send_reports(station, request.request_id, result.data)
    return v201.GetBaseReportResponse(status=result.status)


async def get_report(request: v201.GetReportRequest, station: Station) -> v201.GetReportResponse:
    selectors = request.component_variable if request.component_variable is not UNSET else []
    criteria = request.component_criteria if request.component_criteria is not UNSET else []
    result = report(station.model, selectors, criteria)
    if result.status == ReportStatus.ACCEPTED:
        _send_reports(station, request.request_id, result.data)
    return v201.GetReportResponse(status=result.status)


def _send_reports(station: Station, request_id: int, data: list[v201.ReportDataType]) -> None:
    # B07.FR.?: the reports follow the response, in seqNo order.
    reports = notify_reports(
        station.model, data, request_id=request_id, generated_at=station.clock.now()
    )

    async def send() -> None:
        for message in reports:
            await station.send(message)

    station.spawn(send())


async def reset(request: v201.ResetRequest, station: Station) -> v201.ResetResponse:
    """B11/B12: Immediate resets now; OnIdle waits for the transactions to end."""
    if request.evse_id is not UNSET:
        evse = station.evses.get(request.evse_id)
        if evse is None:
            return v201.ResetResponse(status=v201.ResetStatusEnumType.REJECTED)
        # B12.FR.?: resetting one EVSE ends its transaction; the station stays connected.
        if evse.transaction is not None:
            if request.type == v201.ResetEnumType.ON_IDLE:
                return v201.ResetResponse(status=v201.ResetStatusEnumType.SCHEDULED)
            station.end_transaction(
                evse, v201.TriggerReasonEnumType.RESET_COMMAND, v201.ReasonEnumType.IMMEDIATE_RESET
            )
        return v201.ResetResponse(status=v201.ResetStatusEnumType.ACCEPTED)
    if request.type == v201.ResetEnumType.ON_IDLE and station.transactions():
        station.reset_scheduled = True  # B11.FR.?: after the last transaction ends
        return v201.ResetResponse(status=v201.ResetStatusEnumType.SCHEDULED)
    station.spawn(station.reboot(v201.BootReasonEnumType.REMOTE_RESET))
    return v201.ResetResponse(status=v201.ResetStatusEnumType.ACCEPTED)
