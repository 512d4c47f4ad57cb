"""Masking against real Keras: the mask it computes (a step is kept when any feature
differs from `mask_value`), its zeroed outputs, and whole models from Keras's JSON with
Keras's weights in which the mask reaches LSTM, GRU, SimpleRNN and pooling over time;
Keras loads the JSON Cornu writes for such a model."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from cornu.core.engine import train_job
from cornu.core.engine.build import build_model
from cornu.core.engine.layers import LAYERS, ShapeError
from cornu.core.spec import JobSpec, SequentialSpec
from cornu.core.spec.layers import parse_layer
from tests.core.engine.layers.more_reference import MODELS, cases_of, check_outputs, keras_model
from tests.core.spec.keras_zoo import keras_json, keras_or_skip

MODEL_CASES = [k for k in MODELS if k.startswith("masking_")]


@pytest.mark.parametrize("case_id", cases_of("Masking"))
def test_masking_output_and_mask_equal_keras(case_id: str) -> None:
    check_outputs(case_id)


@pytest.mark.parametrize("case_id", MODEL_CASES)
def test_models_with_masking_compute_what_keras_computes(case_id: str) -> None:
    """Sequentials from Keras's `to_json()`: Masking → LSTM; → LSTM(return_sequences) →
    GlobalAveragePooling1D; → GRU → SimpleRNN with front padding; Masking(-1) → Dense →
    GlobalMaxPooling1D (which drops the mask, as in Keras)."""
    case = MODELS[case_id]
    model = keras_model(case_id)
    x = torch.tensor(case["inputs"][0])
    for out, want in zip(model(x), case["outputs"], strict=True):
        torch.testing.assert_close(out, torch.tensor(want), atol=1e-5, rtol=1e-5)


def test_without_masking_the_padded_steps_would_change_the_result() -> None:
    """The reference inputs are padded: had the mask been lost, the LSTM would differ."""
    case = MODELS["masking_lstm"]
    model = keras_model("masking_lstm")
    lstm = model.stack[1]
    x = torch.tensor(case["inputs"][0])
    unmasked = lstm(x)
    assert not torch.allclose(unmasked, torch.tensor(case["outputs"][0]), atol=1e-3)


def test_a_sequence_output_keeps_the_mask_on_the_models_output() -> None:
    model = keras_model("masking_lstm_sequences")
    x = torch.tensor(MODELS["masking_lstm_sequences"]["inputs"][0])
    (mask,) = model.run([x]).masks
    assert mask is not None
    assert mask.tolist() == (x != 0).any(-1).tolist()


def test_masking_replaces_an_incoming_mask() -> None:
    layer = LAYERS["Masking"](parse_layer({"type": "Masking"}), (3, 2))
    x = torch.tensor([[[1.0, 0.0], [0.0, 0.0], [0.0, 2.0]]])
    incoming = torch.tensor([[False, True, True]])
    assert layer.compute_mask(x, incoming).tolist() == [[True, False, True]]


def test_masking_keeps_masked_steps_finite_and_zero() -> None:
    """Keras uses `where`, not a product: a masked step is 0 even next to inf/NaN math."""
    layer = LAYERS["Masking"](parse_layer({"type": "Masking", "mask_value": 5.0}), (2, 2))
    x = torch.tensor([[[5.0, 5.0], [float("inf"), 5.0]]])
    assert layer(x).tolist() == [[[0.0, 0.0], [float("inf"), 5.0]]]


def test_masking_needs_a_features_axis() -> None:
    with pytest.raises(ShapeError, match="features axis"):
        LAYERS["Masking"](parse_layer({"type": "Masking"}), ())


def test_keras_loads_the_json_cornu_writes_and_computes_the_same() -> None:
    """Cornu's JSON for a Masking → LSTM Sequential loads in Keras 3 with Cornu's weights
    and gives Cornu's outputs."""
    keras = keras_or_skip()
    spec = SequentialSpec.model_validate(
        {
            "layers": [
                {"type": "Input", "shape": [6, 3]},
                {"type": "Masking", "mask_value": 0.0},
                {"type": "LSTM", "units": 4},
            ]
        }
    )
    model = build_model(spec).eval()
    loaded = keras.models.model_from_json(json.dumps(keras_json(spec)))
    loaded.set_weights([w.detach().numpy() for w in model.keras_weights().values()])
    x = torch.tensor(MODELS["masking_lstm"]["inputs"][0])
    want = loaded(x.numpy()).detach()  # a torch tensor: Keras runs on torch
    torch.testing.assert_close(model(x)[0].detach(), want, atol=1e-5, rtol=1e-5)


def test_trailing_padding_changes_nothing_after_masking() -> None:
    """What a mask is for: padding a sequence with zero steps leaves the LSTM's output and
    the pooled average over time as they were."""
    torch.manual_seed(0)
    spec = SequentialSpec.model_validate(
        {
            "layers": [
                {"type": "Input", "shape": [None, 3]},
                {"type": "Masking"},
                {"type": "LSTM", "units": 4, "return_sequences": True},
                {"type": "GlobalAveragePooling1D"},
            ]
        }
    )
    model = build_model(spec, [(4, 3)]).eval()
    x = torch.randn(2, 4, 3)
    padded = torch.cat([x, torch.zeros(2, 3, 3)], dim=1)
    torch.testing.assert_close(model(padded)[0], model(x)[0])


def test_a_masked_model_trains() -> None:
    """Masking → LSTM → Dense learns which of two patterns a padded sequence holds."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 256)
    x = rng.normal(size=(256, 8, 2)).astype(np.float32) * 0.3
    x[:, :, 0] += np.where(y == 1, 1.0, -1.0)[:, None]
    for i, n in enumerate(rng.integers(3, 9, 256)):
        x[i, n:] = 0.0  # padding of random length
    spec = JobSpec.model_validate(
        {
            "model": {
                "layers": [
                    {"type": "Masking"},
                    {"type": "LSTM", "units": 8},
                    {"type": "Dense", "units": 1, "activation": "sigmoid"},
                ]
            },
            "compile": {
                "optimizer": "adam",
                "loss": "binary_crossentropy",
                "metrics": ["accuracy"],
            },
            "fit": {"epochs": 5, "batch_size": 32, "seed": 0},
            "data": {"x": "x", "y": "y"},
        }
    )
    history = train_job(spec, {"x": x, "y": y.astype(np.float32)}).history.history
    assert history["loss"][-1] < history["loss"][0]
    assert history["accuracy"][-1] > 0.9
