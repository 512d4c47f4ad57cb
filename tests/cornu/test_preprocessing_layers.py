"""The SDK's preprocessing layers: `Normalization.adapt` computes in the user's process
what Keras 3.15's `adapt` computes (`preprocessing_outputs.json`, written by
`gen_preprocessing.py`), and a model holding the adapted layer predicts on the service
what Keras predicts with the same layer and weights."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import cornu
import cornu as keras
from cornu import layers
from cornu.utils.py_dataset import PyDataset
from tests.conftest import Service

ADAPT = json.loads(
    (Path(__file__).parents[1] / "data" / "keras" / "preprocessing_outputs.json").read_text()
)["adapt"]


def _given(case: dict[str, Any]) -> Any:
    data = case["data"]
    if isinstance(data[0][0], list):  # a list of batches
        return [np.asarray(b, np.float32) for b in data]
    return np.asarray(data, np.float32)


@pytest.mark.parametrize("case_id", list(ADAPT))
def test_adapt_computes_kerass_mean_and_variance(case_id: str) -> None:
    case = ADAPT[case_id]
    layer = layers.Normalization(**case["args"])
    layer.adapt(_given(case))
    expected = case["weights"]
    np.testing.assert_allclose(layer.adapt_mean, expected["mean"], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(layer.adapt_variance, expected["variance"], rtol=1e-5, atol=1e-7)
    assert layer.adapt_mean.dtype == np.float32


def test_adapt_takes_generators_pydatasets_and_x_y_batches() -> None:
    case = ADAPT["batches"]
    batches = _given(case)

    class Batches(PyDataset):
        def __len__(self) -> int:
            return len(batches)

        def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray]:
            return batches[i], np.zeros(len(batches[i]))

    for data in (iter(batches), ((b, None) for b in batches), Batches()):
        layer = layers.Normalization()
        layer.adapt(data)
        np.testing.assert_allclose(layer.adapt_mean, case["weights"]["mean"], rtol=1e-6)


@pytest.mark.parametrize(
    ("args", "data", "error", "message"),
    [
        ({"mean": 1.0, "variance": 2.0}, np.ones((4, 2)), ValueError, "was given its mean"),
        ({"axis": 3}, np.ones((4, 2)), ValueError, "range \\[-ndim, ndim\\)"),
        ({}, [], ValueError, "empty iterable"),
        ({}, [np.ones((4, 2)), np.ones((4, 3))], ValueError, "incompatible shape"),
        ({}, 3.0, TypeError, "array or an iterable"),
    ],
)
def test_adapt_refuses_what_keras_refuses(
    args: dict[str, Any], data: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        layers.Normalization(**args).adapt(data)


def test_the_sdk_class_is_kerass_normalization_with_positional_arguments() -> None:
    layer = layers.Normalization(None, None, None, True)
    assert layer.get_config()["invert"] is True and layer.get_config()["axis"] is None


# -- on the service ------------------------------------------------------------------------


@pytest.fixture
def connected(api_url: str, new_api_key: Callable[[], str]) -> Iterator[cornu.Client]:
    client = cornu.connect(api_url, new_api_key())
    yield client
    client.close()


@pytest.fixture(scope="module")
def real_keras() -> Any:
    os.environ["KERAS_BACKEND"] = "torch"
    import keras as real

    return real


def _adapted_models(real_keras: Any) -> tuple[keras.Sequential, Any, np.ndarray]:
    """The same adapted Normalization and Dense in Cornu and in Keras, and the data."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(64, 4)) * [1.0, 5.0, 0.1, 3.0] + [0.0, 10.0, -2.0, 1.0]
    x = x.astype(np.float32)
    norm = layers.Normalization()
    norm.adapt(x)
    model = keras.Sequential([keras.Input(shape=(4,)), norm, layers.Dense(2)])
    theirs_norm = real_keras.layers.Normalization()
    theirs_norm.adapt(x)
    theirs = real_keras.Sequential(
        [real_keras.Input(shape=(4,)), theirs_norm, real_keras.layers.Dense(2)]
    )
    kernel = rng.normal(size=(4, 2)).astype(np.float32)
    model.layers[-1].set_weights([kernel, np.zeros(2, np.float32)])
    theirs.layers[-1].set_weights([kernel, np.zeros(2, np.float32)])
    return model, theirs, x


def test_an_adapted_normalization_has_kerass_weights_in_a_model(
    connected: cornu.Client, worker: Service, real_keras: Any
) -> None:
    model, theirs, _ = _adapted_models(real_keras)
    ours = model.layers[0].weights
    assert [(w.name, w.shape, w.trainable) for w in ours] == [
        (w.name, tuple(w.shape), w.trainable) for w in theirs.layers[0].weights
    ]
    for mine, keras_weight in zip(ours, theirs.layers[0].weights, strict=True):
        np.testing.assert_allclose(mine.numpy(), keras_weight.numpy(), rtol=1e-6)


def test_an_adapted_normalization_predicts_on_the_service_what_keras_predicts(
    connected: cornu.Client, worker: Service, real_keras: Any
) -> None:
    model, theirs, x = _adapted_models(real_keras)
    np.testing.assert_allclose(
        model.predict(x[:8], verbose=0), theirs.predict(x[:8], verbose=0), rtol=1e-5, atol=1e-5
    )
