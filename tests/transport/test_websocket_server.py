"""The OCPP-J WebSocket server over real sockets on 127.0.0.1: handshake, admission, life cycle."""

from __future__ import annotations

import asyncio
import logging
from typing import ClassVar

import msgspec
import pytest
from websockets.asyncio.client import connect as websocket_connect
from websockets.extensions.permessage_deflate import PerMessageDeflate
from websockets.typing import Subprotocol

from kilowatt.clock import ManualClock, SystemClock
from kilowatt.messages.base import Request, Response
from kilowatt.rpc import OCPP201, Endpoint, FormatViolation
from kilowatt.transport import ChannelClosed, Connection
from kilowatt.transport.client import ConnectRefused
from kilowatt.transport.server import BasicAuth, Listener, Refusal, StationServer, StationSocket
from tests.transport.support import (
    Dial,
    FakeCsms,
    StartServer,
    bounded,
    raw_upgrade,
    ws_url,
)

OCPP201_ONLY = [Subprotocol("ocpp2.0.1")]

# -- the path and the station identity ----------------------------------------------------------


@pytest.mark.parametrize("path", ["/other/CS1", "/ocpp/CS1/more", "/ocpp", "/", "/ocppCS1"])
async def test_path_outside_the_endpoint_is_404(
    start_server: StartServer, csms: FakeCsms, path: str
) -> None:
    server = await start_server()

    response = await raw_upgrade(server.port("ws"), path, {"Sec-WebSocket-Protocol": "ocpp2.0.1"})

    assert response.status == 404
    assert csms.handshakes == []


@pytest.mark.parametrize(
    ("path", "complaint"),
    [
        ("/ocpp/", "missing"),
        ("/ocpp/" + "x" * 49, "over 48"),
        ("/ocpp/CS:1", '":"'),
        ("/ocpp/CS%3A1", '":"'),
        ("/ocpp/CS%FF", "UTF-8"),
    ],
)
async def test_bad_station_identity_is_400_without_upgrade(
    start_server: StartServer, csms: FakeCsms, path: str, complaint: str
) -> None:
    server = await start_server()

    response = await raw_upgrade(server.port("ws"), path, {"Sec-WebSocket-Protocol": "ocpp2.0.1"})

    assert response.status == 400
    assert complaint in response.body
    assert "upgrade" not in response.headers
    assert csms.handshakes == []


async def test_identity_is_percent_decoded_and_48_characters_fit(
    start_server: StartServer, csms: FakeCsms, dial: Dial
) -> None:
    server = await start_server()
    station_id = "CS 1/é*=+|@." + "x" * 36  # 48 characters; " ", "/", "é" travel encoded

    socket = await dial(ws_url(server), station_id)
    station = await bounded(csms.arrived.get())

    assert station.station_id == station_id == csms.handshakes[0].station_id
    assert socket.subprotocol == "ocpp2.0.1"


async def test_prefix_is_configurable(
    start_server: StartServer, csms: FakeCsms, dial: Dial
) -> None:
    server = await start_server(path_prefix="/api/ocpp/")

    await dial(f"ws://127.0.0.1:{server.port('ws')}/api/ocpp", "CS1")
    refused = await raw_upgrade(server.port("ws"), "/ocpp/CS1")

    assert [h.station_id for h in csms.handshakes] == ["CS1"]
    assert refused.status == 404


# -- subprotocol negotiation (OCPP-J 2.0.1 3.1.2) -----------------------------------------------


async def test_only_an_unsupported_version_offered_is_refused(
    start_server: StartServer, csms: FakeCsms, dial: Dial
) -> None:
    server = await start_server()

    with pytest.raises(ConnectRefused) as refused:
        await dial(ws_url(server), "CS1", subprotocols=["ocpp0.1"])

    assert refused.value.status == 400
    assert "ocpp0.1" in refused.value.body
    assert "ocpp2.0.1" in refused.value.body
    assert csms.handshakes == []


async def test_no_version_offered_is_refused(start_server: StartServer, csms: FakeCsms) -> None:
    server = await start_server()

    response = await raw_upgrade(server.port("ws"), "/ocpp/CS1")

    assert response.status == 400
    assert "no OCPP version offered" in response.body
    assert csms.handshakes == []


