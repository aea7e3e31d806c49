"""The CA that signs stations' certificate requests (A02/A03: SignCertificate)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["CertificateAuthority", "CsrRefused"]

VALIDITY = dt.timedelta(days=365)


class CsrRefused(ValueError):
    """The certificate signing request cannot be signed; the text says why."""


class CertificateAuthority:
    """Signs CSRs with a CA certificate and key read from PEM files."""

    def __init__(
        self, certificate: x509.Certificate, key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    ) -> None:
        self.certificate = certificate
        self._key = key

    @classmethod
    def from_files(cls, cert_path: str, key_path: str) -> CertificateAuthority:
        certificate = x509.load_pem_x509_certificate(Path(cert_path).read_bytes())
        key = serialization.load_pem_private_key(Path(key_path).read_bytes(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise ValueError(f"{key_path}: an RSA or EC key is needed")
        return cls(certificate, key)

    def sign(self, csr_pem: str, station_id: str, *, now: dt.datetime, v2g: bool = False) -> str:
        """Sign a station's CSR; returns the PEM chain (the new certificate, then the CA's).

        The certificate is for this station only: the CSR's common name must be the station's
        identity, which is what security profile 3 authenticates by.

        Raises:
            CsrRefused: not a PEM CSR, a bad signature, or a common name that is not the station.
        """
        try:
            csr = x509.load_pem_x509_csr(csr_pem.encode())
        except ValueError:
            raise CsrRefused("not a PEM certificate signing request") from None
        if not csr.is_signature_valid:
            raise CsrRefused("the CSR's signature does not verify")
        names = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if not names or names[0].value != station_id:
            raise CsrRefused(f"the CSR's common name must be the station id {station_id!r}")
        usage = ExtendedKeyUsageOID.SERVER_AUTH if v2g else ExtendedKeyUsageOID.CLIENT_AUTH
        certificate = (
            x509.CertificateBuilder()
            .subject_name(csr.subject)
            .issuer_name(self.certificate.subject)
            .public_key(csr.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        chain = [certificate, self.certificate]
        return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in chain)
