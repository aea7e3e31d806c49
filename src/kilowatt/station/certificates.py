"""Blocks A and M: the station's certificates and keys.

The store holds the root certificates the CSMS installs (M05), the station's own certificate
chains signed by the CSMS (A02/A03: ChargingStationCertificate, and the V2GCertificate chain of
ISO 15118), and the private keys of those chains. It lives in the station's data directory
(``certificates.json``; the keys and chains as PEM files that TLS can load, see ``key_path`` and
``certificate_path``), in memory when there is none.

A renewal generates a key pair and a CSR (CN the station's identity, O
SecurityCtrlr.OrganizationName) and sends SignCertificateRequest; the key stays pending until a
CertificateSigned brings a chain for it, and only then replaces the key in use.

Certificates are identified as OCPP does (M03/M04, the CertID of OCSP): the hashes of the
issuer's name and public key, and the serial number in hexadecimal without leading zeroes.
"""

from __future__ import annotations

import itertools
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID

from kilowatt.messages import v201
from kilowatt.messages.v201 import (
    CertificateSigningUseEnumType as SigningUse,
    DeleteCertificateStatusEnumType as DeleteStatus,
    GetCertificateIdUseEnumType as IdUse,
    HashAlgorithmEnumType as HashAlgorithm,
    InstallCertificateStatusEnumType as InstallStatus,
    MessageTriggerEnumType as Message,
)

if TYPE_CHECKING:
    from kilowatt.station.evse import Evse
    from kilowatt.station.station import Station

__all__ = ["Certificates", "hash_data"]

STORE = "certificates.json"
HASHES: dict[HashAlgorithm, type[hashes.HashAlgorithm]] = {
    HashAlgorithm.SHA256: hashes.SHA256,
    HashAlgorithm.SHA384: hashes.SHA384,
    HashAlgorithm.SHA512: hashes.SHA512,
}
# The station's own chains, and how GetInstalledCertificateIds names the V2G one (M03).
CHAIN_IDS = {SigningUse.V2G_CERTIFICATE: IdUse.V2G_CERTIFICATE_CHAIN}


class _Root(msgspec.Struct, frozen=True):
    use: IdUse
    pem: str


class _Stored(msgspec.Struct):
    roots: list[_Root]
    chains: dict[SigningUse, str]  # use -> PEM chain, the station's certificate first


