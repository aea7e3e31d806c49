"""What a station is: its CSMS, its make-up (a devicemodel StationShape), where it keeps state."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kilowatt.devicemodel.catalogue import StationShape
from kilowatt.station.ev import EvSpec

__all__ = ["StationConfig"]


@dataclass(frozen=True, slots=True)
class StationConfig:
    """A station's static facts; everything the CSMS may change lives in its device model.

    Attributes:
        shape: identity, vendor, model, EVSEs and connectors (the device model is built from it).
        csms_url: the CSMS's OCPP-J endpoint, e.g. ws://127.0.0.1:9000/ocpp.
        password: the Basic-auth password (security profiles 1 and 2); None for none.
        data_dir: where the device model, authorization data, profiles and the event queue
            persist; None keeps everything in memory (a simulated fleet).
        durable: sync the event queue to disk on every event (off for large simulations).
        voltage: nominal phase voltage, for A↔W conversions and the simulated meter.
        ev: the EV the simulator plugs in.
        csms_ca: the CA bundle the CSMS's certificate must chain to, for a wss URL (security
            profiles 2 and 3).
        client_certificate: (certificate chain, private key) PEM files for profile 3 until the
            CSMS has signed one of its own (A02); a signed one is used from then on.
        ocpp_versions: the subprotocols offered, most preferred first: "ocpp2.0.1", and
            "ocpp2.1" for OCPP 2.1's tariffs and local cost calculation (I07-I12).
        compression: offer permessage-deflate. Off by default: its zlib contexts take some
            100 KiB per connection, most of a simulated station's memory, for OCPP frames of a
            few hundred bytes.
    """

    shape: StationShape
    csms_url: str
    password: str | None = None
    data_dir: Path | None = None
    durable: bool = True
    voltage: float = 230.0
    ev: EvSpec = field(default_factory=EvSpec)
    csms_ca: Path | None = None
    client_certificate: tuple[Path, Path] | None = None
    compression: bool = False
    ocpp_versions: tuple[str, ...] = ("ocpp2.0.1",)

    @property
    def station_id(self) -> str:
        return self.shape.identity
