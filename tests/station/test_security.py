"""Blocks A and M on the station: the certificate store, CSRs and CertificateSigned."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from msgspec import UNSET

from kilowatt.csms.pki import CertificateAuthority
from kilowatt.messages import v201
from kilowatt.messages.v201 import (
    CertificateSignedStatusEnumType as SignedStatus,
    CertificateSigningUseEnumType as SigningUse,
    DeleteCertificateStatusEnumType as DeleteStatus,
    GetCertificateIdUseEnumType as IdUse,
    GetInstalledCertificateStatusEnumType as GetStatus,
    InstallCertificateStatusEnumType as InstallStatus,
    InstallCertificateUseEnumType as InstallUse,
    MessageTriggerEnumType as Message,
)
from kilowatt.station.certificates import hash_data

from .rig import T0, Rig, make_rig

NOW = T0


def ca(
    name: str = "Root", *, is_ca: bool = True, days: int = 365
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=2 * abs(days)))
        .not_valid_after(NOW + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return certificate, key


def pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def install(
    certificate: x509.Certificate, use: InstallUse = InstallUse.CSMS_ROOT_CERTIFICATE
) -> v201.InstallCertificateRequest:
    return v201.InstallCertificateRequest(certificate_type=use, certificate=pem(certificate))


def expected_hash(certificate: x509.Certificate) -> v201.CertificateHashDataType:
    """A root's OCPP hash data, computed here from its fields (OCSP CertID over SHA-256)."""
    public = certificate.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    point = public.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return v201.CertificateHashDataType(
        hash_algorithm=v201.HashAlgorithmEnumType.SHA256,
        issuer_name_hash=hashlib.sha256(certificate.issuer.public_bytes()).hexdigest(),
        issuer_key_hash=hashlib.sha256(point).hexdigest(),
        serial_number=format(certificate.serial_number, "x"),
    )


