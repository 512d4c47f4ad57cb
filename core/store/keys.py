"""Every Redis key Cornu uses, in one place."""

from __future__ import annotations

PREFIX = "cornu"


def api_key(digest: str) -> str:
    """Hash: the tenant an API key (by its SHA-256) belongs to."""
    return f"{PREFIX}:apikey:{digest}"


def tenant(name: str) -> str:
    return f"{PREFIX}:tenant:{name}"


def tenant_jobs(name: str) -> str:
    """Sorted set of the tenant's job ids (all score 0: ids sort by creation time)."""
    return f"{PREFIX}:tenant:{name}:jobs"


def dataset(dataset_id: str) -> str:
    return f"{PREFIX}:dataset:{dataset_id}"


def job(job_id: str) -> str:
    return f"{PREFIX}:job:{job_id}"


def job_metrics(job_id: str) -> str:
    """Stream: one entry per finished epoch."""
    return f"{PREFIX}:job:{job_id}:metrics"


def blob(kind: str, owner_id: str) -> str:
    """List of byte chunks: a dataset's .npy file or a job's weights."""
    return f"{PREFIX}:blob:{kind}:{owner_id}"
