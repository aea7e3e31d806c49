"""The station's handlers of CSMS-initiated requests, one module per functional block."""

from __future__ import annotations

from kilowatt.messages import v21, v201
from kilowatt.station.handlers import (
    authorization,
    availability,
    data_transfer,
    diagnostics,
    display,
    firmware,
    monitoring,
    network,
    provisioning,
    remote_control,
    reservation,
    security,
    smart_charging,
    tariff_cost,
    tariffs,
    transactions,
)
from kilowatt.station.station import Station
from kilowatt.transport.router import Router

__all__ = ["ocpp201_router"]


def ocpp201_router() -> Router[Station]:
    """A router for every request an OCPP 2.0.1 CSMS sends to a station."""
    router = Router[Station]()
    router.add(v201.GetVariablesRequest, provisioning.get_variables)
    router.add(v201.SetVariablesRequest, provisioning.set_variables)
    router.add(v201.GetBaseReportRequest, provisioning.get_base_report)
    router.add(v201.GetReportRequest, provisioning.get_report)
    router.add(v201.ResetRequest, provisioning.reset)
    router.add(v201.ClearCacheRequest, authorization.clear_cache)
    router.add(v201.SendLocalListRequest, authorization.send_local_list)
    router.add(v201.GetLocalListVersionRequest, authorization.get_local_list_version)
    router.add(v201.ChangeAvailabilityRequest, availability.change_availability)
    router.add(v201.RequestStartTransactionRequest, remote_control.request_start_transaction)
    router.add(v201.RequestStopTransactionRequest, remote_control.request_stop_transaction)
    router.add(v201.UnlockConnectorRequest, remote_control.unlock_connector)
    router.add(v201.TriggerMessageRequest, remote_control.trigger_message)
    router.add(v201.GetTransactionStatusRequest, transactions.get_transaction_status)
    router.add(v201.SetChargingProfileRequest, smart_charging.set_charging_profile)
    router.add(v201.GetChargingProfilesRequest, smart_charging.get_charging_profiles)
    router.add(v201.ClearChargingProfileRequest, smart_charging.clear_charging_profile)
    router.add(v201.GetCompositeScheduleRequest, smart_charging.get_composite_schedule)
    router.add(v201.SetVariableMonitoringRequest, monitoring.set_variable_monitoring)
    router.add(v201.SetMonitoringBaseRequest, monitoring.set_monitoring_base)
    router.add(v201.SetMonitoringLevelRequest, monitoring.set_monitoring_level)
    router.add(v201.ClearVariableMonitoringRequest, monitoring.clear_variable_monitoring)
    router.add(v201.GetMonitoringReportRequest, monitoring.get_monitoring_report)
    router.add(v201.SetNetworkProfileRequest, network.set_network_profile)
    router.add(v201.ReserveNowRequest, reservation.reserve_now)
    router.add(v201.CancelReservationRequest, reservation.cancel_reservation)
    router.add(v201.UpdateFirmwareRequest, firmware.update_firmware)
    router.add(v201.PublishFirmwareRequest, firmware.publish_firmware)
    router.add(v201.UnpublishFirmwareRequest, firmware.unpublish_firmware)
    router.add(v201.GetLogRequest, diagnostics.get_log)
    router.add(v201.CustomerInformationRequest, diagnostics.customer_information)
    router.add(v201.SetDisplayMessageRequest, display.set_display_message)
    router.add(v201.GetDisplayMessagesRequest, display.get_display_messages)
    router.add(v201.ClearDisplayMessageRequest, display.clear_display_message)
    router.add(v201.InstallCertificateRequest, security.install_certificate)
    router.add(v201.GetInstalledCertificateIdsRequest, security.get_installed_certificate_ids)
    router.add(v201.DeleteCertificateRequest, security.delete_certificate)
    router.add(v201.CertificateSignedRequest, security.certificate_signed)
    router.add(v201.DataTransferRequest, data_transfer.data_transfer)
    router.add(v201.CostUpdatedRequest, tariff_cost.cost_updated)
    router.add(v21.SetDefaultTariffRequest, tariffs.set_default_tariff)
    router.add(v21.GetTariffsRequest, tariffs.get_tariffs)
    router.add(v21.ClearTariffsRequest, tariffs.clear_tariffs)
    router.add(v21.ChangeTransactionTariffRequest, tariffs.change_transaction_tariff)
    return router
