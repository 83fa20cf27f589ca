"""FastAPI service wrapping the engine (issue 6; nothing here yet)."""
