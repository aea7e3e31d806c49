"""TLS listeners for security profiles 2 and 3, with the test PKI of kilowatt.transport.security."""

from __future__ import annotations

import ssl
import warnings

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from websockets.asyncio.client import connect as websocket_connect
from websockets.typing import Subprotocol

from kilowatt.transport.client import ConnectError
from kilowatt.transport.security import (
    DevPki,
    certificate_common_name,
    server_context,
    station_context,
)
from kilowatt.transport.server import BasicAuth, Listener, StationServer
from tests.transport.support import (
    TLS_STATION,
    Dial,
    FakeCsms,
    StartServer,
    bounded,
    ws_url,
    wss_url,
)


async def start_tls_server(start_server: StartServer, context: ssl.SSLContext) -> StationServer:
    """A plain listener for profile 1 and a TLS one for profiles 2 and 3, side by side."""
    return await start_server(
        listeners=[Listener("ws", "127.0.0.1"), Listener("wss", "127.0.0.1", ssl=context)]
    )


def both_certificates(pki: DevPki) -> ssl.SSLContext:
    return server_context([pki.server_rsa, pki.server_ecdsa], client_ca=pki.ca)


async def test_profile_2_tls_with_basic_auth(
    start_server: StartServer, csms: FakeCsms, dial: Dial, pki: DevPki
) -> None:
    server = await start_tls_server(start_server, both_certificates(pki))

    socket = await dial(wss_url(server), "CS2", password="pw", ssl=station_context(pki.ca))
    await socket.send("over tls")

    assert await bounded(socket.recv()) == "over tls"
    [handshake] = csms.handshakes
    assert (handshake.tls, handshake.listener) == (True, "wss")
    assert handshake.client_certificate is None
    assert handshake.basic_auth == BasicAuth("CS2", "pw")


async def test_plain_listener_runs_beside_the_tls_one(
    start_server: StartServer, csms: FakeCsms, dial: Dial, pki: DevPki
) -> None:
    server = await start_tls_server(start_server, both_certificates(pki))

    await dial(ws_url(server), "CS1", password="pw")

    assert [(h.tls, h.listener) for h in csms.handshakes] == [(False, "ws")]


async def test_station_refuses_a_server_certificate_of_another_ca(
    start_server: StartServer, csms: FakeCsms, dial: Dial, pki: DevPki, foreign_pki: DevPki
) -> None:
    server = await start_tls_server(start_server, both_certificates(pki))

    with pytest.raises(ssl.SSLCertVerificationError):
        await dial(wss_url(server), "CS2", ssl=station_context(foreign_pki.ca))

    assert csms.handshakes == []


def tls12_client(pki: DevPki, cipher: str) -> ssl.SSLContext:
    """A station that speaks TLS 1.2 with one cipher suite, so one kind of server key."""
    context = station_context(pki.ca)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(cipher)
    return context


ECDSA_ONLY = "ECDHE-ECDSA-AES128-GCM-SHA256"
RSA_ONLY = "ECDHE-RSA-AES128-GCM-SHA256"


@pytest.mark.parametrize(
    ("cipher", "key_type"),
    [(ECDSA_ONLY, ec.EllipticCurvePublicKey), (RSA_ONLY, rsa.RSAPublicKey)],
)
async def test_server_presents_the_certificate_the_station_can_use(
    start_server: StartServer, pki: DevPki, cipher: str, key_type: type
) -> None:
    server = await start_tls_server(start_server, both_certificates(pki))

    async with websocket_connect(
        wss_url(server) + "/CS2",
        ssl=tls12_client(pki, cipher),
        subprotocols=[Subprotocol("ocpp2.0.1")],
        proxy=None,
    ) as client:
        ssl_object: ssl.SSLObject = client.transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True)
        assert der is not None
        cipher_used = ssl_object.cipher()

    assert cipher_used is not None
    assert cipher_used[0] == cipher
    assert isinstance(x509.load_der_x509_certificate(der).public_key(), key_type)


async def test_ecdsa_only_station_fails_where_there_is_only_an_rsa_certificate(
    start_server: StartServer, csms: FakeCsms, dial: Dial, pki: DevPki
) -> None:
    """The control of the test above: the cipher suite really decides the certificate."""
    server = await start_tls_server(start_server, server_context([pki.server_rsa]))

    with pytest.raises(OSError):  # no shared cipher suite: the server ends the handshake
        await dial(wss_url(server), "CS2", ssl=tls12_client(pki, ECDSA_ONLY))

    assert csms.handshakes == []


async def test_profile_3_client_certificate_reaches_admit(
    start_server: StartServer, csms: FakeCsms, dial: Dial, pki: DevPki
) -> None:
    server = await start_tls_server(start_server, both_certificates(pki))
    context = station_context(pki.ca, client_certificate=pki.stations[TLS_STATION])

    socket = await dial(wss_url(server), TLS_STATION, ssl=context)
    await socket.send("profile 3")

    assert await bounded(socket.recv()) == "profile 3"
    [handshake] = csms.handshakes
    assert handshake.client_certificate is not None
    assert certificate_common_name(handshake.client_certificate) == TLS_STATION
    assert handshake.basic_auth is None


async def test_client_certificate_of_another_ca_is_refused(
    start_server: StartServer, csms: FakeCsms, dial: Dial, pki: DevPki, foreign_pki: DevPki
) -> None:
    server = await start_tls_server(start_server, both_certificates(pki))
    context = station_context(pki.ca, client_certificate=foreign_pki.stations[TLS_STATION])

    # TLS 1.3: the station learns of the refusal when it reads the HTTP response.
    with pytest.raises((ConnectError, OSError)):
        await dial(wss_url(server), TLS_STATION, ssl=context)

    assert csms.handshakes == []


def tls11_client(pki: DevPki) -> ssl.SSLContext:
    # Python deprecates TLS 1.1 itself; OpenSSL 3 offers it only at security level 0.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context = station_context(pki.ca)
        context.minimum_version = ssl.TLSVersion.TLSv1_1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    return context


async def test_tls_1_1_station_is_refused(
    start_server: StartServer, csms: FakeCsms, dial: Dial, pki: DevPki
) -> None:
    server = await start_tls_server(start_server, both_certificates(pki))

    with pytest.raises(OSError):
        await dial(wss_url(server), "CS2", ssl=tls11_client(pki))

    assert csms.handshakes == []


async def test_tls_1_1_station_gets_in_where_tls_1_1_is_allowed(
    start_server: StartServer, csms: FakeCsms, dial: Dial, pki: DevPki
) -> None:
    """The control of the test above: this client really speaks TLS 1.1."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        permissive = both_certificates(pki)
        permissive.minimum_version = ssl.TLSVersion.TLSv1_1
    permissive.set_ciphers("DEFAULT:@SECLEVEL=0")
    server = await start_tls_server(start_server, permissive)

    await dial(wss_url(server), "CS2", ssl=tls11_client(pki))

    assert [h.station_id for h in csms.handshakes] == ["CS2"]


def test_server_context_requires_tls_1_2_and_optional_client_certificates(pki: DevPki) -> None:
    context = both_certificates(pki)

    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert context.verify_mode == ssl.CERT_OPTIONAL
    assert server_context([pki.server_ecdsa]).verify_mode == ssl.CERT_NONE
    with pytest.raises(ValueError, match="certificate"):
        server_context([])
