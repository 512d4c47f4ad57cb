"""ReversibleEmbedding and SpectralNormalization against Keras 3.15's own numbers
(tests/data/keras/gen_reversible_spectral.py): Keras's JSON of a tied-embedding language
model (one embedding called forwards and with `reverse=True`) is read, runs with Keras's
weights to Keras's outputs, trains a step at a time as Keras does (the spectral
normalization assigns the kernel and `vector_u` in training calls, not at inference), and
fits to Keras's losses; the SDK records `emb(h, reverse=True)`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from cornu.core.engine import train_job
from cornu.core.engine.build import build_model
from cornu.core.engine.layers import LAYERS
from cornu.core.errors import SpecError
from cornu.core.spec import FunctionalSpec, JobSpec
from cornu.core.spec.keras_config import from_keras, to_keras
from cornu.core.spec.layers import parse_layer
from tests.core.spec.keras_zoo import same_json, shapes_of

REFERENCE = json.loads(
    (Path(__file__).parents[3] / "data" / "keras" / "reversible_spectral_outputs.json").read_text()
)
MODELS = REFERENCE["models"]
TOL = {"rtol": 1e-5, "atol": 1e-5}


def _model(name: str) -> tuple[FunctionalSpec, torch.nn.Module]:
    case = MODELS[name]
    spec = FunctionalSpec.model_validate(from_keras(case["json"]))
    model = build_model(spec)
    assert list(model.keras_weights()) == list(case["weights"])  # get_weights() order
    model.load_keras_weights(case["weights"])
    return spec, model


def _inputs(case: dict[str, Any]) -> list[torch.Tensor]:
    return [torch.tensor(np.array(x)) for x in case["inputs"]]


def _assert_weights(model: Any, expected: dict[str, Any]) -> None:
    got = model.keras_weights()
    for key, value in expected.items():
        np.testing.assert_allclose(got[key].detach().numpy(), value, err_msg=key, **TOL)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_keras_json_is_read_and_predicts_what_keras_predicts(name: str) -> None:
    spec, model = _model(name)
    with torch.no_grad():
        outputs = model.eval()(*_inputs(MODELS[name]))
    for got, expected in zip(outputs, MODELS[name]["outputs"], strict=True):
        np.testing.assert_allclose(got.numpy(), expected, **TOL)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_the_json_written_back_is_keras_own(name: str) -> None:
    """`reverse: true` on the node is written back as Keras writes it (`kwargs`)."""
    spec, _ = _model(name)
    assert same_json(to_keras(spec, shapes_of(spec)), MODELS[name]["json"])


def test_training_calls_normalize_the_kernel_and_inference_does_not() -> None:
    case = MODELS["tied_lm"]
    _, model = _model("tied_lm")
    (ids,) = _inputs(case)
    model.train()
    for step in case["train_steps"]:
        with torch.no_grad():
            (out,) = model(ids)
        np.testing.assert_allclose(out.numpy(), step["output"], **TOL)
        _assert_weights(model, step["weights"])
    before = {k: v.clone() for k, v in model.keras_weights().items()}
    with torch.no_grad():
        (out,) = model.eval()(ids)
    np.testing.assert_allclose(out.numpy(), case["after_training_predict"], **TOL)
    assert all(torch.equal(before[k], v) for k, v in model.keras_weights().items())


def test_fit_trains_through_both_as_keras_does() -> None:
    """SGD through the reverse call and the normalized kernel: Keras's epoch losses and
    its weights after (gradients reach the kernel the layer used, not the normalization)."""
    case = MODELS["tied_lm"]
    arrays = {
        "x": np.array(case["inputs"][0], np.int32),
        "y": np.array(case["fit"]["targets"], np.int32),
    }
    spec = JobSpec.model_validate(
        {
            "model": from_keras(case["json"]),
            "compile": {
                "optimizer": {"type": "SGD", "learning_rate": 0.1},
                "loss": {"type": "SparseCategoricalCrossentropy", "from_logits": True},
            },
            "fit": {"batch_size": 4, "epochs": 3, "shuffle": False, "seed": 0},
            "data": {"x": "x", "y": "y"},
        }
    )
    weights = {k: torch.tensor(v) for k, v in case["weights"].items()}
    result = train_job(spec, arrays, initial_weights=("keras", weights))
    losses = result.history.history["loss"]
    np.testing.assert_allclose(losses, case["fit"]["loss"], rtol=1e-5)
    assert losses[-1] < losses[0]
    _assert_weights(result.model, case["fit"]["weights"])


@pytest.mark.parametrize("name", sorted(REFERENCE["spectral"]))
def test_spectral_normalization_steps_as_keras(name: str) -> None:
    case = REFERENCE["spectral"][name]
    inner = {"type": case["layer"]["class_name"], **case["layer"]["config"]}
    for key in ("dtype", "quantization_config", "build_config"):
        inner.pop(key, None)
    s = parse_layer(
        {
            "type": "SpectralNormalization",
            "layer": inner,
            "power_iterations": case["power_iterations"],
        }
    )
    x = torch.tensor(np.array(case["input"], np.float32))
    layer = LAYERS[s.type](s, tuple(x.shape[1:]))
    slots = {w.name: (layer, w) for w in layer.weights_info}
    slots |= {f"inner/{w.name}": (layer.layer, w) for w in layer.layer.weights_info}
    for path, value in case["weights"].items():
        owner, weight = slots[path.removeprefix("sn/")]
        owner.load_keras_weight(weight, torch.tensor(value))
    layer.train()
    for step in case["steps"]:
        with torch.no_grad():
            out = layer(x)
        np.testing.assert_allclose(out.numpy(), step["output"], **TOL)
        got = {k: v.detach().numpy() for k, v in layer.keras_weights().items()}
        np.testing.assert_allclose(got[f"inner/{s.kernel_name}"], step["kernel"], **TOL)
        np.testing.assert_allclose(got["vector_u"], step["vector_u"], **TOL)
    layer.eval()
    kernel = layer.keras_weights()[f"inner/{s.kernel_name}"].clone()
    with torch.no_grad():
        np.testing.assert_allclose(layer(x).numpy(), case["inference"], **TOL)
    assert torch.equal(layer.keras_weights()[f"inner/{s.kernel_name}"], kernel)


def test_an_all_zero_kernel_is_left_as_it_is() -> None:
    s = parse_layer({"type": "SpectralNormalization", "layer": {"type": "Dense", "units": 2}})
    layer = LAYERS[s.type](s, (3,))
    with torch.no_grad():
        layer.layer.kernel.zero_()
    u = layer.vector_u.clone()
    layer.train()(torch.ones(2, 3))
    assert torch.equal(layer.vector_u, u) and not layer.layer.kernel.any()


def _lm(**reverse_args: Any) -> dict[str, Any]:
    return {
        "type": "functional",
        "inputs": [{"name": "ids", "shape": [5]}],
        "layers": [
            {
                "name": "emb",
                "inputs": ["ids"],
                "type": "ReversibleEmbedding",
                "input_dim": 9,
                "output_dim": 4,
                **reverse_args,
            },
            {"name": "logits", "call": "emb", "inputs": ["emb"], "reverse": True},
        ],
        "outputs": ["logits"],
    }


def test_shapes_both_ways_and_the_reverse_dtype() -> None:
    model = build_model(FunctionalSpec.model_validate(_lm(reverse_dtype="bfloat16")))
    assert model.output_shapes == [(5, 9)]
    assert [row.output_shape for row in model.summary()][1] == (5, 4)
    ids = torch.randint(0, 9, (2, 5))
    (logits,) = model(ids)
    emb = model.stack[0].embeddings.detach()
    expected = (emb[ids].bfloat16() @ emb.t().bfloat16()).float()
    assert logits.dtype == torch.float32 and torch.equal(logits, expected)


def test_reverse_refused_on_other_layers_and_on_the_wrong_width() -> None:
    bad = _lm()
    bad["layers"][0]["type"] = "Embedding"
    with pytest.raises(ValueError, match="only a ReversibleEmbedding takes"):
        FunctionalSpec.model_validate(bad)
    wrong = _lm()
    wrong["layers"][1]["inputs"] = ["ids"]  # (5,) ids, not (…, 4) hidden states
    with pytest.raises(SpecError, match=r"reverse=true.*\(…, 4\)"):
        build_model(FunctionalSpec.model_validate(wrong))
    with pytest.raises(ValueError, match="wraps a layer with a kernel or embeddings"):
        parse_layer({"type": "SpectralNormalization", "layer": {"type": "LSTM", "units": 2}})
    with pytest.raises(ValueError, match="greater than 0"):
        parse_layer(
            {"type": "SpectralNormalization", "layer": {"type": "Dense", "units": 2},
             "power_iterations": 0}
        )  # fmt: skip


def test_the_sdk_records_a_reverse_call_of_a_shared_embedding() -> None:
    from cornu import layers
    from cornu.graph import functional_spec

    ids = layers.Input(shape=(5,), name="ids")
    emb = layers.ReversibleEmbedding(9, 4, name="emb")
    hidden = layers.SpectralNormalization(layers.Dense(4), name="sn")(emb(ids))
    logits = emb(hidden, reverse=True)
    assert emb(layers.Input(shape=(3, 4)), reverse=True).shape == (None, 3, 9)  # no service
    spec = functional_spec([ids], [logits], "lm")
    assert spec["layers"][-1] == {
        "name": "emb_call",
        "call": "emb",
        "reverse": True,
        "inputs": ["sn"],
    }
    model = build_model(FunctionalSpec.model_validate(spec))
    assert model.output_shapes == [(5, 9)]
    assert list(model.keras_weights()) == [
        "emb/embeddings",
        "sn/dense/kernel",
        "sn/vector_u",
        "sn/dense/bias",
    ]
