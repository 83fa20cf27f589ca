"""The delivery day after the first plan: re-planning and what-if variants.

Sits above the solver: it builds the problem of the rest of the day (or of a
variant), solves it with `routing.solver.solve` and compares the results.
"""
