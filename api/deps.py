"""Shared dependencies: settings, the store, the queue, and the caller's tenant.

Those that only look something up are `async def`: FastAPI runs a plain `def` dependency
on its thread pool, a hop per dependency per request. The caller's key and rate are read
on the event loop (`core.store.reads`)."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Callable
from functools import partial
from typing import Annotated, Any

import torch
from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from cornu.core.config import Settings
from cornu.core.errors import Forbidden, NotFound, TooManyRequests, Unauthorized
from cornu.core.queue import enqueue_training
from cornu.core.runner import run_job
from cornu.core.store import Store
from cornu.core.store.feeds import Feeds
from cornu.core.store.reads import Reads
from cornu.core.store.tenants import KeyInfo


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


async def get_feeds(request: Request) -> Feeds:
    feeds: Feeds = request.app.state.feeds
    return feeds


async def get_reads(request: Request) -> Reads:
    reads: Reads = request.app.state.reads
    return reads


async def get_enqueue(request: Request) -> Callable[[str], None]:
    app = request.app
    return partial(
        enqueue_training,
        app.state.celery,
        queue=app.state.settings.queue,
        priority_of=app.state.store.jobs.queue_priority,
        accelerator_of=app.state.store.jobs.accelerator,
    )


async def get_run_inline(request: Request) -> Callable[[str], object]:
    """Runs a job in this process, on its CPU (see `core.submission.submit_job`)."""
    return partial(
        run_job,
        request.app.state.store,
        settings=request.app.state.settings,
        worker=f"api:{socket.gethostname()}:{os.getpid()}",
        device=torch.device("cpu"),
        enqueue=await get_enqueue(request),
    )


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
FeedsDep = Annotated[Feeds, Depends(get_feeds)]
ReadsDep = Annotated[Reads, Depends(get_reads)]
EnqueueDep = Annotated[Callable[[str], None], Depends(get_enqueue)]
RunInlineDep = Annotated[Callable[[str], object], Depends(get_run_inline)]

_bearer = HTTPBearer(auto_error=False, description="an API key from `cornu keys create`")


READING = frozenset({"GET", "HEAD", "OPTIONS"})  # what a read-only key may send


async def get_tenant(
    request: Request,
    reads: ReadsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The tenant whose API key came in `Authorization: Bearer <key>`: 401 for none, an
    unknown, revoked or expired key; 403 for a read-only key on a request that writes."""
    if credentials is None:
        raise Unauthorized("send an API key as 'Authorization: Bearer <key>'")
    key = await reads.principal(credentials.credentials)
    if key is None:
        raise Unauthorized(
            "the API key is not valid (unknown, revoked or expired); create one with "
            "`cornu keys create TENANT`"
        )
    if key.scope == "read-only" and request.method not in READING:
        raise Forbidden(
            f"the API key {key.id} is read-only; {request.method} needs a read-write key"
        )
    request.state.api_key = key
    wait = await reads.admit(key.tenant)
    if wait > 0:
        raise TooManyRequests(
            f"tenant {key.tenant} sends requests faster than its quota allows; retry in "
            f"{wait:.3f} s",
            retry_after=wait,
        )
    return key.tenant


TenantDep = Annotated[str, Depends(get_tenant)]


async def get_admin(request: Request, tenant: TenantDep) -> str:
    """The tenant of an `admin` key (`cornu keys create TENANT --admin`): 403 for any
    other valid key. What the admin API (`/v1/admin/…`) needs."""
    key: KeyInfo = request.state.api_key  # get_tenant checked it
    if key.scope != "admin":
        raise Forbidden(
            f"the API key {key.id} is {key.scope}; the admin API needs an admin key "
            "(`cornu keys create TENANT --admin`)"
        )
    return tenant


AdminDep = Annotated[str, Depends(get_admin)]


# Ids in paths: `<prefix>_` and 26 characters (core.ids.new_id). Anything else names nothing
# this service made, and is answered as an unknown id is (404), before it reaches a Redis
# key: `job_…:events` must not read another key of the job.
_ID = "_[0-9A-Z]{26}"
JOB_ID, DATASET_ID, UPLOAD_ID, STUDY_ID = (re.compile(p + _ID) for p in ("job", "ds", "up", "std"))


def path_id(name: str, noun: str, pattern: re.Pattern[str]) -> Any:
    """The dependency that checks the path parameter `name` (a `noun`'s id) against
    `pattern`: one that does not match is a 404, as an unknown id is, after the key is
    checked (401 comes first)."""

    async def checked(tenant: TenantDep, value: str) -> str:
        if not pattern.fullmatch(value):
            raise NotFound(f"no {noun} {value!r}")
        return value

    # An object, not a string: FastAPI resolves string annotations in the module, not here.
    checked.__annotations__["value"] = Annotated[str, Path(alias=name)]
    return Depends(checked)


JobIdDep = Annotated[str, path_id("job_id", "job", JOB_ID)]
StudyIdDep = Annotated[str, path_id("study_id", "study", STUDY_ID)]
DatasetIdDep = Annotated[str, path_id("dataset_id", "dataset", DATASET_ID)]
UploadIdDep = Annotated[str, path_id("upload_id", "upload", UPLOAD_ID)]
