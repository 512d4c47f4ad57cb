"""Merging layers against real Keras: shapes and broadcasting, shape errors, outputs and
output masks for the same inputs and masks (Multiply, Maximum and Minimum use masks in
their values); gradients; the meta device; a merge inside a functional model."""

from __future__ import annotations

import pytest
import torch
from pydantic import ValidationError

from cornu.core.engine.build import build_model
from cornu.core.engine.layers import LAYERS, ShapeError
from cornu.core.spec import FunctionalSpec
from cornu.core.spec.layers import parse_layer
from tests.core.engine.layers.keras_reference import (
    OUTPUTS,
    build,
    check_against_keras_summary,
    expected,
    inputs_of,
)

SUMMARY_IDS = [
    "concat", "concat_ax1", "add", "subtract", "multiply", "average", "maximum", "minimum",
    "dot", "dot_22", "dot_norm",
]  # fmt: skip
MERGE_CASES = [k for k in OUTPUTS if not k.startswith(("bn_", "ln_", "mha_"))]


@pytest.mark.parametrize("case_id", SUMMARY_IDS)
def test_shapes_and_counts_match_keras(case_id: str) -> None:
    check_against_keras_summary(case_id)


@pytest.mark.parametrize(
    ("spec", "input_shapes", "output_shape"),
    [
        # keras.layers.X(**spec)([keras.Input(s) for s in input_shapes]).shape[1:]
        ({"type": "Concatenate"}, [(8,), (9,)], (17,)),
        ({"type": "Concatenate", "axis": 1}, [(4, 8), (5, 8)], (9, 8)),
        ({"type": "Add"}, [(1, 8), (4, 8)], (4, 8)),
        ({"type": "Add"}, [(8,), (4, 8)], (4, 8)),
        ({"type": "Multiply"}, [(4, 8), (4, 8), (4, 8)], (4, 8)),
        ({"type": "Dot", "axes": [1, 2], "normalize": True}, [(3, 5), (4, 3)], (5, 4)),
        ({"type": "Dot", "axes": -1}, [(3, 4), (5, 4)], (3, 5)),
        ({"type": "Dot", "axes": [1, 1]}, [(3, 4, 2), (3, 5)], (4, 2, 5)),
    ],
)
def test_more_output_shapes_match_keras(
    spec: dict[str, object], input_shapes: list[tuple[int, ...]], output_shape: tuple[int, ...]
) -> None:
    layer = build(spec, input_shapes)
    assert layer.output_shape == output_shape
    out = layer([torch.randn(2, *shape) for shape in input_shapes])
    assert tuple(out.shape) == (2, *output_shape)


@pytest.mark.parametrize("case_id", MERGE_CASES)
def test_outputs_and_masks_match_keras(case_id: str) -> None:
    case = OUTPUTS[case_id]
    inputs, masks = inputs_of(case)
    layer = build(case["layer"], [tuple(x.shape[1:]) for x in inputs])
    out = layer(inputs, mask=masks) if layer.uses_mask else layer(inputs)
    torch.testing.assert_close(out, expected(case["output"]))
    out_mask = layer.compute_mask(inputs, masks)
    assert (None if out_mask is None else out_mask.tolist()) == case["output_mask"]


@pytest.mark.parametrize(
    ("spec", "input_shapes", "message"),
    [
        # Keras: "Inputs have incompatible shapes. Received shapes (8,) and (9,)"
        ({"type": "Add"}, [(8,), (9,)], r"incompatible shapes \(batch, 8\) and \(batch, 9\)"),
        ({"type": "Maximum"}, [(4, 8), (3, 8)], r"\(batch, 4, 8\) and \(batch, 3, 8\)"),
        ({"type": "Subtract"}, [(8,), (8,), (8,)], "exactly 2 inputs, got 3"),
        ({"type": "Concatenate"}, [(4, 8), (5, 8)], r"\(batch, 4, 8\), \(batch, 5, 8\)"),
        ({"type": "Concatenate"}, [(4, 8), (8,)], "match on every axis"),
        ({"type": "Concatenate", "axis": 0}, [(8,), (8,)], "0 is the batch"),
        ({"type": "Dot", "axes": 1}, [(8,), (9,)], "size 8 but axis 1 of the second has 9"),
        ({"type": "Dot", "axes": 0}, [(8,), (8,)], "0 is the batch"),
        ({"type": "Dot", "axes": 1}, [(8,), (8,), (8,)], "exactly 2 inputs"),
    ],
)
def test_incompatible_inputs_are_shape_errors_naming_the_shapes(
    spec: dict[str, object], input_shapes: list[tuple[int, ...]], message: str
) -> None:
    with pytest.raises(ShapeError, match=message):
        build(spec, input_shapes)


def test_dot_needs_its_axes() -> None:
    with pytest.raises(ValidationError, match="axes"):
        parse_layer({"type": "Dot"})


@pytest.mark.parametrize("kind", ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"])
def test_gradients_flow_to_every_input(kind: str) -> None:
    layer = build({"type": kind}, [(4, 3), (4, 3)])
    a = torch.randn(2, 4, 3, requires_grad=True)
    b = torch.randn(2, 4, 3, requires_grad=True)
    layer([a, b]).sum().backward()
    assert a.grad is not None and b.grad is not None
    assert (a.grad.abs() + b.grad.abs()).min() > 0  # every element reached one input


def test_dot_and_concatenate_gradients() -> None:
    a = torch.randn(2, 4, 5, requires_grad=True)
    b = torch.randn(2, 6, 5, requires_grad=True)
    dot = build({"type": "Dot", "axes": [2, 2], "normalize": True}, [(4, 5), (6, 5)])
    dot([a, b]).sum().backward()
    concat = build({"type": "Concatenate", "axis": 1}, [(4, 5), (6, 5)])
    concat([a, b]).square().sum().backward()
    assert a.grad is not None and b.grad is not None and a.grad.abs().min() > 0


def test_builds_on_the_meta_device() -> None:
    with torch.device("meta"):
        layer = LAYERS["Concatenate"](parse_layer({"type": "Concatenate"}), [(8,), (9,)])
    assert layer.output_shape == (17,)


def test_a_residual_add_in_a_functional_model() -> None:
    spec = FunctionalSpec.model_validate(
        {
            "inputs": [{"name": "x", "shape": [8]}],
            "layers": [
                {"name": "dense", "type": "Dense", "units": 8, "inputs": ["x"]},
                {"name": "residual", "type": "Add", "inputs": ["x", "dense"]},
                {"name": "both", "type": "Concatenate", "inputs": ["x", "residual"]},
            ],
            "outputs": ["both"],
        }
    )
    model = build_model(spec)
    assert model.output_shape == (16,)
    x = torch.randn(3, 8)
    dense = model.stack[0]
    torch.testing.assert_close(model(x)[0], torch.cat([x, x + dense(x)], dim=-1))
