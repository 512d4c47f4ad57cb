"""Max, average, global and adaptive pooling in 1-D, 2-D and 3-D against real Keras:
shapes, outputs (with "same" padding left out of averages, and masks), Keras's configs
read and written, Keras loading what Cornu writes, gradients, meta builds."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from cornu.core.engine.layers import ShapeError
from cornu.core.spec.layers import parse_layer
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
    keras_case,
)

POOLING_SHAPES = [
    "maxpool1d",
    "maxpool1d_same",
    "avgpool1d",
    "maxpool2d",
    "maxpool2d_same",
    "avgpool2d",
    "avgpool2d_same",
    "gmax1d",
    "gavg1d",
    "gmax2d",
    "gavg2d_keep",
]
POOLING_OUTPUTS = [name for name, case in OUTPUTS.items() if "Pooling" in case["layer"]["type"]]
MORE_POOLING = [name for name, case in MORE_OUTPUTS.items() if "Pooling" in case["layer"]["type"]]


@pytest.mark.parametrize("case_id", POOLING_SHAPES)
def test_shapes_and_counts_match_keras(case_id: str) -> None:
    check_shapes(case_id)


def test_the_keras_cases_cover_uneven_padding_and_masks() -> None:
    assert {
        "maxpool2d_same_s2",  # the odd pixel at the bottom/right
        "avgpool2d_same_s2",  # and left out of the average
        "avgpool2d_same_s1",  # even padding: torch's own
        "gavg1d_mask",
        "gmax1d_mask",
    } <= set(POOLING_OUTPUTS)


@pytest.mark.parametrize("case_id", POOLING_OUTPUTS)
def test_outputs_equal_keras(case_id: str) -> None:
    check_outputs(case_id)


@pytest.mark.parametrize("case_id", POOLING_OUTPUTS)
def test_keras_3_and_tf_keras_2_configs_import(case_id: str) -> None:
    check_keras_configs(case_id)


def test_the_more_keras_cases_cover_every_new_pooling_layer() -> None:
    kinds = ("Max", "Average")
    assert {MORE_OUTPUTS[c]["layer"]["type"] for c in MORE_POOLING} == {
        *(f"{k}Pooling3D" for k in kinds),
        *(f"Global{k}Pooling3D" for k in kinds),
        *(f"Adaptive{k}Pooling{n}D" for k in kinds for n in (1, 2, 3)),
    }
    assert {
        "maxpool3d_same_s2",  # the odd voxel at the end of each axis
        "avgpool3d_same_s2",  # and left out of the average
        "avgpool3d_same_s1",  # even padding: torch's own
        "adavg1d",  # windows that overlap: 7 steps into 3
        "adavg1d_up",  # more windows than steps
        "admax3d",
    } <= set(MORE_POOLING)


@pytest.mark.parametrize("case_id", MORE_POOLING)
def test_3d_global_and_adaptive_outputs_equal_keras(case_id: str) -> None:
    check_outputs(case_id, MORE_OUTPUTS)


@pytest.mark.parametrize("case_id", MORE_POOLING)
def test_3d_global_and_adaptive_configs_read_and_write_as_keras(case_id: str) -> None:
    check_keras_3_round_trip(case_id)


@pytest.mark.parametrize("case_id", MORE_POOLING)
def test_keras_loads_the_3d_global_and_adaptive_poolings_cornu_writes(case_id: str) -> None:
    check_keras_loads_what_cornu_writes(case_id)


@pytest.mark.parametrize("size", [(5, 7, 3), (1009, 2003, 3), (2, 2, 3)])
def test_adaptive_pooling_outputs_output_size_whatever_the_input(size: tuple[int, ...]) -> None:
    layer = build({"type": "AdaptiveMaxPooling2D", "output_size": (4, 3)}, size)
    assert layer.output_shape == (4, 3, 3)


def test_global_average_1d_leaves_masked_steps_out() -> None:
    layer, x, mask, expected = keras_case("gavg1d_mask")
    assert layer.uses_mask and mask is not None
    torch.testing.assert_close(layer(x, mask=mask), expected, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(layer(x), expected, atol=1e-3)  # the mask changed the result
    assert layer.compute_mask(x, mask) is None  # one vector per sample: nothing to mask


def test_global_max_1d_ignores_the_mask_as_keras_does() -> None:
    # Keras's GlobalMaxPooling1D takes no mask: the masked steps (zeros) win over the
    # all-negative real ones, and Keras's output is 0.
    layer, x, _, expected = keras_case("gmax1d_mask")
    assert not layer.uses_mask
    assert expected.eq(0).all()
    torch.testing.assert_close(layer(x), expected)


@pytest.mark.parametrize(
    ("layer", "input_shape"),
    [
        ({"type": "MaxPooling2D", "pool_size": 3, "strides": 2, "padding": "same"}, (6, 7, 2)),
        ({"type": "AveragePooling2D", "pool_size": 3, "strides": 2, "padding": "same"}, (6, 7, 2)),
        ({"type": "AveragePooling1D", "pool_size": 2, "strides": 1, "padding": "same"}, (5, 2)),
        ({"type": "MaxPooling1D", "pool_size": 2}, (6, 3)),
        ({"type": "GlobalAveragePooling2D"}, (3, 4, 2)),
        ({"type": "GlobalMaxPooling1D", "keepdims": True}, (4, 3)),
        ({"type": "MaxPooling3D", "pool_size": 3, "strides": 2, "padding": "same"}, (4, 5, 5, 1)),
        (
            {"type": "AveragePooling3D", "pool_size": 3, "strides": 2, "padding": "same"},
            (4, 5, 4, 2),
        ),
        ({"type": "GlobalMaxPooling3D", "keepdims": True}, (2, 3, 2, 2)),
        ({"type": "GlobalAveragePooling3D"}, (2, 3, 2, 2)),
        ({"type": "AdaptiveAveragePooling1D", "output_size": 3}, (7, 2)),
        ({"type": "AdaptiveMaxPooling2D", "output_size": 2}, (5, 4, 2)),
        ({"type": "AdaptiveAveragePooling3D", "output_size": (2, 1, 2)}, (3, 4, 5, 2)),
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
    ("layer", "input_shape", "message"),
    [
        ({"type": "MaxPooling2D", "pool_size": 2}, (8, 3), r"\(height, width, channels\) inputs"),
        ({"type": "MaxPooling1D", "pool_size": 2}, (8, 8, 3), r"\(steps, channels\) inputs"),
        (
            {"type": "AveragePooling2D", "pool_size": 4},
            (3, 8, 1),
            r"window 4 is larger than the input \(3\)",
        ),
        ({"type": "GlobalAveragePooling1D"}, (8,), r"\(steps, channels\) inputs, got \(8,\)"),
        ({"type": "GlobalMaxPooling2D"}, (8, 3), r"\(height, width, channels\)"),
        (
            {"type": "MaxPooling3D"},
            (8, 8, 3),
            r"MaxPooling3D needs \(depth, height, width, channels\) inputs, got \(8, 8, 3\)",
        ),
        ({"type": "AveragePooling3D", "pool_size": 3}, (2, 8, 8, 1), r"window 3 is larger"),
        ({"type": "GlobalAveragePooling3D"}, (8, 8, 3), r"\(depth, height, width, channels\)"),
        (
            {"type": "AdaptiveAveragePooling2D", "output_size": 2},
            (8, 3),
            r"\(height, width, channels\) inputs",
        ),
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
        ({"type": "AveragePooling2D"}, "pool_size"),  # Keras 3 gives it no default
        ({"type": "MaxPooling2D", "pool_size": 0}, "pool_size"),
        ({"type": "MaxPooling2D", "padding": "full"}, "padding"),
        ({"type": "GlobalAveragePooling2D", "data_format": "channels_first"}, "channels_last only"),
        ({"type": "AveragePooling3D"}, "pool_size"),
        ({"type": "MaxPooling3D", "pool_size": (2, 2)}, "pool_size"),
        ({"type": "AdaptiveMaxPooling1D"}, "output_size"),  # Keras requires it too
        ({"type": "AdaptiveMaxPooling2D", "output_size": (2, 2, 2)}, "output_size"),
        ({"type": "AdaptiveAveragePooling3D", "output_size": 0}, "output_size"),
        (
            {"type": "AdaptiveAveragePooling2D", "output_size": 2, "data_format": "channels_first"},
            "channels_last only",
        ),
    ],
)
def test_invalid_arguments_are_refused_at_once(layer: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_layer(layer)


def test_strides_default_to_the_pool_size() -> None:
    layer = build({"type": "MaxPooling2D", "pool_size": 3}, (9, 7, 1))
    assert layer.output_shape == (3, 2, 1)
    assert build({"type": "MaxPooling3D"}, (4, 5, 7, 1)).output_shape == (2, 2, 3, 1)
