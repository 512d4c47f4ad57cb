"""The torch-backed compile/fit engine with Keras semantics.

Knows nothing of HTTP, Celery or Redis: it takes specs and arrays, reports through
callbacks, and returns a trained model.
"""

from __future__ import annotations

from cornu.core.engine.build import build_model
from cornu.core.engine.callbacks import Callback, History, Interrupted
from cornu.core.engine.fit import TrainResult, dump_state, load_state, train_job
from cornu.core.engine.model import LayerInfo, Model
from cornu.core.engine.plan import Plan, plan_job
from cornu.core.engine.trainer import Trainer

__all__ = [
    "Callback",
    "History",
    "Interrupted",
    "LayerInfo",
    "Model",
    "Plan",
    "TrainResult",
    "Trainer",
    "build_model",
    "dump_state",
    "load_state",
    "plan_job",
    "train_job",
]
