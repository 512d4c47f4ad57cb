"""Malformed model JSON of any shape is refused with a SpecError that says where, never an
internal error: valid models of every form (native Sequential and functional, Keras 3,
tf.keras 2 and Keras 2.0–2.2 JSON) with parts replaced by generated JSON values (wrong
types in every field, random nesting, huge numbers, lone surrogates), plus deep nesting.
The same through HTTP: 200 or 422, never a 500."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cornu.core.engine.summary import summarize
from cornu.core.errors import SpecError

DATA = Path(__file__).parents[2] / "data" / "keras"

KERAS2_LIST_FORM = {  # Keras 2.1's `to_json()` of a Sequential: `config` is the layer list
    "class_name": "Sequential",
    "keras_version": "2.1.2",
    "backend": "tensorflow",
    "config": [
        {
            "class_name": "Embedding",
            "config": {
                "name": "embedding_1",
                "input_dim": 100,
                "output_dim": 8,
                "input_length": 12,
                "batch_input_shape": [None, 12],
                "mask_zero": True,
            },
        },
        {"class_name": "LSTM", "config": {"name": "lstm_1", "units": 4, "implementation": 0}},
        {"class_name": "Dense", "config": {"name": "dense_1", "units": 1}},
    ],
}
SEEDS: dict[str, Any] = {
    "native_sequential": {
        "type": "sequential",
        "layers": [
            {"type": "Conv2D", "filters": 4, "kernel_size": 3, "input_shape": [8, 8, 1]},
            {"type": "Flatten"},
            {"type": "Dense", "units": 2, "kernel_initializer": {"type": "RandomNormal"}},
        ],
    },
    "native_functional": {
        "type": "functional",
        "inputs": [{"name": "a", "shape": [10, 4]}],
        "layers": [
            {
                "name": "bi",
                "type": "Bidirectional",
                "layer": {"type": "LSTM", "units": 3},
                "inputs": ["a"],
            },  # fmt: skip
            {"name": "out", "type": "Dense", "units": 1, "inputs": ["bi"]},
        ],
        "outputs": ["out"],
    },
    "keras2_list_form": KERAS2_LIST_FORM,
    **{
        path.stem: json.loads(path.read_text())
        for path in sorted(DATA.glob("*.json"))
        if path.stem.startswith(("keras3_", "tfkeras2_"))
    },
}
KEYS = ["type", "class_name", "config", "layers", "layer", "inputs", "outputs", "name", "shape",
        "units", "inbound_nodes", "batch_input_shape", "input_shape", "keras_history", "args",
        "kwargs", "input_layers", "output_layers", "module", "registered_name", "call"]  # fmt: skip
WORDS = ["\ud800", "Dense", "LSTM", "Bidirectional", "Sequential", "Functional",
         "__keras_tensor__", "InputLayer", "", "a", "bi:7", "OrthogonalInitializer"]  # fmt: skip
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**100)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(
        [
            "\ud800",
            "Dense",
            "LSTM",
            "Bidirectional",
            "Sequential",
            "Functional",
            "__keras_tensor__",
            "InputLayer",
            "",
            "a",
            "bi:7",
            "OrthogonalInitializer",
        ]
    )  # fmt: skip
)
VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=10,
)


SLOW = [HealthCheck.too_slow]


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            yield from _paths(value, (*prefix, index))


def _replaced(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    out = copy.copy(doc)
    out[path[0]] = _replaced(doc[path[0]], path[1:], value)
    return out


@st.composite
def malformed(draw: st.DrawFn) -> Any:
    """A seed model with one to three parts replaced by generated JSON values."""
    doc = SEEDS[draw(st.sampled_from(sorted(SEEDS)))]
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(doc))
        path = paths[draw(st.integers(0, len(paths) - 1))]
        doc = _replaced(doc, path, draw(VALUES))
    return doc


def _summary_or_spec_error(doc: Any) -> None:
    try:
        summarize(doc)
    except SpecError as exc:
        assert str(exc)  # a message the user can read


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_every_seed_is_a_valid_model(name: str) -> None:
    summarize(SEEDS[name])  # what the generated cases break is valid to begin with


@settings(
    max_examples=700, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(malformed())
def test_generated_malformed_models_are_spec_errors(doc: Any) -> None:
    _summary_or_spec_error(doc)


def _nested(depth: int, leaf: Any, kind: str) -> Any:
    value = leaf
    for _ in range(depth):
        value = [value] if kind == "list" else {"config": value, "class_name": "Dense"}
    return value


@pytest.mark.parametrize("kind", ["list", "dict"])
@pytest.mark.parametrize("where", ["units", "layer", "config", "model"])
def test_deep_nesting_is_a_spec_error(kind: str, where: str) -> None:
    deep = _nested(5000, 1, kind)
    doc: Any
    if where == "model":
        doc = deep
    elif where == "config":
        doc = {"class_name": "Sequential", "config": deep}
    else:
        seed = copy.deepcopy(SEEDS["native_functional"])
        if where == "units":
            seed["layers"][1]["units"] = deep
        else:
            seed["layers"][0]["layer"] = deep
        doc = seed
    _summary_or_spec_error(doc)


@pytest.mark.parametrize(
    "doc",
    [
        {"type": "sequential", "layers": [{"type": []}]},
        {"type": "sequential", "layers": [{"type": {"a": 1}, "units": 2}]},
        {"type": "sequential", "layers": [{"type": "Dense", "units": 10**30, "input_shape": [3]}]},
        {"type": "sequential", "layers": [{"type": "Dense", "units": 2, "input_shape": [10**30]}]},
        {
            "type": "sequential",
            "layers": [
                {
                    "type": "Dense",
                    "units": 2,
                    "input_shape": [3],
                    "kernel_initializer": {"class_name": "GlorotUniform", "config": "abc"},
                }
            ],
        },  # fmt: skip
        {
            "type": "sequential",
            "layers": [{"type": "Dense", "units": 2, "input_shape": [3], "name": "\ud800"}],
        },  # fmt: skip
        {"class_name": "Sequential", "config": "abc"},
        {"class_name": "Sequential", "config": [None, 3, "x"]},
        {"class_name": "Functional", "config": {"layers": [{"name": "a", "inbound_nodes": 5}]}},
        {"class_name": "Functional", "config": {"layers": [], "output_layers": [["x", "y", "z"]]}},
    ],
    ids=lambda doc: json.dumps(doc)[:60],
)
def test_known_bad_models_are_spec_errors(doc: Any) -> None:
    with pytest.raises(SpecError):
        summarize(doc)


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,  # the same cases on every run; CI must not find new ones by chance
    suppress_health_check=[*SLOW, HealthCheck.function_scoped_fixture],  # one tenant for all
)
@given(doc=malformed())
def test_the_api_answers_malformed_models_with_422(http: httpx.Client, doc: Any) -> None:
    body = json.dumps({"model": doc}, ensure_ascii=True)  # lone surrogates as \\ud800
    response = http.post(
        "/v1/models/summary", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code in (200, 422), response.text
    if response.status_code == 422:
        assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("kind", ["list", "dict"])
def test_the_api_answers_deep_nesting_with_a_problem(http: httpx.Client, kind: str) -> None:
    opening, closing = ("[", "]") if kind == "list" else ('{"class_name": "Dense", "config": ', "}")
    body = '{"model": ' + opening * 5000 + "1" + closing * 5000 + "}"  # past json.dumps's depth
    response = http.post(
        "/v1/models/summary", content=body, headers={"Content-Type": "application/json"}
    )
    # Too deep for the JSON parser (400) or for the model (422): a problem either way.
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")
