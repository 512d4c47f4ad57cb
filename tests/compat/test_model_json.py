"""The published Keras model JSON corpus (`model_json/`, its origins in `index.json`): every
model Keras can train gives Keras's own summary from `POST /v1/models/summary` (reference
numbers from Keras 3.15, tf.keras 2 where Keras 3 cannot load a file, or a hand count, as
`index.json` records) and trains for one epoch on random data of its shapes (a
`stateful=True` RNN's in batches of its model's fixed size); those that need the author's
own code are refused with the reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import torch

from cornu.core.engine import train_job
from cornu.core.engine.build import build_model
from cornu.core.errors import SpecError
from cornu.core.spec import JobSpec

CORPUS = Path(__file__).parent / "model_json"
INDEX = {entry["file"]: entry for entry in json.loads((CORPUS / "index.json").read_text())}
OK = sorted(name for name, entry in INDEX.items() if entry["expect"] == "ok")
REFUSED = sorted(name for name, entry in INDEX.items() if entry["expect"] == "refused")
VARIABLE_SIZE = 7  # the length given to a dimension of unknown size (None)
SAMPLES = 4  # one batch: an epoch of real training steps, as short as it can be


def model_json(name: str) -> str:
    return (CORPUS / name).read_text()


def test_the_corpus_spans_keras_generations_and_forms() -> None:
    generations = {name.split("_", 1)[0] for name in OK}
    assert generations == {"k2legacy", "tfk2", "k3"}
    assert len(INDEX) >= 40
    features = {f for entry in INDEX.values() for f in entry["features"]}
    assert {
        "bidirectional",
        "time_distributed",
        "variable_dims",
        "list_form_sequential",
    } <= features
    assert {entry["form"] for entry in INDEX.values()} == {"sequential", "functional"}


def _rows(summary: dict[str, Any]) -> list[list[Any]]:
    return [
        [row["name"], row["type"], row["output_shape"], row["params"]]
        for row in summary["layers"]
        if row["type"] != "InputLayer"
    ]


@pytest.mark.parametrize("name", OK)
def test_the_summary_is_keras_own(http: httpx.Client, name: str) -> None:
    response = http.post("/v1/models/summary", json={"model": model_json(name)})
    assert response.status_code == 200, response.text
    summary, reference = response.json(), INDEX[name]["reference"]
    for key in ("total_params", "trainable_params", "non_trainable_params"):
        assert summary[key] == reference[key], key
    want = [row for row in reference["layers"] if row[1] != "InputLayer"]
    assert _rows(summary) == want


def _variable_size(spec: JobSpec) -> int:
    """VARIABLE_SIZE, or where a dimension of unknown size must equal a known one (an
    Embedding of ids `(None,)` concatenated with `(10, …)`), a size the model declares."""
    declared = build_model(spec.model, device="meta").declared_shapes
    sizes = [VARIABLE_SIZE, *sorted({d for shape in declared for d in shape if d is not None})]
    for size in sizes:
        try:
            build_model(spec.model, device="meta", unknown=size)
        except SpecError:
            continue
        return size
    raise AssertionError(f"no size fits the model's unknown dimensions (tried {sizes})")


def _data(spec: JobSpec, samples: int = SAMPLES) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Random inputs and targets of the model's shapes (None dims: VARIABLE_SIZE), as a
    JobSpec's data section and its arrays."""
    model = build_model(spec.model, unknown=_variable_size(spec))
    rng = np.random.default_rng(0)
    x = {
        name: (
            rng.integers(0, 2, (samples, *shape))
            if not dtype.is_floating_point
            else rng.normal(size=(samples, *shape)).astype(np.float32)
        )
        for name, shape, dtype in zip(
            model.input_names, model.input_shapes, model.input_dtypes, strict=True
        )
    }
    with torch.no_grad():
        outputs = model.eval()(*(torch.from_numpy(a[:2]) for a in x.values()))
    y = {
        name: rng.uniform(size=(samples, *out.shape[1:])).astype(np.float32)
        for name, out in zip(model.output_names, outputs, strict=True)
    }
    arrays = {f"x_{n}": a for n, a in x.items()} | {f"y_{n}": a for n, a in y.items()}
    data = {"x": {n: f"x_{n}" for n in x}, "y": {n: f"y_{n}" for n in y}}
    return data, arrays


@pytest.mark.parametrize("name", OK)
def test_it_trains_for_one_epoch_on_data_of_its_shapes(name: str) -> None:
    spec = JobSpec.model_validate(
        {
            "model": model_json(name),
            "compile": {"optimizer": "adam", "loss": "mse"},
            "fit": {"epochs": 1, "batch_size": 4, "seed": 0},
            "data": {"x": "x", "y": "y"},
        }
    )
    samples, fit = SAMPLES, spec.fit
    if '"stateful": true' in model_json(name):  # batches of the model's fixed size, all full
        (batch,) = spec.model.batch_sizes
        assert batch is not None
        samples, fit = -(-SAMPLES // batch) * batch, fit.model_copy(update={"batch_size": batch})
    data, arrays = _data(spec, samples)
    spec = JobSpec.model_validate({**spec.model_dump(), "fit": fit.model_dump(), "data": data})
    result = train_job(spec, arrays)
    assert len(result.history.history["loss"]) == 1
    assert np.isfinite(result.history.history["loss"][0])


@pytest.mark.parametrize("name", REFUSED)
def test_a_model_that_needs_its_authors_code_is_refused_with_the_reason(
    http: httpx.Client, name: str
) -> None:
    response = http.post("/v1/models/summary", json={"model": model_json(name)})
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert "Lambda" in detail or "does not support" in detail or "custom" in detail, detail
