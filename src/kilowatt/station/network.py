"""Block B, the network connection profiles the CSMS sets, by configuration slot (B09).

The profiles are persisted; NetworkConfigurationPriority orders the slots the station connects
through (B10: the lead's connection code reads ``profiles``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import msgspec

from kilowatt.messages import v201
from kilowatt.messages.v201 import SetNetworkProfileStatusEnumType as ProfileStatus

if TYPE_CHECKING:
    from kilowatt.station.station import Station

__all__ = ["NetworkProfiles"]

STORE = "network_profiles.json"
# The URL scheme each security profile connects with (A00: profile 1 unsecured, 2 and 3 TLS).
SCHEMES = {1: "ws", 2: "wss", 3: "wss"}


class NetworkProfiles:
    def __init__(self, station: Station) -> None:
        self._station = station
        stored = station._read(STORE)
        self.profiles: dict[int, v201.NetworkConnectionProfileType] = (
            msgspec.json.decode(stored, type=dict[int, v201.NetworkConnectionProfileType])
            if stored is not None
            else {}
        )

    def set(self, slot: int, profile: v201.NetworkConnectionProfileType) -> ProfileStatus:
        """B09: validate the profile (B09.FR.02/04: Rejected), store it in its slot (B09.FR.01:
        Accepted), or Failed when it cannot be stored (B09.FR.03)."""
        if not self._valid(slot, profile):
            return ProfileStatus.REJECTED
        profiles = {**self.profiles, slot: profile}
        try:
            self._station._save(STORE, msgspec.json.encode(profiles))
        except OSError:
            return ProfileStatus.FAILED
        self.profiles = profiles
        return ProfileStatus.ACCEPTED

    def _valid(self, slot: int, profile: v201.NetworkConnectionProfileType) -> bool:
        station = self._station
        definition = station.model.definition("OCPPCommCtrlr", "NetworkConfigurationPriority")
        slots = definition.characteristics.values_list if definition is not None else None
        if slot < 0 or (slots is not None and str(slot) not in slots):
            return False
        if slot == station.int_var("OCPPCommCtrlr", "ActiveNetworkProfile"):
            return False  # the profile in use is not replaced under the station's feet
        # The station speaks OCPP 2.0.1 over JSON only.
        if profile.ocpp_version != v201.OCPPVersionEnumType.OCPP20:
            return False
        if profile.ocpp_transport != v201.OCPPTransportEnumType.JSON:
            return False
        expected = SCHEMES.get(profile.security_profile)
        if expected is None or urlsplit(profile.ocpp_csms_url).scheme != expected:
            return False
        # B09.FR.04: never a lower security profile than the one in use.
        return profile.security_profile >= station.int_var("SecurityCtrlr", "SecurityProfile")
