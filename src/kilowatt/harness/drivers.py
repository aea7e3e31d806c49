"""Drivers: how the harness gets the other side to act when a step needs it.

Some steps cannot be played on the wire: "the operator starts a remote transaction", "the
driver presents a card". A case asks its driver with ``await ctx.act(action, **params)``. The
vocabulary, for a CSMS under test (what an operator does at the CSMS):

- ``send``: ``station_id``, ``action`` (an OCPP action the CSMS sends), ``payload`` (the
  request as on the wire): the CSMS sends that request to the station; returns its answer,
  the response payload as on the wire, bare or as the ``response`` of an object (kilowatt's
  ``{"action": ..., "response": {...}}``); None if the driver cannot tell it.
- ``set_registration``: ``station_id``, ``status`` (Accepted, Pending, Rejected),
  ``interval``: the answer to the station's next BootNotification.
- ``set_id_token``: ``id_token``, ``type`` (an IdTokenEnumType: ISO14443, Central...),
  ``status`` (an AuthorizationStatusEnumType: Accepted, Blocked...), ``expiry`` (optional: an
  ISO 8601 time, or None for none): from now on the CSMS knows the token so, whether it knew
  it before or not, with nothing else to it (no group, language or personal message).

and for a charging station under test (what happens at the station):

- ``plug_in`` / ``unplug``: ``evse_id``: an EV's cable goes into (comes out of) connector 1
  of the EVSE; unplugging where nothing is plugged does nothing.
- ``present_token``: ``evse_id``, ``id_token``, ``type`` (an IdTokenEnumType's value): a
  driver presents that card at the EVSE (to start, or to stop what it started).
- ``reboot``: the station restarts as after a power cut: it closes its connection,
  connects again and boots.
- ``go_offline``: ``seconds``: the station loses its network for that long: its connection
  closes and it cannot connect again until the time is up, then it reconnects (without a
  boot: it did not restart). The driver may return at once or when the outage ends; a case
  runs it alongside its other steps.

Drivers: ``InteractiveDriver`` asks a person, ``HttpDriver`` makes an HTTP call configured per
action, ``CallableDriver`` calls Python functions (an implementation in the same process).
``kilowatt_csms_driver`` drives kilowatt's own CSMS through its REST API,
``kilowatt_station_driver`` kilowatt's station through its control API (station/control.py).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol
from urllib.parse import quote

import httpx

__all__ = [
    "CallableDriver",
    "Driver",
    "DriverError",
    "HttpAction",
    "HttpDriver",
    "InteractiveDriver",
    "kilowatt_csms_driver",
    "kilowatt_station_driver",
]


class DriverError(Exception):
    """The driver could not make the other side act (the case errs, not fails)."""


class Driver(Protocol):
    async def act(self, action: str, /, **params: Any) -> Any:
        """Make the implementation under test (or its operator) do ``action`` (positional
        only: ``send`` has a parameter named ``action`` too).

        Raises:
            DriverError: this driver cannot, or the implementation refused.
        """
        ...


class CallableDriver:
    """Actions done by Python functions, e.g. of an implementation in the same process."""

    def __init__(self, actions: Mapping[str, Callable[..., Awaitable[Any]]]) -> None:
        self._actions = dict(actions)

    async def act(self, action: str, /, **params: Any) -> Any:
        function = self._actions.get(action)
        if function is None:
            raise DriverError(f"this driver cannot {action}")
        return await function(**params)


class InteractiveDriver:
    """Asks a person at the terminal to do it, and waits for Enter."""

    def __init__(self, ask: Callable[[str], str] = input) -> None:
        self._ask = ask

    async def act(self, action: str, /, **params: Any) -> Any:
        shown = ", ".join(f"{key}={json.dumps(value)}" for key, value in params.items())
        await asyncio.to_thread(self._ask, f"\n>>> please {action}({shown}), then press Enter ")
        return None


class HttpAction:
    """One action as an HTTP request: ``{name}`` in the path is replaced by the parameter
    (URL-quoted); in the body, a string that is exactly ``{name}`` becomes the parameter's
    value as is (a number stays a number), any other string is formatted with them.

    Args:
        defaults: the values of optional parameters the caller may leave out.
        if_missing: the request to make instead when this one answers 404 (an API without
            "create or replace": change the thing, else create it).
    """

    def __init__(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        defaults: Mapping[str, Any] | None = None,
        if_missing: HttpAction | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.body = body
        self.defaults = dict(defaults or {})
        self.if_missing = if_missing

    def request(self, params: Mapping[str, Any]) -> tuple[str, str, Any]:
        params = {**self.defaults, **params}
        path = self.path.format(**{k: quote(str(v), safe="") for k, v in params.items()})
        return self.method, path, _fill(self.body, params)


def _fill(template: Any, params: Mapping[str, Any]) -> Any:
    if isinstance(template, str):
        if template.startswith("{") and template.endswith("}") and template[1:-1] in params:
            return params[template[1:-1]]
        return template.format(**params)
    if isinstance(template, dict):
        return {key: _fill(value, params) for key, value in template.items()}
    if isinstance(template, list):
        return [_fill(value, params) for value in template]
    return template


class HttpDriver:
    """Actions as HTTP calls to the implementation's own API.

    Args:
        base_url: e.g. http://127.0.0.1:8080.
        actions: action name -> HttpAction.
        token: a bearer token, if the API wants one.
        transport: for tests (an ASGI app in the same process).
    """

    def __init__(
        self,
        base_url: str,
        actions: Mapping[str, HttpAction],
        *,
        token: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = httpx.AsyncClient(
            base_url=base_url, headers=headers, transport=transport, timeout=60.0
        )
        self._actions = dict(actions)

    async def act(self, action: str, /, **params: Any) -> Any:
        spec = self._actions.get(action)
        if spec is None:
            raise DriverError(f"no HTTP call is configured for {action}")
        method, path, body = spec.request(params)
        try:
            response = await self._client.request(method, path, json=body)
            if response.status_code == 404 and spec.if_missing is not None:
                method, path, body = spec.if_missing.request(params)
                response = await self._client.request(method, path, json=body)
        except httpx.HTTPError as error:
            raise DriverError(f"{action}: {method} {path} failed: {error}") from None
        if response.status_code >= 400:
            raise DriverError(
                f"{action}: {method} {path} answered {response.status_code}: {response.text}"
            )
        return response.json() if response.content else None

    async def close(self) -> None:
        await self._client.aclose()


def kilowatt_csms_driver(
    base_url: str, token: str | None, *, transport: httpx.AsyncBaseTransport | None = None
) -> HttpDriver:
    """kilowatt's CSMS driven through its REST API (``send`` answers the station's response;
    ``set_id_token`` changes the token, or creates it if kilowatt has none)."""
    return HttpDriver(
        base_url,
        {
            "send": HttpAction("POST", "/api/v1/stations/{station_id}/ocpp/{action}", "{payload}"),
            "set_registration": HttpAction(
                "PATCH",
                "/api/v1/stations/{station_id}",
                {"registration_status": "{status}", "heartbeat_interval": "{interval}"},
            ),
            "set_id_token": HttpAction(
                "PATCH",
                "/api/v1/id-tokens/{type}/{id_token}",
                {
                    "status": "{status}",
                    "expiry": "{expiry}",
                    "group_id_token": None,
                    "language1": None,
                    "language2": None,
                    "personal_message": None,
                },
                defaults={"expiry": None},
                if_missing=HttpAction(
                    "POST",
                    "/api/v1/id-tokens",
                    {
                        "id_token": "{id_token}",
                        "type": "{type}",
                        "status": "{status}",
                        "expiry": "{expiry}",
                    },
                    defaults={"expiry": None},
                ),
            ),
        },
        token=token,
        transport=transport,
    )


def kilowatt_station_driver(
    base_url: str, *, transport: httpx.AsyncBaseTransport | None = None
) -> HttpDriver:
    """kilowatt's station driven through its control API (``kilowatt station --control-port``,
    station/control.py): every action of a station's vocabulary is ``POST /actions/{action}``
    with its parameters."""
    return HttpDriver(
        base_url,
        {
            "plug_in": HttpAction(
                "POST",
                "/actions/plug_in",
                {"evse_id": "{evse_id}", "connector_id": "{connector_id}"},
                defaults={"connector_id": 1},
            ),
            "unplug": HttpAction("POST", "/actions/unplug", {"evse_id": "{evse_id}"}),
            "present_token": HttpAction(
                "POST",
                "/actions/present_token",
                {"evse_id": "{evse_id}", "id_token": "{id_token}", "type": "{type}"},
                defaults={"type": "ISO14443"},
            ),
            "reboot": HttpAction("POST", "/actions/reboot", {}),
            "go_offline": HttpAction("POST", "/actions/go_offline", {"seconds": "{seconds}"}),
        },
        transport=transport,
    )
