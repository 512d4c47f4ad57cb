"""Cornu's errors: one hierarchy that the API maps to problem+json and the SDK re-raises.

Each class carries the HTTP status and the problem `type` slug it is served with, so
the mapping lives here once. Messages are written for the person who sent the request:
what was wrong, where, and what is allowed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

PROBLEM_TYPE_PREFIX = "urn:cornu:problem:"


@dataclass(frozen=True)
class ErrorItem:
    """One problem inside a spec: where (`loc`, a field path) and what (`msg`)."""

    loc: tuple[str | int, ...]
    msg: str

    @property
    def where(self) -> str:
        """The field path as a user writes it: `model.layers[2].units`."""
        out = ""
        for part in self.loc:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"loc": list(self.loc), "msg": self.msg}


class CornuError(Exception):
    """Base of every error Cornu reports to a user."""

    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal"
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    @property
    def type(self) -> str:
        return PROBLEM_TYPE_PREFIX + self.slug

    def extensions(self) -> dict[str, Any]:
        """Extra members of the problem+json body (RFC 9457 extension members)."""
        return {}

    def problem(self) -> dict[str, Any]:
        """The problem+json body (RFC 9457) this error is answered with."""
        return {"type": self.type, "title": self.title, "status": self.status,
                "detail": self.detail, **self.extensions()}  # fmt: skip


class SpecError(CornuError):
    """The job or model spec is invalid; nothing was queued."""

    status = 422
    slug = "invalid-spec"
    title = "Invalid spec"

    def __init__(self, errors: Sequence[ErrorItem] | str, loc: tuple[str | int, ...] = ()) -> None:
        items = [ErrorItem(loc, errors)] if isinstance(errors, str) else list(errors)
        super().__init__("; ".join(f"{e.where}: {e.msg}" if e.loc else e.msg for e in items))
        self.errors = items

    def at(self, *prefix: str | int) -> SpecError:
        """The same errors, located under `prefix` (e.g. `("fit", "validation_data")`)."""
        return SpecError([ErrorItem((*prefix, *e.loc), e.msg) for e in self.errors])

    def extensions(self) -> dict[str, Any]:
        return {"errors": [e.as_dict() for e in self.errors]}


class InvalidDataset(CornuError):
    """An uploaded file is not an array Cornu can train on."""

    status = 422
    slug = "invalid-dataset"
    title = "Invalid dataset"


class PayloadTooLarge(CornuError):
    status = 413
    slug = "payload-too-large"
    title = "Payload too large"


class NotFound(CornuError):
    """The resource does not exist, or belongs to another tenant (never 403)."""

    status = 404
    slug = "not-found"
    title = "Not found"


class Unauthorized(CornuError):
    status = 401
    slug = "unauthorized"
    title = "Unauthorized"


class Forbidden(CornuError):
    """The key is valid but may not do this (a read-only key asked to write)."""

    status = 403
    slug = "forbidden"
    title = "Forbidden"


class Conflict(CornuError):
    status = 409
    slug = "conflict"
    title = "Conflict"


class InUse(Conflict):
    """A dataset or a job's weights that queued or running jobs need cannot be deleted;
    `jobs` names them (the problem's `jobs` member)."""

    slug = "in-use"
    title = "In use"

    def __init__(self, detail: str, jobs: Sequence[str] = ()) -> None:
        super().__init__(detail)
        self.jobs = list(jobs)

    def extensions(self) -> dict[str, Any]:
        return {"jobs": self.jobs}


class TooManyJobs(CornuError):
    """The tenant has as many jobs queued or running as it may; retry when some finish."""

    status = 429
    slug = "too-many-jobs"
    title = "Too many jobs"


class TooManyStreams(CornuError):
    """The tenant has as many live streams open as it may; retry when one closes."""

    status = 429
    slug = "too-many-streams"
    title = "Too many streams"


class QuotaExceeded(CornuError):
    """What the tenant stores would pass its quota (bytes, datasets, jobs kept): waiting
    does not help; deleting something, or a bigger quota, does."""

    status = 413
    slug = "quota-exceeded"
    title = "Quota exceeded"


class TooManyRequests(CornuError):
    """The tenant sends requests faster than its quota's rate; retry after `retry_after`
    seconds (also the `Retry-After` header)."""

    status = 429
    slug = "too-many-requests"
    title = "Too many requests"

    def __init__(self, detail: str, retry_after: float) -> None:
        super().__init__(detail)
        self.retry_after = retry_after

    def extensions(self) -> dict[str, Any]:
        return {"retry_after": round(self.retry_after, 3)}


class ServiceUnavailable(CornuError):
    """A dependency (Redis, the broker) does not answer; the request can be retried."""

    status = 503
    slug = "unavailable"
    title = "Service unavailable"


class JobFailed(CornuError):
    """A job stopped for a reason its owner can act on (bad data, NaN loss, …).

    The worker stores `detail` as the job's `error`; the job's owner reads it there.
    """

    status = 422
    slug = "job-failed"
    title = "Job failed"


class DataError(JobFailed):
    """The training data cannot be used as given (NaN values, labels out of range, …)."""

    slug = "invalid-data"
    title = "Invalid training data"


class NonFiniteLoss(JobFailed):
    slug = "non-finite-loss"
    title = "Loss is not finite"


class NotSupported(CornuError):
    """What Keras can do and Cornu will not: run the user's own Python code (a Lambda
    layer, a subclassed Model's `call`, a custom `train_step`, a loss function of one's
    own) on its workers. The message says what to use instead."""

    status = 422
    slug = "not-supported"
    title = "Not supported"

    NEVER: ClassVar[str] = "Cornu never runs your Python code on its workers"


ERRORS_BY_SLUG: dict[str, type[CornuError]] = {
    cls.slug: cls
    for cls in (
        CornuError,
        SpecError,
        InvalidDataset,
        PayloadTooLarge,
        NotFound,
        Unauthorized,
        Forbidden,
        Conflict,
        InUse,
        TooManyJobs,
        TooManyStreams,
        ServiceUnavailable,
        JobFailed,
        DataError,
        NonFiniteLoss,
        NotSupported,
    )
}
