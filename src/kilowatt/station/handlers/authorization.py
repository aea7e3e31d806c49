"""Blocks C and D: the authorization cache and the local authorization list."""

from __future__ import annotations

from kilowatt.messages import v201
from kilowatt.station.station import Station

__all__ = ["clear_cache", "get_local_list_version", "send_local_list"]


async def clear_cache(request: v201.ClearCacheRequest, station: Station) -> v201.ClearCacheResponse:
    # C11.FR.04: a station without an enabled cache rejects the request.
    if not station.bool_var("AuthCacheCtrlr", "Enabled"):
        return v201.ClearCacheResponse(status=v201.ClearCacheStatusEnumType.REJECTED)
    station.cache.clear()
    station.save_authorization()
    return v201.ClearCacheResponse(status=v201.ClearCacheStatusEnumType.ACCEPTED)


async def send_local_list(
    request: v201.SendLocalListRequest, station: Station
) -> v201.SendLocalListResponse:
    if not station.bool_var("LocalAuthListCtrlr", "Enabled"):
        return v201.SendLocalListResponse(status=v201.SendLocalListStatusEnumType.FAILED)
    capacity = station.model.definition("LocalAuthListCtrlr", "Entries")
    limit = capacity.characteristics.max_limit if capacity is not None else None
    status = station.local_list.apply(request, int(limit) if limit is not None else 10_000)
    if status == v201.SendLocalListStatusEnumType.ACCEPTED:
        station.set_actual("LocalAuthListCtrlr", "Entries", str(len(station.local_list.entries)))
        station.save_authorization()
    return v201.SendLocalListResponse(status=status)


async def get_local_list_version(
    request: v201.GetLocalListVersionRequest, station: Station
) -> v201.GetLocalListVersionResponse:
    # D02.FR.02: 0 when there is no list (or it is disabled).
    enabled = station.bool_var("LocalAuthListCtrlr", "Enabled")
    return v201.GetLocalListVersionResponse(
        version_number=station.local_list.version if enabled else 0
    )
