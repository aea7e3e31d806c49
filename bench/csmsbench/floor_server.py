"""Floor servers: a WebSocket server that parses each CALL and answers a canned CALLRESULT.

    PYTHONPATH=bench .venv/bin/python -m csmsbench.floor_server --impl websockets --port 9000
    PYTHONPATH=bench .venv/bin/python -m csmsbench.floor_server --impl picows --port 9000

No OCPP logic at all: ``orjson.loads`` of the frame, then the answer for the frame's action,
encoded once at start, behind the CALL's message id. No authentication, no validation, no state.
What a CSMS costs beyond this is what its OCPP logic costs. ``websockets`` runs with its defaults
(keepalive pings every 20 s included); ``picows`` with its own (no pings).
It prints ``OCPP listening on ws://...`` once it accepts.
"""

from __future__ import annotations

import argparse
import asyncio

import orjson
from picows import (
    WSCloseCode,
    WSFrame,
    WSListener,
    WSMsgType,
    WSTransport,
    WSUpgradeRequest,
    WSUpgradeResponse,
    WSUpgradeResponseWithListener,
    ws_create_server,
)
from websockets import ConnectionClosed
from websockets.asyncio.server import ServerConnection, serve
from websockets.typing import Subprotocol

from csmsbench.procstat import raise_open_files_limit

SUBPROTOCOL = "ocpp2.0.1"
_ID_TOKEN_INFO = {"idTokenInfo": {"status": "Accepted"}}
_CANNED = {
    action: orjson.dumps(payload)
    for action, payload in {
        "BootNotification": {
            "currentTime": "2025-06-01T12:00:00Z",
            "interval": 300,
            "status": "Accepted",
        },
        "Heartbeat": {"currentTime": "2025-06-01T12:00:00Z"},
        "MeterValues": {},
        "TransactionEvent": {},
        "Authorize": _ID_TOKEN_INFO,
    }.items()
}


def answer(frame: bytes | memoryview) -> bytes:
    """The CALLRESULT for a CALL frame (a CALL of an action not listed here fails)."""
    message = orjson.loads(frame)
    return b"[3," + orjson.dumps(message[1]) + b"," + _CANNED[message[2]] + b"]"


async def serve_websockets(port: int) -> None:
    async def handler(connection: ServerConnection) -> None:
        try:
            while True:
                frame = await connection.recv(decode=False)
                await connection.send(answer(frame), text=True)
        except ConnectionClosed:
            pass

    async with serve(
        handler, "127.0.0.1", port, subprotocols=[Subprotocol(SUBPROTOCOL)], backlog=1024
    ) as server:
        print(f"OCPP listening on ws://127.0.0.1:{port}/ocpp/ (websockets)", flush=True)
        await server.serve_forever()


class _Floor(WSListener):
    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type == WSMsgType.TEXT:
            transport.send(WSMsgType.TEXT, answer(frame.get_payload_as_memoryview()))
        elif frame.msg_type == WSMsgType.CLOSE:
            transport.send_close(WSCloseCode.OK)
            transport.disconnect()


def _accept(request: WSUpgradeRequest) -> WSUpgradeResponseWithListener | None:
    if not request.path.startswith(b"/ocpp/"):
        return None  # picows answers 404
    offered = request.headers.get("Sec-WebSocket-Protocol", "")
    headers = {"Sec-WebSocket-Protocol": SUBPROTOCOL} if SUBPROTOCOL in offered else {}
    return WSUpgradeResponseWithListener(WSUpgradeResponse.create_101_response(headers), _Floor())


async def serve_picows(port: int) -> None:
    server = await ws_create_server(_accept, "127.0.0.1", port, backlog=1024)
    print(f"OCPP listening on ws://127.0.0.1:{port}/ocpp/ (picows)", flush=True)
    await server.serve_forever()


async def main(impl: str, port: int) -> None:
    raise_open_files_limit()
    await (serve_picows(port) if impl == "picows" else serve_websockets(port))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--impl", choices=["websockets", "picows"], required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    asyncio.run(main(args.impl, args.port))
