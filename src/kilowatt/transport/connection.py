"""Runs an rpc Endpoint over a TextChannel with asyncio: the one place that awaits.

The Endpoint keeps the OCPP-J rules. This shell moves texts between it and the channel, reads the
clock for it, wakes it at its deadlines, runs a handler for each CALL of the peer, and turns the
end of each CALL of ours into the result or the exception of ``Connection.call``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, cast

from kilowatt.clock import Clock
from kilowatt.messages.base import Request, ResponseT
from kilowatt.rpc.endpoint import Endpoint
from kilowatt.rpc.errors import (
    CallFailed,
    CallTimeout,
    ConnectionLost,
    InternalError,
    InvalidResponse,
    InvalidState,
    OcppError,
    RpcError,
)
from kilowatt.rpc.events import (
    BadFrame,
    CallAborted,
    CallReceived,
    CallResultErrorReceived,
    CallTimedOut,
    ErrorReceived,
    Event,
    InvalidResponseReceived,
    OverlappingCall,
    ResultReceived,
    SendReceived,
    UnmatchedResponse,
)
from kilowatt.transport.channel import ChannelClosed, TextChannel

__all__ = ["INTERNAL_ERROR_DESCRIPTION", "CallHandler", "Connection"]

logger = logging.getLogger(__name__)

# What the peer is told when a handler fails: the exception itself may hold internals.
INTERNAL_ERROR_DESCRIPTION = "internal error"

CallHandler = Callable[[object], Awaitable[object]]


class Connection:
    """One OCPP-J connection: our CALLs out with ``call``, the peer's CALLs in to ``on_call``.

    ``run`` must be running for anything to be received: start it in a task of its own.

    Args:
        channel: the transport, e.g. a WebSocket adapter or one end of ``channel_pair()``.
        endpoint: the RPC rules for this connection; used by this connection only.
        clock: gives the endpoint its time and sleeps until its deadlines.
        on_call: called with the decoded request of each CALL of the peer, each in a task of its
            own; returns the response. A raised RpcError is sent as the CALLERROR; any other
            exception is logged and sent as a bare InternalError. It is also called with the
            request of each OCPP 2.1 SEND, whose return value is then dropped.
        on_event: told of every event of the endpoint before it is handled (the compliance
            harness watches the peer's rule breaks: refused frames, overlapping CALLs).
    """

    def __init__(
        self,
        channel: TextChannel,
        endpoint: Endpoint,
        clock: Clock,
        on_call: CallHandler,
        on_event: Callable[[Event], None] | None = None,
    ) -> None:
        self._channel = channel
        self._on_event = on_event
        self._endpoint = endpoint
        self._clock = clock
        self._on_call = on_call
        self._waiting: dict[str, asyncio.Future[object]] = {}  # our CALLs: message id -> answer
        self._handlers: set[asyncio.Task[None]] = set()
        self._send_lock = asyncio.Lock()  # one sender at a time keeps the endpoint's order
        self._call_started = asyncio.Event()
        self._started = False

    async def run(self) -> None:
        """Receive until the channel closes; then fail the CALLs still waiting and stop the
        handlers still running.

        Raises:
            InvalidState: ``run`` was started before.
            Exception: whatever the channel's ``recv`` or the codec raises besides ChannelClosed
                and RpcError (a bug); the connection is ended all the same.
        """
        if self._started:
            raise InvalidState("run() was started before")
        self._started = True
        timer = asyncio.create_task(self._expire_calls())
        try:
            while True:
                try:
                    text = await self._channel.recv()
                except ChannelClosed:
                    return
                self._endpoint.receive_text(text, self._clock.monotonic())
                self._handle_events()
                await self._flush()
        finally:
            self._end()
            tasks = [timer, *self._handlers]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._channel.close()

    async def call(self, request: Request[ResponseT]) -> ResponseT:
        """Send a CALL and wait for its answer.

        OCPP-J 4.1.1: while another CALL of ours waits for its answer, this one waits its turn.

        Args:
            request: the payload; its class names the action and the response type.

        Returns:
            The response, of the request's response type.

        Raises:
            CallFailed: the peer answered with a CALLERROR.
            InvalidResponse: the answer broke the response schema or the OCPP-J framing.
            CallTimeout: no answer within the endpoint's call timeout.
            ConnectionLost: the connection is closed or closed while the CALL waited.
            FrameTooLarge: the CALL is over the endpoint's frame size limit; it was not sent.
            InvalidState: the request type has no response (send it with ``send_unanswered``).
        """
        response_type = request.RESPONSE_TYPE
        if response_type is None:
            raise InvalidState(f"{request.ACTION} gets no response: use send_unanswered")
        if self._endpoint.closed:
            raise ConnectionLost(f"{request.ACTION}: the connection is closed")
        message_id = self._endpoint.send_call(request.ACTION, request, self._clock.monotonic())
        answer: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._waiting[message_id] = answer
        self._call_started.set()
        try:
            await self._flush()
            response = await answer
        finally:
            self._waiting.pop(message_id, None)
        if not isinstance(response, response_type):
            raise TypeError(
                f"the codec decoded the {request.ACTION} response as "
                f"{type(response).__name__}, not {response_type.__name__}"
            )
        return cast(ResponseT, response)

    async def send_unanswered(self, request: Request[Any]) -> None:
        """Send an OCPP 2.1 SEND: no answer comes, and it does not wait for our CALL in flight.

        Raises:
            ConnectionLost: the connection is closed.
            InvalidState: the endpoint's OCPP version has no SEND.
            FrameTooLarge: the SEND is over the frame size limit; it was not sent.
        """
        if self._endpoint.closed:
            raise ConnectionLost(f"{request.ACTION}: the connection is closed")
        self._endpoint.send_unanswered(request.ACTION, request)
        await self._flush()

    async def close(self) -> None:
        """Close the connection: waiting CALLs fail with ConnectionLost at once and run() ends."""
        self._end()
        await self._channel.close()

    # -- internals ---------------------------------------------------------------------------

    def _end(self) -> None:
        """The connection is over: the endpoint aborts our CALLs and their callers are told."""
        self._endpoint.close()
        self._handle_events()

    def _handle_events(self) -> None:
        for event in self._endpoint.events_received():
            if self._on_event is not None:
                self._on_event(event)
            match event:
                case CallReceived():
                    self._spawn(self._answer(event.message_id, event.action, event.request))
                case ResultReceived():
                    self._settle(event.message_id, event.response)
                case ErrorReceived():
                    self._fail(event.message_id, CallFailed(event.action, event.error))
                case InvalidResponseReceived():
                    self._fail(event.message_id, InvalidResponse(event.action, event.error))
                case CallTimedOut():
                    self._fail(event.message_id, CallTimeout(event.action, event.message_id))
                case CallAborted():
                    lost = ConnectionLost(f"{event.action} [{event.message_id}]: connection closed")
                    self._fail(event.message_id, lost)
                case SendReceived():
                    self._spawn(self._take_send(event.message_id, event.action, event.request))
                case BadFrame():
                    logger.warning("refused a frame: %s %s", event.error.code, event.error)
                case UnmatchedResponse():
                    logger.info("dropped a response to no waiting CALL: %s", event.message_id)
                case OverlappingCall():
                    logger.warning(
                        "peer sent CALL %s while %s were unanswered (OCPP-J 4.1.1)",
                        event.message_id,
                        ", ".join(event.unanswered),
                    )
                case CallResultErrorReceived():
                    logger.warning(
                        "peer refused our CALLRESULT %s: %s %s",
                        event.message_id,
                        event.error.code,
                        event.error,
                    )

    def _settle(self, message_id: str, response: object) -> None:
        answer = self._waiting.pop(message_id, None)
        if answer is not None and not answer.done():
            answer.set_result(response)

    def _fail(self, message_id: str, error: OcppError) -> None:
        answer = self._waiting.pop(message_id, None)
        if answer is not None and not answer.done():
            answer.set_exception(error)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._handlers.add(task)  # a strong reference, or the task may vanish mid-way
        task.add_done_callback(self._handlers.discard)

    async def _answer(self, message_id: str, action: str, request: object) -> None:
        try:
            response = await self._on_call(request)
            if not self._endpoint.closed:
                self._endpoint.send_result(message_id, response)
        except RpcError as error:
            self._refuse(message_id, error)
        except Exception:
            # The peer gets a bare InternalError: tracebacks and messages stay in our logs.
            logger.exception("handler of %s [%s] failed", action, message_id)
            self._refuse(message_id, InternalError(INTERNAL_ERROR_DESCRIPTION))
        await self._flush()

    def _refuse(self, message_id: str, error: RpcError) -> None:
        if not self._endpoint.closed:
            self._endpoint.send_error(message_id, error)

    async def _take_send(self, message_id: str, action: str, request: object) -> None:
        try:
            await self._on_call(request)
        except Exception:
            # OCPP 2.1: a SEND is never answered, so a failure is only logged.
            logger.exception("handler of SEND %s [%s] failed", action, message_id)

    async def _flush(self) -> None:
        """Send what the endpoint has queued, in its order."""
        async with self._send_lock:
            for text in self._endpoint.texts_to_send():
                try:
                    await self._channel.send(text)
                except ChannelClosed:
                    self._end()
                    return

    async def _expire_calls(self) -> None:
        """Wake the endpoint at the deadline of our CALL in flight.

        A deadline only moves later (each is a send time plus the fixed call timeout), so a sleep
        that ends at a stale deadline just goes round again; only a CALL started while none was in
        flight needs to wake this loop.
        """
        while True:
            deadline = self._endpoint.next_deadline()
            if deadline is None:
                self._call_started.clear()
                await self._call_started.wait()
                continue
            await self._clock.sleep(deadline - self._clock.monotonic())
            self._endpoint.expire(self._clock.monotonic())
            self._handle_events()
            await self._flush()
