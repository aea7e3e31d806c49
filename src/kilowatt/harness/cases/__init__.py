"""The test cases, one module per functional block and role (``*_csms.py``: a CSMS under test,
``*_cs.py``: a station under test); importing this package registers them all. A module
that only helps cases (``common_*.py``) registers none."""

from __future__ import annotations

import importlib
import pkgutil

__all__: list[str] = []

for _module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    importlib.import_module(f"{__name__}.{_module.name}")
