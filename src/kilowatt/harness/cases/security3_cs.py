"""Block A, Security, with a charging station under test at security profile 3 (TLS with
client certificates): the station presents its certificate, for its identity and issued by
the CA of station certificates; and it renews it (A02): on a trigger it sends a CSR, takes
the chain the harness signs, and presents the new certificate on its next connection."""

from __future__ import annotations

import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from msgspec import UNSET

from kilowatt.harness.case import NotConfigured, case
from kilowatt.harness.cases.common_cs import expect, get_value
from kilowatt.harness.context import Context, StationLink
from kilowatt.harness.peer import Peer
from kilowatt.messages import v201
from kilowatt.transport.security import certificate_common_name

__all__: list[str] = []

PROFILE_3 = (
    "The station is set up for security profile 3: it trusts the harness's server "
    "certificate (--server-cert) and has a client certificate, CN its identity, issued by "
    "the CA of station certificates (--client-ca)."
)
SigningUse = v201.CertificateSigningUseEnumType
VALID_FOR = datetime.timedelta(days=30)  # the certificates the harness signs


def _link(ctx: Context) -> StationLink:
    link = ctx.link
    if link is None or link.scheme != "wss" or ctx.target.client_ca is None:
        raise NotConfigured("profile 3 needs the harness on wss with --client-ca")
    return link


def _ca(ctx: Context) -> x509.Certificate:
    assert ctx.target.client_ca is not None
    return x509.load_pem_x509_certificates(ctx.target.client_ca.read_bytes())[0]


def _presented(ctx: Context, peer: Peer, when: str) -> x509.Certificate:
    """The client certificate of this connection: over TLS, for the station's identity, and
    issued by the CA of station certificates (its signature checked)."""
    handshake = peer.handshake
    ctx.check(handshake is not None, f"{when}: the harness has no record of the handshake")
    assert handshake is not None
    ctx.check(handshake.tls, f"{when}: the station connected without TLS")
    certificate = handshake.client_certificate
    ctx.check(certificate is not None, f"{when}: the station presented no client certificate")
    assert certificate is not None
    name = certificate_common_name(certificate)
    ctx.check(
        name == ctx.target.station_id, f"{when}: the certificate's CN is {name!r}, not its id"
    )
    ca = _ca(ctx)
    try:
        certificate.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature) as error:
        # TLS verified the chain already; an intermediate CA would end up here: noted.
        ctx.note(f"{when}: not issued directly by the CA given: {type(error).__name__}")
    return certificate


@case(
    "TC_A_10_CS",
    "Client certificate: the station presents its own certificate",
    use_cases=("A00",),
    prerequisites=PROFILE_3,
    security_profile=3,
)
async def own_certificate(ctx: Context) -> None:
    """The station's connection to the harness came in over TLS with a client certificate
    that chains to the CA of station certificates (the TLS handshake verifies it) and whose
    CN is the station's identity. Asked with GetVariables, it reports
    SecurityCtrlr.SecurityProfile 3."""
    _link(ctx)
    peer = await ctx.station()
    certificate = _presented(ctx, peer, "the connection")
    ctx.note(f"certificate serial {certificate.serial_number:x}")
    profile = await get_value(ctx, peer, "SecurityCtrlr", "SecurityProfile")
    ctx.check(profile == "3", f"SecurityCtrlr.SecurityProfile: expected 3, got {profile}")


def _sign(ctx: Context, csr: x509.CertificateSigningRequest) -> tuple[x509.Certificate, str]:
    """The harness as the CA of station certificates: a client certificate for the CSR's
    subject and key; and the PEM chain (it, then the CA)."""
    key_path = ctx.target.client_ca_key
    if key_path is None:
        raise NotConfigured("the harness signs the station's CSR with --client-ca-key")
    ca = _ca(ctx)
    ca_key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    if not isinstance(ca_key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise NotConfigured("--client-ca-key must be an RSA or EC key")
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(csr.subject)
        .issuer_name(ca.subject)
        .public_key(csr.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALID_FOR)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    chain = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (certificate, ca))
    return certificate, chain.decode()


@case(
    "TC_A_12_CS",
    "Certificate renewal: the station sends a CSR and uses the certificate signed for it",
    use_cases=("A02",),
    requirements=("A02.FR.02", "A02.FR.08"),
    prerequisites=PROFILE_3 + " The harness has that CA's key (--client-ca-key).",
    security_profile=3,
)
async def certificate_renewal(ctx: Context) -> None:
    """The harness asks with TriggerMessage for SignChargingStationCertificate; the station
    accepts, and sends SignCertificate with a CSR (signature valid, CN its identity, type
    ChargingStationCertificate or none), which the harness accepts. The harness signs a
    certificate for the CSR's key and sends it with the CA in CertificateSigned; the station
    accepts it. Its next connection (opened by itself, or after the driver reboots it)
    presents the new certificate: another serial number than before, the CSR's key, issued
    by the CA."""
    link = _link(ctx)
    peer = await ctx.station()
    old = _presented(ctx, peer, "the connection before the renewal")
    mark = peer.mark()
    trigger = await peer.call(
        v201.TriggerMessageRequest(
            requested_message=v201.MessageTriggerEnumType.SIGN_CHARGING_STATION_CERTIFICATE
        )
    )
    ctx.check(
        trigger.status == v201.TriggerMessageStatusEnumType.ACCEPTED,
        f"TriggerMessage(SignChargingStationCertificate): expected Accepted, got {trigger.status}",
    )
    request = await expect(ctx, peer, v201.SignCertificateRequest, "SignCertificate", since=mark)
    ctx.check(
        request.certificate_type in (UNSET, SigningUse.CHARGING_STATION_CERTIFICATE),
        f"SignCertificate: certificateType {request.certificate_type}",
    )
    try:
        csr = x509.load_pem_x509_csr(request.csr.encode())
    except ValueError as error:
        ctx.check(False, f"SignCertificate: the csr is not a PEM CSR: {error}")
        raise
    ctx.check(csr.is_signature_valid, "SignCertificate: the CSR's signature does not verify")
    names = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    name = names[0].value if names else None
    ctx.check(name == ctx.target.station_id, f"SignCertificate: the CSR's CN is {name!r}")
    new, chain = _sign(ctx, csr)
    answer = await peer.call(
        v201.CertificateSignedRequest(
            certificate_chain=chain, certificate_type=SigningUse.CHARGING_STATION_CERTIFICATE
        )
    )
    ctx.check(
        answer.status == v201.CertificateSignedStatusEnumType.ACCEPTED,
        f"CertificateSigned for its own CSR: expected Accepted, got {answer.status}",
    )
    since = len(link.handshakes)
    try:
        peer = await ctx.station(after=peer)
    except TimeoutError:
        ctx.note(f"no new connection within {ctx.timeout:g} s: the driver reboots the station")
        await ctx.act("reboot")
        try:
            peer = await ctx.station(after=peer)
        except TimeoutError:
            tried = [h.client_certificate for h in link.handshakes[since:]]
            ctx.check(False, f"the station did not reconnect ({len(tried)} refused attempts)")
            raise
    used = _presented(ctx, peer, "the connection after the renewal")
    ctx.check(
        used.serial_number != old.serial_number,
        "the station still presents the certificate it had before the renewal",
    )
    ctx.check(
        used.fingerprint(hashes.SHA256()) == new.fingerprint(hashes.SHA256()),
        f"the station presents serial {used.serial_number:x}, not the new {new.serial_number:x}",
    )
