"""The HTTP API: FastAPI routers over core. Thin by design."""
