"""TLS for OCPP security profiles 2 and 3: contexts for the CSMS and the station, and a dev PKI.

Profile 2 is TLS with a server certificate plus Basic auth; profile 3 is TLS with client
certificates on both sides. One server context serves both: the client certificate is optional at
the TLS level, so a profile-2 station without one gets in on the same port, and the server's
``admit`` callback requires one of the stations that must use profile 3.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "MINIMUM_TLS_VERSION",
    "CertificateFiles",
    "DevPki",
    "certificate_common_name",
    "generate_dev_pki",
    "server_context",
    "station_context",
]

# The OCPP security profiles require TLS 1.2 or higher on both sides.
MINIMUM_TLS_VERSION = ssl.TLSVersion.TLSv1_2

_PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class CertificateFiles(NamedTuple):
    """A PEM certificate (chain) file and the PEM file of its private key."""

    certificate: Path
    private_key: Path


def server_context(
    certificates: Sequence[CertificateFiles], *, client_ca: Path | None = None
) -> ssl.SSLContext:
    """The CSMS's TLS context: TLS 1.2 or higher, one or more certificates, optional client
    certificates.

    Give an RSA and an ECDSA certificate to serve both kinds of station: OpenSSL keeps one
    certificate per key type and, in each handshake, presents the one the client's cipher suites
    (TLS 1.2) or signature algorithms (TLS 1.3) allow.

    Args:
        certificates: the server's certificates with their keys, at most one per key type.
        client_ca: the CA bundle that station certificates must chain to (profile 3). A station
            may still present none (profile 2); one that fails verification is refused in the TLS
            handshake.

    Raises:
        ValueError: no certificate given.
        ssl.SSLError, OSError: a file is missing, unreadable, or a key does not match.
    """
    if not certificates:
        raise ValueError("a server context needs at least one certificate")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = MINIMUM_TLS_VERSION
    for files in certificates:
        context.load_cert_chain(files.certificate, files.private_key)
    if client_ca is not None:
        context.verify_mode = ssl.CERT_OPTIONAL
        context.load_verify_locations(cafile=client_ca)
    return context


def station_context(
    ca: Path, *, client_certificate: CertificateFiles | None = None
) -> ssl.SSLContext:
    """A station's TLS context: TLS 1.2 or higher, the server's certificate and host name checked
    against ``ca``, and for profile 3 a client certificate.

    Args:
        ca: the CA bundle the CSMS certificate must chain to.
        client_certificate: the station's certificate and key (security profile 3).

    Raises:
        ssl.SSLError, OSError: a file is missing, unreadable, or a key does not match.
    """
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca)
    context.minimum_version = MINIMUM_TLS_VERSION
    if client_certificate is not None:
        context.load_cert_chain(client_certificate.certificate, client_certificate.private_key)
    return context


def certificate_common_name(certificate: x509.Certificate) -> str | None:
    """The subject's first commonName (CN), or None if it has none."""
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not names:
        return None
    value = names[0].value
    return value if isinstance(value, str) else value.decode()


@dataclass(frozen=True)
class DevPki:
    """The files of ``generate_dev_pki``.

    Attributes:
        ca: the CA certificate: the trust anchor of the server and the stations alike.
        server_rsa: a server certificate with an RSA 2048 key.
        server_ecdsa: a server certificate with an ECDSA P-256 key.
        stations: a client certificate (ECDSA P-256, CN = the station id) per station id.
    """

    ca: Path
    server_rsa: CertificateFiles
    server_ecdsa: CertificateFiles
    stations: Mapping[str, CertificateFiles]


def generate_dev_pki(
    directory: Path,
    station_ids: Sequence[str] = (),
    *,
    hosts: Sequence[str] = ("localhost", "127.0.0.1"),
    valid_for: datetime.timedelta = datetime.timedelta(days=30),
) -> DevPki:
    """Write a throw-away PKI for tests and development into ``directory``: not for production.

    Private keys are written unencrypted.

    Args:
        directory: where the PEM files go; created if missing, same-named files overwritten.
        station_ids: one client certificate is made for each, with the id as its CN.
        hosts: the server certificates' subjectAltNames: IP addresses or DNS names.
        valid_for: how long the certificates are valid, from an hour ago.

    Raises:
        OSError: the directory cannot be written.
    """
    directory.mkdir(parents=True, exist_ok=True)
    not_before = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
    not_after = not_before + valid_for

    # An RSA CA, so that stations whose TLS stack knows only RSA can verify the chain too.
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = _name("kilowatt dev CA")
    ca_cert = (
        _builder(ca_name, ca_name, ca_key, not_before, not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True, encipher=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_path = directory / "ca.pem"
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))

    def issue(
        stem: str,
        subject: x509.Name,
        key: _PrivateKey,
        usage: x509.ObjectIdentifier,
        alt_names: Sequence[x509.GeneralName] = (),
    ) -> CertificateFiles:
        builder = (
            _builder(subject, ca_name, key, not_before, not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                _key_usage(cert_sign=False, encipher=isinstance(key, rsa.RSAPrivateKey)),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
            )
        )
        if alt_names:
            builder = builder.add_extension(x509.SubjectAlternativeName(alt_names), False)
        files = CertificateFiles(directory / f"{stem}.pem", directory / f"{stem}.key")
        files.certificate.write_bytes(
            builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
        )
        files.private_key.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return files

    server_names = [_general_name(host) for host in hosts]
    server_auth = ExtendedKeyUsageOID.SERVER_AUTH
    server_rsa = issue(
        "server-rsa",
        _name(hosts[0] if hosts else "kilowatt"),
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
        server_auth,
        server_names,
    )
    server_ecdsa = issue(
        "server-ecdsa",
        _name(hosts[0] if hosts else "kilowatt"),
        ec.generate_private_key(ec.SECP256R1()),
        server_auth,
        server_names,
    )
    stations = {
        station_id: issue(
            f"station-{index}",
            _name(station_id),
            ec.generate_private_key(ec.SECP256R1()),
            ExtendedKeyUsageOID.CLIENT_AUTH,
        )
        for index, station_id in enumerate(station_ids)
    }
    return DevPki(ca_path, server_rsa, server_ecdsa, stations)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "kilowatt dev"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    key: _PrivateKey,
    not_before: datetime.datetime,
    not_after: datetime.datetime,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )


def _key_usage(*, cert_sign: bool, encipher: bool) -> x509.KeyUsage:
    """digitalSignature always; keyEncipherment for an RSA end-entity key (TLS 1.2 RSA key
    exchange); keyCertSign and cRLSign for the CA."""
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=encipher,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _general_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)
