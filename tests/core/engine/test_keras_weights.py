"""`Model.load_keras_weights`, the inverse of `keras_weights()`: weights in Keras's layouts
go back into the engine's, for every layer, and Keras 3.15's own weights make the engine
compute what Keras computes."""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np
import pytest
import torch

from cornu.core.engine.build import build_model
from cornu.core.engine.model import Model, keras_slots
from cornu.core.errors import SpecError
from cornu.core.spec.keras_config import model_spec, to_keras
from cornu.core.spec.keras_files import weight_names
from tests.core.spec.keras_zoo import ZOO, keras_or_skip, shapes_of, spec_of

os.environ["KERAS_BACKEND"] = "torch"  # Keras reads it once, at its first import


def trained_looking(model: Model, seed: int = 0) -> dict[str, np.ndarray]:
    """Random weights of the model's Keras shapes, as training would leave them: no zero
    biases, moving statistics and variances away from 0 and 1, whole counts."""
    rng = np.random.default_rng(seed)
    weights = {}
    for name, tensor in model.keras_weights().items():
        value = rng.normal(0.0, 0.4, tuple(tensor.shape)).astype(np.float32)
        if name.endswith(("moving_variance", "/variance")):
            value = np.abs(value) + 0.5
        if not tensor.dtype.is_floating_point:  # a Normalization's sample count
            value = rng.integers(1, 100, tuple(tensor.shape)).astype(np.int32)
        weights[name] = value
    return weights


def sample_inputs(model: Model, batch: int = 4, seed: int = 1) -> list[np.ndarray]:
    """Inputs for the model: ids (with trailing padding zeros) where it embeds, else floats."""
    rng = np.random.default_rng(seed)
    inputs = []
    for shape, dtype in zip(model.input_shapes, model.input_dtypes, strict=True):
        if dtype == torch.long:
            ids = rng.integers(1, 5, (batch, *shape)).astype(np.float32)
            ids[:, -2:] = 0  # masked steps where the embedding has mask_zero
            ids[0, :] = 0  # and one sequence masked throughout
            inputs.append(ids)
        else:
            inputs.append(rng.normal(size=(batch, *shape)).astype(np.float32))
    return inputs


def predict(model: Model, inputs: list[np.ndarray]) -> list[np.ndarray]:
    model.eval()
    with torch.no_grad():
        tensors = [
            torch.as_tensor(x).to(d) for x, d in zip(inputs, model.input_dtypes, strict=True)
        ]
        return [y.numpy() for y in model(*tensors)]


@pytest.mark.parametrize("name", sorted(ZOO))
def test_loading_keras_weights_inverts_keras_weights(name: str) -> None:
    spec = spec_of(name)
    torch.manual_seed(0)
    source = build_model(spec)
    weights = trained_looking(source)
    source.load_keras_weights(weights)
    assert list(source.keras_weights()) == list(weights) == weight_names(spec)
    for key, value in source.keras_weights().items():  # what was loaded reads back exactly
        np.testing.assert_array_equal(value.detach().numpy(), weights[key])
    torch.manual_seed(1)
    copy = build_model(spec)
    copy.load_keras_weights({k: v.detach().clone() for k, v in source.keras_weights().items()})
    inputs = sample_inputs(source)
    for ours, theirs in zip(predict(source, inputs), predict(copy, inputs), strict=True):
        np.testing.assert_array_equal(ours, theirs)


def test_a_gru_kernel_goes_back_into_torchs_layout_and_gate_order() -> None:
    model = build_model(spec_of("bidirectional"))
    weights = trained_looking(model)
    model.load_keras_weights(weights)  # numpy arrays, as a file gives them
    gru = model.stack[1].backward_layer  # type: ignore[attr-defined]
    z, r, h = np.split(weights["bidirectional_1/backward_gru/kernel"], 3, axis=1)  # Keras's
    np.testing.assert_array_equal(gru.weight_ih.detach().numpy(), np.concatenate([r, z, h], 1).T)


def test_a_weight_of_another_shape_missing_or_extra_is_named() -> None:
    model = build_model(model_spec(ZOO["convnet"]))
    weights = trained_looking(model)
    weights["conv2d/kernel"] = np.zeros((3, 3, 3, 7), np.float32)
    del weights["batch_normalization/moving_mean"]
    weights["dense/gamma"] = np.zeros(3, np.float32)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(SpecError) as raised:
        model.load_keras_weights(weights)
    messages = [e.msg for e in raised.value.errors]
    assert messages == [
        "layer 'conv2d' (Conv2D): kernel is (3, 3, 3, 8) in this model but (3, 3, 3, 7) "
        "in the weights",
        "layer 'batch_normalization' (BatchNormalization): moving_mean (8,) is missing",
        "'dense/gamma' (3,) is not a weight of this model",
    ]
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # unchanged


@pytest.mark.parametrize("name", sorted(ZOO))
def test_every_keras_layout_is_a_rearrangement(name: str) -> None:
    """What load_keras_weight relies on: each element of a stored weight appears once in
    its Keras layout."""
    model = build_model(spec_of(name))
    for layer in model.stack:
        for _, (holder, weight) in keras_slots(layer).items():
            index = holder.keras_index(weight).flatten()
            size = getattr(holder, weight.attr).numel()
            assert torch.equal(index.sort().values, torch.arange(size)), weight.name


# -- against Keras 3.15 -----------------------------------------------------------------------


def keras_model(spec: Any) -> Any:
    keras = keras_or_skip()
    return keras.models.model_from_json(json.dumps(to_keras(spec, shapes_of(spec))))


def keras_predict(model: Any, inputs: list[np.ndarray]) -> list[np.ndarray]:
    out = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
    return [np.asarray(y) for y in (out if isinstance(out, list | tuple) else [out])]


@pytest.mark.parametrize("name", sorted(ZOO))
@pytest.mark.parametrize("weights", ["keras_init", "trained_looking"])
def test_keras_weights_make_the_engine_compute_what_keras_computes(name: str, weights: str) -> None:
    """Keras builds the model and initialises it (or is given random weights); its
    `get_weights()`, copied by name, make the engine predict what Keras predicts."""
    keras = keras_or_skip()
    spec = spec_of(name)
    keras.utils.set_random_seed(0)
    theirs = keras_model(spec)
    ours = build_model(spec)
    if weights == "trained_looking":
        theirs.set_weights(list(trained_looking(ours, seed=2).values()))
    ours.load_keras_weights(dict(zip(ours.keras_weights(), theirs.get_weights(), strict=True)))
    inputs = sample_inputs(ours)
    for expected, got in zip(keras_predict(theirs, inputs), predict(ours, inputs), strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
