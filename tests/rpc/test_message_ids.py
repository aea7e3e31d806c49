"""Message id factories."""

from __future__ import annotations

import uuid

from kilowatt.rpc import counting_message_ids, uuid4_message_id


def test_counting_ids_count_from_start_with_a_prefix() -> None:
    next_id = counting_message_ids("cs-", start=7)

    assert [next_id(), next_id(), next_id()] == ["cs-7", "cs-8", "cs-9"]


def test_counting_factories_are_independent() -> None:
    first, second = counting_message_ids(), counting_message_ids()

    assert [first(), first(), second()] == ["1", "2", "1"]


def test_uuid4_ids_are_version_4_uuids_of_36_characters() -> None:
    message_id = uuid4_message_id()

    assert len(message_id) == 36
    assert uuid.UUID(message_id).version == 4
    assert uuid4_message_id() != message_id
