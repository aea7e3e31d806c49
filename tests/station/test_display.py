"""Block O on the station: SetDisplayMessage, GetDisplayMessages, ClearDisplayMessage, and
what the display shows."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from kilowatt.messages import v201
from kilowatt.messages.v201 import (
    ClearMessageStatusEnumType as ClearStatus,
    DisplayMessageStatusEnumType as Status,
    GetDisplayMessagesStatusEnumType as GetStatus,
    MessageFormatEnumType as Format,
    MessagePriorityEnumType as Priority,
    MessageStateEnumType as State,
)

from .rig import T0, Rig, make_rig


def message(
    message_id: int = 1,
    text: str = "Welcome",
    priority: Priority = Priority.NORMAL_CYCLE,
    form: Format = Format.UTF8,
    **fields: object,
) -> v201.SetDisplayMessageRequest:
    info = v201.MessageInfoType(
        id=message_id,
        priority=priority,
        message=v201.MessageContentType(format=form, content=text),
        **fields,  # type: ignore[arg-type]
    )
    return v201.SetDisplayMessageRequest(message=info)


def shown(rig: Rig) -> list[str]:
    return [m.message.content for m in rig.station.display.shown()]


async def test_a_message_is_shown_and_kept_across_restarts(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    assert (await rig.call(message(1, "Welcome"))).status == Status.ACCEPTED
    assert shown(rig) == ["Welcome"]
    assert rig.station.model.value("DisplayMessageCtrlr", "DisplayMessages") == "1"
    rig.close()
    again = make_rig(tmp_path)
    assert shown(again) == ["Welcome"]
    again.close()


async def test_a_message_with_a_known_id_replaces_it() -> None:
    rig = make_rig()
    await rig.call(message(1, "old"))
    assert (await rig.call(message(1, "new"))).status == Status.ACCEPTED
    assert shown(rig) == ["new"]


async def test_unsupported_format_and_priority() -> None:
    rig = make_rig()
    assert (await rig.call(message(form=Format.HTML))).status == Status.NOT_SUPPORTED_MESSAGE_FORMAT
    rig.set_value("DisplayMessageCtrlr", "SupportedPriorities", "NormalCycle,InFront")
    always = message(priority=Priority.ALWAYS_FRONT)
    assert (await rig.call(always)).status == Status.NOT_SUPPORTED_PRIORITY
    assert shown(rig) == []


async def test_a_transaction_message_needs_the_transaction_and_its_charging_state() -> None:
    rig = make_rig()
    unknown = message(transaction_id="tx-1")
    assert (await rig.call(unknown)).status == Status.UNKNOWN_TRANSACTION
    rig.start_transaction(1, "tx-1")
    idle = message(transaction_id="tx-1", state=State.IDLE)
    assert (await rig.call(idle)).status == Status.NOT_SUPPORTED_STATE
    charging = message(transaction_id="tx-1", state=State.CHARGING, text="0.42 EUR")
    assert (await rig.call(charging)).status == Status.ACCEPTED
    assert shown(rig) == ["0.42 EUR"]
    rig.station.evses[1].transaction = None  # O02: gone with its transaction
    assert shown(rig) == []
    assert rig.station.display.select(None, None, None) == []


async def test_rejected_when_disabled_too_long_or_full() -> None:
    rig = make_rig()
    too_long = message(text="x" * 256)
    assert (await rig.call(too_long)).status == Status.REJECTED
    for message_id in range(10):
        assert (await rig.call(message(message_id))).status == Status.ACCEPTED
    assert (await rig.call(message(10))).status == Status.REJECTED
    assert (await rig.call(message(9, "replaced"))).status == Status.ACCEPTED
    rig.set_value("DisplayMessageCtrlr", "Enabled", "false")
    assert (await rig.call(message(3))).status == Status.REJECTED


async def test_the_display_follows_time_state_and_priority() -> None:
    rig = make_rig()
    await rig.call(message(1, "later", start_date_time=T0 + timedelta(minutes=5)))
    await rig.call(message(2, "brief", end_date_time=T0 + timedelta(minutes=10)))
    await rig.call(message(3, "urgent", priority=Priority.ALWAYS_FRONT))
    await rig.call(message(4, "front", priority=Priority.IN_FRONT))
    await rig.call(message(5, "out of order", state=State.FAULTED))
    assert shown(rig) == ["urgent", "front", "brief"]
    await rig.clock.advance(5 * 60)
    assert shown(rig) == ["urgent", "front", "later", "brief"]
    await rig.clock.advance(5 * 60)
    assert shown(rig) == ["urgent", "front", "later"]
    assert [m.id for m in rig.station.display.select(None, None, None)] == [1, 3, 4, 5]
    rig.station.set_fault(1, 1, True)
    assert "out of order" in shown(rig)


async def test_get_display_messages_by_criteria() -> None:
    rig = make_rig()
    await rig.call(message(1, "a", priority=Priority.IN_FRONT, state=State.IDLE))
    await rig.call(message(2, "b", priority=Priority.IN_FRONT))
    await rig.call(message(3, "c"))
    every = await rig.call(v201.GetDisplayMessagesRequest(request_id=1))
    by_priority = await rig.call(
        v201.GetDisplayMessagesRequest(request_id=2, priority=Priority.IN_FRONT)
    )
    by_ids = await rig.call(v201.GetDisplayMessagesRequest(request_id=3, id=[2, 3, 99]))
    by_state = await rig.call(v201.GetDisplayMessagesRequest(request_id=4, state=State.IDLE))
    assert {every.status, by_priority.status, by_ids.status, by_state.status} == {
        GetStatus.ACCEPTED
    }
    found = {
        n.request_id: sorted(m.id for m in n.message_info)  # type: ignore[union-attr]
        for n in rig.of(v201.NotifyDisplayMessagesRequest)
    }
    assert found == {1: [1, 2, 3], 2: [1, 2], 3: [2, 3], 4: [1]}


async def test_get_display_messages_without_a_match_is_unknown() -> None:
    rig = make_rig()
    await rig.call(message(1))
    response = await rig.call(v201.GetDisplayMessagesRequest(request_id=1, id=[7]))
    assert response.status == GetStatus.UNKNOWN
    assert rig.of(v201.NotifyDisplayMessagesRequest) == []


async def test_clear_a_message() -> None:
    rig = make_rig()
    await rig.call(message(1))
    assert (await rig.call(v201.ClearDisplayMessageRequest(id=1))).status == ClearStatus.ACCEPTED
    assert shown(rig) == []
    assert (await rig.call(v201.ClearDisplayMessageRequest(id=1))).status == ClearStatus.UNKNOWN
