"""Shared dependencies: settings, the store, the queue, and the caller's tenant."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from functools import partial
from typing import Annotated

import torch
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from cornu.core.config import Settings
from cornu.core.errors import Unauthorized
from cornu.core.queue import enqueue_training
from cornu.core.runner import run_job
from cornu.core.store import Store
from cornu.core.store.feeds import Feeds


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def get_feeds(request: Request) -> Feeds:
    feeds: Feeds = request.app.state.feeds
    return feeds


def get_enqueue(request: Request) -> Callable[[str], None]:
    settings = get_settings(request)
    return partial(enqueue_training, request.app.state.celery, queue=settings.queue)


def get_run_inline(request: Request) -> Callable[[str], object]:
    """Runs a job in this process, on its CPU (see `core.jobs.submit_job`)."""
    return partial(
        run_job,
        get_store(request),
        settings=get_settings(request),
        worker=f"api:{socket.gethostname()}:{os.getpid()}",
        device=torch.device("cpu"),
        enqueue=get_enqueue(request),
    )


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
FeedsDep = Annotated[Feeds, Depends(get_feeds)]
EnqueueDep = Annotated[Callable[[str], None], Depends(get_enqueue)]
RunInlineDep = Annotated[Callable[[str], object], Depends(get_run_inline)]

_bearer = HTTPBearer(auto_error=False, description="an API key from `cornu keys create`")


def get_tenant(
    store: StoreDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The tenant whose API key came in `Authorization: Bearer <key>`."""
    if credentials is None:
        raise Unauthorized("send an API key as 'Authorization: Bearer <key>'")
    tenant = store.tenants.authenticate(credentials.credentials)
    if tenant is None:
        raise Unauthorized("the API key is not valid; create one with `cornu keys create TENANT`")
    return tenant


TenantDep = Annotated[str, Depends(get_tenant)]
