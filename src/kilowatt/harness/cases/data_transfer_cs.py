"""Block P, DataTransfer, with a charging station under test: a vendor it does not know."""

from __future__ import annotations

from kilowatt.harness.case import case
from kilowatt.harness.context import Context
from kilowatt.messages import v201

__all__: list[str] = []

UNKNOWN_VENDOR = "org.example.kilowatt-harness.nobody"


@case(
    "TC_P_01_CS",
    "DataTransfer of an unknown vendor",
    use_cases=("P01",),
    prerequisites="The station knows no vendor named org.example.kilowatt-harness.nobody.",
)
async def unknown_vendor(ctx: Context) -> None:
    """The harness sends a DataTransfer with a vendorId no one uses, a messageId and some
    data: the station answers UnknownVendorId."""
    peer = await ctx.station()
    answer = await peer.call(
        v201.DataTransferRequest(
            vendor_id=UNKNOWN_VENDOR, message_id="HarnessProbe", data={"probe": 1}
        )
    )
    ctx.check(
        answer.status == v201.DataTransferStatusEnumType.UNKNOWN_VENDOR_ID,
        f"DataTransfer of vendor {UNKNOWN_VENDOR}: expected UnknownVendorId, got {answer.status}",
    )
