"""Blocks A and M: certificates (the store is in station/certificates.py)."""

from __future__ import annotations

from msgspec import UNSET

from kilowatt.messages import v201
from kilowatt.messages.v201 import (
    CertificateSignedStatusEnumType as SignedStatus,
    CertificateSigningUseEnumType as SigningUse,
    GetInstalledCertificateStatusEnumType as GetStatus,
)
from kilowatt.station.station import Station

__all__ = [
    "certificate_signed",
    "delete_certificate",
    "get_installed_certificate_ids",
    "install_certificate",
]


async def install_certificate(
    request: v201.InstallCertificateRequest, station: Station
) -> v201.InstallCertificateResponse:
    """M05: Accepted, Rejected (not a valid CA certificate) or Failed (not stored)."""
    status = station.certificates.install(request.certificate_type, request.certificate)
    return v201.InstallCertificateResponse(status=status)


async def get_installed_certificate_ids(
    request: v201.GetInstalledCertificateIdsRequest, station: Station
) -> v201.GetInstalledCertificateIdsResponse:
    """M03: the hash data of the installed certificates of the requested types (all when
    none is given); NotFound when there is none."""
    uses = request.certificate_type if request.certificate_type is not UNSET else None
    found = station.certificates.installed(uses)
    if not found:
        return v201.GetInstalledCertificateIdsResponse(status=GetStatus.NOT_FOUND)
    return v201.GetInstalledCertificateIdsResponse(
        status=GetStatus.ACCEPTED, certificate_hash_data_chain=found
    )


async def delete_certificate(
    request: v201.DeleteCertificateRequest, station: Station
) -> v201.DeleteCertificateResponse:
    """M04: Accepted, NotFound, or Failed for a certificate the station must keep."""
    status = station.certificates.delete(request.certificate_hash_data)
    return v201.DeleteCertificateResponse(status=status)


async def certificate_signed(
    request: v201.CertificateSignedRequest, station: Station
) -> v201.CertificateSignedResponse:
    """A02/A03: Accepted when the chain is valid and for the key of the station's last CSR of
    that type (a ChargingStationCertificate when no type is given), else Rejected."""
    use = (
        request.certificate_type
        if request.certificate_type is not UNSET
        else SigningUse.CHARGING_STATION_CERTIFICATE
    )
    adopted = station.certificates.signed(request.certificate_chain, use)
    if adopted and use == SigningUse.CHARGING_STATION_CERTIFICATE:
        station.certificate_renewed()
    return v201.CertificateSignedResponse(
        status=SignedStatus.ACCEPTED if adopted else SignedStatus.REJECTED
    )
