"""The OR-Tools solver: solve(problem, travel, options=...) -> Plan."""

from routing.solver.options import SolveOptions
from routing.solver.replan import ReplanResult, replan
from routing.solver.solve import solve
from routing.solver.whatif import compare, markdown_table, solve_variant

__all__ = [
    "ReplanResult",
    "SolveOptions",
    "compare",
    "markdown_table",
    "replan",
    "solve",
    "solve_variant",
]