async def test_the_one_supported_version_of_the_offer_is_echoed(
    start_server: StartServer, csms: FakeCsms
) -> None:
    server = await start_server()

    response = await raw_upgrade(
        server.port("ws"), "/ocpp/CS1", {"Sec-WebSocket-Protocol": "ocpp0.1, ocpp2.0.1"}
    )

    assert response.status == 101
    assert response.headers["sec-websocket-protocol"] == "ocpp2.0.1"
    assert csms.handshakes[0].subprotocol == "ocpp2.0.1"
    assert csms.handshakes[0].offered_subprotocols == ("ocpp0.1", "ocpp2.0.1")


async def test_the_stations_preference_wins_over_the_servers_order(
    start_server: StartServer, csms: FakeCsms, dial: Dial
) -> None:
    server = await start_server(subprotocols=("ocpp2.0.1", "ocpp1.6"))

    socket = await dial(ws_url(server), "CS1", subprotocols=["ocpp1.6", "ocpp2.0.1"])
    station = await bounded(csms.arrived.get())

    assert socket.subprotocol == station.subprotocol == "ocpp1.6"


def test_server_serves_only_ocpp_versions_kilowatt_speaks() -> None:
    async def never(_: object) -> None:
        raise AssertionError

    with pytest.raises(ValueError, match=r"ocpp2\.0"):
        StationServer([Listener("ws", "127.0.0.1")], ["ocpp2.0"], never, never)
    with pytest.raises(ValueError, match="names"):
        StationServer(
            [Listener("ws", "127.0.0.1"), Listener("ws", "127.0.0.1")], ["ocpp1.6"], never, never
        )


# -- admission ----------------------------------------------------------------------------------


async def test_refusal_401_asks_for_basic_auth_and_does_not_upgrade(
    start_server: StartServer, csms: FakeCsms, dial: Dial
) -> None:
    csms.refuse = Refusal(401, "unknown station or wrong password")
    server = await start_server()

    response = await raw_upgrade(
        server.port("ws"), "/ocpp/CS1", {"Sec-WebSocket-Protocol": "ocpp2.0.1"}
    )
    with pytest.raises(ConnectRefused) as refused:
        await dial(ws_url(server), "CS1", password="wrong")

    assert response.status == 401
    assert response.headers["www-authenticate"] == 'Basic realm="OCPP"'
    assert response.body == "unknown station or wrong password\n"
    assert "upgrade" not in response.headers
    assert refused.value.status == 401
    assert csms.arrived.empty()


async def test_refusal_403_does_not_ask_for_credentials(
    start_server: StartServer, csms: FakeCsms
) -> None:
    csms.refuse = Refusal(403, "blocked")
    server = await start_server()

    response = await raw_upgrade(
        server.port("ws"), "/ocpp/CS1", {"Sec-WebSocket-Protocol": "ocpp2.0.1"}
    )

    assert response.status == 403
    assert "www-authenticate" not in response.headers


def test_refusal_must_be_an_http_error() -> None:
    with pytest.raises(ValueError, match="101"):
        Refusal(101, "switching")


async def test_basic_auth_credentials_reach_admit(
    start_server: StartServer, csms: FakeCsms, dial: Dial
) -> None:
    server = await start_server()

    await dial(ws_url(server), "CS1", password="s3cret:with colon")
    await dial(ws_url(server), "CS2")
    await raw_upgrade(
        server.port("ws"),
        "/ocpp/CS3",
        {"Sec-WebSocket-Protocol": "ocpp2.0.1", "Authorization": "Basic not*base64"},
    )

    assert [h.basic_auth for h in csms.handshakes] == [
        BasicAuth("CS1", "s3cret:with colon"),
        None,
        None,
    ]