class Certificates:
    def __init__(self, station: Station) -> None:
        self._station = station
        stored = station._read(STORE)
        self._store = (
            msgspec.json.decode(stored, type=_Stored) if stored is not None else _Stored([], {})
        )
        self._keys: dict[SigningUse, bytes] = {}  # the keys of the chains in use, PEM
        for use in self._store.chains:
            key = station._read(_key_file(use))
            if key is not None:
                self._keys[use] = key
        self._pending: dict[SigningUse, ec.EllipticCurvePrivateKey] = {}
        self._count_entries()
        station.triggers[Message.SIGN_CHARGING_STATION_CERTIFICATE] = self._sign_station
        station.triggers[Message.SIGN_V2G_CERTIFICATE] = self._sign_v2g
        station.triggers[Message.SIGN_COMBINED_CERTIFICATE] = self._sign_combined

    # -- the files TLS needs ---------------------------------------------------------------

    def key_path(self, use: SigningUse = SigningUse.CHARGING_STATION_CERTIFICATE) -> Path | None:
        """The private key of the certificate in use, for security profile 3's client TLS."""
        return self._path(_key_file(use)) if use in self._keys else None

    def certificate_path(
        self, use: SigningUse = SigningUse.CHARGING_STATION_CERTIFICATE
    ) -> Path | None:
        """The PEM chain the CSMS signed for ``use``, the station's certificate first."""
        return self._path(_chain_file(use)) if use in self._store.chains else None

    def chain(self, use: SigningUse) -> str | None:
        return self._store.chains.get(use)

    def private_key(self, use: SigningUse) -> bytes | None:
        """The PEM private key of the chain in use (a station without a data directory)."""
        return self._keys.get(use)

    def _path(self, name: str) -> Path | None:
        data_dir = self._station.config.data_dir
        return data_dir / name if data_dir is not None else None

    # -- M05, M03, M04: roots ---------------------------------------------------------------

    def install(self, use: v201.InstallCertificateUseEnumType, pem: str) -> InstallStatus:
        """M05: keep a root certificate; Rejected when it does not parse, has expired or is not
        a CA certificate; Failed when it cannot be stored."""
        try:
            certificate = x509.load_pem_x509_certificate(pem.encode())
        except ValueError:
            return InstallStatus.REJECTED
        if not _valid(certificate, self._station.clock.now()) or not _is_ca(certificate):
            return InstallStatus.REJECTED
        root = _Root(IdUse(use.value), _pem(certificate))
        if root in self._store.roots:
            return InstallStatus.ACCEPTED
        roots = [*self._store.roots, root]
        try:
            self._save(_Stored(roots, self._store.chains))
        except OSError:
            return InstallStatus.FAILED
        return InstallStatus.ACCEPTED

    def installed(self, uses: list[IdUse] | None) -> list[v201.CertificateHashDataChainType]:
        """M03: the ids of the installed certificates of the given uses (all when None)."""
        found = []
        for root in self._store.roots:
            if uses is None or root.use in uses:
                certificate = x509.load_pem_x509_certificate(root.pem.encode())
                found.append(
                    v201.CertificateHashDataChainType(
                        certificate_hash_data=hash_data(certificate, certificate),
                        certificate_type=root.use,
                    )
                )
        for use, id_use in CHAIN_IDS.items():
            pem = self._store.chains.get(use)
            if pem is None or (uses is not None and id_use not in uses):
                continue
            chain = x509.load_pem_x509_certificates(pem.encode())
            ids = [hash_data(c, issuer) for c, issuer in itertools.pairwise(chain)]
            if not ids:
                continue  # the issuer of a lone certificate is unknown: no issuerKeyHash
            found.append(
                v201.CertificateHashDataChainType(
                    certificate_hash_data=ids[0],
                    certificate_type=id_use,
                    child_certificate_hash_data=ids[1:5] or msgspec.UNSET,
                )
            )
        return found

    def delete(self, wanted: v201.CertificateHashDataType) -> DeleteStatus:
        """M04: delete a root by its hash data; NotFound when none matches."""
        algorithm = HASHES[wanted.hash_algorithm]
        for pem in self._store.chains.values():
            chain = x509.load_pem_x509_certificates(pem.encode())
            if len(chain) > 1 and _matches(hash_data(chain[0], chain[1], algorithm), wanted):
                return DeleteStatus.FAILED  # M04: the station's own certificate stays
        for root in self._store.roots:
            certificate = x509.load_pem_x509_certificate(root.pem.encode())
            if not _matches(hash_data(certificate, certificate, algorithm), wanted):
                continue
            if root.use == IdUse.CSMS_ROOT_CERTIFICATE and self._last_csms_root_in_use():
                return DeleteStatus.FAILED  # the TLS connection to the CSMS relies on it
            roots = [r for r in self._store.roots if r != root]
            try:
                self._save(_Stored(roots, self._store.chains))
            except OSError:
                return DeleteStatus.FAILED
            return DeleteStatus.ACCEPTED
        return DeleteStatus.NOT_FOUND

    def _last_csms_root_in_use(self) -> bool:
        csms_roots = [r for r in self._store.roots if r.use == IdUse.CSMS_ROOT_CERTIFICATE]
        return (
            len(csms_roots) == 1 and self._station.int_var("SecurityCtrlr", "SecurityProfile") >= 2
        )

    # -- A02, A03: the station's own certificates --------------------------------------------

    def request_signing(self, uses: tuple[SigningUse, ...]) -> str:
        """A02/A03: a new key pair for ``uses`` (two for a combined certificate) and its CSR."""
        key = ec.generate_private_key(ec.SECP256R1())
        station = self._station
        names = [x509.NameAttribute(NameOID.COMMON_NAME, station.config.station_id)]
        organization = station.model.value("SecurityCtrlr", "OrganizationName")
        if organization:
            names.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
        csr = (
            x509.CertificateSigningRequestBuilder()
            .subject_name(x509.Name(names))
            .sign(key, hashes.SHA256())
        )
        for use in uses:
            self._pending[use] = key
        return csr.public_bytes(serialization.Encoding.PEM).decode()

    def signed(self, pem_chain: str, use: SigningUse) -> bool:
        """A02/A03: adopt a chain the CSMS signed; False (Rejected) when it does not parse, is
        not valid now (A02.FR.06), or is not for the key of the last CSR of that use."""
        key = self._pending.get(use)
        if key is None:
            return False
        try:
            chain = x509.load_pem_x509_certificates(pem_chain.encode())
        except ValueError:
            return False
        leaf = chain[0]
        if _public(leaf.public_key()) != _public(key.public_key()):
            return False
        if not _valid(leaf, self._station.clock.now()):
            return False
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        chain_pem = "".join(_pem(c) for c in chain)
        adopted = [u for u, pending in self._pending.items() if pending is key]
        station = self._station
        for each in adopted:
            station._save(_key_file(each), key_pem)
            station._save(_chain_file(each), chain_pem.encode())
            self._keys[each] = key_pem
            del self._pending[each]
        self._save(
            _Stored(self._store.roots, {**self._store.chains, **dict.fromkeys(adopted, chain_pem)})
        )
        return True

    def _sign_station(self, evses: list[Evse]) -> None:
        self._send_csr((SigningUse.CHARGING_STATION_CERTIFICATE,))

    def _sign_v2g(self, evses: list[Evse]) -> None:
        self._send_csr((SigningUse.V2G_CERTIFICATE,))

    def _sign_combined(self, evses: list[Evse]) -> None:
        self._send_csr((SigningUse.CHARGING_STATION_CERTIFICATE, SigningUse.V2G_CERTIFICATE))

    def _send_csr(self, uses: tuple[SigningUse, ...]) -> None:
        csr = self.request_signing(uses)
        # One use names it; a combined certificate's request names none.
        kind = uses[0] if len(uses) == 1 else msgspec.UNSET
        request = v201.SignCertificateRequest(csr=csr, certificate_type=kind)

        async def send() -> None:
            response = await self._station.send(request)
            if response is not None and response.status != v201.GenericStatusEnumType.ACCEPTED:
                self._station.log.append(f"SignCertificate {response.status}")

        self._station.spawn(send())

    def _save(self, stored: _Stored) -> None:
        self._station._save(STORE, msgspec.json.encode(stored))
        self._store = stored
        self._count_entries()

    def _count_entries(self) -> None:
        count = len(self._store.roots) + len(self._store.chains)
        self._station.set_actual("SecurityCtrlr", "CertificateEntries", str(count))


