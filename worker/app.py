"""The worker's Celery app: `celery -A worker.app worker -P solo -c 1` (or `cornu worker`)."""

from __future__ import annotations

from core.config import get_settings
from core.queue import make_celery

app = make_celery(get_settings())
app.conf.include = ["worker.tasks"]
