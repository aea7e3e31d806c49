"""J Meter values: J01 MeterValues outside transactions (and any the station sends)."""

from __future__ import annotations

from kilowatt.csms.context import Context
from kilowatt.csms.transactions import meter_samples
from kilowatt.messages import v201

__all__ = ["meter_values"]


async def meter_values(request: v201.MeterValuesRequest, ctx: Context) -> v201.MeterValuesResponse:
    """J01: store every sampled value; the station is answered once they are committed."""
    samples = meter_samples(ctx.station_id, request.evse_id, None, request.meter_value)
    await ctx.store.record_meter_values(samples)
    if ctx.services.load_balancer is not None:
        ctx.services.load_balancer.samples_seen(ctx.station_id, request.evse_id, samples)
    return v201.MeterValuesResponse()
