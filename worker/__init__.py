"""Celery workers: claim a job, run core's trainer, report. Thin by design."""

# This folder is installed, and imported, as `cornu.worker` (cornu/worker links here): only
# `cornu` goes onto a user's import path. Imported as a top-level `worker` it would be a
# second copy of every module, with classes (errors, specs) that are not the same.
if __name__ != "cornu.worker":
    raise ImportError(f"import this package as cornu.worker, not as {__name__}")
