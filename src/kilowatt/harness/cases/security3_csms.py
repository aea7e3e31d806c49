"""Block A, Security, with a CSMS under test at security profile 3 (TLS with client
certificates): the station's own certificate lets it in; none, a self-made one, or its
certificate at another identity's URL does not; and the CSMS signs a certificate signing
request of the station (A02) and sends the chain back with CertificateSigned."""

from __future__ import annotations

import datetime
import secrets
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from msgspec import UNSET

from kilowatt.harness.case import NotConfigured, case
from kilowatt.harness.context import Context
from kilowatt.messages import v201
from kilowatt.transport.client import ConnectError
from kilowatt.transport.security import CertificateFiles, certificate_common_name

__all__: list[str] = []

PROFILE_3 = (
    "The station is registered at the CSMS with security profile 3; the harness trusts the "
    "CSMS's server certificate (--ca) and has the station's client certificate, CN the "
    "station id, issued by a CA the CSMS trusts (--client-cert, --client-key)."
)
SigningUse = v201.CertificateSigningUseEnumType


def _own_certificate(ctx: Context) -> x509.Certificate:
    """The harness station's client certificate, which must be for its identity."""
    path = ctx.target.client_cert
    if path is None or ctx.target.client_key is None:
        raise NotConfigured("profile 3 needs the station's certificate (--client-cert/--key)")
    certificate = x509.load_pem_x509_certificates(path.read_bytes())[0]
    name = certificate_common_name(certificate)
    if name != ctx.target.station_id:
        raise NotConfigured(f"--client-cert's CN is {name!r}, not the station id")
    return certificate


async def _kept_out(ctx: Context, what: str, **connect_args: object) -> str | None:
    """How the CSMS kept this connection out (an HTTP error, a failed TLS handshake), or None
    if it upgraded it."""
    try:
        status = await ctx.refused(**connect_args)
    except (ConnectError, OSError) as error:  # ssl.SSLError is an OSError
        ctx.note(f"{what}: the handshake failed: {type(error).__name__}: {error}")
        return f"handshake failed ({type(error).__name__})"
    return None if status is None else f"HTTP {status}"


def _self_signed(directory: Path, common_name: str) -> CertificateFiles:
    """A certificate for ``common_name`` that no CA issued: the harness made and signed it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    files = CertificateFiles(directory / "self-made.pem", directory / "self-made.key")
    files.certificate.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    files.private_key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


@case(
    "TC_A_10_CSMS",
    "Client certificate: the station's own certificate lets it in",
    use_cases=("A00", "B01"),
    prerequisites=PROFILE_3,
    security_profile=3,
)
async def own_certificate(ctx: Context) -> None:
    """The station connects over wss presenting its client certificate (CN its identity) and
    no password. The CSMS upgrades the connection, accepts the boot and serves a
    Heartbeat."""
    _own_certificate(ctx)
    peer = await ctx.booted(password=None)
    await peer.call(v201.HeartbeatRequest())


@case(
    "TC_A_11_CSMS",
    "Client certificate: none, a self-made one, or another identity's is refused",
    use_cases=("A00",),
    prerequisites=PROFILE_3,
    security_profile=3,
)
async def other_certificates(ctx: Context) -> None:
    """Three stations try to connect over wss, and the CSMS keeps each out, by an HTTP error
    or by failing the TLS handshake: the station's identity with no client certificate; the
    station's identity with a certificate for its CN that no CA issued (the harness signed
    it itself); and another identity (the station's with a random suffix) presenting the
    station's own certificate, whose CN is not that identity."""
    _own_certificate(ctx)
    station_id = ctx.target.station_id
    let_in = []
    if await _kept_out(ctx, "no certificate", password=None, certificate=None) is None:
        let_in.append("no client certificate")
    with tempfile.TemporaryDirectory(prefix="kilowatt-harness-") as directory:
        self_made = _self_signed(Path(directory), station_id)
        if await _kept_out(ctx, "self-made", password=None, certificate=self_made) is None:
            let_in.append("a self-signed certificate for its CN")
    stranger = f"{station_id}-OTHER-{secrets.token_hex(4).upper()}"
    if await _kept_out(ctx, stranger, station_id=stranger, password=None) is None:
        let_in.append(f"identity {stranger} with the certificate of {station_id}")
    ctx.check(not let_in, "the CSMS let in: " + "; ".join(let_in))


def _csr(station_id: str) -> tuple[ec.EllipticCurvePrivateKey, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, station_id),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "kilowatt-harness"),
                ]
            )
        )
        .sign(key, hashes.SHA256())
    )
    return key, csr.public_bytes(serialization.Encoding.PEM).decode()


