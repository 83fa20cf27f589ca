"""The routing error hierarchy: every error the engine raises on purpose."""

from __future__ import annotations


class RoutingError(Exception):
    """Base class of all errors raised by the routing engine."""


class InvalidProblemError(RoutingError, ValueError):
    """The input describes no valid problem.

    Parameters
    ----------
    message
        What is wrong, with the offending value.
    path
        Where in the input, e.g. ``orders[3].windows[0]``.
    entity_id
        The user's id of the depot, vehicle or order concerned, if any.
    """

    def __init__(
        self, message: str, *, path: str = "", entity_id: str | None = None
    ) -> None:
        self.message = message
        self.path = path
        self.entity_id = entity_id
        where = path
        if entity_id is not None:
            where = f'{path} (id="{entity_id}")' if path else f'id="{entity_id}"'
        super().__init__(f"{where}: {message}" if where else message)


class MatrixError(RoutingError):
    """Travel data could not be built or does not fit the problem."""


class SolverError(RoutingError):
    """The solver failed internally (not: the problem is infeasible)."""
