"""The OR-Tools solver: solve(problem, travel, options=...) -> Plan."""

from routing.solver.options import SolveOptions
from routing.solver.solve import solve

__all__ = ["SolveOptions", "solve"]