async def test_install_then_list_a_root(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    root, _ = ca()
    assert (await rig.call(install(root))).status == InstallStatus.ACCEPTED
    assert (await rig.call(install(root))).status == InstallStatus.ACCEPTED  # once only
    response = await rig.call(v201.GetInstalledCertificateIdsRequest())
    assert response.status == GetStatus.ACCEPTED
    (entry,) = response.certificate_hash_data_chain  # type: ignore[misc]
    assert entry.certificate_type == IdUse.CSMS_ROOT_CERTIFICATE
    assert entry.certificate_hash_data == expected_hash(root)
    assert rig.station.model.value("SecurityCtrlr", "CertificateEntries") == "1"
    rig.close()
    again = make_rig(tmp_path)
    listed = await again.call(v201.GetInstalledCertificateIdsRequest())
    assert listed.status == GetStatus.ACCEPTED
    again.close()


async def test_listing_by_type_and_not_found() -> None:
    rig = make_rig()
    assert (await rig.call(v201.GetInstalledCertificateIdsRequest())).status == GetStatus.NOT_FOUND
    await rig.call(install(ca("V2G")[0], InstallUse.V2G_ROOT_CERTIFICATE))
    await rig.call(install(ca("MO")[0], InstallUse.MO_ROOT_CERTIFICATE))
    wanted = [IdUse.MO_ROOT_CERTIFICATE, IdUse.MANUFACTURER_ROOT_CERTIFICATE]
    response = await rig.call(v201.GetInstalledCertificateIdsRequest(certificate_type=wanted))
    assert [e.certificate_type for e in response.certificate_hash_data_chain] == [  # type: ignore[union-attr]
        IdUse.MO_ROOT_CERTIFICATE
    ]
    none = [IdUse.CSMS_ROOT_CERTIFICATE]
    missing = await rig.call(v201.GetInstalledCertificateIdsRequest(certificate_type=none))
    assert missing.status == GetStatus.NOT_FOUND


async def test_what_is_not_a_valid_ca_certificate_is_rejected() -> None:
    rig = make_rig()
    garbage = v201.InstallCertificateRequest(
        certificate_type=InstallUse.CSMS_ROOT_CERTIFICATE, certificate="-----BEGIN nonsense"
    )
    assert (await rig.call(garbage)).status == InstallStatus.REJECTED
    assert (await rig.call(install(ca(days=-1)[0]))).status == InstallStatus.REJECTED
    assert (await rig.call(install(ca(is_ca=False)[0]))).status == InstallStatus.REJECTED
    assert (await rig.call(v201.GetInstalledCertificateIdsRequest())).status == GetStatus.NOT_FOUND


async def test_a_certificate_that_cannot_be_stored_failed(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    (tmp_path / "certificates.json").mkdir()
    assert (await rig.call(install(ca()[0]))).status == InstallStatus.FAILED
    rig.close()


async def test_delete_a_root() -> None:
    rig = make_rig()
    root, _ = ca()
    await rig.call(install(root, InstallUse.MO_ROOT_CERTIFICATE))
    delete = v201.DeleteCertificateRequest(certificate_hash_data=expected_hash(root))
    assert (await rig.call(delete)).status == DeleteStatus.ACCEPTED
    assert (await rig.call(delete)).status == DeleteStatus.NOT_FOUND
    assert (await rig.call(v201.GetInstalledCertificateIdsRequest())).status == GetStatus.NOT_FOUND


async def test_the_only_csms_root_of_a_tls_connection_stays() -> None:
    rig = make_rig(security_profile=2)
    first, second = ca("first")[0], ca("second")[0]
    await rig.call(install(first))
    delete_first = v201.DeleteCertificateRequest(certificate_hash_data=expected_hash(first))
    assert (await rig.call(delete_first)).status == DeleteStatus.FAILED
    await rig.call(install(second))
    assert (await rig.call(delete_first)).status == DeleteStatus.ACCEPTED


def signed_by(rig: Rig, authority: CertificateAuthority, *, v2g: bool = False) -> str:
    (request,) = rig.of(v201.SignCertificateRequest)[-1:]
    return authority.sign(request.csr, "CS-1", now=NOW, v2g=v2g)


async def test_a_triggered_csr_is_signed_and_adopted(tmp_path: Path) -> None:
    rig = make_rig(tmp_path, organization_name="Acme CPO")
    root, root_key = ca("CSO Root")
    authority = CertificateAuthority(root, root_key)
    trigger = v201.TriggerMessageRequest(
        requested_message=Message.SIGN_CHARGING_STATION_CERTIFICATE
    )
    assert (await rig.call(trigger)).status == v201.TriggerMessageStatusEnumType.ACCEPTED
    (request,) = rig.of(v201.SignCertificateRequest)
    assert request.certificate_type == SigningUse.CHARGING_STATION_CERTIFICATE
    csr = x509.load_pem_x509_csr(request.csr.encode())
    assert csr.is_signature_valid
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "CS-1"
    assert csr.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "Acme CPO"
    certificates = rig.station.certificates
    assert certificates.key_path() is None and certificates.certificate_path() is None
    chain = signed_by(rig, authority)
    response = await rig.call(v201.CertificateSignedRequest(certificate_chain=chain))
    assert response.status == SignedStatus.ACCEPTED
    key_path, chain_path = certificates.key_path(), certificates.certificate_path()
    assert key_path is not None and chain_path is not None
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    leaf = x509.load_pem_x509_certificates(chain_path.read_bytes())[0]
    assert leaf.public_key() == key.public_key()
    assert (
        certificates.private_key(SigningUse.CHARGING_STATION_CERTIFICATE) == key_path.read_bytes()
    )
    # The CSR is used: the same chain again has no pending key to match.
    again = await rig.call(v201.CertificateSignedRequest(certificate_chain=chain))
    assert again.status == SignedStatus.REJECTED
    # The station's own certificate cannot be deleted.
    own = v201.DeleteCertificateRequest(certificate_hash_data=hash_data(leaf, root))
    assert (await rig.call(own)).status == DeleteStatus.FAILED
    rig.close()


async def test_a_chain_for_another_key_or_garbage_is_rejected() -> None:
    rig = make_rig()
    root, root_key = ca()
    authority = CertificateAuthority(root, root_key)
    stranger_key = ec.generate_private_key(ec.SECP256R1())
    stranger_csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "CS-1")]))
        .sign(stranger_key, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
        .decode()
    )
    stranger_chain = authority.sign(stranger_csr, "CS-1", now=NOW)
    no_csr = await rig.call(v201.CertificateSignedRequest(certificate_chain=stranger_chain))
    assert no_csr.status == SignedStatus.REJECTED
    rig.station.certificates.request_signing((SigningUse.CHARGING_STATION_CERTIFICATE,))
    for chain in (stranger_chain, "not a chain"):
        response = await rig.call(v201.CertificateSignedRequest(certificate_chain=chain))
        assert response.status == SignedStatus.REJECTED
    assert rig.station.certificates.chain(SigningUse.CHARGING_STATION_CERTIFICATE) is None


