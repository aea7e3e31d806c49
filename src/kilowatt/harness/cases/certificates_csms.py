"""Block M, Certificate Management, with a CSMS under test: the operator installs a root
certificate at the harness's station, asks which certificates it has, and deletes one.

Each request goes through the driver's ``send`` (``command``): the station must get exactly the
certificate or hash data the operator gave, and the operator must be told the station's
answer (a note, or certificate ids, of its own).
"""

from __future__ import annotations

import secrets

from kilowatt.harness.case import case
from kilowatt.harness.cases.remote_control_csms import command, harness_note
from kilowatt.harness.context import Context
from kilowatt.messages import v201

__all__: list[str] = []

# A self-signed P-256 root of the harness's own ("kilowatt harness V2G root", valid until 2126),
# and its hash data as OCPP gives it (SHA-256 of the issuer's DER name and of its public key).
ROOT = """-----BEGIN CERTIFICATE-----
MIIB1jCCAXugAwIBAgIUYYaWc3rqS7ylZhMwpF2F+9jkx6UwCgYIKoZIzj0EAwIw
PzEiMCAGA1UEAwwZa2lsb3dhdHQgaGFybmVzcyBWMkcgcm9vdDEZMBcGA1UECgwQ
a2lsb3dhdHQtaGFybmVzczAgFw0yNjExMjUxODA5MjVaGA8yMTI2MTEwMTE4MDky
NVowPzEiMCAGA1UEAwwZa2lsb3dhdHQgaGFybmVzcyBWMkcgcm9vdDEZMBcGA1UE
CgwQa2lsb3dhdHQtaGFybmVzczBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABODD
hS9yoWKtY/Oacp9HgvWQMjKq5wyo8fgYccFlUvzKjCdYfBcPkn4HqjMM/xpmrDGJ
i8wzkyouT4r6Y8E6lDKjUzBRMB0GA1UdDgQWBBSPjG/p3EJLTTypmUTsSnGWZGet
3DAfBgNVHSMEGDAWgBSPjG/p3EJLTTypmUTsSnGWZGet3DAPBgNVHRMBAf8EBTAD
AQH/MAoGCCqGSM49BAMCA0kAMEYCIQC/8tpc1+P2AcuHZ4535SSXrhiH8hNmz/TA
Q862ueFJnQIhAI6Vt41YcFWYvHK7RAUDfaSVMICOJDA0xaEojzHF3zg5
-----END CERTIFICATE-----
"""
ROOT_HASH = {
    "hashAlgorithm": "SHA256",
    "issuerNameHash": "e3ca5a0d2045fbf8cad715bcc02c80db225e082ac14ad6590f623f8f82378c77",
    "issuerKeyHash": "fc07a3acc9bbea686572bf9851d787486d456f23f9a87561e04ce44a213fb563",
    "serialNumber": "618696737aea4bbca5661330a45d85fbd8e4c7a5",
}


def _hash_data(hash_data: dict[str, str]) -> v201.CertificateHashDataType:
    return v201.CertificateHashDataType(
        hash_algorithm=v201.HashAlgorithmEnumType(hash_data["hashAlgorithm"]),
        issuer_name_hash=hash_data["issuerNameHash"],
        issuer_key_hash=hash_data["issuerKeyHash"],
        serial_number=hash_data["serialNumber"],
    )


@case(
    "TC_M_01_CSMS",
    "Install a root certificate: the certificate as given, the station's answer reported",
    use_cases=("M05",),
    prerequisites="The station's boot is Accepted.",
)
async def install_certificate(ctx: Context) -> None:
    """The operator installs the harness's root certificate (PEM) as a V2G root at the
    station. The station gets that InstallCertificate with the certificate byte for byte,
    accepts it (with a note of its own), and the operator is told so."""
    peer = await ctx.booted()
    answer = v201.InstallCertificateResponse(
        status=v201.InstallCertificateStatusEnumType.ACCEPTED,
        status_info=harness_note(ctx.case.id),
    )
    payload = {"certificateType": "V2GRootCertificate", "certificate": ROOT}
    await command(ctx, peer, v201.InstallCertificateRequest, payload, answer)


@case(
    "TC_M_18_CSMS",
    "Installed certificate ids: the types as given, the station's certificates reported",
    use_cases=("M03",),
    prerequisites="The station's boot is Accepted.",
)
async def installed_certificate_ids(ctx: Context) -> None:
    """The operator asks for the station's V2G and CSMS root certificates. The station gets
    that GetInstalledCertificateIds with the two types, as given, and answers with two
    certificates: the harness's V2G root, and a CSMS root with a serial number of its own
    (random); the operator is told both, hashes and serial numbers included."""
    peer = await ctx.booted()
    Use = v201.GetCertificateIdUseEnumType
    other = {**ROOT_HASH, "serialNumber": secrets.token_hex(16)}
    answer = v201.GetInstalledCertificateIdsResponse(
        status=v201.GetInstalledCertificateStatusEnumType.ACCEPTED,
        certificate_hash_data_chain=[
            v201.CertificateHashDataChainType(
                certificate_type=Use.V2G_ROOT_CERTIFICATE,
                certificate_hash_data=_hash_data(ROOT_HASH),
            ),
            v201.CertificateHashDataChainType(
                certificate_type=Use.CSMS_ROOT_CERTIFICATE,
                certificate_hash_data=_hash_data(other),
            ),
        ],
    )
    payload = {"certificateType": ["V2GRootCertificate", "CSMSRootCertificate"]}
    await command(ctx, peer, v201.GetInstalledCertificateIdsRequest, payload, answer)


@case(
    "TC_M_22_CSMS",
    "Delete a certificate: its hash data as given, the station's answer reported",
    use_cases=("M04",),
    prerequisites="The station's boot is Accepted.",
)
async def delete_certificate(ctx: Context) -> None:
    """The operator deletes the harness's V2G root from the station by its hash data. The
    station gets that DeleteCertificate with exactly that hash data, deletes it (Accepted,
    with a note of its own), and the operator is told so."""
    peer = await ctx.booted()
    answer = v201.DeleteCertificateResponse(
        status=v201.DeleteCertificateStatusEnumType.ACCEPTED,
        status_info=harness_note(ctx.case.id),
    )
    payload = {"certificateHashData": ROOT_HASH}
    await command(ctx, peer, v201.DeleteCertificateRequest, payload, answer)
