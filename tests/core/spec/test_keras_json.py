"""Keras's own model JSON, in both forms, becomes Cornu's native spec."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from cornu.core.engine.summary import summarize
from cornu.core.errors import SpecError
from cornu.core.spec import FunctionalSpec, ModelSpec, SequentialSpec

DATA = Path(__file__).parents[2] / "data" / "keras"
MODEL: TypeAdapter[Any] = TypeAdapter(ModelSpec)


def sample(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text())
    return data


@pytest.mark.parametrize("name", ["keras3_mlp.json", "tfkeras2_mlp.json"])
def test_sequential_mlp_in_both_forms(name: str) -> None:
    spec = MODEL.validate_python(sample(name))
    assert isinstance(spec, SequentialSpec)
    assert spec.input_shape == (784,)
    assert [layer.type for layer in spec.stack] == ["Dense", "Dropout", "Dense"]
    assert spec.stack[0].units == 512 and spec.stack[0].activation == "relu"  # type: ignore[attr-defined]


def test_the_json_may_come_as_a_string() -> None:
    text = (DATA / "keras3_mlp.json").read_text()
    assert MODEL.validate_python(text) == MODEL.validate_python(json.loads(text))


@pytest.mark.parametrize("name", ["keras3_functional.json", "tfkeras2_functional.json"])
def test_functional_with_a_shared_layer_in_both_forms(name: str) -> None:
    spec = MODEL.validate_python(sample(name))
    assert isinstance(spec, FunctionalSpec)
    assert [i.name for i in spec.inputs] == ["a", "b"]
    calls = {node.name: node for node in spec.layers}
    assert calls["shared"].inputs == ["a"]
    assert calls["shared_call1"].call == "shared" and calls["shared_call1"].inputs == ["b"]
    assert calls["concat"].inputs == ["shared", "shared_call1"]
    assert spec.output_names() == ["cls", "reg"]


def test_custom_classes_are_refused() -> None:
    data = sample("keras3_mlp.json")
    data["config"]["layers"][1]["registered_name"] = "my_package>MyDense"
    with pytest.raises(ValidationError, match="custom Keras objects are not supported"):
        MODEL.validate_python(data)


def test_lambda_is_refused_with_the_reason() -> None:
    data = sample("keras3_mlp.json")
    data["config"]["layers"][2] = {
        "module": "keras.layers",
        "class_name": "Lambda",
        "config": {"name": "l", "function": "…"},
    }
    with pytest.raises(ValidationError, match="Lambda layers run Python code from the request"):
        MODEL.validate_python(data)


def test_unsupported_layers_are_named() -> None:
    data = sample("keras3_mlp.json")
    data["config"]["layers"][2] = {
        "module": "keras.layers",
        "class_name": "Conv4D",
        "config": {"name": "c4"},
    }
    with pytest.raises(
        ValidationError, match="layer 'c4' is a Keras Conv4D, which Cornu does not support"
    ):
        MODEL.validate_python(data)


def test_unknown_sizes_are_read_and_a_dense_on_one_is_refused_as_keras_refuses_it() -> None:
    data = sample("keras3_mlp.json")
    data["config"]["layers"][0]["config"]["batch_shape"] = [None, None]
    spec = MODEL.validate_python(data)
    assert spec.input_shape == (None,)
    # Keras: "The last dimension of the inputs to a Dense layer should be defined."
    with pytest.raises(SpecError, match="weights depend on a dimension of unknown size"):
        summarize(data)
