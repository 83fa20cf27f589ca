"""The search: solve(problem, travel, options=...) -> Plan (OR-Tools and the engines
that warm-start it)."""

from routing.solver.options import SolveOptions
from routing.solver.solve import solve

__all__ = ["SolveOptions", "solve"]
