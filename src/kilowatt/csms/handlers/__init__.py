"""The CSMS's handlers of station-initiated requests, one module per functional block."""

from __future__ import annotations

from kilowatt.csms.context import Context
from kilowatt.csms.handlers import (
    authorization,
    availability,
    data_transfer,
    diagnostics,
    display,
    firmware,
    iso15118,
    meter_values,
    provisioning,
    reservation,
    security,
    smart_charging,
    transactions,
)
from kilowatt.messages import v21, v201
from kilowatt.transport.router import Router

__all__ = ["ocpp_router"]


def ocpp_router() -> Router[Context]:
    """A router for every request an OCPP 2.0.1 station sends, and for the 2.1 requests the
    CSMS handles as 2.1 (the rest of a 2.1 station's requests reach the 2.0.1 handlers through
    messages/bridge.py)."""
    router = Router[Context]()
    router.add(v21.AuthorizeRequest, authorization.authorize_21)
    router.add(v21.TransactionEventRequest, transactions.transaction_event_21)
    router.add(v201.SecurityEventNotificationRequest, security.security_event_notification)
    router.add(v201.SignCertificateRequest, security.sign_certificate)
    router.add(v201.BootNotificationRequest, provisioning.boot_notification)
    router.add(v201.NotifyReportRequest, provisioning.notify_report)
    router.add(v201.AuthorizeRequest, authorization.authorize)
    router.add(v201.TransactionEventRequest, transactions.transaction_event)
    router.add(v201.StatusNotificationRequest, availability.status_notification)
    router.add(v201.HeartbeatRequest, availability.heartbeat)
    router.add(v201.ReservationStatusUpdateRequest, reservation.reservation_status_update)
    router.add(v201.MeterValuesRequest, meter_values.meter_values)
    router.add(v201.NotifyChargingLimitRequest, smart_charging.notify_charging_limit)
    router.add(v201.ClearedChargingLimitRequest, smart_charging.cleared_charging_limit)
    router.add(v201.NotifyEVChargingNeedsRequest, smart_charging.notify_ev_charging_needs)
    router.add(v201.NotifyEVChargingScheduleRequest, smart_charging.notify_ev_charging_schedule)
    router.add(v201.ReportChargingProfilesRequest, smart_charging.report_charging_profiles)
    router.add(v201.FirmwareStatusNotificationRequest, firmware.firmware_status_notification)
    router.add(
        v201.PublishFirmwareStatusNotificationRequest,
        firmware.publish_firmware_status_notification,
    )
    router.add(v201.Get15118EVCertificateRequest, iso15118.get_15118_ev_certificate)
    router.add(v201.GetCertificateStatusRequest, iso15118.get_certificate_status)
    router.add(v201.LogStatusNotificationRequest, diagnostics.log_status_notification)
    router.add(v201.NotifyEventRequest, diagnostics.notify_event)
    router.add(v201.NotifyMonitoringReportRequest, diagnostics.notify_monitoring_report)
    router.add(v201.NotifyCustomerInformationRequest, diagnostics.notify_customer_information)
    router.add(v201.NotifyDisplayMessagesRequest, display.notify_display_messages)
    router.add(v201.DataTransferRequest, data_transfer.data_transfer)
    return router
