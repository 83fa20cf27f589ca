"""Validate only: input errors and pre-solve feasibility findings, no solve."""

from __future__ import annotations

from fastapi import APIRouter

from api import store
from api.auth import Reader
from api.deps import SettingsDep
from api.errors import problem_error
from api.schemas import ErrorResponse, Finding, ValidateRequest, ValidateResponse
from routing.domain.errors import InvalidProblemError
from routing.geo.providers import build_travel
from routing.solver.precheck import precheck

router = APIRouter(prefix="/v1/validate", tags=["validate"])


@router.post(
    "",
    response_model=ValidateResponse,
    summary="Check a problem without solving",
    responses={413: {"model": ErrorResponse}, 422: {"model": ErrorResponse}},
)
def validate(
    body: ValidateRequest, principal: Reader, settings: SettingsDep
) -> ValidateResponse:
    """422 with the field and entity of the first input error; else 200 with the
    orders no vehicle can serve on a route of its own, and why."""
    problem = store.read_problem(body.problem, settings)
    try:
        result = precheck(problem, build_travel(problem))
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
    )
