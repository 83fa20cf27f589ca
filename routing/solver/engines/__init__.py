"""Warm-start engines: compiled searches that hand OR-Tools a starting plan.

Each engine solves the part of the model it can express (``Engine.support`` says
what it relaxes) and returns routes; OR-Tools reads them into the full model,
repairs and improves them, and has the final word (``routing/solver/portfolio.py``).
"""

from __future__ import annotations

import importlib

from routing.solver.engines.base import Engine, EngineResult, Sequences, Support

ENGINES = {
    "pyvrp": ("routing.solver.engines.pyvrp_engine", "PyVRPEngine"),
    "vroom": ("routing.solver.engines.vroom_engine", "VroomEngine"),
}
"""Engine name -> (module, class); imported only when used, so that a missing
package disables its engine instead of the solver."""


def get_engine(name: str, **settings: object) -> Engine:
    """The engine called ``name`` (a key of ``ENGINES``), built with
    ``settings`` (its class's keyword arguments).

    Raises
    ------
    KeyError
        If no engine has that name.
    ImportError
        If the engine's package (pyvrp, pyvroom) is not installed.
    """
    module, cls = ENGINES[name]
    engine: Engine = getattr(importlib.import_module(module), cls)(**settings)
    return engine


__all__ = ["ENGINES", "Engine", "EngineResult", "Sequences", "Support", "get_engine"]
