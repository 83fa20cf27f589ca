"""Names a package imports on first use (PEP 562), shared by ``routing`` and
``routing.geo``: importing the package stays light, and each name is imported
from its module when first asked for, then kept in the package."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_getattr(
    namespace: dict[str, Any], table: Mapping[str, str]
) -> Callable[[str], Any]:
    """A package's ``__getattr__``: ``table`` maps each lazy name to the module
    it comes from; ``namespace`` is the package's ``globals()``."""
    package = namespace["__name__"]

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    return __getattr__
