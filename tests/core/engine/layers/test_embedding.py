"""Embedding: Keras's shapes, parameter counts, initial range and mask; integer inputs."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from cornu.core.engine.layers import LAYERS
from cornu.core.spec.layers import parse_layer
from cornu.core.spec.layers.embedding import Embedding


@pytest.mark.parametrize(
    ("args", "input_shape", "output_shape", "params"),
    [
        # keras.layers.Embedding(...) on keras.Input(input_shape): output shape, count_params()
        ({"input_dim": 10000, "output_dim": 32}, (200,), (200, 32), 320_000),
        ({"input_dim": 1000, "output_dim": 64, "mask_zero": True}, (10,), (10, 64), 64_000),
        ({"input_dim": 50, "output_dim": 8}, (4, 6), (4, 6, 8), 400),
    ],
)
def test_shapes_and_parameter_counts_match_keras(
    args: dict[str, object],
    input_shape: tuple[int, ...],
    output_shape: tuple[int, ...],
    params: int,
) -> None:
    layer = LAYERS["Embedding"](Embedding.model_validate(args), input_shape)
    assert layer.output_shape == output_shape
    assert layer.count_params() == (params, params)
    assert {k: tuple(v.shape) for k, v in layer.keras_weights().items()} == {
        "embeddings": (args["input_dim"], args["output_dim"])
    }
    ids = torch.randint(0, 8, (2, *input_shape))
    assert tuple(layer(ids).shape) == (2, *output_shape)


def test_looks_up_rows_and_casts_float_ids() -> None:
    layer = LAYERS["Embedding"](Embedding(input_dim=7, output_dim=3), (4,))
    ids = torch.tensor([[1, 6, 0, 2]])
    expected = F.embedding(ids, layer.embeddings)
    torch.testing.assert_close(layer(ids), expected)
    torch.testing.assert_close(layer(ids.float()), expected)  # a previous layer's floats


def test_the_model_feeds_it_integer_ids() -> None:
    assert LAYERS["Embedding"].input_dtype == torch.long


def test_mask_zero_masks_padding_and_no_mask_otherwise() -> None:
    ids = torch.tensor([[0, 3, 0, 5]])
    masked = LAYERS["Embedding"](Embedding(input_dim=9, output_dim=2, mask_zero=True), (4,))
    plain = LAYERS["Embedding"](Embedding(input_dim=9, output_dim=2), (4,))
    assert masked.compute_mask(ids, None).tolist() == [[False, True, False, True]]
    assert plain.compute_mask(ids, torch.ones(1, 4, dtype=torch.bool)) is None


def test_initialises_uniformly_in_keras_range() -> None:
    torch.manual_seed(0)
    table = LAYERS["Embedding"](Embedding(input_dim=2000, output_dim=50), (5,)).embeddings
    assert table.abs().max().item() <= 0.05
    assert table.abs().max().item() > 0.049  # uniform(-0.05, 0.05), not a narrower one
    assert abs(table.std().item() - 0.05 / 3**0.5) < 1e-3


def test_accepts_keras_forms_of_the_arguments() -> None:
    keras3 = parse_layer(
        {
            "class_name": "Embedding",
            "config": {
                "input_dim": 100,
                "output_dim": 8,
                "embeddings_initializer": {
                    "module": "keras.initializers",
                    "class_name": "RandomUniform",
                    "config": {"seed": None, "minval": -0.05, "maxval": 0.05},
                    "registered_name": None,
                },
                "embeddings_regularizer": None,
                "activity_regularizer": None,
                "embeddings_constraint": None,
                "mask_zero": True,
            },
        }
    )
    assert isinstance(keras3, Embedding) and keras3.input_dim == 100 and keras3.mask_zero
    # tf.keras 2 writes input_length next to batch_input_shape; alone, it is the input
    tf2 = parse_layer({"type": "Embedding", "input_dim": 100, "output_dim": 8, "input_length": 20})
    assert tf2.input_shape == (20,)
    both = parse_layer(
        {
            "type": "Embedding",
            "input_dim": 100,
            "output_dim": 8,
            "input_length": 20,
            "batch_input_shape": [None, 20],
        }
    )
    assert both.input_shape == (20,)
    assert parse_layer({"type": "Embedding", "input_dim": 5, "output_dim": 2}).input_shape is None


def test_keras_short_initializer_name_uniform() -> None:
    layer = Embedding(input_dim=5, output_dim=2, embeddings_initializer="uniform")
    assert layer.embeddings_initializer == "random_uniform"
    LAYERS["Embedding"](layer, (3,))
