"""Block B: SetNetworkProfile (the profiles are in station/network.py)."""

from __future__ import annotations

from kilowatt.messages import v201
from kilowatt.station.station import Station

__all__ = ["set_network_profile"]


async def set_network_profile(
    request: v201.SetNetworkProfileRequest, station: Station
) -> v201.SetNetworkProfileResponse:
    """B09: Accepted once stored, Rejected for an invalid profile, Failed when not stored."""
    status = station.network_profiles.set(request.configuration_slot, request.connection_data)
    return v201.SetNetworkProfileResponse(status=status)
