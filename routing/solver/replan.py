"""replan(): solve the rest of the day from where the vehicles are, and report
which promised ETAs move."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace

from routing.eta import EtaChange, compare_promises
from routing.geo.matrix import TravelData, matrix_for
from routing.model import Depot, Problem, TimeWindow, Vehicle
from routing.plan import Plan
from routing.replan import (
    ReplanRequest,
    ReplanSetup,
    check_request,
    replan_problem,
)
from routing.solver.options import SolveOptions
from routing.solver.solve import solve

logger = logging.getLogger(__name__)

__all__ = ["ReplanResult", "replan"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplanResult:
    """The plan of the rest of the day.

    Parameters
    ----------
    plan
        The new plan; it solves ``problem`` (not the original problem).
    problem
        The rest of the day (`routing.replan.replan_problem`), with the return
        to the depot made possible for every vehicle that has a state (see
        `replan`).
    done
        Vehicle -> orders it served before (as in the request).
    eta_changes
        Promised ETAs the new plan moves or breaks (`routing.eta.compare_promises`);
        the stop a driver is driving to is compared with its new service start.
    pinned_first
        Vehicle -> the stop it is driving to, served next (not in ``plan``).
    pinned_start_s
        Vehicle -> service start of that stop.
    travel
        The travel data of ``problem`` (pass it to ``routing.check.check_plan``).
    stranded
        Vehicles that cannot get back to their end depot before it closes (or
        the horizon ends) even without another stop: left out of ``problem``.
    setup
        The setup ``problem`` was built from (on-board orders, cancellations...).
    """

    plan: Plan
    problem: Problem
    done: dict[str, tuple[str, ...]]
    eta_changes: list[EtaChange]
    pinned_first: dict[str, str] = field(default_factory=dict)
    pinned_start_s: dict[str, int] = field(default_factory=dict)
    travel: TravelData | None = None
    stranded: tuple[str, ...] = ()
    setup: ReplanSetup | None = None


def _travel_to_next(
    problem: Problem,
    request: ReplanRequest,
    travel_for: Callable[[Problem], TravelData],
) -> dict[str, int]:
    """Seconds from each vehicle's position to its ``heading_to`` stop.

    Travel data comes from ``travel_for`` on a tiny problem: one depot per such
    vehicle at its position (its start depot if it has none), the stops it is
    driving to, and the vehicles themselves (for their speed profiles).
    """
    moving = [s for s in request.states if s.heading_to is not None]
    if not moving:
        return {}
    depots = []
    vehicles = []
    for k, state in enumerate(moving):
        vehicle = problem.vehicle(state.vehicle_id)
        place = (
            state.position
            if state.position is not None
            else problem.depot(vehicle.start_depot).location
        )
        depot_id = f"from-{k}"
        depots.append(Depot(id=depot_id, location=place))
        vehicles.append(replace(vehicle, start_depot=depot_id, end_depot=depot_id))
    heading = [s.heading_to for s in moving if s.heading_to is not None]
    tiny = Problem(
        depots=tuple(depots),
        vehicles=tuple(vehicles),
        orders=tuple(problem.order(oid) for oid in heading),
        quantities=problem.quantities,
        horizon=problem.horizon,
        travel=problem.travel,
        tiers=problem.tiers,
    )
    travel = travel_for(tiny)
    out: dict[str, int] = {}
    for k, (state, oid) in enumerate(zip(moving, heading, strict=True)):
        matrix = matrix_for(travel, tiny.vehicles[k].profile)
        seconds = matrix.durations_s[
            tiny.depot_index(f"from-{k}"), tiny.order_index(oid)
        ]
        out[state.vehicle_id] = int(seconds)
    return out


def _returnable(
    problem: Problem, travel: TravelData, vehicle_ids: Collection[str]
) -> tuple[Problem, tuple[str, ...]]:
    """Make an empty day feasible for each re-started vehicle, or leave it out.

    A vehicle re-planned late in its shift may not even have the time to drive
    straight back (plus its remaining breaks); the routing model would then have
    no solution at all. Such a vehicle's shift end, maximum duration and distance
    are extended to what the direct return needs (the overtime is real: it has
    to get back); a vehicle that cannot be back before its end depot closes or
    the horizon ends is left out (stranded).
    """
    horizon = problem.horizon
    vehicles: list[Vehicle] = []
    stranded: list[str] = []
    for v in problem.vehicles:
        if v.id not in vehicle_ids:
            vehicles.append(v)
            continue
        matrix = matrix_for(travel, v.profile)
        start_depot = problem.depot(v.start_depot)
        lo = max(v.shift.start_s, start_depot.opening.start_s, horizon.start_s)
        close = min(start_depot.opening.end_s, horizon.end_s)
        back_s = back_m = 0
        end_close = horizon.end_s
        if v.end_depot is not None:
            a, b = problem.depot_index(v.start_depot), problem.depot_index(v.end_depot)
            back_s = int(matrix.durations_s[a, b])
            back_m = int(matrix.distances_m[a, b])
            end_close = min(end_close, problem.depot(v.end_depot).opening.end_s)
        if lo > close or lo + back_s > end_close:
            logger.warning(
                "vehicle %s cannot leave, or get back, before its depot closes or "
                "the horizon ends; left out",
                v.id,
            )
            stranded.append(v.id)
            continue
        breaks_s = sum(b.duration_s for b in v.breaks)
        needed_end = min(lo + back_s + breaks_s, horizon.end_s)
        if v.shift.end_s < needed_end:
            v = replace(v, shift=TimeWindow(v.shift.start_s, needed_end))
        if v.max_duration_s is not None and v.max_duration_s < back_s + breaks_s:
            v = replace(v, max_duration_s=back_s + breaks_s)
        if v.max_distance_m is not None and v.max_distance_m < back_m:
            v = replace(v, max_distance_m=back_m)
        vehicles.append(v)
    return replace(problem, vehicles=tuple(vehicles)), tuple(stranded)


def replan(
    problem: Problem,
    plan: Plan,
    request: ReplanRequest,
    *,
    travel_for: Callable[[Problem], TravelData],
    options: SolveOptions | None = None,
) -> ReplanResult:
    """Re-plan the rest of the day.

    Parameters
    ----------
    problem
        The day's problem.
    plan
        The plan the vehicles are driving.
    request
        Vehicle states, new and cancelled orders, promised ETAs
        (`routing.replan.ReplanRequest`).
    travel_for
        Travel data for a problem, e.g. ``routing.geo.build_travel``; called on a
        tiny problem for the drive to each ``heading_to`` stop (if any) and on
        the rest of the day. Vehicle positions are new places, so it must build
        travel for any places: a fixed explicit matrix cannot serve a vehicle on
        the road.
    options
        Search settings (default ``SolveOptions()``).

    Returns
    -------
    ReplanResult
        The new plan of the rest of the day and the promised ETAs it moves.

    Raises
    ------
    InvalidProblemError
        If the request does not fit the problem and plan
        (`routing.replan.check_request`).
    MatrixError
        If ``travel_for`` fails.
    """
    check_request(problem, plan, request)
    travel_s_to = _travel_to_next(problem, request, travel_for)
    setup = replan_problem(problem, plan, request, travel_s_to=travel_s_to)
    travel = travel_for(setup.problem)
    rest, stranded = _returnable(
        setup.problem, travel, {s.vehicle_id for s in request.states}
    )
    new_plan = solve(rest, travel, options=options)
    known_starts = {
        setup.pinned_first[vid]: start for vid, start in setup.pinned_start_s.items()
    }
    changes = compare_promises(
        request.promises, rest, new_plan, known_starts=known_starts
    )
    return ReplanResult(
        plan=new_plan,
        problem=rest,
        done=setup.done,
        eta_changes=changes,
        pinned_first=setup.pinned_first,
        pinned_start_s=setup.pinned_start_s,
        travel=travel,
        stranded=stranded,
        setup=setup,
    )