def hash_data(
    certificate: x509.Certificate,
    issuer: x509.Certificate,
    algorithm: type[hashes.HashAlgorithm] = hashes.SHA256,
) -> v201.CertificateHashDataType:
    """The OCPP identity of ``certificate``, issued by ``issuer`` (itself for a root)."""
    request = ocsp.OCSPRequestBuilder().add_certificate(certificate, issuer, algorithm()).build()
    name = {v: k for k, v in HASHES.items()}[algorithm]
    return v201.CertificateHashDataType(
        hash_algorithm=name,
        issuer_name_hash=request.issuer_name_hash.hex(),
        issuer_key_hash=request.issuer_key_hash.hex(),
        serial_number=format(request.serial_number, "x"),
    )


def _matches(found: v201.CertificateHashDataType, wanted: v201.CertificateHashDataType) -> bool:
    return (
        found.issuer_name_hash.lower(),
        found.issuer_key_hash.lower(),
        found.serial_number.lower().lstrip("0"),
    ) == (
        wanted.issuer_name_hash.lower(),
        wanted.issuer_key_hash.lower(),
        wanted.serial_number.lower().lstrip("0"),
    )


def _valid(certificate: x509.Certificate, now: datetime) -> bool:
    return certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    except x509.ExtensionNotFound:
        return False
    return constraints.value.ca


def _public(key: CertificatePublicKeyTypes) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def _key_file(use: SigningUse) -> str:
    return f"{use.value}.key"


def _chain_file(use: SigningUse) -> str:
    return f"{use.value}.pem"
