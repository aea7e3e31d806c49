"""The peer's CALLs: delivered, answered once, and broken frames refused with the right code."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kilowatt.rpc import (
    OCPP16,
    OCPP201,
    BadFrame,
    CallReceived,
    Dialect,
    Endpoint,
    FormatViolation,
    FrameRecord,
    GenericError,
    InternalError,
    InvalidResponseReceived,
    InvalidState,
    OverlappingCall,
)

MakeEndpoint = Callable[..., Endpoint]


def test_call_is_delivered_and_answered_with_a_result(
    endpoint: Endpoint, traces: list[FrameRecord]
) -> None:
    endpoint.receive_text('[2,"c1","Authorize",{"idTag":"A1"}]', now=0.0)

    assert endpoint.events_received() == [CallReceived("c1", "Authorize", {"idTag": "A1"})]
    assert endpoint.texts_to_send() == []

    endpoint.send_result("c1", {"idTagInfo": {"status": "Accepted"}})

    assert endpoint.texts_to_send() == ['[3,"c1",{"idTagInfo":{"status":"Accepted"}}]']
    assert [(r.direction, r.message_type, r.message_id, r.action) for r in traces] == [
        ("in", 2, "c1", "Authorize"),
        ("out", 3, "c1", "Authorize"),
    ]


def test_call_is_answered_with_an_error(endpoint: Endpoint) -> None:
    endpoint.receive_text('[2,"c1","Heartbeat",{}]', now=0.0)

    endpoint.send_error("c1", InternalError("internal error", {"retry": True}))

    assert endpoint.texts_to_send() == ['[4,"c1","InternalError","internal error",{"retry":true}]']


def test_error_codes_are_spelled_for_the_dialect(make_endpoint: MakeEndpoint) -> None:
    endpoint = make_endpoint(OCPP16)
    endpoint.receive_text('[2,"c1","Heartbeat",{}]', now=0.0)

    endpoint.send_error("c1", FormatViolation("bad"))

    assert endpoint.texts_to_send() == ['[4,"c1","FormationViolation","bad",{}]']


def test_error_description_is_cut_to_255_characters(endpoint: Endpoint) -> None:
    endpoint.receive_text('[2,"c1","Heartbeat",{}]', now=0.0)
    error = GenericError()
    error.description = "d" * 300

    endpoint.send_error("c1", error)

    assert endpoint.texts_to_send() == ['[4,"c1","GenericError","' + "d" * 255 + '",{}]']


@pytest.mark.parametrize("message_id", ["c1", "zz"])
def test_answer_only_an_unanswered_received_call(endpoint: Endpoint, message_id: str) -> None:
    endpoint.receive_text('[2,"c1","Heartbeat",{}]', now=0.0)
    endpoint.send_result("c1", {"currentTime": "t"})
    endpoint.texts_to_send()

    with pytest.raises(InvalidState):
        endpoint.send_result(message_id, {"currentTime": "t"})
    with pytest.raises(InvalidState):
        endpoint.send_error(message_id, GenericError())
    assert endpoint.texts_to_send() == []


# (received text, CALLERROR sent in OCPP 2.0.1, CALLERROR sent in OCPP 1.6)
BAD_CALLS = [
    (
        "nope",
        '[4,"-1","RpcFrameworkError","frame is not valid JSON",{}]',
        '[4,"-1","FormationViolation","frame is not valid JSON",{}]',
    ),
    (
        '{"messageTypeId": 2}',
        '[4,"-1","RpcFrameworkError","frame is not a JSON array",{}]',
        '[4,"-1","FormationViolation","frame is not a JSON array",{}]',
    ),
    (
        "[]",
        '[4,"-1","RpcFrameworkError","frame is an empty array",{}]',
        '[4,"-1","FormationViolation","frame is an empty array",{}]',
    ),
    (
        '["2","c1","Heartbeat",{}]',
        '[4,"c1","RpcFrameworkError","messageTypeId is not an integer",{}]',
        '[4,"c1","FormationViolation","messageTypeId is not an integer",{}]',
    ),
    (
        '[2,"c1","Heartbeat"]',
        '[4,"c1","RpcFrameworkError","a CALL has 4 elements, not 3",{}]',
        '[4,"c1","FormationViolation","a CALL has 4 elements, not 3",{}]',
    ),
    (
        '[2,"c1",7,{}]',
        '[4,"c1","RpcFrameworkError","invalid CALL: Expected `str`, got `int` - at `$[2]`",{}]',
        '[4,"c1","FormationViolation","invalid CALL: Expected `str`, got `int` - at `$[2]`",{}]',
    ),
    (
        '[7,"c1",{}]',
        '[4,"c1","MessageTypeNotSupported","messageTypeId 7 is not supported",{}]',
        '[4,"c1","NotSupported","messageTypeId 7 is not supported",{}]',
    ),
    (
        '[6,"c1","Heartbeat",{}]',
        '[4,"c1","MessageTypeNotSupported","messageTypeId 6 is not supported",{}]',
        '[4,"c1","NotSupported","messageTypeId 6 is not supported",{}]',
    ),
    (
        '[2,"c1","Reset",{}]',
        '[4,"c1","NotImplemented","Reset is not implemented",{}]',
        '[4,"c1","NotImplemented","Reset is not implemented",{}]',
    ),
    (
        '[2,"c1","Authorize",{}]',
        '[4,"c1","OccurrenceConstraintViolation","idTag is required",{}]',
        '[4,"c1","OccurenceConstraintViolation","idTag is required",{}]',
    ),
    (
        '[2,"c1","Authorize",{"idTag":5}]',
        '[4,"c1","TypeConstraintViolation","idTag is not of type str",{}]',
        '[4,"c1","TypeConstraintViolation","idTag is not of type str",{}]',
    ),
    (
        '[2,"c1","Heartbeat",[]]',
        '[4,"c1","TypeConstraintViolation","payload is not an object",{}]',
        '[4,"c1","TypeConstraintViolation","payload is not an object",{}]',
    ),
    (
        '[2,"' + "i" * 37 + '","Heartbeat",{}]',
        '[4,"' + "i" * 37 + '","RpcFrameworkError","messageId is over 36 characters",{}]',
        '[4,"' + "i" * 37 + '","FormationViolation","messageId is over 36 characters",{}]',
    ),
]


@pytest.mark.parametrize(
    ("dialect", "text", "answer"),
    [(OCPP201, text, answer) for text, answer, _ in BAD_CALLS]
    + [(OCPP16, text, answer) for text, _, answer in BAD_CALLS],
)
def test_broken_call_gets_the_right_callerror_and_the_endpoint_goes_on(
    make_endpoint: MakeEndpoint, dialect: Dialect, text: str, answer: str
) -> None:
    endpoint = make_endpoint(dialect)

    endpoint.receive_text(text, now=0.0)

    assert endpoint.texts_to_send() == [answer]
    [event] = endpoint.events_received()
    assert isinstance(event, BadFrame)
    assert (event.text, event.answered) == (text, True)
    assert event.error.description in answer

    endpoint.receive_text('[2,"c2","Heartbeat",{}]', now=1.0)
    assert endpoint.events_received() == [CallReceived("c2", "Heartbeat", {})]


def test_bytes_are_read_as_utf8(endpoint: Endpoint) -> None:
    endpoint.receive_text('[2,"c1","Authorize",{"idTag":"\u00e9"}]'.encode(), now=0.0)
    endpoint.receive_text(b'[2,"c2","Authorize",{"idTag":"\xff"}]', now=0.0)

    assert endpoint.events_received()[0] == CallReceived("c1", "Authorize", {"idTag": "\u00e9"})
    assert endpoint.texts_to_send() == [
        '[4,"-1","RpcFrameworkError","frame is not valid UTF-8",{}]'
    ]


def test_call_before_the_previous_is_answered_is_delivered_and_flagged(endpoint: Endpoint) -> None:
    endpoint.receive_text('[2,"c1","Heartbeat",{}]', now=0.0)
    endpoint.receive_text('[2,"c2","Authorize",{"idTag":"A1"}]', now=0.0)

    assert endpoint.events_received() == [
        CallReceived("c1", "Heartbeat", {}),
        OverlappingCall("c2", "Authorize", ("c1",)),
        CallReceived("c2", "Authorize", {"idTag": "A1"}),
    ]
    endpoint.send_result("c2", {"idTagInfo": {}})
    endpoint.send_result("c1", {"currentTime": "t"})
    assert endpoint.texts_to_send() == ['[3,"c2",{"idTagInfo":{}}]', '[3,"c1",{"currentTime":"t"}]']


def test_call_reusing_the_id_of_an_unanswered_call_is_dropped(endpoint: Endpoint) -> None:
    endpoint.receive_text('[2,"c1","Heartbeat",{}]', now=0.0)
    endpoint.events_received()

    endpoint.receive_text('[2,"c1","Authorize",{"idTag":"A1"}]', now=0.0)

    [event] = endpoint.events_received()
    assert isinstance(event, BadFrame)
    assert (event.answered, event.error.description) == (False, "messageId c1 is already in use")
    assert endpoint.texts_to_send() == []
    endpoint.send_result("c1", {"currentTime": "t"})
    assert endpoint.texts_to_send() == ['[3,"c1",{"currentTime":"t"}]']


def oversized_call(message_id: str = '"c1"', size: int = 101) -> str:
    head = f'[2,{message_id},"Authorize",{{"idTag":"'
    return head + "x" * (size - len(head) - 3) + '"}]'


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        (
            oversized_call(),
            '[4,"c1","FormatViolation","frame of 101 bytes exceeds the limit of 100 bytes",{}]',
        ),
        (
            oversized_call('"with \\" quote"'),
            '[4,"-1","FormatViolation","frame of 101 bytes exceeds the limit of 100 bytes",{}]',
        ),
        (
            # 69 characters but 105 bytes of UTF-8: the limit is on bytes.
            '[2,"c1","Authorize",{"idTag":"' + "\u00e9" * 36 + '"}]',
            '[4,"c1","FormatViolation","frame of 105 bytes exceeds the limit of 100 bytes",{}]',
        ),
    ],
)
def test_oversized_call_is_refused_without_parsing(
    make_endpoint: MakeEndpoint, text: str, answer: str
) -> None:
    endpoint = make_endpoint(max_frame_size=100)

    endpoint.receive_text(text, now=0.0)

    assert endpoint.texts_to_send() == [answer]
    [event] = endpoint.events_received()
    assert isinstance(event, BadFrame)
    assert type(event.error) is FormatViolation


def test_oversized_bytes_are_refused(make_endpoint: MakeEndpoint) -> None:
    endpoint = make_endpoint(OCPP16, max_frame_size=100)

    endpoint.receive_text(oversized_call(size=150).encode(), now=0.0)

    assert endpoint.texts_to_send() == [
        '[4,"c1","FormationViolation","frame of 150 bytes exceeds the limit of 100 bytes",{}]'
    ]


def test_frame_at_the_limit_is_taken(make_endpoint: MakeEndpoint) -> None:
    endpoint = make_endpoint(max_frame_size=100)

    endpoint.receive_text(oversized_call(size=100), now=0.0)

    [event] = endpoint.events_received()
    assert isinstance(event, CallReceived)


def test_oversized_result_ends_our_call_unanswered(make_endpoint: MakeEndpoint) -> None:
    endpoint = make_endpoint(max_frame_size=100)
    endpoint.send_call("Heartbeat", {}, now=0.0)
    endpoint.texts_to_send()

    endpoint.receive_text('[3,"m1",{"currentTime":"' + "t" * 100 + '"}]', now=1.0)

    [event] = endpoint.events_received()
    assert isinstance(event, InvalidResponseReceived)
    assert event.error.description == "frame of 127 bytes exceeds the limit of 100 bytes"
    assert endpoint.texts_to_send() == []
