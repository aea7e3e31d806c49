"""M ISO 15118 certificate management: the CSMS's side needs a PKI it does not have yet."""

from __future__ import annotations

from kilowatt.csms.context import Context
from kilowatt.csms.handlers._common import keep
from kilowatt.messages import v201

__all__ = ["get_15118_ev_certificate", "get_certificate_status"]

_NO_PKI = v201.StatusInfoType(
    reason_code="NoPKI", additional_info="no ISO 15118 PKI is configured at this CSMS"
)


async def get_15118_ev_certificate(
    request: v201.Get15118EVCertificateRequest, ctx: Context
) -> v201.Get15118EVCertificateResponse:
    """M02/M03: without a contract-certificate PKI the answer is Failed, with the reason."""
    await keep(request, ctx)
    return v201.Get15118EVCertificateResponse(
        status=v201.Iso15118EVCertificateStatusEnumType.FAILED,
        status_info=_NO_PKI,
        exi_response="",
    )


async def get_certificate_status(
    request: v201.GetCertificateStatusRequest, ctx: Context
) -> v201.GetCertificateStatusResponse:
    """M06: without an OCSP responder to ask, the answer is Failed, with the reason."""
    await keep(request, ctx)
    return v201.GetCertificateStatusResponse(
        status=v201.GetCertificateStatusEnumType.FAILED, status_info=_NO_PKI
    )
