"""kilowatt's CSMS and kilowatt's station as implementations under test of the harness, each
over real sockets on 127.0.0.1, driven through their own interfaces."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kilowatt.api import create_app
from kilowatt.clock import SystemClock
from kilowatt.csms.app import SUBPROTOCOLS, Csms
from kilowatt.csms.auth import hash_password
from kilowatt.csms.config import Settings
from kilowatt.csms.pki import CertificateAuthority
from kilowatt.csms.store import StationRecord
from kilowatt.csms.store.sql import open_store
from kilowatt.devicemodel import StationShape
from kilowatt.harness.context import StationLink, Target
from kilowatt.harness.drivers import HttpDriver, kilowatt_csms_driver, kilowatt_station_driver
from kilowatt.station import firmware, logs
from kilowatt.station.config import StationConfig
from kilowatt.station.control import control_app
from kilowatt.station.handlers import ocpp201_router
from kilowatt.station.station import Station
from kilowatt.transport.security import CertificateFiles, server_context
from kilowatt.transport.server import Listener, StationServer
from tests.station.live import fast

API_TOKEN = "harness-token"
PASSWORD = "harness-password-1"


@dataclass
class CsmsUnderTest:
    csms: Csms
    target: Target
    driver: HttpDriver


@pytest.fixture
async def kilowatt_csms(tmp_path: Path) -> AsyncIterator[CsmsUnderTest]:
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'csms.db'}")
    settings = replace(Settings(data_dir=str(tmp_path)), api_tokens=(API_TOKEN,), call_timeout=5.0)
    csms = Csms(settings, store, SystemClock())
    await csms.start()
    await store.put_station(
        StationRecord("HARNESS-1", security_profile=1, password_hash=hash_password(PASSWORD))
    )
    server = StationServer([Listener("ws", "127.0.0.1")], SUBPROTOCOLS, csms.admit, csms.serve)
    driver = kilowatt_csms_driver(
        "http://kilowatt.test", API_TOKEN, transport=httpx.ASGITransport(app=create_app(csms))
    )
    async with server:
        target = Target(
            role="csms",
            url=f"ws://127.0.0.1:{server.port('ws')}/ocpp",
            station_id="HARNESS-1",
            password=PASSWORD,
            timeout=5.0,
        )
        yield CsmsUnderTest(csms, target, driver)
    await driver.close()
    csms.close()
    await store.close()


# -- kilowatt's station under test -----------------------------------------------------------

STATION_ID = "CS-H"
STATION_PASSWORD = "harness-station-password-1"
# Meter values every second and reconnection at once, so that the cases take seconds.
STATION_VARIABLES = {
    "SampledDataCtrlr__TxUpdatedInterval": "1",
    "OCPPCommCtrlr__RetryBackOffWaitMinimum": "0",
    "OCPPCommCtrlr__RetryBackOffRandomRange": "0",
}


@dataclass
class StationUnderTest:
    station: Station
    target: Target
    driver: HttpDriver
    link: StationLink


def station_driver(station: Station) -> HttpDriver:
    """The driver kilowatt's station provides for itself: its control API (station/control.py),
    served in process."""
    return kilowatt_station_driver(
        "http://station.test", transport=httpx.ASGITransport(app=control_app(station))
    )


@pytest.fixture
async def kilowatt_station(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[StationUnderTest]:
    """kilowatt's station connected to the harness's server (the harness plays its CSMS),
    booted; the harness's plain answers accept the boot. Its simulated firmware download and
    install and its log upload take 2-3 s instead of 5-20 s, so the run stays short."""
    monkeypatch.setattr(firmware, "DOWNLOAD_SECONDS", 2.0)
    monkeypatch.setattr(firmware, "INSTALL_SECONDS", 3.0)
    monkeypatch.setattr(logs, "UPLOAD_SECONDS", 2.0)
    target = Target(role="station", station_id=STATION_ID, password=STATION_PASSWORD, timeout=10.0)
    async with StationLink(target) as link:
        station = Station(
            StationConfig(
                shape=StationShape(identity=STATION_ID, vendor_name="kilowatt", model="sim"),
                csms_url=f"ws://127.0.0.1:{link.port}/ocpp",
                password=STATION_PASSWORD,
                data_dir=tmp_path / "station",
            ),
            ocpp201_router().handler_for,
        )
        fast(station, **STATION_VARIABLES)
        task = asyncio.create_task(station.run(), name="station under test")
        try:
            await asyncio.wait_for(station.accepted.wait(), target.timeout)
            yield StationUnderTest(station, target, station_driver(station), link)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


# -- security profiles 2 and 3: a test PKI, kilowatt's CSMS and station over TLS ---------------

TLS_STATION_2 = "HARNESS-2"  # registered at the TLS CSMS with profile 2 and PASSWORD
TLS_STATION_3 = "HARNESS-3"  # registered at the TLS CSMS with profile 3
TLS_STATION_1 = "HARNESS-1P"  # registered at the TLS CSMS with profile 1: a wrong target


class PkiCa:
    """A throw-away CA with its key on disk, issuing server and client certificates."""

    def __init__(self, directory: Path, name: str) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.datetime.now(datetime.UTC)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(self.key, hashes.SHA256())
        )
        self.files = self._write("ca", self.certificate, self.key)

    @property
    def pem(self) -> Path:
        return self.files.certificate

    def authority(self) -> CertificateAuthority:
        return CertificateAuthority(self.certificate, self.key)

    def issue(self, stem: str, common_name: str, *, server: bool = False) -> CertificateFiles:
        """A certificate for ``common_name``: a server one for 127.0.0.1, else a client one."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if server:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False,
            )
        return self._write(stem, builder.sign(self.key, hashes.SHA256()), key)

    def _write(
        self, stem: str, certificate: x509.Certificate, key: ec.EllipticCurvePrivateKey
    ) -> CertificateFiles:
        files = CertificateFiles(self.directory / f"{stem}.pem", self.directory / f"{stem}.key")
        files.certificate.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        files.private_key.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return files