async def test_a_chain_not_valid_now_is_rejected() -> None:
    rig = make_rig()
    root, root_key = ca()
    csr = rig.station.certificates.request_signing((SigningUse.CHARGING_STATION_CERTIFICATE,))
    chain = CertificateAuthority(root, root_key).sign(csr, "CS-1", now=NOW + dt.timedelta(days=30))
    response = await rig.call(v201.CertificateSignedRequest(certificate_chain=chain))
    assert response.status == SignedStatus.REJECTED


async def test_a_v2g_certificate_is_listed_as_its_chain() -> None:
    rig = make_rig()
    root, root_key = ca("V2G Root")
    authority = CertificateAuthority(root, root_key)
    trigger = v201.TriggerMessageRequest(requested_message=Message.SIGN_V2G_CERTIFICATE)
    await rig.call(trigger)
    (request,) = rig.of(v201.SignCertificateRequest)
    assert request.certificate_type == SigningUse.V2G_CERTIFICATE
    chain = signed_by(rig, authority, v2g=True)
    response = await rig.call(
        v201.CertificateSignedRequest(
            certificate_chain=chain, certificate_type=SigningUse.V2G_CERTIFICATE
        )
    )
    assert response.status == SignedStatus.ACCEPTED
    listed = await rig.call(
        v201.GetInstalledCertificateIdsRequest(certificate_type=[IdUse.V2G_CERTIFICATE_CHAIN])
    )
    (entry,) = listed.certificate_hash_data_chain  # type: ignore[misc]
    leaf = x509.load_pem_x509_certificates(chain.encode())[0]
    assert entry.certificate_hash_data.serial_number == format(leaf.serial_number, "x")
    assert entry.certificate_hash_data.issuer_key_hash == expected_hash(root).issuer_key_hash


async def test_a_combined_certificate_serves_both_uses() -> None:
    rig = make_rig()
    root, root_key = ca()
    rig.answers[v201.SignCertificateRequest] = v201.SignCertificateResponse(
        status=v201.GenericStatusEnumType.REJECTED
    )
    trigger = v201.TriggerMessageRequest(requested_message=Message.SIGN_COMBINED_CERTIFICATE)
    await rig.call(trigger)
    (request,) = rig.of(v201.SignCertificateRequest)
    assert request.certificate_type is UNSET
    assert rig.station.log[-1] == "SignCertificate Rejected"
    chain = signed_by(rig, CertificateAuthority(root, root_key))
    assert (await rig.call(v201.CertificateSignedRequest(certificate_chain=chain))).status == (
        SignedStatus.ACCEPTED
    )
    certificates = rig.station.certificates
    assert certificates.chain(SigningUse.V2G_CERTIFICATE) == certificates.chain(
        SigningUse.CHARGING_STATION_CERTIFICATE
    )
    assert certificates.chain(SigningUse.V2G_CERTIFICATE) is not None