@case(
    "TC_A_12_CSMS",
    "Certificate renewal: the CSMS signs the station's CSR and sends the chain",
    use_cases=("A02",),
    requirements=("A02.FR.02", "A02.FR.05"),
    prerequisites=PROFILE_3 + " The CSMS signs stations' CSRs (it has a CA for them).",
    security_profile=3,
)
async def certificate_renewal(ctx: Context) -> None:
    """Over its profile-3 connection, booted, the station makes a new key pair and sends
    SignCertificate with a CSR for it (CN its identity, type ChargingStationCertificate).
    The CSMS answers Accepted, then sends CertificateSigned (the harness answers Accepted)
    with a PEM chain whose first certificate is for the CSR's key and the station's CN, is
    valid now, and is signed by the next certificate of the chain, if there is one. The
    station keeps the certificate it connected with (the new one is not used)."""
    _own_certificate(ctx)
    station_id = ctx.target.station_id
    peer = await ctx.booted(password=None)
    key, csr = _csr(station_id)
    mark = peer.mark()
    answer = await peer.call(
        v201.SignCertificateRequest(
            csr=csr, certificate_type=SigningUse.CHARGING_STATION_CERTIFICATE
        )
    )
    ctx.check(
        answer.status == v201.GenericStatusEnumType.ACCEPTED,
        f"SignCertificate: expected Accepted, got {answer.status} {answer.status_info or ''}",
    )
    try:
        signed = await peer.next(v201.CertificateSignedRequest, since=mark, timeout=ctx.timeout)
    except TimeoutError:
        ctx.check(False, f"no CertificateSigned within {ctx.timeout:g} s of the Accepted CSR")
        raise
    ctx.check(
        signed.certificate_type in (UNSET, SigningUse.CHARGING_STATION_CERTIFICATE),
        f"CertificateSigned: certificateType {signed.certificate_type}, asked for "
        "ChargingStationCertificate",
    )
    try:
        chain = x509.load_pem_x509_certificates(signed.certificate_chain.encode())
    except ValueError as error:
        ctx.check(False, f"CertificateSigned: the chain is not PEM certificates: {error}")
        raise
    leaf = chain[0]
    ctx.check(
        leaf.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        == key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        "CertificateSigned: the first certificate is not for the CSR's key",
    )
    name = certificate_common_name(leaf)
    ctx.check(name == station_id, f"CertificateSigned: the certificate's CN is {name!r}")
    now = datetime.datetime.now(datetime.UTC)
    ctx.check(
        leaf.not_valid_before_utc <= now <= leaf.not_valid_after_utc,
        f"CertificateSigned: the certificate is valid {leaf.not_valid_before_utc} to "
        f"{leaf.not_valid_after_utc}, not now",
    )
    if len(chain) > 1:
        try:
            leaf.verify_directly_issued_by(chain[1])
        except (ValueError, TypeError, InvalidSignature) as error:
            message = f"{type(error).__name__}: {error}"
            ctx.check(False, f"CertificateSigned: the next certificate did not sign it: {message}")
    ctx.note(f"signed: serial {leaf.serial_number:x}, issuer {leaf.issuer.rfc4514_string()}")
