"""Parsing and encoding OCPP-J frames."""

from __future__ import annotations

import msgspec
import pytest

from kilowatt.rpc import OCPP21, OCPP201, MessageTypeNotSupported, RpcError, RpcFrameworkError
from kilowatt.rpc.framing import (
    Call,
    CallError,
    CallResult,
    CallResultError,
    MalformedFrame,
    Send,
    encode_frame,
    parse_frame,
    read_header,
)

ALL_TYPES = OCPP21.message_types


def test_parse_call_keeps_the_payload_text_as_it_came() -> None:
    frame = parse_frame('[2, "m1", "Authorize", {"idTag" : "A1"}]', ALL_TYPES)

    assert isinstance(frame, Call)
    assert (frame.message_id, frame.action) == ("m1", "Authorize")
    assert bytes(frame.payload) == b'{"idTag" : "A1"}'


def test_parse_each_frame_type() -> None:
    result = parse_frame(b'[3,"m1",{}]', ALL_TYPES)
    error = parse_frame('[4,"m1","NotImplemented","no",{"a":1}]', ALL_TYPES)
    result_error = parse_frame('[5,"m1","FormatViolation","bad",{}]', ALL_TYPES)
    send = parse_frame('[6,"m1","NotifyPeriodicEventStream",{"id":1}]', ALL_TYPES)

    assert isinstance(result, CallResult)
    assert bytes(result.payload) == b"{}"
    assert error == CallError("m1", "NotImplemented", "no", {"a": 1})
    assert result_error == CallResultError("m1", "FormatViolation", "bad", {})
    assert isinstance(send, Send)
    assert send.action == "NotifyPeriodicEventStream"


@pytest.mark.parametrize(
    ("text", "error", "message_type", "message_id", "description"),
    [
        ("nope", RpcFrameworkError, None, None, "frame is not valid JSON"),
        ('[2,"m1","Heartbeat",{}] x', RpcFrameworkError, None, None, "frame is not valid JSON"),
        ('{"a": 1}', RpcFrameworkError, None, None, "frame is not a JSON array"),
        ("[]", RpcFrameworkError, None, None, "frame is an empty array"),
        (
            '["2","m1","Heartbeat",{}]',
            RpcFrameworkError,
            None,
            "m1",
            "messageTypeId is not an integer",
        ),
        (
            '[2.0,"m1","Heartbeat",{}]',
            RpcFrameworkError,
            None,
            "m1",
            "messageTypeId is not an integer",
        ),
        (
            '[true,"m1","Heartbeat",{}]',
            RpcFrameworkError,
            None,
            "m1",
            "messageTypeId is not an integer",
        ),
        ('[2,"m1","Heartbeat"]', RpcFrameworkError, 2, "m1", "a CALL has 4 elements, not 3"),
        ('[2,"m1","Heartbeat",{},{}]', RpcFrameworkError, 2, "m1", "a CALL has 4 elements, not 5"),
        ("[3]", RpcFrameworkError, 3, None, "a CALLRESULT has 3 elements, not 1"),
        (
            '[2,7,"Heartbeat",{}]',
            RpcFrameworkError,
            2,
            None,
            "invalid CALL: Expected `str`, got `int` - at `$[1]`",
        ),
        (
            '[4,"m1","GenericError","x",null]',
            RpcFrameworkError,
            4,
            "m1",
            "invalid CALLERROR: Expected `object`, got `null` - at `$[4]`",
        ),
        ('[9,"m1"]', MessageTypeNotSupported, 9, "m1", "messageTypeId 9 is not supported"),
        (
            '[5,"m1","X","y",{}]',
            MessageTypeNotSupported,
            5,
            "m1",
            "messageTypeId 5 is not supported",
        ),
        ('[6,"m1","A"]', MessageTypeNotSupported, 6, "m1", "messageTypeId 6 is not supported"),
    ],
)
def test_malformed_frames_say_what_is_wrong_and_what_could_be_read(
    text: str,
    error: type[RpcError],
    message_type: int | None,
    message_id: str | None,
    description: str,
) -> None:
    with pytest.raises(MalformedFrame) as raised:
        parse_frame(text, OCPP201.message_types)

    assert type(raised.value.error) is error
    assert raised.value.error.description == description
    assert (raised.value.message_type, raised.value.message_id) == (message_type, message_id)


def test_encode_escapes_strings_and_copies_the_payload_in() -> None:
    call = Call('a"\\', "Data\nTransfer", msgspec.Raw(b'{"x": [1, 2]}'))
    error = CallError("m1", "GenericError", "caf\u00e9 \u2603", {"k": "v"})

    assert encode_frame(call) == b'[2,"a\\"\\\\","Data\\nTransfer",{"x": [1, 2]}]'
    assert encode_frame(error) == '[4,"m1","GenericError","caf\u00e9 \u2603",{"k":"v"}]'.encode()


@pytest.mark.parametrize(
    ("text", "header"),
    [
        ('[2,"m1","Heartbeat",{...', (2, "m1")),
        (' [ 3 , "abc-def" , {', (3, "abc-def")),
        ("[4, 12, ", (4, None)),
        ('[2,"with \\" quote",', (2, None)),
        ('{"not": "a frame"}', (None, None)),
        (" " * 200 + '[2,"m1"', (None, None)),
    ],
)
def test_read_header_reads_type_and_id_from_the_start_only(
    text: str, header: tuple[int | None, str | None]
) -> None:
    assert read_header(text) == header
