"""The layer census: every class `keras.layers` exports in Keras 3.15 (from the generated
`keras_registry.json`, itself checked against Keras) is supported by Cornu — under each of
its Keras names, with a differential test against Keras's numbers in
tests/core/engine/layers/ and a place in the Keras-file zoo — or refused with a reason
(user code and strings only). The lists are exact: a new Keras layer must enter one."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

import cornu
from cornu.core.errors import NotSupported, SpecError
from cornu.core.spec import registry
from cornu.core.spec.layers import LAYER_SPECS, REFUSED, layer_type
from cornu.core.spec.model import SequentialSpec

# Keras's base classes, not layers a model holds: a subclass is the user's own code.
BASE_CLASSES = {"Layer", "Wrapper"}
# Keras's InputLayer is Cornu's `Input` (a Sequential's first entry, a functional input).
INPUT = {"InputLayer"}


def _error_types(layer_name: str) -> set[str]:
    """The kinds of error a Sequential spec gives for a layer of that type name alone
    (missing arguments are fine; an unknown type is not)."""
    try:
        SequentialSpec.model_validate({"layers": [{"type": layer_name}]})
    except ValidationError as exc:
        return {str(error["type"]) for error in exc.errors()}
    return set()


def _classes() -> set[str]:
    return {str(registry.layer_class(name)) for name in registry.keras_layer_names()}


def _supported_classes() -> set[str]:
    return {registry.layer_class(t) or t for t in LAYER_SPECS}


def test_every_keras_layer_is_supported_or_refused() -> None:
    supported = _supported_classes()
    accounted = supported | set(REFUSED) | BASE_CLASSES | INPUT
    assert _classes() - accounted == set()  # a Keras layer nobody decided about
    assert supported & set(REFUSED) == set()
    print(f"{len(_classes())} Keras layer classes: {len(supported & _classes())} supported, "
          f"{len(set(REFUSED) & _classes())} refused")  # fmt: skip


def test_the_refused_are_only_user_code_and_strings() -> None:
    user_code = {"Lambda", "TFOpLambda", "TFSMLayer", "JaxLayer", "FlaxLayer"}
    user_code |= {"TorchModuleWrapper"}
    strings = {"TextVectorization", "StringLookup"}
    assert set(REFUSED) == user_code | strings


@pytest.mark.parametrize("name", registry.keras_layer_names())
def test_each_keras_name_of_a_supported_class_is_understood(name: str) -> None:
    """`Convolution2D`, `AvgPool1D` …: a spec, Keras's JSON and the SDK take every name."""
    target = registry.layer_class(name)
    if target not in _supported_classes():
        return
    kind = layer_type(name)
    assert kind in LAYER_SPECS and (registry.layer_class(kind) or kind) == target
    assert "unknown_layer" not in _error_types(name)  # a spec reads the name as that type
    assert hasattr(cornu.layers, name), f"keras.layers.{name} is missing from the SDK"


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_refused_layer_says_why_in_every_form(name: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(REFUSED[name])):
        SequentialSpec.model_validate({"layers": [{"type": name}]})
    if hasattr(cornu.layers, name):
        with pytest.raises(NotSupported):
            getattr(cornu.layers, name)()


def test_a_keras_layer_class_cornu_does_not_know_is_a_clear_error() -> None:
    """A class a later Keras adds (here a made-up name) is refused with the list of types."""
    name = "RandomTimeWarp"
    assert name not in registry.keras_layer_names()
    keras_json = {
        "class_name": "Sequential",
        "config": {"layers": [{"class_name": "InputLayer", "config": {"batch_shape": [None, 4]}},
                              {"class_name": name, "config": {"name": "x"}}]},
    }  # fmt: skip
    from cornu.core.engine.summary import summarize

    expected = f"layer 'x' is a Keras {name}, which Cornu does not support \\(supported: "
    with pytest.raises(SpecError, match=expected):
        summarize(keras_json)
