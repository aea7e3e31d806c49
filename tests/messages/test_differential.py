"""Differential test: kilowatt's decoder against jsonschema, for every payload of every version.

For each of the 387 OCA schemas (1.6, 2.0.1 and 2.1; requests and responses), hypothesis draws
payloads that the schema accepts and checks that the decoder accepts them and that they survive
decode → encode with their meaning intact; then it changes the payload in one place (drop a
required field, wrong type, over-long string, value outside the enumeration or range, extra
property, too many or too few items, bad date-time, null for an optional field, at any depth)
and checks that the decoder refuses it exactly when the judge does, with the error code of the
table in kilowatt.messages.violations and the judge's field path.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from kilowatt.messages import VERSIONS, decode, encode
from kilowatt.messages.violations import CODE_FOR_KEYWORD
from kilowatt.rpc.errors import RpcError

from . import schema_oracle as oracle

CASES = oracle.all_cases()
TALLY: Counter[str] = Counter()

# When several rules break at one spot (5 for an enumerated string), the type is named first.
_PRIORITY = {"type": 0}


def _message_class(case: oracle.SchemaCase) -> Any:
    version = VERSIONS[case.version]
    table = version.requests if case.kind == "request" else version.responses
    return table[case.action]


def _same_meaning(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_meaning(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(_same_meaning, a, b))
    if isinstance(a, str) and isinstance(b, str) and a != b:
        try:
            return datetime.fromisoformat(a) == datetime.fromisoformat(b)
        except ValueError:
            return False
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return bool(a == b)


def test_every_action_of_every_version_is_covered() -> None:
    counts = Counter(case.version for case in CASES)
    assert counts == {"1.6": 78, "2.0.1": 128, "2.1": 181}
    for case in CASES:
        assert _message_class(case).__name__.startswith(case.action)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_decoder_agrees_with_the_schema(case: oracle.SchemaCase, data: st.DataObject) -> None:
    cls = _message_class(case)
    judge = oracle.judge(case)
    valid = data.draw(oracle.instances(case.schema, case), label="valid payload")
    assert judge.is_valid(valid), "the generator made an invalid payload"
    text = json.dumps(valid)

    message = decode(text, cls)
    assert _same_meaning(json.loads(encode(message)), valid)
    assert decode(encode(message), cls) == message
    TALLY["valid"] += 1

    mutable = [s for s in oracle.sites(valid, case.schema, case) if oracle.mutations(s)]
    site = data.draw(st.sampled_from(mutable), label="site")
    label, new = data.draw(st.sampled_from(oracle.mutations(site)), label="mutation")
    mutated = oracle.replace(valid, site.path, new)
    errors = list(judge.iter_errors(mutated))
    mutated_text = json.dumps(mutated)
    TALLY["mutated"] += 1
    if not errors:
        decode(mutated_text, cls)  # must not raise
        TALLY["mutated, accepted by both"] += 1
        return
    expected = min(errors, key=lambda e: _PRIORITY.get(str(e.validator), 9))
    with pytest.raises(RpcError) as caught:
        decode(mutated_text, cls)
    error = caught.value
    assert error.CODE == CODE_FOR_KEYWORD[str(expected.validator)].CODE, (
        label,
        expected.message,
        error.description,
    )
    expected_path = oracle.json_path(expected.absolute_path)
    path = error.details["path"]
    assert path.startswith(expected_path) or (not expected_path and path == "payload"), (
        label,
        expected_path,
        error.description,
    )
    TALLY[f"mutated, refused: {error.CODE}"] += 1
