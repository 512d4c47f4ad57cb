"""Reshape, Permute, RepeatVector, UpSampling2D, ZeroPadding2D, Cropping2D and Flatten
against real Keras: shapes, outputs, Keras's configs, gradients, errors."""

from __future__ import annotations

from typing import Any

import pytest

from cornu.core.engine.layers import ShapeError
from cornu.core.spec.layers import parse_layer
from cornu.core.spec.layers.reshaping import Cropping2D, ZeroPadding2D
from tests.core.engine.layers.test_convolutional import (
    OUTPUTS,
    build,
    check_gradients,
    check_keras_configs,
    check_meta_build,
    check_outputs,
    check_shapes,
)

RESHAPING_SHAPES = [
    "up2d",
    "up2d_bilinear",
    "zpad",
    "zpad_asym",
    "crop",
    "crop1",
    "reshape",
    "reshape_neg",
    "permute",
    "repeat",
    "flatten",
]
RESHAPING_TYPES = {
    "Reshape",
    "Permute",
    "RepeatVector",
    "UpSampling2D",
    "ZeroPadding2D",
    "Cropping2D",
    "Flatten",
}
RESHAPING_OUTPUTS = [name for name, c in OUTPUTS.items() if c["layer"]["type"] in RESHAPING_TYPES]


@pytest.mark.parametrize("case_id", RESHAPING_SHAPES)
def test_shapes_match_keras(case_id: str) -> None:
    check_shapes(case_id)


def test_the_keras_cases_cover_every_layer() -> None:
    assert {OUTPUTS[name]["layer"]["type"] for name in RESHAPING_OUTPUTS} == RESHAPING_TYPES
    assert {"up2d_bilinear", "reshape_neg", "permute_3d", "zpad_asym"} <= set(RESHAPING_OUTPUTS)


@pytest.mark.parametrize("case_id", RESHAPING_OUTPUTS)
def test_outputs_equal_keras(case_id: str) -> None:
    check_outputs(case_id)


@pytest.mark.parametrize("case_id", RESHAPING_OUTPUTS)
def test_keras_3_and_tf_keras_2_configs_import(case_id: str) -> None:
    check_keras_configs(case_id)


@pytest.mark.parametrize(
    ("layer", "input_shape"),
    [
        ({"type": "UpSampling2D", "size": 2, "interpolation": "bilinear"}, (3, 4, 2)),
        ({"type": "UpSampling2D", "size": [1, 3]}, (3, 4, 2)),
        ({"type": "ZeroPadding2D", "padding": [1, 2]}, (3, 4, 2)),
        ({"type": "Cropping2D", "cropping": [[1, 0], [0, 2]]}, (3, 4, 2)),
        ({"type": "Reshape", "target_shape": [2, -1]}, (3, 4)),
        ({"type": "Permute", "dims": [2, 3, 1]}, (2, 3, 4)),
        ({"type": "RepeatVector", "n": 3}, (4,)),
    ],
)
def test_gradients_flow_and_meta_builds(
    layer: dict[str, Any], input_shape: tuple[int, ...]
) -> None:
    check_gradients(layer, input_shape)
    assert (
        check_meta_build(layer, input_shape).output_shape == build(layer, input_shape).output_shape
    )


@pytest.mark.parametrize(
    ("value", "pairs"),
    [
        (2, ((2, 2), (2, 2))),
        ([1, 3], ((1, 1), (3, 3))),
        ([[1, 2], [3, 4]], ((1, 2), (3, 4))),
    ],
)
def test_padding_and_cropping_take_keras_three_forms(value: Any, pairs: Any) -> None:
    assert ZeroPadding2D.model_validate({"padding": value}).padding == pairs
    assert Cropping2D.model_validate({"cropping": value}).cropping == pairs


@pytest.mark.parametrize(
    ("layer", "input_shape", "message"),
    [
        ({"type": "Reshape", "target_shape": [5, -1]}, (3, 4), r"cannot turn \(3, 4\) \(12 values"),
        ({"type": "Reshape", "target_shape": [5, 2]}, (3, 4), "product must be 12"),
        (
            {"type": "Permute", "dims": [2, 1]},
            (2, 3, 4),
            r"name 2 axes, but the input \(2, 3, 4\) has 3",
        ),
        ({"type": "RepeatVector", "n": 2}, (3, 4), "add a Flatten before it"),
        ({"type": "Cropping2D", "cropping": [[2, 2], [0, 0]]}, (4, 5, 1), "leaves nothing"),
        ({"type": "UpSampling2D"}, (4, 5), r"\(height, width, channels\)"),
        ({"type": "ZeroPadding2D"}, (4,), r"\(height, width, channels\)"),
    ],
)
def test_shape_errors_say_what_to_change(
    layer: dict[str, Any], input_shape: tuple[int, ...], message: str
) -> None:
    with pytest.raises(ShapeError, match=message):
        build(layer, input_shape)


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        ({"type": "Reshape", "target_shape": [-1, -1]}, "at most one -1"),
        ({"type": "Reshape", "target_shape": [0, 3]}, "positive sizes"),
        ({"type": "Permute", "dims": [0, 1]}, "dims"),
        ({"type": "Permute", "dims": [1, 3]}, r"an order of 1..2"),
        ({"type": "RepeatVector", "n": 0}, "n"),
        ({"type": "UpSampling2D", "interpolation": "bicubic"}, "interpolation"),
        ({"type": "ZeroPadding2D", "padding": [1, 2, 3]}, "padding"),
        ({"type": "Cropping2D", "cropping": -1}, "cropping"),
    ],
)
def test_invalid_arguments_are_refused_at_once(layer: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_layer(layer)
