"""KerasTuner's API, with trials trained on the service: `import cornu.tuner as keras_tuner`.

`build_model(hp)` runs here (it only builds a model); the search — Optuna's samplers and
pruners — runs on the service as a study whose trials are jobs, in parallel on its
workers, and goes on without this process (`attach(study_id)` follows it again).
"""

from cornu.tuner.hyperparameters import HyperParameters, Objective
from cornu.tuner.tuners import (
    BayesianOptimization,
    GridSearch,
    Hyperband,
    HyperModel,
    Oracle,
    RandomSearch,
    Trial,
    Tuner,
    attach,
)

__all__ = [
    "BayesianOptimization",
    "GridSearch",
    "HyperModel",
    "HyperParameters",
    "Hyperband",
    "Objective",
    "Oracle",
    "RandomSearch",
    "Trial",
    "Tuner",
    "attach",
]
