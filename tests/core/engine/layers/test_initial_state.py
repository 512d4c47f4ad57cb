"""Recurrent layers called with `initial_state` (Keras's seq2seq decoders:
`LSTM(…)(x, initial_state=[h, c])`), against Keras 3.15 itself: Keras's JSON of such a model
is read, runs with Keras's weights to Keras's outputs (fused kernels and the step loop,
go_backwards), and the JSON Cornu writes for it loads in Keras and agrees. Behind a
Masking layer too: Keras 3 runs a call given `initial_state` unmasked (its
`Layer.__call__` fills `mask` only for a call on one tensor), and so does Cornu."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
import torch

from cornu.core.engine.build import build_model
from cornu.core.errors import SpecError
from cornu.core.spec import FunctionalSpec
from cornu.core.spec.keras_config import from_keras
from tests.core.spec.keras_zoo import keras_or_skip

CASES = {
    "lstm": ("LSTM", {}),
    "lstm_loop": ("LSTM", {"activation": "relu"}),  # not torch's kernel: the step loop
    "lstm_backwards": ("LSTM", {"go_backwards": True}),
    "gru": ("GRU", {}),
    "gru_before": ("GRU", {"reset_after": False}),
    "simple_rnn": ("SimpleRNN", {}),
}


def _keras_decoder(keras: Any, kind: str, args: dict[str, Any], masked: bool) -> Any:
    """Encoder states → decoder started from them, as keras.io's seq2seq example."""
    keras.utils.set_random_seed(1)
    layer = getattr(keras.layers, kind)
    source = keras.Input((5, 3), name="source")
    target = keras.Input((6, 3), name="target")
    encoder = layer(4, return_state=True, name="encoder")(source)
    x = keras.layers.Masking(name="masking")(target) if masked else target
    decoded = layer(4, return_sequences=True, name="decoder", **args)(x, initial_state=encoder[1:])
    out = keras.layers.Dense(2, name="head")(decoded)
    return keras.Model([source, target], out)


@pytest.mark.parametrize("masked", [False, True], ids=["plain", "masked"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_a_decoder_started_from_states_computes_what_keras_computes(
    case: str, masked: bool
) -> None:
    keras = keras_or_skip()
    kind, args = CASES[case]
    reference = _keras_decoder(keras, kind, args, masked)
    spec = FunctionalSpec.model_validate(from_keras(json.loads(reference.to_json())))
    model = build_model(spec).eval()
    names = list(model.keras_weights())
    assert len(names) == len(reference.get_weights())
    model.load_keras_weights(dict(zip(names, reference.get_weights(), strict=True)))
    rng = np.random.default_rng(2)
    source = rng.normal(size=(4, 5, 3)).astype(np.float32)
    target = rng.normal(size=(4, 6, 3)).astype(np.float32)
    target[1, 4:] = 0.0  # padding that Masking hides
    target[2, :2] = 0.0  # and masked steps before any valid one: the start state stays
    want = np.asarray(reference.predict([source, target], verbose=0))
    got = model(torch.from_numpy(source), torch.from_numpy(target))[0].detach().numpy()
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-5)


def test_keras_loads_the_json_cornu_writes_for_a_decoder() -> None:
    spec = FunctionalSpec.model_validate(
        {
            "inputs": [{"name": "x", "shape": [6, 3]}, {"name": "h", "shape": [4]},
                       {"name": "c", "shape": [4]}],
            "layers": [{"name": "decoder", "type": "LSTM", "units": 4, "return_sequences": True,
                        "inputs": ["x", "h", "c"]}],
            "outputs": ["decoder"],
        }
    )  # fmt: skip
    keras = keras_or_skip()
    from tests.core.spec.keras_zoo import keras_json

    model = build_model(spec).eval()
    loaded = keras.models.model_from_json(json.dumps(keras_json(spec)))
    loaded.set_weights([w.detach().numpy() for w in model.keras_weights().values()])
    torch.manual_seed(0)
    inputs = [torch.randn(3, 6, 3), torch.randn(3, 4), torch.randn(3, 4)]
    want = np.asarray(loaded.predict([i.numpy() for i in inputs], verbose=0))
    np.testing.assert_allclose(model(*inputs)[0].detach().numpy(), want, atol=1e-5, rtol=1e-5)


def test_states_of_the_wrong_shape_or_number_are_refused() -> None:
    def spec(*state_shapes: list[int]) -> FunctionalSpec:
        inputs = [{"name": "x", "shape": [6, 3]}] + [
            {"name": f"s{i}", "shape": shape} for i, shape in enumerate(state_shapes)
        ]
        return FunctionalSpec.model_validate(
            {"inputs": inputs, "outputs": ["lstm"],
             "layers": [{"name": "lstm", "type": "LSTM", "units": 4,
                         "inputs": [i["name"] for i in inputs]}]}
        )  # fmt: skip

    with pytest.raises(SpecError, match=r"2 state\(s\) of shape \(batch, 4\); got"):
        build_model(spec([5], [4]))
    with pytest.raises(SpecError, match=r"2 state\(s\)"):
        build_model(spec([4]))
    with pytest.raises(SpecError, match="takes one input, got 2"):
        build_model(
            FunctionalSpec.model_validate(
                {
                    "inputs": [{"name": "a", "shape": [3]}, {"name": "b", "shape": [3]}],
                    "layers": [{"name": "d", "type": "Dense", "units": 2, "inputs": ["a", "b"]}],
                    "outputs": ["d"],
                }
            )  # fmt: skip
        )
