"""Last-mile delivery route optimisation: the domain model and its public API."""

import logging

from routing.errors import InvalidProblemError, MatrixError, RoutingError, SolverError
from routing.model import Depot, Location, Order, Point, Problem, TimeWindow, Vehicle
from routing.plan import (
    Plan,
    PlanStatus,
    PlanTotals,
    Route,
    Unplanned,
    UnplannedCode,
    Visit,
)

logging.getLogger(__name__).addHandler(logging.NullHandler())

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
    "Route",
    "RoutingError",
    "SolverError",
    "TimeWindow",
    "Unplanned",
    "UnplannedCode",
    "Vehicle",
    "Visit",
]
