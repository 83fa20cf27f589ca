"""Last-mile delivery route optimisation: the public API.

A flat API in the manner of PyVRP's ``__init__``: the domain values are imported
here; everything that pulls in a heavy dependency (the solver and OR-Tools, the
travel providers, the day's re-plan and what-if) is imported on first use, so
``import routing.check`` or ``from routing import Plan`` loads no OR-Tools.

Layers, lowest first (each imports only from the ones before it):

- ``routing.domain``: model, plan, errors, units, route timing, ETA, stop list;
- ``routing.geo``: travel matrices and providers;
- ``routing.formats``: scenario and plan files, VRPLIB;
- ``routing.check``: the independent plan checker;
- ``routing.solver``: the search (OR-Tools and the engines that warm-start it);
- ``routing.day``: re-plan and what-if;
- ``routing.cli``: the ``routing`` command.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from routing._lazy import lazy_getattr
from routing.domain.errors import (
    InvalidProblemError,
    MatrixError,
    RoutingError,
    SolverError,
)
from routing.domain.model import (
    Depot,
    Location,
    Order,
    Point,
    Problem,
    TimeWindow,
    Vehicle,
)
from routing.domain.plan import (
    Plan,
    PlanStatus,
    PlanTotals,
    Route,
    Unplanned,
    UnplannedCode,
    Visit,
)
from routing.domain.timing import plan_from_routes

if TYPE_CHECKING:
    from routing.check import check_plan
    from routing.day.replan import ReplanRequest, replan
    from routing.day.whatif import Variant, compare
    from routing.formats import load_plan, load_problem, save_plan
    from routing.geo.providers import build_travel
    from routing.solver import SolveOptions, solve

logging.getLogger(__name__).addHandler(logging.NullHandler())

_LAZY = {
    "SolveOptions": "routing.solver",
    "solve": "routing.solver",
    "build_travel": "routing.geo.providers",
    "load_problem": "routing.formats",
    "load_plan": "routing.formats",
    "save_plan": "routing.formats",
    "check_plan": "routing.check",
    "ReplanRequest": "routing.day.replan",
    "replan": "routing.day.replan",
    "Variant": "routing.day.whatif",
    "compare": "routing.day.whatif",
}
"""Public names imported on first use, and the module each comes from."""


__getattr__ = lazy_getattr(globals(), _LAZY)


__all__ = [
    "Depot",
    "InvalidProblemError",
    "Location",
    "MatrixError",
    "Order",
    "Plan",
    "PlanStatus",
    "PlanTotals",
    "Point",
    "Problem",
    "ReplanRequest",
    "Route",
    "RoutingError",
    "SolveOptions",
    "SolverError",
    "TimeWindow",
    "Unplanned",
    "UnplannedCode",
    "Variant",
    "Vehicle",
    "Visit",
    "build_travel",
    "check_plan",
    "compare",
    "load_plan",
    "load_problem",
    "plan_from_routes",
    "replan",
    "save_plan",
    "solve",
]
