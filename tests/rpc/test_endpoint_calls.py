"""Our CALLs: one in flight, the rest queued; each ends with exactly one event."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kilowatt.rpc import (
    BadFrame,
    CallAborted,
    CallReceived,
    CallTimedOut,
    Endpoint,
    ErrorReceived,
    FormatViolation,
    FrameRecord,
    FrameTooLarge,
    GenericError,
    InvalidResponseReceived,
    InvalidState,
    NotSupported,
    OccurrenceConstraintViolation,
    ResultReceived,
    RpcError,
    RpcFrameworkError,
    UnmatchedResponse,
    uuid4_message_id,
)

MakeEndpoint = Callable[..., Endpoint]

HEARTBEAT_RESULT = '[3,"m1",{"currentTime":"2025-01-01T00:00:00Z"}]'


def test_call_goes_out_and_its_result_ends_it(endpoint: Endpoint) -> None:
    message_id = endpoint.send_call("Heartbeat", {}, now=0.0)

    assert message_id == "m1"
    assert endpoint.texts_to_send() == ['[2,"m1","Heartbeat",{}]']
    assert endpoint.next_deadline() == 30.0

    endpoint.receive_text(HEARTBEAT_RESULT, now=1.0)

    assert endpoint.events_received() == [
        ResultReceived("m1", "Heartbeat", {"currentTime": "2025-01-01T00:00:00Z"})
    ]
    assert endpoint.next_deadline() is None
    assert endpoint.texts_to_send() == []


def test_second_call_waits_for_the_result_of_the_first(endpoint: Endpoint) -> None:
    endpoint.send_call("Heartbeat", {}, now=0.0)
    second = endpoint.send_call("Authorize", {"idTag": "A1"}, now=1.0)

    assert second == "m2"
    assert endpoint.texts_to_send() == ['[2,"m1","Heartbeat",{}]']

    endpoint.receive_text(HEARTBEAT_RESULT, now=5.0)

    assert endpoint.texts_to_send() == ['[2,"m2","Authorize",{"idTag":"A1"}]']
    # The timeout of the queued CALL runs from when it went out.
    assert endpoint.next_deadline() == 35.0


def test_second_call_goes_out_after_a_callerror_for_the_first(endpoint: Endpoint) -> None:
    endpoint.send_call("Heartbeat", {}, now=0.0)
    endpoint.send_call("Heartbeat", {}, now=0.0)
    endpoint.texts_to_send()

    endpoint.receive_text('[4,"m1","NotSupported","not here",{"hint":"no"}]', now=2.0)

    [event] = endpoint.events_received()
    assert isinstance(event, ErrorReceived)
    assert (event.message_id, event.action) == ("m1", "Heartbeat")
    assert type(event.error) is NotSupported
    assert (event.error.description, event.error.details) == ("not here", {"hint": "no"})
    assert endpoint.texts_to_send() == ['[2,"m2","Heartbeat",{}]']


@pytest.mark.parametrize(
    ("code", "error_class"),
    [
        ("FormationViolation", FormatViolation),  # OCPP 1.6 spelling
        ("FormatViolation", FormatViolation),
        ("OccurenceConstraintViolation", OccurrenceConstraintViolation),  # OCPP 1.6 spelling
        ("OccurrenceConstraintViolation", OccurrenceConstraintViolation),
        ("NoSuchCode", GenericError),
    ],
)
def test_received_error_codes_are_read_in_either_spelling(
    endpoint: Endpoint, code: str, error_class: type[RpcError]
) -> None:
    endpoint.send_call("Heartbeat", {}, now=0.0)

    endpoint.receive_text(f'[4,"m1","{code}","",{{}}]', now=1.0)

    [event] = endpoint.events_received()
    assert isinstance(event, ErrorReceived)
    assert type(event.error) is error_class


def test_call_times_out_at_its_deadline_and_the_next_goes_out(endpoint: Endpoint) -> None:
    endpoint.send_call("Heartbeat", {}, now=0.0)
    endpoint.send_call("Authorize", {"idTag": "A1"}, now=10.0)
    endpoint.texts_to_send()

    endpoint.expire(29.999)
    assert endpoint.events_received() == []
    assert endpoint.texts_to_send() == []

    endpoint.expire(30.0)
    assert endpoint.events_received() == [CallTimedOut("m1", "Heartbeat")]
    assert endpoint.texts_to_send() == ['[2,"m2","Authorize",{"idTag":"A1"}]']
    assert endpoint.next_deadline() == 60.0


def test_result_after_the_timeout_is_unmatched(endpoint: Endpoint) -> None:
    endpoint.send_call("Heartbeat", {}, now=0.0)
    endpoint.expire(31.0)
    endpoint.events_received()

    endpoint.receive_text(HEARTBEAT_RESULT, now=32.0)

    assert endpoint.events_received() == [UnmatchedResponse("m1", HEARTBEAT_RESULT)]
    assert endpoint.texts_to_send() == ['[2,"m1","Heartbeat",{}]']  # only the CALL itself


@pytest.mark.parametrize(
    "text", ['[3,"zz",{"currentTime":"t"}]', '[4,"zz","GenericError","",{}]', '[3,"m1",{}]']
)
def test_response_to_no_call_of_ours_is_dropped(make_endpoint: MakeEndpoint, text: str) -> None:
    endpoint = make_endpoint()

    endpoint.receive_text(text, now=0.0)

    [event] = endpoint.events_received()
    assert event == UnmatchedResponse(text[4:6], text)
    assert endpoint.texts_to_send() == []


def test_result_breaking_the_schema_ends_the_call_unanswered(endpoint: Endpoint) -> None:
    endpoint.send_call("Heartbeat", {}, now=0.0)
    endpoint.send_call("Heartbeat", {}, now=0.0)
    endpoint.texts_to_send()

    endpoint.receive_text('[3,"m1",{}]', now=1.0)

    [event] = endpoint.events_received()
    assert isinstance(event, InvalidResponseReceived)
    assert (event.message_id, event.action) == ("m1", "Heartbeat")
    assert type(event.error) is OccurrenceConstraintViolation
    assert event.error.description == "currentTime is required"
    # OCPP 2.0.1 has no CALLRESULTERROR, and a CALLERROR never answers a CALLRESULT.
    assert endpoint.texts_to_send() == ['[2,"m2","Heartbeat",{}]']


@pytest.mark.parametrize(
    ("text", "description"),
    [
        ('[3,"m1"]', "a CALLRESULT has 3 elements, not 2"),
        ('[4,"m1","GenericError"]', "a CALLERROR has 5 elements, not 3"),
        ('[4,"m1","GenericError","x",[]]', "invalid CALLERROR: Expected `object`, got `array`"),
    ],
)
def test_broken_answer_frame_ends_the_call_unanswered(
    endpoint: Endpoint, text: str, description: str
) -> None:
    endpoint.send_call("Heartbeat", {}, now=0.0)
    endpoint.texts_to_send()

    endpoint.receive_text(text, now=1.0)

    [event] = endpoint.events_received()
    assert isinstance(event, InvalidResponseReceived)
    assert event.message_id == "m1"
    assert type(event.error) is RpcFrameworkError
    assert event.error.description.startswith(description)
    assert endpoint.texts_to_send() == []
    assert endpoint.next_deadline() is None


def test_broken_answer_frame_for_no_call_is_reported_unanswered(endpoint: Endpoint) -> None:
    endpoint.send_call("Heartbeat", {}, now=0.0)
    endpoint.texts_to_send()

    endpoint.receive_text('[3,"zz"]', now=1.0)

    [event] = endpoint.events_received()
    assert isinstance(event, BadFrame)
    assert (event.text, event.answered) == ('[3,"zz"]', False)
    assert endpoint.texts_to_send() == []
    assert endpoint.next_deadline() == 30.0  # our CALL still waits


def test_peer_calls_are_delivered_and_answered_while_our_call_waits(endpoint: Endpoint) -> None:
    endpoint.send_call("Heartbeat", {}, now=0.0)
    endpoint.texts_to_send()

    endpoint.receive_text('[2,"c1","Authorize",{"idTag":"A1"}]', now=1.0)
    assert endpoint.events_received() == [CallReceived("c1", "Authorize", {"idTag": "A1"})]
    endpoint.send_result("c1", {"idTagInfo": {"status": "Accepted"}})
    assert endpoint.texts_to_send() == ['[3,"c1",{"idTagInfo":{"status":"Accepted"}}]']

    endpoint.receive_text(HEARTBEAT_RESULT, now=2.0)
    [event] = endpoint.events_received()
    assert isinstance(event, ResultReceived)


def test_close_aborts_calls_in_flight_and_queued(endpoint: Endpoint) -> None:
    endpoint.send_call("Heartbeat", {}, now=0.0)
    endpoint.send_call("Authorize", {"idTag": "A1"}, now=0.0)
    endpoint.receive_text('[2,"c1","Heartbeat",{}]', now=1.0)
    endpoint.events_received()

    endpoint.close()

    assert endpoint.closed
    assert endpoint.events_received() == [
        CallAborted("m1", "Heartbeat"),
        CallAborted("m2", "Authorize"),
    ]
    assert endpoint.texts_to_send() == []
    assert endpoint.next_deadline() is None


def test_closed_endpoint_refuses_sends_and_ignores_input(endpoint: Endpoint) -> None:
    endpoint.receive_text('[2,"c1","Heartbeat",{}]', now=0.0)
    endpoint.close()
    endpoint.close()  # closing twice is harmless

    with pytest.raises(InvalidState):
        endpoint.send_call("Heartbeat", {}, now=1.0)
    with pytest.raises(InvalidState):
        endpoint.send_result("c1", {"currentTime": "t"})
    with pytest.raises(InvalidState):
        endpoint.send_error("c1", GenericError("late"))
    endpoint.receive_text('[2,"c2","Heartbeat",{}]', now=1.0)
    endpoint.expire(100.0)

    assert endpoint.events_received() == [CallReceived("c1", "Heartbeat", {})]
    assert endpoint.texts_to_send() == []


def test_outgoing_frame_over_the_limit_is_not_sent(make_endpoint: MakeEndpoint) -> None:
    endpoint = make_endpoint(max_frame_size=40)

    with pytest.raises(FrameTooLarge) as raised:
        endpoint.send_call("Authorize", {"idTag": "x" * 20}, now=0.0)

    assert (raised.value.size, raised.value.limit) == (53, 40)
    assert str(raised.value) == "frame of 53 bytes exceeds the limit of 40 bytes"
    assert endpoint.texts_to_send() == []
    assert endpoint.next_deadline() is None
    endpoint.send_call("Heartbeat", {}, now=0.0)
    assert endpoint.texts_to_send() == ['[2,"m2","Heartbeat",{}]']


def test_trace_records_every_frame_with_the_action_of_its_call(
    endpoint: Endpoint, traces: list[FrameRecord]
) -> None:
    endpoint.send_call("Heartbeat", {}, now=0.0)
    endpoint.send_call("Heartbeat", {}, now=0.0)
    endpoint.receive_text(HEARTBEAT_RESULT, now=1.0)
    endpoint.receive_text('[4,"m2","GenericError","",{}]', now=1.0)
    endpoint.receive_text('[3,"zz",{}]', now=1.0)
    endpoint.receive_text("nope", now=1.0)

    assert traces == [
        FrameRecord("out", 2, "m1", "Heartbeat", '[2,"m1","Heartbeat",{}]'),
        FrameRecord("in", 3, "m1", "Heartbeat", HEARTBEAT_RESULT),
        FrameRecord("out", 2, "m2", "Heartbeat", '[2,"m2","Heartbeat",{}]'),
        FrameRecord("in", 4, "m2", "Heartbeat", '[4,"m2","GenericError","",{}]'),
        FrameRecord("in", 3, "zz", None, '[3,"zz",{}]'),
        FrameRecord("in", None, None, None, "nope"),
        FrameRecord(
            "out", 4, "-1", None, '[4,"-1","RpcFrameworkError","frame is not valid JSON",{}]'
        ),
    ]


def test_uuid_message_ids_are_distinct_and_36_characters(make_endpoint: MakeEndpoint) -> None:
    endpoint = make_endpoint(new_message_id=uuid4_message_id)

    ids = {endpoint.send_call("Heartbeat", {}, now=0.0) for _ in range(100)}

    assert len(ids) == 100
    assert all(len(message_id) == 36 for message_id in ids)


def test_message_id_over_36_characters_is_refused(make_endpoint: MakeEndpoint) -> None:
    endpoint = make_endpoint(new_message_id=lambda: "x" * 37)

    with pytest.raises(InvalidState):
        endpoint.send_call("Heartbeat", {}, now=0.0)
    assert endpoint.texts_to_send() == []


@pytest.mark.parametrize("options", [{"call_timeout": 0.0}, {"max_frame_size": 0}])
def test_limits_must_be_positive(make_endpoint: MakeEndpoint, options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        make_endpoint(**options)
