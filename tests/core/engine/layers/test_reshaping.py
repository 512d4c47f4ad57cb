"""Reshape, Permute, RepeatVector, Flatten, and UpSampling, ZeroPadding and Cropping in
1-D, 2-D and 3-D against real Keras: shapes, outputs, Keras's configs read and written,
Keras loading what Cornu writes, gradients, errors."""

from __future__ import annotations

from typing import Any

import pytest

from cornu.core.engine.layers import ShapeError
from cornu.core.spec.layers import parse_layer
from cornu.core.spec.layers.reshaping import (
    Cropping1D,
    Cropping2D,
    Cropping3D,
    ZeroPadding1D,
    ZeroPadding2D,
    ZeroPadding3D,
)
from tests.core.engine.layers.test_convolutional import (
    MORE_OUTPUTS,
    OUTPUTS,
    build,
    check_gradients,
    check_keras_3_round_trip,
    check_keras_configs,
    check_keras_loads_what_cornu_writes,
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
MORE_TYPES = {f"{kind}{n}D" for kind in ("UpSampling", "ZeroPadding", "Cropping") for n in (1, 3)}
MORE_RESHAPING = [name for name, c in MORE_OUTPUTS.items() if c["layer"]["type"] in MORE_TYPES]


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


def test_the_more_keras_cases_cover_every_1d_and_3d_layer() -> None:
    assert {MORE_OUTPUTS[name]["layer"]["type"] for name in MORE_RESHAPING} == MORE_TYPES
    assert {"zpad1d_asym", "zpad3d_mixed", "crop3d"} <= set(MORE_RESHAPING)


@pytest.mark.parametrize("case_id", MORE_RESHAPING)
def test_1d_and_3d_outputs_equal_keras(case_id: str) -> None:
    check_outputs(case_id, MORE_OUTPUTS)


@pytest.mark.parametrize("case_id", MORE_RESHAPING)
def test_1d_and_3d_configs_read_and_write_as_keras(case_id: str) -> None:
    check_keras_3_round_trip(case_id)


@pytest.mark.parametrize("case_id", MORE_RESHAPING)
def test_keras_loads_the_1d_and_3d_layers_cornu_writes(case_id: str) -> None:
    check_keras_loads_what_cornu_writes(case_id)


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
        ({"type": "UpSampling1D", "size": 3}, (4, 2)),
        ({"type": "UpSampling3D", "size": [1, 2, 3]}, (2, 3, 2, 2)),
        ({"type": "ZeroPadding1D", "padding": [0, 2]}, (3, 2)),
        ({"type": "ZeroPadding3D", "padding": 1}, (2, 2, 3, 1)),
        ({"type": "Cropping1D", "cropping": 1}, (5, 2)),
        ({"type": "Cropping3D", "cropping": [1, 0, [1, 2]]}, (3, 4, 5, 1)),
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
    ("value", "triples"),
    [
        (2, ((2, 2), (2, 2), (2, 2))),
        ([1, 3, 0], ((1, 1), (3, 3), (0, 0))),
        ([[1, 2], 3, [0, 4]], ((1, 2), (3, 3), (0, 4))),
    ],
)
def test_3d_padding_and_cropping_take_keras_forms(value: Any, triples: Any) -> None:
    assert ZeroPadding3D.model_validate({"padding": value}).padding == triples
    assert Cropping3D.model_validate({"cropping": value}).cropping == triples


def test_1d_padding_and_cropping_are_one_pair_with_keras_defaults() -> None:
    assert ZeroPadding1D.model_validate({}).padding == (1, 1)
    assert Cropping1D.model_validate({}).cropping == (1, 1)
    assert ZeroPadding1D.model_validate({"padding": 2}).padding == (2, 2)
    assert Cropping1D.model_validate({"cropping": [0, 3]}).cropping == (0, 3)
    assert Cropping3D.model_validate({}).cropping == ((1, 1), (1, 1), (1, 1))


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
        ({"type": "Cropping1D", "cropping": [2, 1]}, (3, 2), "leaves nothing"),
        (
            {"type": "Cropping3D", "cropping": [0, [2, 2], 0]},
            (3, 4, 5, 1),
            r"leaves nothing of an input of shape \(3, 4, 5, 1\)",
        ),
        ({"type": "UpSampling3D"}, (4, 5, 2), r"\(depth, height, width, channels\)"),
        ({"type": "UpSampling1D"}, (4, 5, 2), r"\(steps, channels\)"),
        ({"type": "ZeroPadding3D"}, (4, 5, 2), r"\(depth, height, width, channels\)"),
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
        ({"type": "UpSampling1D", "size": [2]}, "size"),  # Keras takes one int here
        ({"type": "UpSampling3D", "interpolation": "bilinear"}, "interpolation"),
        ({"type": "UpSampling3D", "data_format": "channels_first"}, "channels_last only"),
        ({"type": "Cropping1D", "data_format": "channels_last"}, "data_format"),
        ({"type": "ZeroPadding3D", "padding": [1, 2]}, "padding"),
        ({"type": "Cropping3D", "cropping": [[1, 2, 3], 0, 0]}, "cropping"),
    ],
)
def test_invalid_arguments_are_refused_at_once(layer: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_layer(layer)
