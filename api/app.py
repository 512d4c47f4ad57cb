"""The FastAPI application: `uvicorn --factory api.app:create_app` (or `cornu api`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

import redis.asyncio
from fastapi import FastAPI
from starlette.types import Scope

from cornu.api import errors
from cornu.api.limits import BodyLimit
from cornu.api.openapi import document_problems
from cornu.api.routes import (
    dashboard,
    datasets,
    export,
    fleet,
    health,
    jobs,
    metrics,
    models,
    stream,
    studies,
    tenants,
    uploads,
)
from cornu.core.config import Settings, get_settings
from cornu.core.datasets import max_wire_bytes
from cornu.core.queue import enqueue_training, make_celery
from cornu.core.reaper import Reaper
from cornu.core.store import Store
from cornu.core.store.feeds import Feeds
from cornu.core.store.quotas import default_quota
from cornu.core.store.reads import Reads
from cornu.core.studies import poke as poke_study

MULTIPART_OVERHEAD = 64 * 1024


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.store = Store.from_settings(settings)
        app.state.celery = make_celery(settings)
        # The API also stands for the reaper's office, so lost jobs are requeued even
        # when no worker is up to do it.
        reaper = Reaper(
            app.state.store,
            settings,
            partial(
                enqueue_training,
                app.state.celery,
                queue=settings.queue,
                priority_of=app.state.store.jobs.queue_priority,
                accelerator_of=app.state.store.jobs.accelerator,
            ),
            partial(poke_study, app.state.store, app.state.celery, settings.inference_queue),
        )
        reaper.start()
        app.state.feeds = Feeds.from_url(
            settings.redis_url, settings.redis_timeout_seconds, settings.stream_connections
        )
        reads = redis.asyncio.Redis(
            connection_pool=redis.asyncio.BlockingConnectionPool.from_url(
                settings.redis_url,
                max_connections=settings.api_connections,
                timeout=settings.redis_timeout_seconds,
                socket_connect_timeout=settings.redis_timeout_seconds,
                socket_timeout=settings.redis_timeout_seconds,
            )
        )
        app.state.reads = Reads(reads, default_quota(settings))
        yield
        reaper.stop()
        await reads.aclose(close_connection_pool=True)
        await app.state.feeds.close()
        app.state.store.close()

    app = FastAPI(
        title="Cornu",
        summary="Keras-style deep learning as a service",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served from vendored files (`routes.dashboard.docs`): works offline
        redoc_url=None,
    )
    app.state.settings = settings
    errors.install(app)
    document_problems(app)

    def body_limit(scope: Scope) -> int:
        if scope["method"] == "POST" and scope["path"].rstrip("/") == "/v1/datasets":
            return max_wire_bytes(settings.max_upload_bytes) + MULTIPART_OVERHEAD
        if scope["method"] == "PUT" and uploads.is_part_path(scope["path"]):
            return settings.upload_max_part_bytes
        return settings.max_request_bytes

    app.add_middleware(BodyLimit, limit_for=body_limit)
    routers = (health.router, datasets.router, jobs.router, stream.router, export.router)
    for router in (*routers, uploads.router, models.router, studies.router, tenants.router,
                   fleet.router, metrics.router,
                   dashboard.router):  # fmt: skip
        app.include_router(router)
    return app
