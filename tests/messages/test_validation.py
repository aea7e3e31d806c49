"""The validation choices of docs/validation.md, one table row each, and the public entry point."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kilowatt.messages import CustomData, decode, encode, v16, v201, validate
from kilowatt.rpc.errors import (
    ActionNotImplemented,
    FormatViolation,
    OccurrenceConstraintViolation,
    PropertyConstraintViolation,
    RpcError,
    TypeConstraintViolation,
)

BOOT_201 = '{"chargingStation": {"model": "M", "vendorName": "V"%s}, "reason": "PowerUp"%s}'
HEARTBEAT = '{"currentTime": "%s"}'
PERIOD_16 = (
    '{"connectorId": 1, "csChargingProfiles": {"chargingProfileId": 1, "stackLevel": 0,'
    ' "chargingProfilePurpose": "TxDefaultProfile", "chargingProfileKind": "Relative",'
    ' "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod":'
    ' [{"startPeriod": 0, "limit": %s}]}}}'
)


@pytest.mark.parametrize(
    ("version", "action", "kind", "payload", "error", "code"),
    [
        # JSON-schema draft 6 (all of 2.0.1): 1.0 is an integer.
        ("2.0.1", "BootNotification", "response",
         '{"currentTime": "2025-01-01T00:00:00Z", "interval": 300.0, "status": "Accepted"}',
         None, None),
        # Draft 4 (most of 1.6): it is not.
        ("1.6", "BootNotification", "response",
         '{"currentTime": "2025-01-01T00:00:00Z", "interval": 300.0, "status": "Accepted"}',
         TypeConstraintViolation, "TypeConstraintViolation"),
        # 1.6's security messages are draft 6.
        ("1.6", "GetLog", "request",
         '{"logType": "DiagnosticsLog", "requestId": 1.0, "log": {"remoteLocation": "ftp://x"}}',
         None, None),
        # multipleOf in decimal: 16.1 is a multiple of 0.1, 16.15 is not.
        ("1.6", "SetChargingProfile", "request", PERIOD_16 % "16.1", None, None),
        ("1.6", "SetChargingProfile", "request", PERIOD_16 % "16.15",
         PropertyConstraintViolation, "PropertyConstraintViolation"),
        # RFC 3339 date-times only, in the spelling the format check wants.
        ("2.0.1", "Heartbeat", "response", HEARTBEAT % "2025-03-01T12:00:00.5+01:00", None, None),
        ("2.0.1", "Heartbeat", "response", HEARTBEAT % "2025-03-01t12:00:00Z",
         FormatViolation, "FormatViolation"),
        ("2.0.1", "Heartbeat", "response", HEARTBEAT % "2025-03-01 12:00:00Z",
         FormatViolation, "FormatViolation"),
        ("2.0.1", "Heartbeat", "response", HEARTBEAT % "2025-03-01T12:00:00+0100",
         FormatViolation, "FormatViolation"),
        ("2.0.1", "Heartbeat", "response", HEARTBEAT % "2025-03-01T12:00:00Z\\n",
         FormatViolation, "FormatViolation"),
        ("2.0.1", "Heartbeat", "response", HEARTBEAT % "2025-02-29T12:00:00Z",
         FormatViolation, "FormatViolation"),
        # ... also when JSON escapes spell the letters: \u0074 is "t", \u0054 is "T".
        ("2.0.1", "Heartbeat", "response", HEARTBEAT % "2025-03-01\\u007412:00:00Z",
         FormatViolation, "FormatViolation"),
        ("2.0.1", "Heartbeat", "response", HEARTBEAT % "2025-03-01\\u005412:00:00Z", None, None),
        # Text that is not valid Unicode, numbers a double cannot hold.
        ("2.0.1", "BootNotification", "request", BOOT_201 % (', "serialNumber": "\\ud800"', ""),
         FormatViolation, "FormatViolation"),
        ("2.0.1", "BootNotification", "response",
         '{"currentTime": "2025-01-01T00:00:00Z", "interval": 1e400, "status": "Accepted"}',
         TypeConstraintViolation, "TypeConstraintViolation"),
        ("2.0.1", "GetCompositeSchedule", "response",
         '{"status": "Accepted", "schedule": {"evseId": 1, "duration": 1,'
         ' "scheduleStart": "2025-01-01T00:00:00Z", "chargingRateUnit": "A",'
         ' "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 1e400}]}}',
         PropertyConstraintViolation, "PropertyConstraintViolation"),
        # The 1.6 spellings of two codes.
        ("1.6", "BootNotification", "request", '{"chargePointVendor": "V"}',
         OccurrenceConstraintViolation, "OccurenceConstraintViolation"),
        ("1.6", "BootNotification", "request",
         '{"chargePointVendor": "V", "chargePointModel": "M", "x": 1}',
         FormatViolation, "FormationViolation"),
        # customData allows what it does not declare; its vendorId is still required.
        ("2.0.1", "BootNotification", "request",
         BOOT_201 % ("", ', "customData": {"vendorId": "acme", "anything": [1, {"b": null}]}'),
         None, None),
        ("2.0.1", "BootNotification", "request", BOOT_201 % ("", ', "customData": {"a": 1}'),
         OccurrenceConstraintViolation, "OccurrenceConstraintViolation"),
        # A repeated key: the last one counts, as with the standard library's parser.
        ("2.0.1", "BootNotification", "request", BOOT_201 % (', "model": "M2"', ""),
         None, None),
    ],
)  # fmt: skip
def test_validation_choices(
    version: str,
    action: str,
    kind: str,
    payload: str,
    error: type[RpcError] | None,
    code: str | None,
) -> None:
    if error is None:
        validate(version, action, kind, payload)  # type: ignore[arg-type]
        return
    with pytest.raises(error) as caught:
        validate(version, action, kind, payload)  # type: ignore[arg-type]
    assert caught.value.code == code


def test_integral_float_is_decoded_as_int() -> None:
    text = '{"currentTime": "2025-01-01T00:00:00Z", "interval": 300.0, "status": "Accepted"}'
    response = decode(text, v201.BootNotificationResponse)
    assert response.interval == 300
    assert type(response.interval) is int


def test_description_names_the_field_path() -> None:
    payload = (
        '{"evseId": 1, "meterValue": [{"timestamp": "2025-01-01T00:00:00Z", "sampledValue":'
        ' [{"value": 1.0}, {"value": 2.0, "measurand": "Volts"}]}]}'
    )
    with pytest.raises(PropertyConstraintViolation) as caught:
        validate("2.0.1", "MeterValues", "request", payload)
    assert caught.value.description.startswith("meterValue[0].sampledValue[1].measurand:")
    assert caught.value.details["path"] == "meterValue[0].sampledValue[1].measurand"


def test_unknown_action_and_missing_response() -> None:
    with pytest.raises(ActionNotImplemented):
        validate("2.0.1", "StartTransaction", "request", "{}")
    with pytest.raises(ActionNotImplemented):
        validate("2.1", "NotifyPeriodicEventStream", "response", "{}")


def test_custom_data_round_trips_unchanged() -> None:
    text = BOOT_201 % ("", ', "customData": {"vendorId": "acme", "n": [1, {"b": null}]}')
    request = decode(text, v201.BootNotificationRequest)
    assert request.custom_data == CustomData("acme", {"n": [1, {"b": None}]})
    assert decode(encode(request), v201.BootNotificationRequest) == request


def test_wire_names_are_the_schemas() -> None:
    request = v16.StartTransactionRequest(
        connector_id=1, id_tag="TAG", meter_start=0, timestamp=datetime(2025, 1, 1, tzinfo=UTC)
    )
    assert encode(request) == (
        b'{"connectorId":1,"idTag":"TAG","meterStart":0,"timestamp":"2025-01-01T00:00:00Z"}'
    )
