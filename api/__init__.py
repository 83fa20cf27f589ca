"""The routing service: a thin FastAPI app over the engine (see README, Service)."""
