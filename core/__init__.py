"""Cornu's own logic: the job contract (spec), the torch engine and the Redis store."""

# This folder is installed, and imported, as `cornu.core` (cornu/core links here): only
# `cornu` goes onto a user's import path. Imported as a top-level `core` it would be a
# second copy of every module, with classes (errors, specs) that are not the same.
if __name__ != "cornu.core":
    raise ImportError(f"import this package as cornu.core, not as {__name__}")
