"""Block P: DataTransfer from the CSMS, to the handler registered for its vendor."""

from __future__ import annotations

from msgspec import UNSET

from kilowatt.messages import v201
from kilowatt.messages.v201 import DataTransferStatusEnumType as TransferStatus
from kilowatt.station.station import Station

__all__ = ["data_transfer"]


async def data_transfer(
    request: v201.DataTransferRequest, station: Station
) -> v201.DataTransferResponse:
    """P01: the handler in ``station.vendors`` for the vendorId answers; UnknownVendorId when
    there is none."""
    handler = station.vendors.get(request.vendor_id)
    if handler is None:
        return v201.DataTransferResponse(status=TransferStatus.UNKNOWN_VENDOR_ID)
    message_id = request.message_id if request.message_id is not UNSET else None
    data = request.data if request.data is not UNSET else None
    status, answer = await handler(message_id, data)
    return v201.DataTransferResponse(
        status=TransferStatus(status), data=answer if answer is not None else UNSET
    )
