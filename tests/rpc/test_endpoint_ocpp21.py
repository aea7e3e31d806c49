"""OCPP 2.1 additions: SEND (never answered) and CALLRESULTERROR (a CALLRESULT refused)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kilowatt.rpc import (
    OCPP21,
    BadFrame,
    CallResultErrorReceived,
    Endpoint,
    FormatViolation,
    FrameRecord,
    InvalidResponseReceived,
    InvalidState,
    OccurrenceConstraintViolation,
    SendReceived,
)


@pytest.fixture
def endpoint(make_endpoint: Callable[..., Endpoint]) -> Endpoint:
    """An OCPP 2.1 endpoint."""
    return make_endpoint(OCPP21)


def test_send_goes_out_at_once_even_while_a_call_waits(
    endpoint: Endpoint, traces: list[FrameRecord]
) -> None:
    endpoint.send_call("Heartbeat", {}, now=0.0)

    message_id = endpoint.send_unanswered("NotifyPeriodicEventStream", {"id": 1})

    assert message_id == "m2"
    assert endpoint.texts_to_send() == [
        '[2,"m1","Heartbeat",{}]',
        '[6,"m2","NotifyPeriodicEventStream",{"id":1}]',
    ]
    assert endpoint.next_deadline() == 30.0  # a SEND has no timeout
    assert traces[-1] == FrameRecord(
        "out", 6, "m2", "NotifyPeriodicEventStream", '[6,"m2","NotifyPeriodicEventStream",{"id":1}]'
    )


def test_send_needs_a_dialect_that_has_it(make_endpoint: Callable[..., Endpoint]) -> None:
    endpoint = make_endpoint()  # OCPP 2.0.1

    with pytest.raises(InvalidState):
        endpoint.send_unanswered("NotifyPeriodicEventStream", {"id": 1})
    assert endpoint.texts_to_send() == []


def test_received_send_is_delivered_and_cannot_be_answered(endpoint: Endpoint) -> None:
    endpoint.receive_text('[6,"s1","NotifyPeriodicEventStream",{"id":1}]', now=0.0)

    assert endpoint.events_received() == [
        SendReceived("s1", "NotifyPeriodicEventStream", {"id": 1})
    ]
    with pytest.raises(InvalidState):
        endpoint.send_result("s1", {})


@pytest.mark.parametrize(
    "text",
    [
        '[6,"s1","NotifyPeriodicEventStream",{}]',
        '[6,"s1","NoSuchAction",{}]',
        '[6,"s1","NotifyPeriodicEventStream"]',
        '[5,"c1","FormatViolation"]',
    ],
)
def test_broken_send_or_callresulterror_is_never_answered(endpoint: Endpoint, text: str) -> None:
    endpoint.receive_text(text, now=0.0)

    [event] = endpoint.events_received()
    assert isinstance(event, BadFrame)
    assert (event.text, event.answered) == (text, False)
    assert endpoint.texts_to_send() == []


def test_result_breaking_the_schema_gets_a_callresulterror(endpoint: Endpoint) -> None:
    endpoint.send_call("Heartbeat", {}, now=0.0)
    endpoint.send_call("Heartbeat", {}, now=0.0)
    endpoint.texts_to_send()

    endpoint.receive_text('[3,"m1",{}]', now=1.0)

    [event] = endpoint.events_received()
    assert isinstance(event, InvalidResponseReceived)
    assert type(event.error) is OccurrenceConstraintViolation
    assert endpoint.texts_to_send() == [
        '[5,"m1","OccurrenceConstraintViolation","currentTime is required",{}]',
        '[2,"m2","Heartbeat",{}]',
    ]


def test_broken_callerror_gets_no_callresulterror(endpoint: Endpoint) -> None:
    endpoint.send_call("Heartbeat", {}, now=0.0)
    endpoint.texts_to_send()

    endpoint.receive_text('[4,"m1"]', now=1.0)

    [event] = endpoint.events_received()
    assert isinstance(event, InvalidResponseReceived)
    assert endpoint.texts_to_send() == []


def test_peer_refusing_our_result_is_reported(endpoint: Endpoint) -> None:
    endpoint.receive_text('[2,"c1","Heartbeat",{}]', now=0.0)
    endpoint.send_result("c1", {"currentTime": "t"})

    endpoint.receive_text('[5,"c1","FormationViolation","bad time",{}]', now=1.0)

    events = endpoint.events_received()
    assert len(events) == 2
    event = events[1]
    assert isinstance(event, CallResultErrorReceived)
    assert event.message_id == "c1"
    assert type(event.error) is FormatViolation
    assert event.error.description == "bad time"
    assert endpoint.texts_to_send() == ['[3,"c1",{"currentTime":"t"}]']
