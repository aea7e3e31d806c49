"""Block N on the station: GetLog and its LogStatusNotifications, CustomerInformation."""

from __future__ import annotations

from datetime import timedelta

from msgspec import UNSET

from kilowatt.messages import v201
from kilowatt.messages.v201 import (
    AuthorizationStatusEnumType as Auth,
    CustomerInformationStatusEnumType as CustomerStatus,
    LogStatusEnumType as LogStatus,
    MessageTriggerEnumType as Message,
    UploadLogStatusEnumType as Upload,
)
from kilowatt.station.evse import Evse
from kilowatt.station.handlers.diagnostics import DATA_SIZE
from kilowatt.station.logs import UPLOAD_SECONDS

from .rig import T0, Rig, make_rig

TOKEN = v201.IdTokenType(id_token="TAG-1", type=v201.IdTokenEnumType.ISO14443)
ACCEPTED = v201.IdTokenInfoType(status=Auth.ACCEPTED)


def get_log(
    request_id: int = 1, location: str = "https://logs.example/up", **fields: object
) -> v201.GetLogRequest:
    return v201.GetLogRequest(
        log=v201.LogParametersType(remote_location=location),
        log_type=v201.LogEnumType.DIAGNOSTICS_LOG,
        request_id=request_id,
        **fields,  # type: ignore[arg-type]
    )


def uploads(rig: Rig) -> list[tuple[Upload, object]]:
    return [(n.status, n.request_id) for n in rig.of(v201.LogStatusNotificationRequest)]


async def test_a_log_is_uploaded_with_its_request_id_and_file_name() -> None:
    rig = make_rig()
    response = await rig.call(get_log(4))
    assert response.status == LogStatus.ACCEPTED
    assert response.filename == "CS-1-DiagnosticsLog-20250106T000000Z.log"
    assert uploads(rig) == [(Upload.UPLOADING, 4)]
    await rig.advance(UPLOAD_SECONDS)
    assert uploads(rig) == [(Upload.UPLOADING, 4), (Upload.UPLOADED, 4)]


async def test_an_unreachable_location_fails_after_the_retries() -> None:
    rig = make_rig()
    await rig.call(get_log(5, "https://invalid/up", retries=1, retry_interval=60))
    await rig.advance(UPLOAD_SECONDS)
    assert uploads(rig) == [(Upload.UPLOADING, 5)]  # N01.FR.10: no failure before the retry
    await rig.advance(60 + UPLOAD_SECONDS)
    assert uploads(rig) == [
        (Upload.UPLOADING, 5),
        (Upload.UPLOADING, 5),
        (Upload.UPLOAD_FAILURE, 5),
    ]


async def test_a_new_request_cancels_the_upload_in_progress() -> None:
    rig = make_rig()
    await rig.call(get_log(1))
    response = await rig.call(get_log(2))
    assert response.status == LogStatus.ACCEPTED_CANCELED
    await rig.advance(UPLOAD_SECONDS)
    assert uploads(rig) == [
        (Upload.UPLOADING, 1),
        (Upload.ACCEPTED_CANCELED, 1),
        (Upload.UPLOADING, 2),
        (Upload.UPLOADED, 2),
    ]
    # A finished upload is not cancelled by the next request.
    assert (await rig.call(get_log(3))).status == LogStatus.ACCEPTED


async def test_a_location_the_station_cannot_upload_to_is_rejected() -> None:
    rig = make_rig()
    response = await rig.call(get_log(location="gopher://logs.example/up"))
    assert response.status == LogStatus.REJECTED
    assert response.filename is UNSET
    assert rig.sent == []