@dataclass
class TlsPki:
    server_ca: PkiCa  # issues the server certificates (of kilowatt's CSMS and the harness's)
    station_ca: PkiCa  # issues station certificates, and signs their CSRs
    server: CertificateFiles


@pytest.fixture(scope="session")
def tls_pki(tmp_path_factory: pytest.TempPathFactory) -> TlsPki:
    directory = tmp_path_factory.mktemp("harness-pki")
    server_ca = PkiCa(directory / "server-ca", "harness test server CA")
    station_ca = PkiCa(directory / "station-ca", "harness test station CA")
    return TlsPki(server_ca, station_ca, server_ca.issue("server", "127.0.0.1", server=True))


@dataclass
class TlsCsmsUnderTest:
    csms: Csms
    plain_url: str
    url: str
    pki: TlsPki
    driver: HttpDriver

    def target(self, profile: int, station_id: str | None = None) -> Target:
        """The target of a profile's cases: its station, over wss; the CA bundle; for
        profile 3 the station's client certificate, for profile 2 its password."""
        station_id = station_id or (TLS_STATION_3 if profile == 3 else TLS_STATION_2)
        client = self.pki.station_ca.issue(f"client-{station_id}", station_id)
        return Target(
            role="csms",
            url=self.url,
            plain_url=self.plain_url,
            station_id=station_id,
            password=PASSWORD if profile < 3 else None,
            timeout=5.0,
            security_profile=profile,
            ca=self.pki.server_ca.pem,
            client_cert=client.certificate if profile == 3 else None,
            client_key=client.private_key if profile == 3 else None,
        )


