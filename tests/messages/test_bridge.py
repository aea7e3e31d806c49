"""The OCPP 2.1 wire for a 2.0.1 core (messages/bridge.py): conversions by wire name, 2.1-only
fields dropped, 2.1-only values refused, each side given the types it works with."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import msgspec
import pytest

from kilowatt.messages import VERSIONS, encode, v21, v201
from kilowatt.messages.bridge import BridgeCodec, convert, transaction_event_as_201
from kilowatt.rpc.errors import ActionNotImplemented, NotSupported, RpcError

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
TARIFF = v21.TariffType(
    tariff_id="day",
    currency="EUR",
    energy=v21.TariffEnergyType(prices=[v21.TariffEnergyPriceType(price_kwh=0.3)]),
)
BOOT = v201.BootNotificationRequest(
    charging_station=v201.ChargingStationType(model="M1", vendor_name="Acme"),
    reason=v201.BootReasonEnumType.POWER_UP,
)


def event_21(trigger: str = "Authorized", **fields: object) -> v21.TransactionEventRequest:
    return v21.TransactionEventRequest(
        event_type=v21.TransactionEventEnumType.STARTED,
        timestamp=NOW,
        trigger_reason=v21.TriggerReasonEnumType(trigger),
        seq_no=0,
        transaction_info=v21.TransactionType(transaction_id="tx", tariff_id="day"),
        **fields,  # type: ignore[arg-type]
    )


def test_a_message_both_versions_share_goes_there_and_back_unchanged() -> None:
    there = convert(BOOT, v21.BootNotificationRequest)
    assert isinstance(there, v21.BootNotificationRequest)
    assert convert(there, v201.BootNotificationRequest) == BOOT


def test_fields_the_target_lacks_are_dropped_at_any_depth() -> None:
    answer = v21.AuthorizeResponse(
        id_token_info=v21.IdTokenInfoType(status=v21.AuthorizationStatusEnumType.ACCEPTED),
        tariff=TARIFF,
    )
    core = convert(answer, v201.AuthorizeResponse)
    assert core == v201.AuthorizeResponse(
        id_token_info=v201.IdTokenInfoType(status=v201.AuthorizationStatusEnumType.ACCEPTED)
    )
    nested = convert(event_21(), v201.TransactionEventRequest)
    assert nested.transaction_info == v201.TransactionType(transaction_id="tx")


def test_a_value_only_2_1_has_is_refused_naming_the_field() -> None:
    with pytest.raises(RpcError) as raised:
        convert(event_21("TariffChanged"), v201.TransactionEventRequest)
    assert "triggerReason" in str(raised.value)


CSMS = BridgeCodec(VERSIONS["2.1"], VERSIONS["2.0.1"], "csms", frozenset({"TransactionEvent"}))
STATION = BridgeCodec(VERSIONS["2.1"], VERSIONS["2.0.1"], "station", frozenset())


def test_requests_reach_the_2_0_1_core_unless_handled_natively() -> None:
    boot = CSMS.decode_call("BootNotification", encode(BOOT))
    assert type(boot) is v201.BootNotificationRequest
    native = CSMS.decode_call("TransactionEvent", encode(event_21("TariffChanged")))
    assert type(native) is v21.TransactionEventRequest
    # 2.1-only actions keep their 2.1 type (routed to a 2.1 handler or NotSupported).
    tariffs = STATION.decode_call("GetTariffs", b'{"evseId": 0}')
    assert type(tariffs) is v21.GetTariffsRequest


def test_a_2_1_value_the_core_cannot_take_is_not_supported() -> None:
    payload = json.dumps(
        {"idToken": {"idToken": "X", "type": "DirectPayment"}}  # an IdToken type 2.1 added
    ).encode()
    with pytest.raises(NotSupported):
        CSMS.decode_call("Authorize", payload)


def test_requests_are_checked_against_the_2_1_schema_and_the_direction() -> None:
    with pytest.raises(RpcError):
        CSMS.decode_call("BootNotification", b'{"reason": "PowerUp"}')
    with pytest.raises(NotSupported):
        CSMS.decode_call("GetTariffs", b'{"evseId": 0}')  # the CSMS sends it, never receives
    with pytest.raises(ActionNotImplemented):
        CSMS.decode_call("NoSuchAction", b"{}")


def test_an_answer_comes_as_the_type_the_request_named() -> None:
    payload = encode(
        v21.AuthorizeResponse(
            id_token_info=v21.IdTokenInfoType(status=v21.AuthorizationStatusEnumType.ACCEPTED),
            tariff=TARIFF,
        )
    )
    token = v201.IdTokenType(id_token="X", type=v201.IdTokenEnumType.ISO14443)
    core = STATION.decode_result("Authorize", payload, v201.AuthorizeRequest(id_token=token))
    assert type(core) is v201.AuthorizeResponse
    full = STATION.decode_result(
        "Authorize", payload, convert(v201.AuthorizeRequest(id_token=token), v21.AuthorizeRequest)
    )
    assert isinstance(full, v21.AuthorizeResponse) and full.tariff == TARIFF


def test_2_0_1_payloads_go_out_as_valid_2_1() -> None:
    sent = json.loads(STATION.encode(BOOT))
    assert sent == json.loads(encode(BOOT))
    answer = v201.HeartbeatResponse(current_time=NOW)
    assert msgspec.json.decode(CSMS.encode(answer)) == {"currentTime": "2026-11-25T12:00:00Z"}
    with pytest.raises(TypeError):
        CSMS.encode("not a message")


@pytest.mark.parametrize(
    ("trigger", "core"),
    [
        ("Authorized", "Authorized"),  # 2.0.1 has it: unchanged
        ("LimitSet", "ChargingRateChanged"),
        ("SoCLimitReached", "EnergyLimitReached"),
        ("TariffChanged", "Trigger"),
    ],
)
def test_a_2_1_event_reaches_the_2_0_1_core_with_the_nearest_trigger(
    trigger: str, core: str
) -> None:
    converted = transaction_event_as_201(event_21(trigger))
    assert type(converted) is v201.TransactionEventRequest
    assert converted.trigger_reason == core
    assert converted.transaction_info == v201.TransactionType(transaction_id="tx")
