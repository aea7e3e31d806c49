"""The station's queue of TransactionEvents: persisted, in order, until the CSMS answers.

E04/E12 and OCPP-J 2.0.1 (Part 4, "transaction-related messages"): a station does not lose a
transaction's messages while the connection is down. Every TransactionEvent goes through this
queue, connected or not, so that the CSMS receives them in the order they happened.

On disk the queue is a JSON-lines journal: a line per message put, a line per message taken
out, compacted when the taken outweigh the waiting. Each line is flushed and, unless
``durable=False`` (a simulator of thousands of stations), synced before ``put`` returns: an
event the station recorded survives its power cut.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import msgspec

from kilowatt.messages import decode, encode, v21, v201

__all__ = ["EventQueue", "Queued"]

# Compact the journal when it holds this many more lines than messages waiting.
COMPACT_AFTER = 1000


# A station that prices locally queues OCPP 2.1 events (with costDetails), others 2.0.1 ones.
TransactionEventRequest = v201.TransactionEventRequest | v21.TransactionEventRequest


@dataclass(frozen=True, slots=True)
class Queued:
    id: int
    request: TransactionEventRequest


_TAKEN = msgspec.Raw(b"null")


class _Line(msgspec.Struct):
    id: int
    payload: msgspec.Raw = _TAKEN  # null: the message of this id was taken out
    version: str = "2.0.1"  # of the payload; lines of journals before 2.1 have none


def _line(id_: int, request: TransactionEventRequest) -> _Line:
    version = "2.1" if isinstance(request, v21.TransactionEventRequest) else "2.0.1"
    return _Line(id_, msgspec.Raw(encode(request)), version)


_line_decoder = msgspec.json.Decoder(_Line)


class EventQueue:
    """A FIFO of TransactionEvents; ``path`` None keeps it in memory only.

    A journal left by a crash may end in a torn line: it is ignored, as its ``put`` never
    returned. A broken line anywhere else raises ValueError: the journal is damaged, and
    skipping it could lose an event silently.
    """

    def __init__(self, path: Path | None = None, *, durable: bool = True) -> None:
        self._waiting: OrderedDict[int, TransactionEventRequest] = OrderedDict()
        self._next_id = 1
        self._path = path
        self._durable = durable
        self._lines = 0
        self._file: IO[bytes] | None = None
        if path is not None:
            self._load(path)
            self._file = path.open("ab")

    def put(self, request: TransactionEventRequest) -> Queued:
        queued = Queued(self._next_id, request)
        self._next_id += 1
        self._waiting[queued.id] = request
        self._write(_line(queued.id, request))
        return queued

    def head(self) -> Queued | None:
        for id_, request in self._waiting.items():
            return Queued(id_, request)
        return None

    def remove(self, id_: int) -> None:
        if self._waiting.pop(id_, None) is not None:
            self._write(_Line(id_))
            if self._lines > len(self._waiting) + COMPACT_AFTER:
                self._compact()

    def __len__(self) -> int:
        return len(self._waiting)

    def __iter__(self) -> Iterator[Queued]:
        return (Queued(id_, request) for id_, request in list(self._waiting.items()))

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _write(self, line: _Line) -> None:
        if self._file is None:
            return
        self._file.write(msgspec.json.encode(line) + b"\n")
        self._file.flush()
        if self._durable:
            os.fsync(self._file.fileno())
        self._lines += 1

    def _load(self, path: Path) -> None:
        if not path.exists():
            return
        lines = path.read_bytes().splitlines()
        for number, raw in enumerate(lines, start=1):
            try:
                line = _line_decoder.decode(raw)
            except msgspec.DecodeError as error:
                if number == len(lines):
                    break  # a torn last line: its put never returned
                raise ValueError(f"{path}:{number}: damaged event journal: {error}") from None
            self._lines += 1
            self._next_id = max(self._next_id, line.id + 1)
            if bytes(line.payload) == bytes(_TAKEN):
                self._waiting.pop(line.id, None)
            else:
                payload = bytes(line.payload)
                self._waiting[line.id] = (
                    decode(payload, v21.TransactionEventRequest)
                    if line.version == "2.1"
                    else decode(payload, v201.TransactionEventRequest)
                )

    def _compact(self) -> None:
        assert self._path is not None and self._file is not None
        scratch = self._path.with_suffix(".compacting")
        with scratch.open("wb") as out:
            for id_, request in self._waiting.items():
                out.write(msgspec.json.encode(_line(id_, request)) + b"\n")
            out.flush()
            os.fsync(out.fileno())
        self._file.close()
        os.replace(scratch, self._path)
        self._file = self._path.open("ab")
        self._lines = len(self._waiting)