async def test_handshake_tells_admit_the_connection_and_the_listener(
    start_server: StartServer, csms: FakeCsms, dial: Dial
) -> None:
    clock = ManualClock()
    await clock.advance(90.0)
    server = await start_server(
        listeners=[Listener("first", "127.0.0.1"), Listener("second", "127.0.0.1")], clock=clock
    )

    socket = await dial(ws_url(server, "second"), "CS1")
    station = await bounded(csms.arrived.get())

    [handshake] = csms.handshakes
    assert handshake.listener == "second"
    assert handshake.tls is False
    assert handshake.client_certificate is None
    assert handshake.remote_address[0] == "127.0.0.1"
    assert station.handshake is handshake
    assert station.remote_address == handshake.remote_address
    assert station.connected_at == clock.now()
    assert socket.subprotocol == "ocpp2.0.1"


async def test_failing_admit_is_500_and_logged_and_the_server_goes_on(
    start_server: StartServer, csms: FakeCsms, dial: Dial, caplog: pytest.LogCaptureFixture
) -> None:
    csms.admit_error = "CS-BAD"
    server = await start_server()

    with (
        caplog.at_level(logging.ERROR, logger="kilowatt.transport.server"),
        pytest.raises(ConnectRefused) as refused,
    ):
        await dial(ws_url(server), "CS-BAD")
    socket = await dial(ws_url(server), "CS-GOOD")

    assert refused.value.status == 500
    assert "database" not in refused.value.body
    [record] = caplog.records
    assert record.exc_info is not None
    assert "database is down" in str(record.exc_info[1])
    await socket.send("still serving")
    assert await bounded(socket.recv()) == "still serving"


# -- the connection -----------------------------------------------------------------------------


async def test_messages_go_both_ways(start_server: StartServer, dial: Dial) -> None:
    server = await start_server()
    socket = await dial(ws_url(server), "CS1")

    await socket.send('[2,"1","Heartbeat",{}]')

    assert await bounded(socket.recv()) == '[2,"1","Heartbeat",{}]'


async def test_binary_frame_closes_the_connection_with_1003(
    start_server: StartServer, csms: FakeCsms
) -> None:
    server = await start_server()

    async with websocket_connect(
        ws_url(server) + "/CS1", subprotocols=OCPP201_ONLY, proxy=None
    ) as raw:
        await raw.send(b"\x00binary")
        await bounded(raw.wait_closed())

        assert raw.close_code == 1003
    station, _ = await bounded(csms.departed.get())
    assert station.close_code == 1003


async def test_failing_serve_closes_the_connection_with_1011(
    start_server: StartServer, csms: FakeCsms, dial: Dial, caplog: pytest.LogCaptureFixture
) -> None:
    csms.serve_error = RuntimeError("bug")
    server = await start_server()
    socket = await dial(ws_url(server), "CS1")

    with caplog.at_level(logging.ERROR, logger="kilowatt.transport.server"):
        await socket.send("anything")
        with pytest.raises(ChannelClosed):
            await bounded(socket.recv())

    assert socket.close_code == 1011
    assert [record.message for record in caplog.records] == ["serve failed for station 'CS1'"]


async def test_server_close_ends_recv_on_both_sides(
    start_server: StartServer, csms: FakeCsms, dial: Dial
) -> None:
    server = await start_server()
    socket = await dial(ws_url(server), "CS1")
    await bounded(csms.arrived.get())

    await bounded(server.close())

    with pytest.raises(ChannelClosed):
        await bounded(socket.recv())
    with pytest.raises(ChannelClosed):  # and it stays ended
        await socket.send("late")
    station, _ = csms.departed.get_nowait()  # close() waited for serve to return
    assert station.close_code == socket.close_code == 1001


async def test_message_over_the_size_limit_closes_with_1009(
    start_server: StartServer, csms: FakeCsms, dial: Dial
) -> None:
    server = await start_server(max_message_size=1000)
    socket = await dial(ws_url(server), "CS1")

    await socket.send("x" * 1000)
    assert await bounded(socket.recv()) == "x" * 1000
    await socket.send("x" * 1001)

    with pytest.raises(ChannelClosed):
        await bounded(socket.recv())
    assert socket.close_code == 1009


async def test_compression_keeps_no_context_on_either_side(start_server: StartServer) -> None:
    server = await start_server()

    async with websocket_connect(
        ws_url(server) + "/CS1", subprotocols=OCPP201_ONLY, proxy=None
    ) as raw:
        [deflate] = raw.protocol.extensions
        text = '[2,"1","Heartbeat",{}]' * 20
        await raw.send(text)
        assert await bounded(raw.recv()) == text

    assert isinstance(deflate, PerMessageDeflate)
    assert deflate.local_no_context_takeover
    assert deflate.remote_no_context_takeover


