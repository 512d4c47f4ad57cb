"""Building a Sequential model: Keras's layer names, shape inference, helpful errors."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from cornu.core.engine.build import build_model
from cornu.core.errors import SpecError
from cornu.core.spec import SequentialSpec


def sequential(*layers: dict[str, Any]) -> SequentialSpec:
    return SequentialSpec.model_validate({"layers": list(layers)})


BOOK_MNIST = sequential(
    {"type": "Dense", "units": 512, "activation": "relu", "input_shape": [784]},
    {"type": "Dense", "units": 10, "activation": "softmax"},
)


def test_the_books_mnist_network() -> None:
    model = build_model(BOOK_MNIST)
    # Keras: dense (None, 512) 401,920; dense_1 (None, 10) 5,130; total 407,050.
    assert [(i.name, i.output_shape, i.params) for i in model.summary()] == [
        ("dense", (512,), 401_920),
        ("dense_1", (10,), 5_130),
    ]
    assert model.count_params() == (407_050, 407_050)
    assert list(model.keras_weights()) == [
        "dense/kernel",
        "dense/bias",
        "dense_1/kernel",
        "dense_1/bias",
    ]
    assert model.keras_weights()["dense/kernel"].shape == (784, 512)


def test_meta_build_allocates_nothing_but_knows_everything() -> None:
    model = build_model(BOOK_MNIST, device="meta")
    assert all(p.is_meta for p in model.parameters())
    assert model.count_params() == (407_050, 407_050) and model.output_shape == (10,)


def test_names_given_and_default_do_not_collide() -> None:
    model = build_model(
        sequential(
            {"type": "Dense", "units": 4, "input_shape": [3]},
            {"type": "Dense", "units": 4, "name": "dense_1"},
            {"type": "Dense", "units": 4},
            {"type": "Activation", "activation": "relu"},
        )
    )
    assert model.names == ["dense", "dense_1", "dense_2", "activation"]


def test_input_shape_can_come_from_the_data() -> None:
    model = build_model(sequential({"type": "Dense", "units": 2}), [(5,)])
    assert model.input_shape == (5,)


def test_without_input_shape_or_data_the_error_says_what_to_add() -> None:
    with pytest.raises(SpecError, match="add input_shape"):
        build_model(sequential({"type": "Dense", "units": 2}))


def test_a_later_input_shape_is_ignored_as_keras_ignores_it() -> None:
    spec = sequential(
        {"type": "Dense", "units": 64, "input_shape": [32]},
        {"type": "Flatten"},
        {"type": "Dense", "units": 10, "input_shape": [32]},
    )
    # Keras 3.15: Sequential([Dense(64, input_shape=(32,)), Flatten(),
    # Dense(10, input_shape=(32,))]).count_params() == 2762, with a UserWarning.
    assert build_model(spec).count_params()[0] == 2762
    assert spec.warnings() == [
        "layer 2 (Dense) gives an input_shape, which only the first layer of a Sequential "
        "model uses; it was ignored, as Keras ignores it"
    ]


def test_an_unknown_activation_names_the_layer() -> None:
    spec = sequential({"type": "Dense", "units": 3, "activation": "rleu", "input_shape": [2]})
    with pytest.raises(SpecError) as info:
        build_model(spec)
    assert info.value.errors[0].loc == ("model", "layers", 0)
    assert (
        "layer 0 'dense' (Dense): unknown activation 'rleu'; did you mean 'relu'?"
        in info.value.detail
    )


def test_logits_are_the_output_before_the_head_activation() -> None:
    model = build_model(BOOK_MNIST)
    x = torch.randn(4, 784)
    forward = model.run([x], logits_for=frozenset({0}))
    assert forward.logits[0] is not None
    torch.testing.assert_close(torch.softmax(forward.logits[0], -1), model(x)[0])
    assert model.output_activation(0) == "softmax"
