"""N Diagnostics: logs, events, monitoring reports and customer information."""

from __future__ import annotations

from kilowatt.csms.context import Context
from kilowatt.csms.handlers._common import keep
from kilowatt.messages import v201

__all__ = [
    "log_status_notification",
    "notify_customer_information",
    "notify_event",
    "notify_monitoring_report",
]


async def log_status_notification(
    request: v201.LogStatusNotificationRequest, ctx: Context
) -> v201.LogStatusNotificationResponse:
    """N01: the progress of a log upload: kept."""
    await keep(request, ctx, request_id=request.request_id)
    return v201.LogStatusNotificationResponse()


async def notify_event(request: v201.NotifyEventRequest, ctx: Context) -> v201.NotifyEventResponse:
    """N07/N08: monitoring events (thresholds, deltas, hard-wired alerts): kept."""
    await keep(request, ctx)
    return v201.NotifyEventResponse()


async def notify_monitoring_report(
    request: v201.NotifyMonitoringReportRequest, ctx: Context
) -> v201.NotifyMonitoringReportResponse:
    """N02: the monitors installed, in answer to GetMonitoringReport: kept."""
    await keep(request, ctx, request_id=request.request_id)
    return v201.NotifyMonitoringReportResponse()


async def notify_customer_information(
    request: v201.NotifyCustomerInformationRequest, ctx: Context
) -> v201.NotifyCustomerInformationResponse:
    """N09: the customer information asked for with CustomerInformation: kept."""
    await keep(request, ctx, request_id=request.request_id)
    return v201.NotifyCustomerInformationResponse()