# -- keep-alive ---------------------------------------------------------------------------------

PING = 0.2  # ping interval, ping timeout and close timeout of the keep-alive tests


async def test_peer_that_never_answers_pings_is_dropped(
    start_server: StartServer, csms: FakeCsms
) -> None:
    server = await start_server(ping_interval=PING, ping_timeout=PING, close_timeout=PING)
    # A hand-made client: it completes the upgrade, then never reads, so never sends a pong.
    response_head = b""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port("ws"))
    try:
        writer.write(
            b"GET /ocpp/CS-DEAD HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp2.0.1\r\n\r\n"
        )
        response_head = await bounded(reader.readuntil(b"\r\n\r\n"))
        await bounded(csms.arrived.get())
        upgraded_at = asyncio.get_running_loop().time()

        _, dropped_at = await bounded(csms.departed.get())
    finally:
        writer.close()
        await writer.wait_closed()

    assert response_head.startswith(b"HTTP/1.1 101")
    # Within one interval, one pong timeout and the close timeout, plus scheduling slack.
    assert dropped_at - upgraded_at < 3 * PING + 0.5


async def test_peer_that_answers_pings_stays(
    start_server: StartServer, csms: FakeCsms, dial: Dial
) -> None:
    server = await start_server(ping_interval=PING, ping_timeout=PING, close_timeout=PING)
    socket = await dial(ws_url(server), "CS1", ping_interval=None)  # it only answers pings

    await asyncio.sleep(6 * PING)

    assert csms.departed.empty()
    await socket.send("alive")
    assert await bounded(socket.recv()) == "alive"


# -- a kilowatt Connection over the sockets -----------------------------------------------------


class EchoResponse(Response, frozen=True, kw_only=True, gc=False):
    ACTION: ClassVar[str] = "Echo"
    text: str


class EchoRequest(Request[EchoResponse], frozen=True, kw_only=True, gc=False):
    ACTION: ClassVar[str] = "Echo"
    RESPONSE_TYPE: ClassVar[type[Response] | None] = EchoResponse
    text: str


class EchoCodec:
    """The one action of these tests, decoded both ways."""

    def decode_call(self, action: str, payload: bytes) -> object:
        return self._decode(payload, EchoRequest)

    def decode_result(self, action: str, payload: bytes, request: object) -> object:
        return self._decode(payload, EchoResponse)

    def encode(self, payload: object) -> bytes:
        return msgspec.json.encode(payload)

    @staticmethod
    def _decode(payload: bytes, cls: type[msgspec.Struct]) -> object:
        try:
            return msgspec.json.decode(payload, type=cls)
        except msgspec.ValidationError as error:
            raise FormatViolation(str(error)) from None


async def answer(request: object) -> object:
    assert isinstance(request, EchoRequest)
    return EchoResponse(text=request.text.upper())


async def test_connections_exchange_calls_over_a_station_socket_and_a_client_socket(
    start_server: StartServer, dial: Dial
) -> None:
    clock = SystemClock()
    answers_to_csms: asyncio.Queue[EchoResponse] = asyncio.Queue()

    async def serve(station: StationSocket) -> None:
        connection = Connection(station, Endpoint(EchoCodec(), OCPP201), clock, answer)
        running = asyncio.create_task(connection.run())
        answers_to_csms.put_nowait(await connection.call(EchoRequest(text="from the csms")))
        await running

    server = await start_server(serve=serve)
    socket = await dial(ws_url(server), "CS1")
    station = Connection(socket, Endpoint(EchoCodec(), OCPP201), clock, answer)
    running = asyncio.create_task(station.run())

    try:
        answer_to_station = await bounded(station.call(EchoRequest(text="from the station")))
        answer_to_csms = await bounded(answers_to_csms.get())
    finally:
        await station.close()
        await bounded(running)

    assert answer_to_station == EchoResponse(text="FROM THE STATION")
    assert answer_to_csms == EchoResponse(text="FROM THE CSMS")
