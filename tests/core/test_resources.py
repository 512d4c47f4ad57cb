"""What a job's `resources` may ask for, checked at submit (`core.submission.check_resources`)."""

from __future__ import annotations

from typing import Any

import pytest

from cornu.core.config import Settings
from cornu.core.errors import SpecError
from cornu.core.spec import JobSpec
from cornu.core.store import Store
from cornu.core.submission import check_resources


def spec(layers: list[dict[str, Any]], batch_size: int = 32, devices: int = 2) -> JobSpec:
    return JobSpec.model_validate({
        "resources": {"devices": devices},
        "model": {"layers": layers},
        "compile": {"loss": "mse"},
        "fit": {"batch_size": batch_size},
        "data": {"x": "x", "y": "y"},
    })  # fmt: skip


DENSE = [{"type": "Dense", "units": 1, "input_shape": [4]}]


def test_a_data_parallel_batch_must_cover_every_device(store: Store) -> None:
    with pytest.raises(SpecError, match="batch_size 1 is smaller than devices 2"):
        check_resources(spec(DENSE, batch_size=1), store, Settings())
    check_resources(spec(DENSE, batch_size=2), store, Settings())  # no fleet yet: it waits


def test_stateful_layers_train_on_one_device(store: Store) -> None:
    stateful = [{"type": "LSTM", "units": 4, "stateful": True, "batch_input_shape": [32, 5, 3]},
                {"type": "Dense", "units": 1}]  # fmt: skip
    with pytest.raises(SpecError, match="stateful"):
        check_resources(spec(stateful), store, Settings())
    check_resources(spec(stateful, devices=1), store, Settings())
