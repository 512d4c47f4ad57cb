"""The HTTP API: FastAPI routers over core. Thin by design."""

# This folder is installed, and imported, as `cornu.api` (cornu/api links here): only
# `cornu` goes onto a user's import path. Imported as a top-level `api` it would be a
# second copy of every module, with classes (errors, specs) that are not the same.
if __name__ != "cornu.api":
    raise ImportError(f"import this package as cornu.api, not as {__name__}")