async def test_the_trigger_reports_uploading_or_idle() -> None:
    rig = make_rig()
    trigger = v201.TriggerMessageRequest(requested_message=Message.LOG_STATUS_NOTIFICATION)
    await rig.call(trigger)
    await rig.call(get_log(6))
    await rig.call(trigger)
    await rig.advance(UPLOAD_SECONDS)
    await rig.call(trigger)
    assert uploads(rig) == [
        (Upload.IDLE, UNSET),
        (Upload.UPLOADING, 6),
        (Upload.UPLOADING, 6),
        (Upload.UPLOADED, 6),
        (Upload.IDLE, UNSET),
    ]


def customer(**fields: object) -> v201.CustomerInformationRequest:
    values: dict[str, object] = {"request_id": 9, "report": True, "clear": False}
    values.update(fields)
    return v201.CustomerInformationRequest(**values)  # type: ignore[arg-type]


def notes(rig: Rig) -> list[v201.NotifyCustomerInformationRequest]:
    return rig.of(v201.NotifyCustomerInformationRequest)


async def test_a_report_tells_what_the_station_holds_about_the_token() -> None:
    rig = make_rig()
    rig.station.local_list.entries[("TAG-1", "ISO14443")] = ACCEPTED
    rig.station.cache.store(TOKEN, ACCEPTED, T0)
    tx = rig.start_transaction(1, "tx-9")
    tx.id_token = TOKEN
    rig.station.cost["tx-9"] = 1.5
    await rig.clock.advance(60)
    response = await rig.call(customer(id_token=TOKEN))
    assert response.status == CustomerStatus.ACCEPTED
    (note,) = notes(rig)
    assert (note.seq_no, note.tbc, note.request_id) == (0, UNSET, 9)
    assert note.generated_at == T0 + timedelta(seconds=60)
    assert "local list Accepted" in note.data
    assert "authorization cache Accepted" in note.data
    assert "transaction tx-9 on EVSE 1" in note.data and "cost 1.50" in note.data


async def test_clearing_removes_the_token_from_the_cache() -> None:
    rig = make_rig()
    rig.station.cache.store(TOKEN, ACCEPTED, T0)
    response = await rig.call(customer(id_token=TOKEN, report=False, clear=True))
    assert response.status == CustomerStatus.ACCEPTED
    assert len(rig.station.cache) == 0
    (note,) = notes(rig)
    assert "cleared from the authorization cache" in note.data
    await rig.call(customer(id_token=TOKEN, report=True, clear=True))
    assert notes(rig)[-1].data == "no data held for this customer\nnothing to clear"


async def test_a_long_report_goes_in_parts() -> None:
    rig = make_rig()
    long_token = v201.IdTokenType(id_token="T" * 36, type=v201.IdTokenEnumType.ISO14443)
    for evse_id in range(1, 5):
        rig.station.evses.setdefault(evse_id, Evse(evse_id, 22000.0, 3, {}))
        tx = rig.start_transaction(evse_id, "x" * 36 + str(evse_id))
        tx.id_token = long_token
    await rig.call(customer(id_token=long_token))
    parts = notes(rig)
    assert len(parts) > 1
    assert [p.seq_no for p in parts] == list(range(len(parts)))
    assert [p.tbc for p in parts] == [True] * (len(parts) - 1) + [UNSET]
    assert all(len(p.data) <= DATA_SIZE for p in parts)
    assert sum(p.data.count("transaction ") for p in parts) == 4


async def test_a_customer_the_station_does_not_know() -> None:
    rig = make_rig()
    response = await rig.call(customer(customer_identifier="customer-1"))
    assert response.status == CustomerStatus.ACCEPTED
    assert [n.data for n in notes(rig)] == ["no data held for this customer"]


async def test_one_identifier_and_something_to_do_are_needed() -> None:
    rig = make_rig()
    assert (await rig.call(customer())).status == CustomerStatus.INVALID
    both = customer(id_token=TOKEN, customer_identifier="customer-1")
    assert (await rig.call(both)).status == CustomerStatus.INVALID
    idle = customer(id_token=TOKEN, report=False, clear=False)
    assert (await rig.call(idle)).status == CustomerStatus.REJECTED
    assert notes(rig) == []
