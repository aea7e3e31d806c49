"""The station's pure parts: the state tables, the simulated EV, the event queue, the
authorization cache and local list, the shared device model, and scenario documents."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, strategies as st

from kilowatt.devicemodel import EvseShape, StationShape, standard_model
from kilowatt.messages import encode, v21, v201
from kilowatt.messages.bridge import convert
from kilowatt.messages.v201 import ChargingStateEnumType as State, ConnectorStatusEnumType as Status
from kilowatt.station.auth import AuthCache, LocalList
from kilowatt.station.ev import ElectricState, EvSpec, advance, available_power
from kilowatt.station.machines import (
    CHARGING,
    ChargingEvent,
    charging_state_after,
    connector_status,
)
from kilowatt.station.queue import COMPACT_AFTER, EventQueue
from kilowatt.station.simulator import ScenarioError, load_scenario
from kilowatt.station.station import _standard_model

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
TOKEN = v201.IdTokenType(id_token="T1", type=v201.IdTokenEnumType.ISO14443)
ACCEPTED = v201.IdTokenInfoType(status=v201.AuthorizationStatusEnumType.ACCEPTED)


# -- connector status ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("faulted", "operative", "occupied", "reserved", "status"),
    [
        (True, True, True, True, Status.FAULTED),
        (True, False, False, False, Status.FAULTED),
        (False, False, True, False, Status.UNAVAILABLE),
        (False, False, False, True, Status.UNAVAILABLE),
        (False, True, True, True, Status.OCCUPIED),
        (False, True, True, False, Status.OCCUPIED),
        (False, True, False, True, Status.RESERVED),
        (False, True, False, False, Status.AVAILABLE),
    ],
)
def test_connector_status_table(
    faulted: bool, operative: bool, occupied: bool, reserved: bool, status: Status
) -> None:
    assert (
        connector_status(faulted=faulted, operative=operative, occupied=occupied, reserved=reserved)
        == status
    )


def test_connector_status_covers_every_combination() -> None:
    for facts in itertools.product([False, True], repeat=4):
        faulted, operative, occupied, reserved = facts
        connector_status(faulted=faulted, operative=operative, occupied=occupied, reserved=reserved)


# -- charging state --------------------------------------------------------------------------

E = ChargingEvent


@pytest.mark.parametrize(
    ("events", "final"),
    [
        ([E.PLUGGED], State.EV_CONNECTED),
        ([E.PLUGGED, E.ENERGY_OFFERED], State.SUSPENDED_EV),
        ([E.PLUGGED, E.ENERGY_OFFERED, E.EV_DRAWS], State.CHARGING),
        ([E.PLUGGED, E.ENERGY_OFFERED, E.EV_DRAWS, E.EV_PAUSES], State.SUSPENDED_EV),
        ([E.PLUGGED, E.ENERGY_OFFERED, E.EV_DRAWS, E.ENERGY_WITHHELD], State.SUSPENDED_EVSE),
        ([E.PLUGGED, E.ENERGY_OFFERED, E.EV_DRAWS, E.UNPLUGGED], State.IDLE),
        # A withheld offer resumes only when offered again, and the EV then draws.
        ([E.PLUGGED, E.ENERGY_OFFERED, E.ENERGY_WITHHELD, E.EV_DRAWS], State.SUSPENDED_EVSE),
        ([E.PLUGGED, E.ENERGY_OFFERED, E.ENERGY_WITHHELD, E.ENERGY_OFFERED], State.SUSPENDED_EV),
        # Nothing happens to an EVSE with no EV.
        ([E.ENERGY_OFFERED, E.EV_DRAWS, E.UNPLUGGED], State.IDLE),
    ],
)
def test_charging_state_table(events: list[ChargingEvent], final: State) -> None:
    state = State.IDLE
    for event in events:
        state = charging_state_after(state, event)
    assert state == final


@given(st.lists(st.sampled_from(list(ChargingEvent)), max_size=30))
def test_unplugging_always_ends_idle(events: list[ChargingEvent]) -> None:
    state = State.IDLE
    for event in events:
        state = charging_state_after(state, event)
        assert state == State.IDLE or (state, E.UNPLUGGED) in CHARGING
    assert charging_state_after(state, E.UNPLUGGED) == State.IDLE


# -- the simulated EV ------------------------------------------------------------------------


def test_the_ev_draws_up_to_the_limit_and_tapers_when_nearly_full() -> None:
    ev = EvSpec(battery_wh=50_000, max_power_w=11_000, min_power_w=1_380)
    assert available_power(ev, 50.0, 22_000) == 11_000
    assert available_power(ev, 50.0, 7_000) == 7_000
    assert available_power(ev, 90.0, 22_000) == pytest.approx(5_500)
    assert available_power(ev, 50.0, 1_000) == 0  # below its minimum it does not charge
    assert available_power(ev, 100.0, 22_000) == 0


def test_an_hour_at_seven_kilowatts_adds_seven_kilowatt_hours() -> None:
    ev = EvSpec(battery_wh=70_000, max_power_w=11_000)
    state = advance(ElectricState(register_wh=1_000, soc=20.0), ev, 7_000, 3600)
    assert state.register_wh == pytest.approx(8_000)
    assert state.soc == pytest.approx(30.0)
    assert state.power_w == 7_000


def test_no_ev_no_energy() -> None:
    state = advance(ElectricState(register_wh=5.0, power_w=3.0), EvSpec(), 22_000, 3600)
    assert (state.register_wh, state.power_w) == (5.0, 0.0)


@given(
    st.lists(
        st.tuples(st.floats(0, 30_000), st.floats(0, 3_600)),
        max_size=40,
    )
)
def test_the_register_never_falls_and_the_soc_stays_in_range(
    steps: list[tuple[float, float]],
) -> None:
    ev = EvSpec()
    state = ElectricState(soc=ev.initial_soc)
    for limit, seconds in steps:
        after = advance(state, ev, limit, seconds)
        assert after.register_wh >= state.register_wh
        assert after.soc is not None and 0 <= after.soc <= 100
        assert after.power_w <= limit
        state = after


# -- the event queue -------------------------------------------------------------------------


def event(seq_no: int) -> v201.TransactionEventRequest:
    return v201.TransactionEventRequest(
        event_type=v201.TransactionEventEnumType.UPDATED,
        timestamp=NOW + timedelta(seconds=seq_no),
        trigger_reason=v201.TriggerReasonEnumType.METER_VALUE_PERIODIC,
        seq_no=seq_no,
        transaction_info=v201.TransactionType(transaction_id="tx-1"),
        offline=True,
    )


def seq_nos(path: Path) -> list[int]:
    """The seqNos waiting in the queue stored at ``path``, as a restarted station finds them."""
    queue = EventQueue(path)
    try:
        return [item.request.seq_no for item in queue]
    finally:
        queue.close()


def test_the_queue_keeps_order_and_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    queue = EventQueue(path)
    for seq_no in range(5):
        queue.put(event(seq_no))
    head = queue.head()
    assert head is not None
    queue.remove(head.id)
    queue.close()

    again = EventQueue(path)
    assert [item.request for item in again] == [event(n) for n in range(1, 5)]
    # New ids follow the old ones: an id is never given twice.
    assert again.put(event(5)).id > max(item.id for item in again if item.request.seq_no < 5)
    again.close()


def test_a_torn_last_line_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    queue = EventQueue(path)
    queue.put(event(0))
    queue.close()
    with path.open("ab") as journal:
        journal.write(b'{"id": 2, "payload": {"eventTy')  # a crash in the middle of a put
    assert seq_nos(path) == [0]


def test_the_journal_is_compacted(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    queue = EventQueue(path, durable=False)
    for seq_no in range(COMPACT_AFTER + 10):
        queue.remove(queue.put(event(seq_no)).id)
    queue.put(event(9999))
    queue.close()
    assert len(path.read_bytes().splitlines()) < COMPACT_AFTER
    assert seq_nos(path) == [9999]


def test_2_1_events_with_their_cost_survive_a_restart_next_to_2_0_1_ones(tmp_path: Path) -> None:
    """A station that prices locally queues 2.1 events (costDetails, tariffId); a journal
    written before 2.1 (lines without a version) still loads as 2.0.1."""
    path = tmp_path / "events.jsonl"
    priced = msgspec.structs.replace(
        convert(event(1), v21.TransactionEventRequest),
        transaction_info=v21.TransactionType(transaction_id="tx-1", tariff_id="day"),
        cost_details=v21.CostDetailsType(
            total_cost=v21.TotalCostType(
                currency="EUR",
                type_of_cost=v21.TariffCostEnumType.NORMAL_COST,
                total=v21.TotalPriceType(excl_tax=1.5, incl_tax=1.79),
            ),
            total_usage=v21.TotalUsageType(energy=5000.0, charging_time=600, idle_time=0),
        ),
    )
    queue = EventQueue(path)
    queue.put(event(0))
    queue.put(priced)
    queue.close()
    with path.open("ab") as journal:
        line = {"id": 3, "payload": json.loads(encode(event(2)))}  # as written before 2.1
        journal.write(json.dumps(line).encode() + b"\n")
    again = EventQueue(path)
    assert [item.request for item in again] == [event(0), priced, event(2)]
    again.close()


def test_a_memory_queue_writes_nothing(tmp_path: Path) -> None:
    queue = EventQueue(None)
    queue.put(event(0))
    assert len(queue) == 1
    assert list(tmp_path.iterdir()) == []


# -- authorization cache and local list ------------------------------------------------------


def test_the_cache_expires_entries() -> None:
    cache = AuthCache()
    expiring = v201.IdTokenInfoType(
        status=v201.AuthorizationStatusEnumType.ACCEPTED,
        cache_expiry_date_time=NOW + timedelta(hours=1),
    )
    cache.store(TOKEN, expiring, NOW)
    assert cache.lookup(TOKEN, NOW, None) == expiring
    later = cache.lookup(TOKEN, NOW + timedelta(hours=2), None)
    assert later is not None and later.status == v201.AuthorizationStatusEnumType.EXPIRED
    # The cache's own lifetime applies too.
    cache.store(TOKEN, ACCEPTED, NOW)
    aged = cache.lookup(TOKEN, NOW + timedelta(seconds=61), timedelta(seconds=60))
    assert aged is not None and aged.status == v201.AuthorizationStatusEnumType.EXPIRED


def test_the_cache_drops_the_least_recently_used() -> None:
    cache = AuthCache(capacity=2)
    tokens = [v201.IdTokenType(id_token=f"T{n}", type=TOKEN.type) for n in range(3)]
    cache.store(tokens[0], ACCEPTED, NOW)
    cache.store(tokens[1], ACCEPTED, NOW)
    cache.lookup(tokens[0], NOW, None)  # used: T1 is now the oldest
    cache.store(tokens[2], ACCEPTED, NOW)
    assert cache.lookup(tokens[1], NOW, None) is None
    assert cache.lookup(tokens[0], NOW, None) == ACCEPTED
    restored = AuthCache()
    restored.load_json(cache.to_json())
    assert restored.lookup(tokens[2], NOW, None) == ACCEPTED


def local_list(
    version: int, kind: v201.UpdateEnumType, *entries: tuple[str, bool]
) -> v201.SendLocalListRequest:
    data = [
        v201.AuthorizationData(
            id_token=v201.IdTokenType(id_token=token, type=TOKEN.type),
            id_token_info=ACCEPTED if present else v201.UNSET,  # type: ignore[attr-defined]
        )
        for token, present in entries
    ]
    return v201.SendLocalListRequest(
        version_number=version,
        update_type=kind,
        local_authorization_list=data or v201.UNSET,  # type: ignore[attr-defined]
    )


def test_local_list_full_and_differential_updates() -> None:
    listed = LocalList()
    full, diff = v201.UpdateEnumType.FULL, v201.UpdateEnumType.DIFFERENTIAL
    accepted = v201.SendLocalListStatusEnumType.ACCEPTED
    assert listed.apply(local_list(3, full, ("A", True), ("B", True)), 100) == accepted
    assert listed.apply(local_list(4, diff, ("B", False), ("C", True)), 100) == accepted
    assert sorted(key[0] for key in listed.entries) == ["A", "C"]
    # D01.FR.18: a differential update that is not newer is refused and changes nothing.
    assert (
        listed.apply(local_list(4, diff, ("D", True)), 100)
        == v201.SendLocalListStatusEnumType.VERSION_MISMATCH
    )
    assert (listed.version, len(listed.entries)) == (4, 2)
    # Over capacity: Failed, and nothing changes.
    assert (
        listed.apply(local_list(5, full, ("X", True), ("Y", True), ("Z", True)), 2)
        == v201.SendLocalListStatusEnumType.FAILED
    )
    assert listed.version == 4
    restored = LocalList.from_json(listed.to_json())
    assert (restored.version, restored.entries) == (listed.version, listed.entries)


# -- the device model a fleet shares ---------------------------------------------------------


def test_stations_of_one_make_share_definitions_but_not_identities() -> None:
    shapes = [
        StationShape(
            identity=f"CS-{n}",
            vendor_name="V",
            model="M",
            serial_number=f"SN-{n}",
            evses=(EvseShape(11000.0),),
        )
        for n in range(2)
    ]
    first, second = (_standard_model(shape) for shape in shapes)
    assert first.definitions is second.definitions
    for shape, model in zip(shapes, (first, second), strict=True):
        assert model.values == standard_model(shape).values


# -- scenario documents ----------------------------------------------------------------------


def test_a_scenario_document_loads() -> None:
    scenario = load_scenario(
        "repeat: 2\nstart_spread: 3\nsteps:\n"
        "  - wait: 1.5\n  - plug_in: {evse: 2}\n  - choose_tariff: {evse: 2, tariff: per-minute}\n"
        "  - authorize: {evse: 2, token: X, type: Central}\n"
        "  - fault: {evse: 2, connector: 1, seconds: 4}\n  - offline: 9\n  - unplug: {evse: 2}\n"
    )
    assert (scenario.repeat, scenario.start_spread) == (2, 3.0)
    assert [step.action for step in scenario.steps] == [
        "wait",
        "plug_in",
        "choose_tariff",
        "authorize",
        "fault",
        "offline",
        "unplug",
    ]
    assert scenario.steps[2].tariff == "per-minute"
    token = scenario.steps[3].token
    assert token is not None and token.type == v201.IdTokenEnumType.CENTRAL


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("steps: 3", "list of steps"),
        ("steps:\n  - jump: 1", "unknown action 'jump'"),
        ("steps:\n  - wait: -1", "wait takes seconds"),
        ("steps:\n  - plug_in: {evse: 1, colour: red}", "has no ['colour']"),
        ("steps:\n  - authorize: {evse: 1}", "authorize needs a token"),
        ("steps:\n  - choose_tariff: {evse: 1}", "choose_tariff needs a tariff"),
        ("steps:\n  - authorize: {token: A, type: Bogus}", "unknown token type"),
        ("repeat: -2\nsteps: []", "repeat must be"),
        ("steps:\n  - {wait: 1, unplug: {}}", "one action per step"),
        ("steps: [", "not YAML"),
    ],
)
def test_a_broken_scenario_is_refused_with_its_place(document: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_scenario(document)


def test_a_damaged_journal_is_refused_rather_than_skipped(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    queue = EventQueue(path)
    queue.put(event(0))
    queue.close()
    path.write_bytes(b"garbage\n" + path.read_bytes())
    with pytest.raises(ValueError, match=r"events\.jsonl:1: damaged event journal"):
        EventQueue(path)