@asynccontextmanager
async def tls_csms(
    directory: Path, pki: TlsPki, *, signs: bool = True
) -> AsyncIterator[TlsCsmsUnderTest]:
    """kilowatt's CSMS on ws and wss (client certificates of the station CA), its stations
    of profiles 1, 2 and 3; with a CA that signs CSRs if ``signs``."""
    store = await open_store(f"sqlite+aiosqlite:///{directory / 'csms.db'}")
    settings = replace(Settings(data_dir=str(directory)), api_tokens=(API_TOKEN,), call_timeout=5.0)
    authority = pki.station_ca.authority() if signs else None
    csms = Csms(settings, store, SystemClock(), certificate_authority=authority)
    await csms.start()
    for station_id, profile in ((TLS_STATION_1, 1), (TLS_STATION_2, 2), (TLS_STATION_3, 3)):
        await store.put_station(
            StationRecord(
                station_id, security_profile=profile, password_hash=hash_password(PASSWORD)
            )
        )
    tls = server_context([pki.server], client_ca=pki.station_ca.pem)
    server = StationServer(
        [Listener("ws", "127.0.0.1"), Listener("wss", "127.0.0.1", ssl=tls)],
        SUBPROTOCOLS,
        csms.admit,
        csms.serve,
    )
    driver = kilowatt_csms_driver(
        "http://kilowatt.test", API_TOKEN, transport=httpx.ASGITransport(app=create_app(csms))
    )
    try:
        async with server:
            yield TlsCsmsUnderTest(
                csms,
                f"ws://127.0.0.1:{server.port('ws')}/ocpp",
                f"wss://127.0.0.1:{server.port('wss')}/ocpp",
                pki,
                driver,
            )
    finally:
        await driver.close()
        csms.close()
        await store.close()


@pytest.fixture
async def kilowatt_csms_tls(tmp_path: Path, tls_pki: TlsPki) -> AsyncIterator[TlsCsmsUnderTest]:
    async with tls_csms(tmp_path, tls_pki) as under_test:
        yield under_test


@asynccontextmanager
async def tls_station(
    directory: Path,
    pki: TlsPki,
    profile: int,
    *,
    common_name: str = STATION_ID,
    wait: bool = True,
    timeout: float = 10.0,
) -> AsyncIterator[StationUnderTest]:
    """kilowatt's station at security ``profile`` (2 or 3) connected over wss to the harness's
    TLS server, booted (if ``wait``). At profile 3 its first certificate, CN ``common_name``,
    is of the station CA; the harness holds that CA's key to sign its CSRs."""
    client = pki.station_ca.issue(f"station-{common_name}", common_name)
    target = Target(
        role="station",
        station_id=STATION_ID,
        password=STATION_PASSWORD if profile < 3 else None,
        timeout=timeout,
        security_profile=profile,
        server_cert=pki.server.certificate,
        server_key=pki.server.private_key,
        client_ca=pki.station_ca.pem if profile == 3 else None,
        client_ca_key=pki.station_ca.files.private_key if profile == 3 else None,
    )
    async with StationLink(target) as link:
        station = Station(
            StationConfig(
                shape=StationShape(identity=STATION_ID, vendor_name="kilowatt", model="sim"),
                csms_url=f"wss://127.0.0.1:{link.port}/ocpp",
                password=STATION_PASSWORD if profile < 3 else None,
                data_dir=directory / "station",
                csms_ca=pki.server_ca.pem,
                client_certificate=(client.certificate, client.private_key)
                if profile == 3
                else None,
            ),
            ocpp201_router().handler_for,
        )
        fast(station, **STATION_VARIABLES, SecurityCtrlr__SecurityProfile=str(profile))
        task = asyncio.create_task(station.run(), name="station under test (TLS)")
        try:
            if wait:
                await asyncio.wait_for(station.accepted.wait(), target.timeout)
            yield StationUnderTest(station, target, station_driver(station), link)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


@pytest.fixture(params=[2, 3], ids=["profile-2", "profile-3"])
async def kilowatt_station_tls(
    request: pytest.FixtureRequest, tmp_path: Path, tls_pki: TlsPki
) -> AsyncIterator[StationUnderTest]:
    """kilowatt's station at security profile 2, then 3, against the harness over wss."""
    async with tls_station(tmp_path, tls_pki, request.param) as under_test:
        yield under_test
