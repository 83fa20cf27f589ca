"""The engine's file formats: scenario JSON <-> Problem, Plan <-> JSON, VRPLIB.

Reading is strict and every error names the offending value's path and entity;
see ``scenarios/README.md`` for the scenario format.
"""

from routing.formats._json import MAX_ID_LENGTH
from routing.formats.plan_file import load_plan, plan_from_dict, plan_to_dict, save_plan
from routing.formats.scenario import load_problem, problem_from_dict, problem_to_dict

__all__ = [
    "MAX_ID_LENGTH",
    "load_plan",
    "load_problem",
    "plan_from_dict",
    "plan_to_dict",
    "problem_from_dict",
    "problem_to_dict",
    "save_plan",
]
