"""kilowatt.rpc does no I/O: it imports nothing that waits, reads a clock or opens a socket."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import kilowatt.rpc

FORBIDDEN = {"asyncio", "socket", "time", "threading", "selectors", "ssl"}


def imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            modules.add(node.module)
    return modules


def test_rpc_imports_only_the_stdlib_msgspec_and_itself() -> None:
    package = Path(kilowatt.rpc.__file__).parent
    files = sorted(package.glob("*.py"))
    assert [f.name for f in files] == [
        "__init__.py",
        "dialect.py",
        "endpoint.py",
        "errors.py",
        "events.py",
        "framing.py",
        "message_ids.py",
    ]
    for path in files:
        for module in imported_modules(path):
            top = module.partition(".")[0]
            assert top not in FORBIDDEN, f"{path.name} imports {module}"
            assert (
                top in sys.stdlib_module_names
                or top == "msgspec"
                or module.startswith("kilowatt.rpc.")
            ), f"{path.name} imports {module}"
