"""The other station-initiated requests: real answers, and what is kept."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kilowatt.csms.pki import CertificateAuthority
from kilowatt.csms.store import IdTokenRecord
from kilowatt.messages import v201

from .conftest import World

NOW = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def _token(token: str) -> v201.IdTokenType:
    return v201.IdTokenType(id_token=token, type=v201.IdTokenEnumType.ISO14443)


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        (None, "Unknown"),
        (IdTokenRecord("T", "ISO14443", status="Accepted"), "Accepted"),
        (IdTokenRecord("T", "ISO14443", status="Blocked"), "Blocked"),
        (IdTokenRecord("T", "ISO14443", status="Invalid"), "Invalid"),
        (IdTokenRecord("T", "ISO14443", expiry=NOW - dt.timedelta(days=1)), "Expired"),
        (IdTokenRecord("T", "ISO14443", expiry=NOW + dt.timedelta(days=1)), "Accepted"),
        (IdTokenRecord("T", "ISO15693"), "Unknown"),  # same token, another type
    ],
)
async def test_authorize(world: World, stored: IdTokenRecord | None, expected: str) -> None:
    if stored is not None:
        await world.store.put_id_token(stored)
    station = await world.station()
    await station.boot()
    answer = await station.call(v201.AuthorizeRequest(id_token=_token("T")))
    assert answer.id_token_info.status == expected


async def test_authorize_carries_group_language_and_personal_message(world: World) -> None:
    await world.store.put_id_token(
        IdTokenRecord(
            "T",
            "ISO14443",
            group_id_token="FLEET-7",
            language1="nl",
            personal_message={"format": "UTF8", "language": "nl", "content": "Welkom"},
        )
    )
    station = await world.station()
    await station.boot()
    info = (await station.call(v201.AuthorizeRequest(id_token=_token("T")))).id_token_info
    assert info.group_id_token and info.group_id_token.id_token == "FLEET-7"
    assert info.language1 == "nl"
    assert info.personal_message and info.personal_message.content == "Welkom"


def _ca() -> CertificateAuthority:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CPO CA")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return CertificateAuthority(cert, key)


def _csr(common_name: str) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Operator"),
                ]
            )
        )
        .sign(key, hashes.SHA256())
    )
    return request.public_bytes(serialization.Encoding.PEM).decode()


async def test_sign_certificate_then_certificate_signed(world: World) -> None:
    ca = _ca()
    world.csms.services.certificate_authority = ca
    signed = asyncio.get_running_loop().create_future()

    async def answer(request: object) -> object:
        assert isinstance(request, v201.CertificateSignedRequest)
        signed.set_result(request)
        return v201.CertificateSignedResponse(status=v201.CertificateSignedStatusEnumType.ACCEPTED)

    station = await world.station(handler=answer)
    await station.boot()
    response = await station.call(v201.SignCertificateRequest(csr=_csr("CP-1")))
    assert response.status is v201.GenericStatusEnumType.ACCEPTED
    request = await asyncio.wait_for(signed, 5)
    chain = x509.load_pem_x509_certificates(request.certificate_chain.encode())
    assert chain[0].subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "CP-1"
    assert chain[0].issuer == ca.certificate.subject
    # The answer went out before the CertificateSigned CALL (A02: response, then the chain).
    order = [(f.direction, f.message_type) for f in station.frames]
    assert order.index(("in", 3)) < order.index(("in", 2))


@pytest.mark.parametrize(
    ("with_ca", "name", "reason"), [(False, "CP-1", "NoCA"), (True, "CP-2", "InvalidCSR")]
)
async def test_sign_certificate_rejected(
    world: World, with_ca: bool, name: str, reason: str
) -> None:
    if with_ca:
        world.csms.services.certificate_authority = _ca()
    station = await world.station()
    await station.boot()
    response = await station.call(v201.SignCertificateRequest(csr=_csr(name)))
    assert response.status is v201.GenericStatusEnumType.REJECTED
    assert response.status_info and response.status_info.reason_code == reason


async def test_data_transfer_unknown_vendor_and_registered_handler(world: World) -> None:
    async def vendor(message_id: str | None, data: Any) -> tuple[str, Any]:
        return "Accepted", {"echo": data, "messageId": message_id}

    world.csms.services.data_transfer["com.example"] = vendor
    station = await world.station()
    await station.boot()
    unknown = await station.call(v201.DataTransferRequest(vendor_id="org.other"))
    assert unknown.status is v201.DataTransferStatusEnumType.UNKNOWN_VENDOR_ID
    known = await station.call(
        v201.DataTransferRequest(vendor_id="com.example", message_id="m", data=[1, 2])
    )
    assert known.status is v201.DataTransferStatusEnumType.ACCEPTED
    assert known.data == {"echo": [1, 2], "messageId": "m"}


async def test_pki_requests_fail_clearly_without_a_pki(world: World) -> None:
    station = await world.station()
    await station.boot()
    ev = await station.call(
        v201.Get15118EVCertificateRequest(
            iso15118_schema_version="urn:iso:15118:2:2013:MsgDef",
            action=v201.CertificateActionEnumType.INSTALL,
            exi_request="AAAA",
        )
    )
    assert ev.status is v201.Iso15118EVCertificateStatusEnumType.FAILED
    assert ev.status_info and ev.status_info.reason_code == "NoPKI"
    ocsp = await station.call(
        v201.GetCertificateStatusRequest(
            ocsp_request_data=v201.OCSPRequestDataType(
                hash_algorithm=v201.HashAlgorithmEnumType.SHA256,
                issuer_name_hash="a",
                issuer_key_hash="b",
                serial_number="c",
                responder_url="http://ocsp.example",
            )
        )
    )
    assert ocsp.status is v201.GetCertificateStatusEnumType.FAILED


async def test_reports_are_kept(world: World) -> None:
    station = await world.station()
    await station.boot()
    await station.call(
        v201.SecurityEventNotificationRequest(type="FirmwareUpdated", timestamp=NOW, tech_info="v2")
    )
    await station.call(
        v201.FirmwareStatusNotificationRequest(
            status=v201.FirmwareStatusEnumType.INSTALLED, request_id=4
        )
    )
    await station.call(
        v201.LogStatusNotificationRequest(
            status=v201.UploadLogStatusEnumType.UPLOADED, request_id=9
        )
    )
    kept = await world.store.notifications("CP-1")
    assert sorted(n.action for n in kept) == [
        "FirmwareStatusNotification",
        "LogStatusNotification",
        "SecurityEventNotification",
    ]
    firmware = await world.store.notifications("CP-1", action="FirmwareStatusNotification")
    assert firmware[0].request_id == 4
    assert json.loads(firmware[0].payload)["status"] == "Installed"
    station_record = await world.store.get_station("CP-1")
    assert station_record is not None and station_record.firmware_status == "Installed"


async def test_message_log_has_every_frame_both_ways(world: World) -> None:
    station = await world.station()
    await station.boot()
    await station.call(v201.HeartbeatRequest())
    await world.store.flush()
    frames = await world.store.frames("CP-1")
    assert [(f.direction, f.message_type, f.action) for f in frames] == [
        ("in", 2, "BootNotification"),
        ("out", 3, "BootNotification"),
        ("in", 2, "Heartbeat"),
        ("out", 3, "Heartbeat"),
    ]
    assert all(f.connection_id == frames[0].connection_id for f in frames)
