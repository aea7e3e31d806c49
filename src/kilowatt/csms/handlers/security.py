"""A Security: A02/A03 SignCertificate → CertificateSigned, A04 SecurityEventNotification."""

from __future__ import annotations

import logging

from kilowatt.csms.context import Context
from kilowatt.csms.handlers._common import keep
from kilowatt.csms.pki import CsrRefused
from kilowatt.messages import v201
from kilowatt.rpc.errors import OcppError

__all__ = ["security_event_notification", "sign_certificate"]

logger = logging.getLogger(__name__)


async def security_event_notification(
    request: v201.SecurityEventNotificationRequest, ctx: Context
) -> v201.SecurityEventNotificationResponse:
    """A04: keep the security event log of each station."""
    await keep(request, ctx)
    return v201.SecurityEventNotificationResponse()


async def sign_certificate(
    request: v201.SignCertificateRequest, ctx: Context
) -> v201.SignCertificateResponse:
    """A02/A03: sign the station's CSR with the configured CA and send the chain back with
    CertificateSigned once this answer has gone out. Without a CA, or for a CSR that is not
    the station's, the answer is Rejected with the reason."""
    authority = ctx.services.certificate_authority
    rejected = v201.GenericStatusEnumType.REJECTED
    if authority is None:
        return v201.SignCertificateResponse(
            status=rejected,
            status_info=v201.StatusInfoType(
                reason_code="NoCA", additional_info="no certificate authority is configured"
            ),
        )
    v2g = request.certificate_type == v201.CertificateSigningUseEnumType.V2G_CERTIFICATE
    try:
        chain = authority.sign(request.csr, ctx.station_id, now=ctx.now(), v2g=v2g)
    except CsrRefused as refused:
        return v201.SignCertificateResponse(
            status=rejected,
            status_info=v201.StatusInfoType(
                reason_code="InvalidCSR", additional_info=str(refused)[:512]
            ),
        )
    await keep(request, ctx)
    connection = ctx.session.connection

    async def send_certificate() -> None:
        if connection is None:
            return
        signed = v201.CertificateSignedRequest(
            certificate_chain=chain,
            **({"certificate_type": request.certificate_type} if request.certificate_type else {}),  # type: ignore[arg-type]
        )
        try:
            answer = await connection.call(signed)
        except OcppError as error:
            logger.warning("CertificateSigned to %s failed: %s", ctx.station_id, error)
            return
        await keep(signed, ctx)
        logger.info("CertificateSigned to %s: %s", ctx.station_id, answer.status)

    ctx.then(send_certificate)
    return v201.SignCertificateResponse(status=v201.GenericStatusEnumType.ACCEPTED)
