"""Driver stop lists: one vehicle's day as lines to drive by, as CSV, HTML or JSON.

A stop list is what the driver takes along: the stops in order with address,
slot, ETA, when to call the customer, what to hand over and what to collect, and
the breaks. Stop numbers (``sequence``) are the visit positions, 1-based, as
written on the parcels at loading; break lines carry sequence 0 so that they do
not shift the stop numbers. Pure domain code over a Plan.
"""

from __future__ import annotations

import csv
import html
import io
import logging
from dataclasses import dataclass

from routing.domain.errors import InvalidProblemError
from routing.domain.eta import DEFAULT_CALL_AHEAD_S, call_ahead_time
from routing.domain.model import Location, Order, Place, Problem
from routing.domain.plan import Plan, Route, RouteBreak, Visit
from routing.domain.units import format_clock

logger = logging.getLogger(__name__)

__all__ = ["StopLine", "StopList", "stop_list", "to_csv", "to_dict", "to_html"]

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""Text cells starting with these are read as formulas by spreadsheets; customer
text (notes, addresses) is quoted with a leading apostrophe in CSV (OWASP, "CSV
injection")."""


@dataclass(frozen=True, slots=True)
class StopLine:
    """One line of a stop list: a stop, or a driver break (``is_break``).

    Parameters
    ----------
    sequence
        Stop number, 1-based; 0 on break lines.
    order_id
        The order ("" on break lines).
    address
        The order's address.
    location
        ``(lat, lon)``, or ``(x, y)`` for planar problems (``StopList.is_planar``).
    slot
        The booked slots as clock text, ``"09:00-11:00, 14:00-15:00"``; "" if none.
    arrival_s
        Arrival at the stop (a break: its start), seconds since midnight.
    eta_s
        The ETA: the planned service start, when the driver rings (after any
        waiting for the slot), the same moment customers are promised
        (``routing.domain.eta``); a break: its start.
    departure_s
        When the driver leaves the stop; a break: its end.
    call_ahead_s
        When the driver calls the customer (a time of day); a break: its start.
    deliver, collect
        Quantity name -> amount handed over / collected here (non-zero only).
    notes
        The order's notes for the driver; a break: "break".
    late_s
        How long after the slot the service starts (0: on time).
    is_break
        True for a driver break.
    """

    sequence: int
    order_id: str
    address: str
    location: tuple[float, float]
    slot: str
    arrival_s: int
    eta_s: int
    departure_s: int
    call_ahead_s: int
    deliver: dict[str, int]
    collect: dict[str, int]
    notes: str
    late_s: int
    is_break: bool = False


@dataclass(frozen=True, slots=True)
class StopList:
    """One vehicle's day, ready to print or send to the driver's phone.

    Parameters
    ----------
    vehicle_id
        The vehicle.
    date
        The planning day (ISO ``YYYY-MM-DD``), if the problem names one.
    start_depot, end_depot
        Depot ids; ``end_depot`` None for a route that ends at its last stop.
    start_s, end_s
        Leaving the start depot, arriving at the end, seconds since midnight.
    stops
        The lines in driving order, breaks included.
    quantities
        The problem's quantity names (columns of the CSV).
    is_planar
        True when locations are planar ``(x, y)`` rather than ``(lat, lon)``.
    """

    vehicle_id: str
    date: str | None
    start_depot: str
    end_depot: str | None
    start_s: int
    end_s: int
    stops: tuple[StopLine, ...]
    quantities: tuple[str, ...] = ()
    is_planar: bool = False


def _coords(place: Place) -> tuple[float, float]:
    if isinstance(place, Location):
        return (place.lat, place.lon)
    return (place.x, place.y)


def _slot_text(order: Order) -> str:
    return ", ".join(
        f"{format_clock(w.start_s)}-{format_clock(w.end_s)}" for w in order.windows
    )


def _amounts(names: tuple[str, ...], values: tuple[int, ...]) -> dict[str, int]:
    return {name: v for name, v in zip(names, values, strict=True) if v}


def _break_line(
    brk: RouteBreak, before: Place, after: Place, next_arrival_s: int | None
) -> StopLine:
    # Taken on arrival (while waiting for the slot) or at the previous stop.
    is_on_arrival = next_arrival_s is not None and brk.start_s >= next_arrival_s
    return StopLine(
        sequence=0,
        order_id="",
        address="",
        location=_coords(after if is_on_arrival else before),
        slot="",
        arrival_s=brk.start_s,
        eta_s=brk.start_s,
        departure_s=brk.end_s,
        call_ahead_s=brk.start_s,
        deliver={},
        collect={},
        notes="break",
        late_s=0,
        is_break=True,
    )


def _stop_line(
    problem: Problem, route: Route, sequence: int, visit: Visit, call_ahead_s: int
) -> StopLine:
    order = problem.order(visit.order_id)
    return StopLine(
        sequence=sequence,
        order_id=order.id,
        address=order.address,
        location=_coords(order.location),
        slot=_slot_text(order),
        arrival_s=visit.arrival_s,
        eta_s=visit.start_s,
        departure_s=visit.departure_s,
        call_ahead_s=call_ahead_time(route, visit.start_s, call_ahead_s),
        deliver=_amounts(problem.quantities, order.delivery),
        collect=_amounts(problem.quantities, order.pickup),
        notes=order.notes,
        late_s=visit.late_s,
    )


def _first_stop_line(
    problem: Problem, order: Order, start_s: int, call_ahead_s: int
) -> StopLine:
    """Line 1 for the stop a re-planned driver is driving to (not in the plan)."""
    late_s = problem.policy(order).service_start(start_s)[1]
    return StopLine(
        sequence=1,
        order_id=order.id,
        address=order.address,
        location=_coords(order.location),
        slot=_slot_text(order),
        arrival_s=start_s,
        eta_s=start_s,
        departure_s=start_s + order.service_s,
        call_ahead_s=max(0, start_s - call_ahead_s),
        deliver=_amounts(problem.quantities, order.delivery),
        collect=_amounts(problem.quantities, order.pickup),
        notes=order.notes,
        late_s=late_s,
    )


def stop_list(
    problem: Problem,
    plan: Plan,
    vehicle_id: str,
    *,
    call_ahead_s: int = DEFAULT_CALL_AHEAD_S,
    first_stop: tuple[Order, int] | None = None,
) -> StopList | None:
    """The stop list of one vehicle of a plan.

    Parameters
    ----------
    problem
        The problem the plan solves.
    plan
        The plan.
    vehicle_id
        The vehicle.
    call_ahead_s
        How long before the service start the driver calls (>= 0), never before
        the route leaves.
    first_stop
        ``(order, service start)`` of a stop served before the route, listed as
        stop 1 (the others renumbered from 2): after a re-plan, the stop the
        driver is driving to (``ReplanResult.pinned_first`` with its
        ``pinned_start_s``), which the new plan's route starts after. The order
        comes from the day's original problem (the re-plan problem no longer
        has it). Its arrival is not known: its ETA is the service start. Its
        call-ahead time is not held back to the route's start (the driver is
        already on the road), and the list starts no later than it.

    Returns
    -------
    StopList or None
        None when the vehicle has no route. Breaks taken during the route appear
        as lines of their own, placed where they are taken; breaks off duty
        (before the route leaves or after it ends) are left out.

    Raises
    ------
    InvalidProblemError
        If the vehicle is not in the problem (``path`` ``"vehicle_id"``), the
        route visits an order not in the problem, ``call_ahead_s`` is
        negative, or ``first_stop``'s order is also in the route (``path``
        ``"first_stop"``).
    """
    if (
        not isinstance(call_ahead_s, int)
        or isinstance(call_ahead_s, bool)
        or call_ahead_s < 0
    ):
        raise InvalidProblemError(
            f"must be an integer number of seconds >= 0, got {call_ahead_s!r}",
            path="call_ahead_s",
        )
    try:
        vehicle = problem.vehicle(vehicle_id)
    except KeyError:
        raise InvalidProblemError(
            "unknown vehicle", path="vehicle_id", entity_id=str(vehicle_id)
        ) from None
    route = plan.route(vehicle_id)
    if route is None:
        return None
    for j, visit in enumerate(route.visits):
        try:
            problem.order(visit.order_id)
        except KeyError:
            i = plan.routes.index(route)
            raise InvalidProblemError(
                "the plan visits an order that is not in the problem",
                path=f"routes[{i}].visits[{j}].order_id",
                entity_id=visit.order_id,
            ) from None
    lines: list[StopLine] = []
    offset = 1
    start_s = route.start_s
    if first_stop is not None:
        first_order, first_start_s = first_stop
        if first_order.id in route.order_ids:
            raise InvalidProblemError(
                "the first stop is also in the route",
                path="first_stop",
                entity_id=first_order.id,
            )
        lines.append(
            _first_stop_line(problem, first_order, first_start_s, call_ahead_s)
        )
        offset = 2
        start_s = min(start_s, first_start_s)
    breaks = sorted(
        (
            b
            for b in route.breaks
            if b.start_s < route.end_s and b.end_s > route.start_s
        ),
        key=lambda b: b.start_s,
    )
    before: Place = problem.depot(vehicle.start_depot).location
    for k, visit in enumerate(route.visits):
        here = problem.order(visit.order_id).location
        while breaks and breaks[0].end_s <= visit.start_s:
            lines.append(_break_line(breaks.pop(0), before, here, visit.arrival_s))
        lines.append(_stop_line(problem, route, k + offset, visit, call_ahead_s))
        before = here
    end: Place = (
        problem.depot(vehicle.end_depot).location
        if vehicle.end_depot is not None
        else before
    )
    lines.extend(_break_line(b, before, end, None) for b in breaks)
    return StopList(
        vehicle_id=route.vehicle_id,
        date=problem.date,
        start_depot=route.start_depot,
        end_depot=route.end_depot,
        start_s=start_s,
        end_s=route.end_s,
        stops=tuple(lines),
        quantities=problem.quantities,
        is_planar=problem.is_planar,
    )


def _coord_names(sl: StopList) -> tuple[str, str]:
    return ("x", "y") if sl.is_planar else ("lat", "lon")


def _quantity_names(sl: StopList) -> list[str]:
    """The quantity columns: the problem's, plus any other name a line uses."""
    names = list(sl.quantities)
    for line in sl.stops:
        for name in (*line.deliver, *line.collect):
            if name not in names:
                names.append(name)
    return names


def _safe_cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _late_text(late_s: int) -> str:
    return format_clock(late_s) if late_s else ""


def to_csv(sl: StopList) -> str:
    """The stop list as CSV text (RFC 4180, ``\\r\\n`` line ends), with a header.

    Columns: ``sequence, type ("stop"/"break"), order_id, address, lat, lon``
    (``x, y`` when planar), ``slot, eta, start, departure, call_ahead`` (clock
    text ``HH:MM``; ``call_ahead`` empty on breaks), ``deliver_<q>`` and
    ``collect_<q>`` per quantity (integers), ``late`` (duration ``HH:MM``, empty
    when on time) and ``notes``. Text cells that a spreadsheet would run as a
    formula are prefixed with an apostrophe.
    """
    names = _quantity_names(sl)
    a, b = _coord_names(sl)
    header = [
        "sequence",
        "type",
        "order_id",
        "address",
        a,
        b,
        "slot",
        "arrival",
        "eta",
        "departure",
        "call_ahead",
        *(f"deliver_{q}" for q in names),
        *(f"collect_{q}" for q in names),
        "late",
        "notes",
    ]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for line in sl.stops:
        writer.writerow(
            [
                line.sequence,
                "break" if line.is_break else "stop",
                _safe_cell(line.order_id),
                _safe_cell(line.address),
                repr(line.location[0]),
                repr(line.location[1]),
                line.slot,
                format_clock(line.arrival_s),
                format_clock(line.eta_s),
                format_clock(line.departure_s),
                "" if line.is_break else format_clock(line.call_ahead_s),
                *(line.deliver.get(q, 0) for q in names),
                *(line.collect.get(q, 0) for q in names),
                _late_text(line.late_s),
                _safe_cell(line.notes),
            ]
        )
    return out.getvalue()


def _line_dict(line: StopLine, coord_names: tuple[str, str]) -> dict[str, object]:
    return {
        "sequence": line.sequence,
        "is_break": line.is_break,
        "order_id": line.order_id,
        "address": line.address,
        "location": dict(zip(coord_names, line.location, strict=True)),
        "slot": line.slot,
        "arrival_s": line.arrival_s,
        "arrival": format_clock(line.arrival_s),
        "eta_s": line.eta_s,
        "eta": format_clock(line.eta_s),
        # The v1 name of the service start, the same moment as the ETA.
        "start_s": line.eta_s,
        "start": format_clock(line.eta_s),
        "departure_s": line.departure_s,
        "departure": format_clock(line.departure_s),
        "call_ahead_s": line.call_ahead_s,
        "call_ahead": format_clock(line.call_ahead_s),
        "deliver": dict(line.deliver),
        "collect": dict(line.collect),
        "notes": line.notes,
        "late_s": line.late_s,
    }


def to_dict(sl: StopList) -> dict[str, object]:
    """The stop list as a JSON-ready dict.

    Times appear both as integer seconds (``eta_s``) and clock text (``eta``);
    locations as ``{"lat": ..., "lon": ...}`` (``{"x", "y"}`` when planar), so
    that the coordinate order cannot be confused.
    """
    coord_names = _coord_names(sl)
    return {
        "vehicle_id": sl.vehicle_id,
        "date": sl.date,
        "start_depot": sl.start_depot,
        "end_depot": sl.end_depot,
        "start_s": sl.start_s,
        "start": format_clock(sl.start_s),
        "end_s": sl.end_s,
        "end": format_clock(sl.end_s),
        "quantities": list(sl.quantities),
        "stops": [_line_dict(line, coord_names) for line in sl.stops],
    }


_CSS = """
body { font-family: system-ui, sans-serif; font-size: 11pt; margin: 1.5em; }
h1 { font-size: 16pt; margin: 0 0 0.3em; }
p.meta { margin: 0 0 1em; color: #333; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #999; padding: 3px 6px; text-align: left;
         vertical-align: top; }
th { background: #eee; }
td.num { text-align: right; }
tr.break td { background: #f4f4f4; font-style: italic; }
td.late { color: #b00; font-weight: bold; }
td.tick { width: 2.5em; }
@media print {
  @page { size: A4 landscape; margin: 12mm; }
  body { margin: 0; font-size: 9pt; }
  thead { display: table-header-group; }
  tr { page-break-inside: avoid; break-inside: avoid; }
}
"""


def _amount_text(amounts: dict[str, int]) -> str:
    return ", ".join(f"{v} {name}" for name, v in amounts.items())


def to_html(sl: StopList, *, title: str = "") -> str:
    """The stop list as a self-contained, printable HTML page.

    One table row per line (breaks shaded, late stops in red), the header
    repeated on every printed page, and an empty "done" column to tick. Every
    text is escaped with ``html.escape``; the page loads nothing from outside.

    Parameters
    ----------
    sl
        The stop list.
    title
        Page title; default ``"Stop list <vehicle> <date>"``.
    """
    e = html.escape
    title = title or " ".join(
        part for part in ("Stop list", sl.vehicle_id, sl.date or "") if part
    )
    end = sl.end_depot if sl.end_depot is not None else "last stop"
    meta = (
        f"Vehicle <b>{e(sl.vehicle_id)}</b>"
        + (f" &middot; {e(sl.date)}" if sl.date else "")
        + f" &middot; leaves {e(sl.start_depot)} at {format_clock(sl.start_s)}"
        + f" &middot; ends at {e(end)} at {format_clock(sl.end_s)}"
        + f" &middot; {sum(not s.is_break for s in sl.stops)} stops"
    )
    rows: list[str] = []
    for line in sl.stops:
        if line.is_break:
            rows.append(
                '<tr class="break"><td></td><td colspan="3">Break</td>'
                f"<td>{format_clock(line.eta_s)}</td><td></td>"
                f"<td>{format_clock(line.departure_s)}</td>"
                '<td colspan="4"></td><td class="tick"></td></tr>'
            )
            continue
        late = (
            f'<td class="late">+{format_clock(line.late_s)}</td>'
            if line.late_s
            else "<td></td>"
        )
        rows.append(
            "<tr>"
            f'<td class="num">{line.sequence}</td>'
            f"<td>{e(line.order_id)}</td>"
            f"<td>{e(line.address)}</td>"
            f"<td>{e(line.slot)}</td>"
            f"<td>{format_clock(line.eta_s)}</td>"
            f"<td>{format_clock(line.call_ahead_s)}</td>"
            f"<td>{format_clock(line.departure_s)}</td>"
            f"<td>{e(_amount_text(line.deliver))}</td>"
            f"<td>{e(_amount_text(line.collect))}</td>"
            f"{late}"
            f"<td>{e(line.notes)}</td>"
            '<td class="tick"></td>'
            "</tr>"
        )
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "#",
            "Order",
            "Address",
            "Slot",
            "ETA",
            "Call",
            "Leave",
            "Deliver",
            "Collect",
            "Late",
            "Notes",
            "Done",
        )
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f'<h1>{e(title)}</h1>\n<p class="meta">{meta}</p>\n'
        f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n"
        + "\n".join(rows)
        + "\n</tbody>\n</table>\n</body>\n</html>\n"
    )
