"""Properties over arbitrary input: the endpoint never raises on what it receives, and frames
survive an encode and parse round trip."""

from __future__ import annotations

from collections.abc import Callable

import msgspec
from hypothesis import HealthCheck, given, settings, strategies as st

from kilowatt.rpc import OCPP21, OCPP201, BadFrame, Endpoint, ResultReceived
from kilowatt.rpc.framing import Call, CallError, encode_frame, parse_frame

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
# Arrays that look like frames: a plausible messageTypeId and id, then anything.
frame_like = st.tuples(
    st.sampled_from([2, 3, 4, 5, 6, 7, "2", None]),
    st.sampled_from(["m1", "c1", 1, ""]),
    st.lists(json_values, max_size=4),
).map(lambda t: msgspec.json.encode([t[0], t[1], *t[2]]).decode())
received_texts = (
    st.text(max_size=60) | frame_like | json_values.map(lambda v: msgspec.json.encode(v).decode())
)

# A fixture that only makes endpoints is safe to share across examples.
shared_fixture = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


@shared_fixture
@given(text=received_texts, ocpp21=st.booleans())
def test_any_text_gives_one_event_and_at_most_one_answer(
    make_endpoint: Callable[..., Endpoint], text: str, ocpp21: bool
) -> None:
    endpoint = make_endpoint(OCPP21 if ocpp21 else OCPP201, trace=None)
    endpoint.send_call("Heartbeat", {}, now=0.0)
    endpoint.texts_to_send()

    endpoint.receive_text(text, now=1.0)

    assert len(endpoint.events_received()) == 1
    assert len(endpoint.texts_to_send()) <= 1


@shared_fixture
@given(text=received_texts)
def test_endpoint_stays_usable_after_any_text(
    make_endpoint: Callable[..., Endpoint], text: str
) -> None:
    endpoint = make_endpoint(trace=None, new_message_id=lambda: "ours")
    endpoint.receive_text(text, now=0.0)
    endpoint.events_received()

    endpoint.send_call("Heartbeat", {}, now=1.0)
    endpoint.receive_text('[3,"ours",{"currentTime":"t"}]', now=2.0)

    assert endpoint.events_received() == [ResultReceived("ours", "Heartbeat", {"currentTime": "t"})]


@given(message_id=st.text(max_size=36), action=st.text(), payload=json_values)
def test_call_round_trips(message_id: str, action: str, payload: object) -> None:
    frame = Call(message_id, action, msgspec.Raw(msgspec.json.encode(payload)))

    parsed = parse_frame(encode_frame(frame).decode(), OCPP201.message_types)

    assert isinstance(parsed, Call)
    assert (parsed.message_id, parsed.action) == (message_id, action)
    assert msgspec.json.decode(parsed.payload) == payload


@given(message_id=st.text(), code=st.text(), description=st.text())
def test_callerror_round_trips(message_id: str, code: str, description: str) -> None:
    frame = CallError(message_id, code, description, {"k": [1, "v"]})

    assert parse_frame(encode_frame(frame), OCPP201.message_types) == frame


def test_unreadable_text_is_refused_not_raised(make_endpoint: Callable[..., Endpoint]) -> None:
    endpoint = make_endpoint()

    endpoint.receive_text("\ud800", now=0.0)  # a lone surrogate cannot even be encoded

    [event] = endpoint.events_received()
    assert isinstance(event, BadFrame)


def test_oversized_text_with_a_lone_surrogate_is_refused(
    make_endpoint: Callable[..., Endpoint],
) -> None:
    endpoint = make_endpoint(max_frame_size=10)

    endpoint.receive_text('[2,"c1","\ud800"]', now=0.0)

    assert endpoint.texts_to_send() == [
        '[4,"c1","FormatViolation","frame of 14 bytes exceeds the limit of 10 bytes",{}]'
    ]
