"""DataTransfer (P01), CostUpdated (I03), SetNetworkProfile (B09) on the station, and the
routing of every request these blocks handle."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from msgspec import UNSET

from kilowatt.devicemodel import ComponentKey, VariableKey
from kilowatt.messages import v201
from kilowatt.messages.v201 import (
    DataTransferStatusEnumType as TransferStatus,
    OCPPInterfaceEnumType as Interface,
    OCPPTransportEnumType as Transport,
    OCPPVersionEnumType as Version,
    SetNetworkProfileStatusEnumType as ProfileStatus,
)
from kilowatt.station.handlers import (
    data_transfer,
    diagnostics,
    display,
    firmware,
    network,
    reservation,
    security,
    tariff_cost,
)

from .rig import ROUTER, make_rig


async def test_data_transfer_to_an_unknown_vendor() -> None:
    rig = make_rig()
    response = await rig.call(v201.DataTransferRequest(vendor_id="com.acme"))
    assert response.status == TransferStatus.UNKNOWN_VENDOR_ID


async def test_data_transfer_to_a_registered_vendor() -> None:
    rig = make_rig()
    seen: list[tuple[str | None, Any]] = []

    async def acme(message_id: str | None, data: Any) -> tuple[str, Any]:
        seen.append((message_id, data))
        if message_id != "ping":
            return "UnknownMessageId", None
        return "Accepted", {"pong": data}

    rig.station.vendors["com.acme"] = acme
    ping = v201.DataTransferRequest(vendor_id="com.acme", message_id="ping", data=1)
    response = await rig.call(ping)
    assert (response.status, response.data) == (TransferStatus.ACCEPTED, {"pong": 1})
    other = await rig.call(v201.DataTransferRequest(vendor_id="com.acme"))
    assert (other.status, other.data) == (TransferStatus.UNKNOWN_MESSAGE_ID, UNSET)
    assert seen == [("ping", 1), (None, None)]


async def test_cost_updated_is_kept_and_shown() -> None:
    rig = make_rig()
    await rig.call(v201.CostUpdatedRequest(total_cost=3.456, transaction_id="tx-1"))
    await rig.call(v201.CostUpdatedRequest(total_cost=4.5, transaction_id="tx-1"))
    assert rig.station.cost == {"tx-1": 4.5}
    assert rig.station.log[-2:] == ["tx-1: cost 3.46 EUR", "tx-1: cost 4.50 EUR"]


def profile(**fields: Any) -> v201.NetworkConnectionProfileType:
    values: dict[str, Any] = {
        "ocpp_version": Version.OCPP20,
        "ocpp_transport": Transport.JSON,
        "ocpp_csms_url": "wss://csms.example/ocpp",
        "message_timeout": 30,
        "security_profile": 2,
        "ocpp_interface": Interface.WIRED0,
    }
    values.update(fields)
    return v201.NetworkConnectionProfileType(**values)


def set_profile(slot: int = 1, **fields: Any) -> v201.SetNetworkProfileRequest:
    return v201.SetNetworkProfileRequest(configuration_slot=slot, connection_data=profile(**fields))


async def test_a_network_profile_is_stored_by_slot(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    assert (await rig.call(set_profile(1))).status == ProfileStatus.ACCEPTED
    unsecured = set_profile(2, ocpp_csms_url="ws://csms.example/ocpp", security_profile=1)
    assert (await rig.call(unsecured)).status == ProfileStatus.ACCEPTED
    rig.close()
    again = make_rig(tmp_path)
    assert again.station.network_profiles.profiles == {1: profile(), 2: unsecured.connection_data}
    again.close()


@pytest.mark.parametrize(
    "request_",
    [
        set_profile(ocpp_version=Version.OCPP16),
        set_profile(ocpp_transport=Transport.SOAP),
        set_profile(ocpp_csms_url="ws://csms.example/ocpp"),  # TLS profile, plain URL
        set_profile(security_profile=4),
        set_profile(slot=0),  # the active profile
        set_profile(slot=-1),
    ],
    ids=["version", "transport", "scheme", "profile", "active-slot", "negative-slot"],
)
async def test_an_invalid_network_profile_is_rejected(
    request_: v201.SetNetworkProfileRequest,
) -> None:
    rig = make_rig()
    assert (await rig.call(request_)).status == ProfileStatus.REJECTED
    assert rig.station.network_profiles.profiles == {}


async def test_a_lower_security_profile_is_rejected() -> None:
    rig = make_rig(security_profile=2)
    downgrade = set_profile(ocpp_csms_url="ws://csms.example/ocpp", security_profile=1)
    assert (await rig.call(downgrade)).status == ProfileStatus.REJECTED
    assert (await rig.call(set_profile(security_profile=3))).status == ProfileStatus.ACCEPTED


async def test_a_slot_outside_the_listed_ones_is_rejected() -> None:
    rig = make_rig()
    model = rig.station.model
    key = (ComponentKey("OCPPCommCtrlr"), VariableKey("NetworkConfigurationPriority"))
    definition = model.definitions[key]
    listed = replace(definition.characteristics, values_list=("0", "1"))
    definitions = {**model.definitions, key: replace(definition, characteristics=listed)}
    rig.station.model = replace(model, definitions=definitions)
    assert (await rig.call(set_profile(2))).status == ProfileStatus.REJECTED
    assert (await rig.call(set_profile(1))).status == ProfileStatus.ACCEPTED


async def test_a_profile_that_cannot_be_stored_failed(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    (tmp_path / "network_profiles.json").mkdir()
    assert (await rig.call(set_profile())).status == ProfileStatus.FAILED
    assert rig.station.network_profiles.profiles == {}
    rig.close()


def test_every_request_of_these_blocks_is_routed() -> None:
    routes = {
        v201.SetNetworkProfileRequest: network.set_network_profile,
        v201.ReserveNowRequest: reservation.reserve_now,
        v201.CancelReservationRequest: reservation.cancel_reservation,
        v201.UpdateFirmwareRequest: firmware.update_firmware,
        v201.PublishFirmwareRequest: firmware.publish_firmware,
        v201.UnpublishFirmwareRequest: firmware.unpublish_firmware,
        v201.GetLogRequest: diagnostics.get_log,
        v201.CustomerInformationRequest: diagnostics.customer_information,
        v201.SetDisplayMessageRequest: display.set_display_message,
        v201.GetDisplayMessagesRequest: display.get_display_messages,
        v201.ClearDisplayMessageRequest: display.clear_display_message,
        v201.InstallCertificateRequest: security.install_certificate,
        v201.GetInstalledCertificateIdsRequest: security.get_installed_certificate_ids,
        v201.DeleteCertificateRequest: security.delete_certificate,
        v201.CertificateSignedRequest: security.certificate_signed,
        v201.DataTransferRequest: data_transfer.data_transfer,
        v201.CostUpdatedRequest: tariff_cost.cost_updated,
    }
    for request_type, handler in routes.items():
        assert request_type in ROUTER.routed
        assert ROUTER._handlers[request_type] is handler
