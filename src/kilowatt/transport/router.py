"""Request type → handler, checked by mypy: a handler returns its request's response type.

Shared by both ends: the CSMS routes the requests of stations, the station those of the CSMS.
A handler is called with the request and a context of the router's choosing (``ContextT``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from kilowatt.messages import Request, Response
from kilowatt.rpc.errors import NotSupported

__all__ = ["Handler", "Router"]

R = TypeVar("R", bound=Response)
ContextT = TypeVar("ContextT")
Handler = Callable[[Any, ContextT], Awaitable[Response]]


class Router(Generic[ContextT]):
    def __init__(self) -> None:
        self._handlers: dict[type[Request[Response]], Handler[ContextT]] = {}

    def add(
        self,
        request_type: type[Request[R]],
        handler: Callable[[Any, ContextT], Awaitable[R]],
    ) -> None:
        """Route a request type to its handler; mypy checks the handler's response type.

        Raises:
            ValueError: the request type is routed already.
        """
        if request_type in self._handlers:
            raise ValueError(f"{request_type.__name__} is routed already")
        self._handlers[request_type] = handler

    def handler_for(self, request: object) -> Handler[ContextT]:
        """The handler of a request.

        Raises:
            NotSupported: no handler for this action (it is a known action, so not
                NotImplemented).
        """
        handler = self._handlers.get(type(request))  # type: ignore[arg-type]
        if handler is None:
            raise NotSupported(f"{type(request).__name__} is not handled")
        return handler

    @property
    def routed(self) -> frozenset[type[Request[Response]]]:
        return frozenset(self._handlers)
