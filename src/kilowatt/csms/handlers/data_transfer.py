"""P Data transfer: P01 DataTransfer from the station, to a vendor's registered handler."""

from __future__ import annotations

from msgspec import UNSET

from kilowatt.csms.context import Context
from kilowatt.csms.handlers._common import keep
from kilowatt.messages import v201

__all__ = ["data_transfer"]


async def data_transfer(
    request: v201.DataTransferRequest, ctx: Context
) -> v201.DataTransferResponse:
    """P01: answered by the handler registered for the vendorId, else UnknownVendorId."""
    await keep(request, ctx)
    handler = ctx.services.data_transfer.get(request.vendor_id)
    if handler is None:
        return v201.DataTransferResponse(status=v201.DataTransferStatusEnumType.UNKNOWN_VENDOR_ID)
    message_id = request.message_id if request.message_id is not UNSET else None
    data = request.data if request.data is not UNSET else None
    status, answer = await handler(message_id, data)
    if answer is None:
        return v201.DataTransferResponse(status=v201.DataTransferStatusEnumType(status))
    return v201.DataTransferResponse(status=v201.DataTransferStatusEnumType(status), data=answer)
