"""A simulated charging station for the API tests: the station role's real endpoint and codec
over a memory channel, served by the CSMS as any station is, answering the CSMS's CALLs (in
OCPP 2.0.1, or 2.1 when connected with subprotocol "ocpp2.1")."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from kilowatt.clock import ManualClock
from kilowatt.csms.app import Csms
from kilowatt.messages import VERSIONS, PayloadCodec, Request, Response, v201
from kilowatt.rpc import Endpoint, counting_message_ids
from kilowatt.transport import Connection, channel_pair

from .minimal import minimal_message

__all__ = ["Answer", "SimulatedStation"]

Answer = Callable[[Any], Awaitable[Response]]


class SimulatedStation:
    """A station connected to a Csms over a memory channel.

    Attributes:
        received: the CALLs the CSMS sent it, in order.
        variables: its device model: (component, variable) -> value, for GetVariables.
        answer: makes the response to each CALL (default: ``default_answer``).
        hold: while set to an unset Event, CALLs wait for it before being answered.
    """

    def __init__(
        self,
        csms: Csms,
        station_id: str,
        answer: Answer | None = None,
        subprotocol: str = "ocpp2.0.1",
    ) -> None:
        self.csms = csms
        self.station_id = station_id
        self.subprotocol = subprotocol
        version = VERSIONS[subprotocol.removeprefix("ocpp")]
        self.received: list[Request[Response]] = []
        self.variables = {
            ("DeviceDataCtrlr", "ItemsPerMessage"): "2",
            ("DeviceDataCtrlr", "BytesPerMessage"): "65000",
            ("OCPPCommCtrlr", "HeartbeatInterval"): "300",
        }
        self.answer: Answer = answer or self.default_answer
        self.hold: asyncio.Event | None = None
        self.call_arrived = asyncio.Event()
        station_end, self.csms_end = channel_pair()
        endpoint = Endpoint(
            PayloadCodec(version, "station"),
            version.dialect,
            new_message_id=counting_message_ids("s"),
        )
        self.channel = station_end
        self.connection = Connection(station_end, endpoint, ManualClock(), self._on_call)

    async def start(self) -> None:
        """Connect, and return once the CSMS has the station's session."""
        self.serve_task = asyncio.create_task(
            self.csms.serve_channel(
                self.station_id, self.csms_end, subprotocol=self.subprotocol, remote="memory"
            )
        )
        self.task = asyncio.create_task(self.connection.run())
        async with asyncio.timeout(5):
            while self.csms.registry.get(self.station_id) is None:
                await asyncio.sleep(0.001)

    async def close(self) -> None:
        """Disconnect, and return once the CSMS has ended the session (again: no-op)."""
        if self.serve_task.done():
            return
        if self.hold is not None:
            self.hold.set()
        await self.connection.close()
        await self.task
        await self.serve_task

    async def _on_call(self, request: Any) -> Response:
        self.received.append(request)
        self.call_arrived.set()
        if self.hold is not None:
            await self.hold.wait()
        return await self.answer(request)

    async def default_answer(self, request: Any) -> Response:
        """Answers from the device model for Get/SetVariables; the smallest valid response,
        which accepts, for anything else."""
        match request:
            case v201.GetVariablesRequest():
                return v201.GetVariablesResponse(
                    get_variable_result=[self._get(item) for item in request.get_variable_data]
                )
            case v201.SetVariablesRequest():
                for item in request.set_variable_data:
                    self.variables[item.component.name, item.variable.name] = item.attribute_value
                return v201.SetVariablesResponse(
                    set_variable_result=[
                        v201.SetVariableResultType(
                            attribute_status=v201.SetVariableStatusEnumType.ACCEPTED,
                            component=item.component,
                            variable=item.variable,
                        )
                        for item in request.set_variable_data
                    ]
                )
        response: Response = minimal_message(request.RESPONSE_TYPE)
        return response

    def _get(self, item: v201.GetVariableDataType) -> v201.GetVariableResultType:
        value = self.variables.get((item.component.name, item.variable.name))
        if value is None:
            return v201.GetVariableResultType(
                attribute_status=v201.GetVariableStatusEnumType.UNKNOWN_VARIABLE,
                component=item.component,
                variable=item.variable,
            )
        return v201.GetVariableResultType(
            attribute_status=v201.GetVariableStatusEnumType.ACCEPTED,
            attribute_value=value,
            component=item.component,
            variable=item.variable,
        )

    async def boot(self) -> v201.BootNotificationResponse:
        """Send a BootNotification and return the CSMS's answer."""
        return await self.connection.call(
            v201.BootNotificationRequest(
                charging_station=v201.ChargingStationType(
                    model="M1", vendor_name="Acme", firmware_version="1.2.3"
                ),
                reason=v201.BootReasonEnumType.POWER_UP,
            )
        )
