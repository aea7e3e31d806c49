"""The station's control API: what a driver, a person or a test does at the station, over HTTP.

``kilowatt station --control-port 9200`` serves it next to the running station, so the
compliance harness (its ``kilowatt-station`` driver) or a script can plug in an EV, present a
card, take the network down or reboot the station: ``POST /actions/{action}`` with the
parameters as a JSON object, answered with a JSON object. The actions are the harness's
vocabulary for a station (harness/drivers.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from kilowatt.messages import v201
from kilowatt.station.station import Station

__all__ = ["control_app"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PlugIn(_Body):
    evse_id: int = Field(ge=1)
    connector_id: int = Field(default=1, ge=1)


class Unplug(_Body):
    evse_id: int = Field(ge=1)


class PresentToken(_Body):
    evse_id: int = Field(ge=1)
    id_token: str = Field(min_length=1, max_length=255)
    type: v201.IdTokenEnumType = v201.IdTokenEnumType.ISO14443


class GoOffline(_Body):
    seconds: float = Field(gt=0, le=86_400)


class ChooseTariff(_Body):
    evse_id: int = Field(ge=1)
    tariff: str = Field(min_length=1, max_length=60)


class Reboot(_Body):
    pass


def control_app(station: Station) -> FastAPI:
    """The control API of one running station."""
    app = FastAPI(title=f"kilowatt station {station.config.station_id}: control")

    def evse(evse_id: int) -> None:
        if evse_id not in station.evses:
            raise HTTPException(404, f"the station has no EVSE {evse_id}")

    @app.post("/actions/plug_in")
    async def plug_in(body: PlugIn) -> dict[str, Any]:
        evse(body.evse_id)
        if body.connector_id not in station.evses[body.evse_id].connectors:
            raise HTTPException(404, f"EVSE {body.evse_id} has no connector {body.connector_id}")
        station.plug_in(body.evse_id, body.connector_id)
        return {}

    @app.post("/actions/unplug")
    async def unplug(body: Unplug) -> dict[str, Any]:
        evse(body.evse_id)
        station.unplug(body.evse_id)
        return {}

    @app.post("/actions/present_token")
    async def present_token(body: PresentToken) -> dict[str, Any]:
        evse(body.evse_id)
        token = v201.IdTokenType(id_token=body.id_token, type=body.type)
        return {"authorized": await station.present_token(body.evse_id, token)}

    @app.post("/actions/go_offline")
    async def go_offline(body: GoOffline) -> dict[str, Any]:
        # Answered at once: the outage goes on after the answer.
        station.spawn(station.go_offline(body.seconds))
        return {}

    @app.post("/actions/reboot")
    async def reboot(body: Reboot) -> dict[str, Any]:
        # Answered once the station has ended its transactions and dropped its connection.
        await station.reboot(v201.BootReasonEnumType.POWER_UP)
        return {}

    @app.post("/actions/choose_tariff")
    async def choose_tariff(body: ChooseTariff) -> dict[str, Any]:
        evse(body.evse_id)
        return {"chosen": station.choose_tariff(body.evse_id, body.tariff)}

    @app.get("/state")
    async def state() -> dict[str, Any]:
        """What the station's display and EVSEs show."""
        return {
            "station_id": station.config.station_id,
            "connected": station.connection is not None,
            "online": station.accepted.is_set(),
            "evses": [
                {
                    "id": e.id,
                    "plugged": e.plugged,
                    "transaction_id": e.transaction.id if e.transaction else None,
                    "power_w": e.electric.power_w,
                }
                for e in station.evses.values()
            ],
            "log": station.log[-50:],
        }

    return app
