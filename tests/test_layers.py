"""Lower layers never import higher ones (ARCHITECTURE.md); the harness speaks only the wire."""

from __future__ import annotations

import ast
from pathlib import Path

import kilowatt

PACKAGE = Path(kilowatt.__file__).parent

# Rank of each top-level module or subpackage: an import may only go to a lower rank, or to its
# own layer. csms and station share a rank and may not import each other.
RANK = {
    "clock": 0,
    "rpc": 1,
    "messages": 2,
    "devicemodel": 3,
    "smartcharging": 3,
    "tariffs": 3,
    "transport": 4,
    "csms": 5,
    "station": 5,
    "api": 6,
    "harness": 6,
    "__main__": 8,
    "cli": 7,
    "__init__": 0,
}
HARNESS_MAY_IMPORT = {"clock", "rpc", "messages", "transport", "harness"}


def layer_of(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def kilowatt_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "kilowatt" and len(parts) > 1:
                found.add(parts[1])
    return found


def test_every_layer_is_known() -> None:
    layers = {layer_of(p) for p in PACKAGE.rglob("*.py")}
    assert layers <= RANK.keys(), layers - RANK.keys()


def test_imports_go_down_only() -> None:
    for path in sorted(PACKAGE.rglob("*.py")):
        layer = layer_of(path)
        for target in kilowatt_imports(path):
            assert target in RANK, f"{path}: unknown layer {target}"
            if target == layer:
                continue
            assert RANK[target] < RANK[layer], f"{path.relative_to(PACKAGE)} imports {target}"
            if layer == "harness":
                assert target in HARNESS_MAY_IMPORT, f"the harness imports {target}"
