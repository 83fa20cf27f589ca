"""The domain: problem model, plan values, errors, units, route timing, ETA and
stop lists. Imports nothing from the solver, the formats, the API or OR-Tools."""
