"""Functional models: a graph of named layers, checked before anything is built."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from cornu.core.spec import FunctionalSpec


def graph(
    layers: list[dict[str, Any]], outputs: list[str], inputs: list[str] | None = None
) -> FunctionalSpec:
    return FunctionalSpec.model_validate(
        {
            "inputs": [{"name": n, "shape": [4]} for n in (inputs or ["a"])],
            "layers": layers,
            "outputs": outputs,
        }
    )


def refusal(*args: Any) -> str:
    with pytest.raises(ValidationError) as info:
        graph(*args)
    return str(info.value)


def dense(name: str, *inputs: str) -> dict[str, Any]:
    return {"name": name, "type": "Dense", "units": 2, "inputs": list(inputs)}


def test_a_branching_graph_with_a_shared_layer() -> None:
    spec = graph(
        [
            dense("tower", "a"),
            {"name": "tower_b", "call": "tower", "inputs": ["b"]},
            dense("head", "tower"),
            dense("head_b", "tower_b"),
        ],
        ["head", "head_b"],
        inputs=["a", "b"],
    )
    order = [spec.layers[i].name for i in spec.order()]
    assert order.index("tower") < order.index("tower_b") < order.index("head_b")
    assert spec.output_names() == ["head", "head_b"]


def test_layers_may_come_in_any_order() -> None:
    spec = graph([dense("out", "hidden"), dense("hidden", "a")], ["out"])
    assert [spec.layers[i].name for i in spec.order()] == ["hidden", "out"]


def test_a_cycle_is_named() -> None:
    assert "layers form a cycle: x → y → x" in refusal([dense("x", "y"), dense("y", "x")], ["x"])


def test_a_dangling_layer_is_named() -> None:
    assert "layer 'spare' is not used by any output" in refusal(
        [dense("x", "a"), dense("spare", "a")], ["x"]
    )


def test_an_unknown_reference_lists_what_exists() -> None:
    message = refusal([dense("x", "nope")], ["x"])
    assert "layer 'x' refers to 'nope', which is not an input or layer (a, x)" in message


def test_an_unused_input_is_kept_with_a_warning_as_keras_keeps_it() -> None:
    spec = graph([dense("x", "a")], ["x"], ["a", "b"])
    assert [i.name for i in spec.inputs] == ["a", "b"]
    assert spec.warnings() == [
        "input 'b' is not used by any output; Keras keeps it, so its data are still needed"
    ]


def test_names_are_unique_across_inputs_and_layers() -> None:
    assert "the name 'a' is used twice" in refusal([dense("a", "a")], ["a"])


def test_a_call_must_name_a_layer() -> None:
    message = refusal([dense("x", "a"), {"name": "y", "call": "a", "inputs": ["x"]}], ["y"])
    assert "layer 'y' calls 'a', which is not a layer here" in message


def test_every_layer_needs_a_name() -> None:
    message = refusal([{"type": "Dense", "units": 2, "inputs": ["a"]}], ["x"])
    assert "each layer of a functional model needs a name" in message


def test_a_second_output_of_a_layer_is_referenced_with_a_colon() -> None:
    spec = graph([dense("x", "a")], ["x:0"])
    assert spec.outputs == ["x:0"]
