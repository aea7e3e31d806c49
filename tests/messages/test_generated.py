"""The generated message modules are exactly what scripts/generate_messages.py writes today."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "generate_messages", ROOT / "scripts/generate_messages.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["generate_messages"] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module


GENERATOR = _generator()


@pytest.mark.parametrize("version", GENERATOR.VERSIONS, ids=lambda v: v.name)
def test_generated_module_has_not_drifted(version) -> None:  # type: ignore[no-untyped-def]
    committed = (ROOT / "src/kilowatt/messages" / f"{version.module}.py").read_text()
    assert committed == GENERATOR.render(version), "run `make generate`"


def test_action_counts() -> None:
    from kilowatt.messages import VERSIONS

    counts = {name: len(v.requests) for name, v in VERSIONS.items()}
    assert counts == {"1.6": 39, "2.0.1": 64, "2.1": 91}
    # OCPP 2.1's NotifyPeriodicEventStream is a SEND: it has no response.
    assert VERSIONS["2.1"].requests["NotifyPeriodicEventStream"].RESPONSE_TYPE is None
    assert len(VERSIONS["2.1"].responses) == 90
