"""Validate only: input errors and pre-solve feasibility findings, no solve.

Validate answers at once, in the service's process, so its work is bounded like
every request's (`api.limits`) and it builds travel times itself only for small
problems (``validate_matrix_cells``, ~10 ms). Above that size it does not hand
the matrix to a worker job (a validate would then wait in the job queue behind
the solves it is meant to prepare); it checks with no travel time at all
instead. Zero travel is a lower bound of any travel, and every pre-solve check
only gets harder with longer travel, so each finding it reports holds for the
real travel times too; only findings that need the travel times (a slot out of
reach, a route limit) may be missing, and ``travel_checked`` says so.
"""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter

from api import limits, store
from api.auth import Reader
from api.deps import SettingsDep
from api.errors import problem_error
from api.schemas import ErrorResponse, Finding, ValidateRequest, ValidateResponse
from routing.domain.errors import InvalidProblemError
from routing.domain.model import Problem
from routing.geo.matrix import TravelMatrix
from routing.geo.providers import build_travel
from routing.solver.precheck import precheck

router = APIRouter(prefix="/v1/validate", tags=["validate"])


def _no_travel(problem: Problem) -> dict[str, TravelMatrix]:
    """Zero distances and durations for every profile, without allocating N x N:
    a read-only broadcast of one zero (the pre-solve checks only read cells)."""
    n = len(problem.depots) + len(problem.orders)
    zeros = np.broadcast_to(np.zeros((), dtype=np.int64), (n, n))
    matrix = object.__new__(TravelMatrix)
    # TravelMatrix() would copy its input into a real N x N array: set directly.
    object.__setattr__(matrix, "distances_m", zeros)
    object.__setattr__(matrix, "durations_s", zeros)
    return dict.fromkeys(problem.profiles, matrix)


@router.post(
    "",
    response_model=ValidateResponse,
    summary="Check a problem without solving",
    responses={413: {"model": ErrorResponse}, 422: {"model": ErrorResponse}},
)
def validate(
    body: ValidateRequest, principal: Reader, settings: SettingsDep
) -> ValidateResponse:
    """422 with the field and entity of the first input error (413 beyond the
    size limits); else 200 with the orders no vehicle can serve on a route of
    its own, and why. Problems above ``validate_matrix_cells`` are checked
    without travel times (``travel_checked`` false): the findings reported hold,
    slots out of reach in time are not looked for."""
    size = limits.size_of(body.problem)
    problem = store.read_problem(body.problem, settings)
    is_small = size.work <= settings.validate_matrix_cells
    try:
        travel = build_travel(problem) if is_small else _no_travel(problem)
        result = precheck(problem, travel)
    except InvalidProblemError as exc:
        raise problem_error(exc) from None
    return ValidateResponse(
        depots=len(problem.depots),
        vehicles=len(problem.vehicles),
        orders=len(problem.orders),
        findings=[
            Finding(order_id=u.order_id, code=u.code.value, reason=u.reason)
            for u in result.unplanned.values()
        ],
        travel_checked=is_small,
    )
