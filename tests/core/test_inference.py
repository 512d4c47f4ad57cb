"""`evaluate` and `predict` of a trained job (`core/inference.py`), against a real store,
with weights set by hand so every value is known: both take their data through the
planner fit uses, so the same mismatch is the same SpecError at the request's own field
(`x`, `y`, `inputs`), whether the data are datasets or inline."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pytest
import safetensors.torch
import torch
from pydantic import TypeAdapter

from cornu.core.config import Settings
from cornu.core.engine.build import build_model
from cornu.core.errors import PayloadTooLarge, SpecError
from cornu.core.ids import new_id
from cornu.core.inference import evaluate_job, predict_job
from cornu.core.spec import DataRef, EvaluateRequest, JobSpec, ModelSpec, PredictRequest
from cornu.core.store import Store
from tests.helpers import put_dataset

W = np.array([[0.5], [-1.0], [2.0]], np.float32)
B = np.float32(0.25)


def trained(
    store: Store,
    model: dict[str, Any],
    state: dict[str, np.ndarray],
    x: np.ndarray | dict[str, np.ndarray],
) -> tuple[str, str]:
    """A succeeded job of `model`, trained on `x` (uploaded as the tenant's datasets),
    holding `state` (by the engine's state_dict names) as its trained weights; its tenant
    and id."""
    tenant, job_id = new_id("t"), new_id("job")
    arrays = x if isinstance(x, dict) else {"": x}
    ids = {name: put_dataset(store, tenant, array) for name, array in arrays.items()}
    x_ids = ids if isinstance(x, dict) else ids[""]
    samples = next(iter(arrays.values())).shape[0]
    y = put_dataset(store, tenant, np.zeros((samples, 1), np.float32))
    spec = JobSpec.model_validate(
        {
            "model": model,
            "compile": {"optimizer": "sgd", "loss": "mse", "metrics": ["mae"]},
            "fit": {"epochs": 1, "batch_size": 4},
            "data": {"x": x_ids, "y": y},
        }
    )
    store.jobs.create(tenant, job_id, spec, verify=False)
    claim = store.runs.claim(job_id, "w1")
    assert claim is not None
    tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()}
    assert store.runs.succeed(claim, b"keras weights", safetensors.torch.save(tensors))
    return tenant, job_id


def dense_state(model: dict[str, Any], shapes: list[tuple[int, ...]]) -> dict[str, np.ndarray]:
    """The built model's state with its one Dense set to W and B."""
    built = build_model(TypeAdapter(ModelSpec).validate_python(model), shapes)
    state = {k: v.numpy() for k, v in built.state_dict().items()}
    (kernel,) = [k for k in state if k.endswith("kernel")]
    (bias,) = [k for k in state if k.endswith("bias")]
    return {**state, kernel: W.T if state[kernel].shape == (1, 3) else W, bias: np.array([B])}


SEQUENTIAL = {"type": "sequential", "layers": [{"type": "Dense", "units": 1}]}  # no input_shape
FUNCTIONAL = {
    "type": "functional",
    "inputs": [{"name": "features", "shape": [3]}],
    "layers": [{"name": "out", "type": "Dense", "units": 1, "inputs": ["features"]}],
    "outputs": ["out"],
}


@pytest.fixture
def setup(store: Store) -> Any:
    def make(model: dict[str, Any]) -> tuple[str, str, np.ndarray]:
        x = np.random.default_rng(0).normal(size=(10, 3)).astype(np.float32)
        tenant, job_id = trained(store, model, dense_state(model, [(3,)]), x)
        return tenant, job_id, x

    return make


def predict(store: Store, tenant: str, job_id: str, **request: Any) -> Any:
    return predict_job(store, tenant, job_id, PredictRequest.model_validate(request), Settings())


@pytest.mark.parametrize("model", [SEQUENTIAL, FUNCTIONAL], ids=["sequential", "functional"])
def test_predict_and_evaluate_compute_with_the_trained_weights(
    store: Store, model: dict[str, Any]
) -> None:
    x = np.random.default_rng(1).normal(size=(7, 3)).astype(np.float32)
    y = np.random.default_rng(2).normal(size=(7, 1)).astype(np.float32)
    tenant, job_id = trained(store, model, dense_state(model, [(3,)]), x)
    x_id, y_id = put_dataset(store, tenant, x), put_dataset(store, tenant, y)
    expected = x.astype(np.float64) @ W + B

    on_datasets = predict(store, tenant, job_id, x=x_id, batch_size=3)
    inline = predict(store, tenant, job_id, inputs=x.tolist())
    np.testing.assert_allclose(on_datasets["predictions"], expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(inline["predictions"], on_datasets["predictions"], rtol=1e-6)

    # batch_size 3 over 7 samples: Keras weights each batch's mean by its size, so the
    # result is the mean over all samples.
    request = EvaluateRequest.model_validate({"x": x_id, "y": y_id, "batch_size": 3})
    logs = evaluate_job(store, tenant, job_id, request)
    assert logs["loss"] == pytest.approx(float(np.mean((expected - y) ** 2)), rel=1e-5)
    assert logs["mae"] == pytest.approx(float(np.mean(np.abs(expected - y))), rel=1e-5)


def refusal(call: Any) -> SpecError:
    with pytest.raises(SpecError) as info:
        call()
    return info.value


def test_a_declared_input_refuses_other_samples_alike_on_datasets_and_inline(
    store: Store, setup: Any
) -> None:
    tenant, job_id, _ = setup(FUNCTIONAL)
    wide = np.ones((4, 5), np.float32)
    x_id, y_id = put_dataset(store, tenant, wide), put_dataset(store, tenant, wide[:, :1])
    said = "x holds samples of shape (5,) but the model's input shape is (3,)"

    on_datasets = refusal(lambda: predict(store, tenant, job_id, x=x_id))
    inline = refusal(lambda: predict(store, tenant, job_id, inputs=wide.tolist()))
    request = EvaluateRequest.model_validate({"x": x_id, "y": y_id})
    evaluated = refusal(lambda: evaluate_job(store, tenant, job_id, request))
    assert [(e.loc, e.msg) for e in on_datasets.errors] == [(("x",), said)]
    assert [(e.loc, e.msg) for e in evaluated.errors] == [(("x",), said)]
    assert [(e.loc, e.msg) for e in inline.errors] == [(("inputs",), "inputs" + said[1:])]


def test_a_sequential_keeps_the_input_its_training_data_gave_it(store: Store, setup: Any) -> None:
    """Keras builds a Sequential without input_shape on its first batch; later data must
    fit that shape, even where the weights would come out the same (a Flatten)."""
    tenant, job_id, _ = setup(SEQUENTIAL)
    wide = np.ones((4, 5), np.float32)
    x_id = put_dataset(store, tenant, wide)
    said = "x holds samples of shape (5,) but the model's input shape is (3,)"
    for error, field in [
        (refusal(lambda: predict(store, tenant, job_id, x=x_id)), "x"),
        (refusal(lambda: predict(store, tenant, job_id, inputs=wide.tolist())), "inputs"),
    ]:
        assert [(e.loc, e.msg) for e in error.errors] == [((field,), field + said[1:])]
    # Keras's trailing axis of 1 still fits: (3, 1) samples for a (3,) input.
    column = np.arange(6, dtype=np.float32).reshape(2, 3, 1)
    answer = predict(store, tenant, job_id, inputs=column.tolist())
    np.testing.assert_allclose(answer["predictions"], column[..., 0] @ W + B, rtol=1e-5)

    flatten = {"type": "sequential", "layers": [{"type": "Flatten"}, {"type": "Dense", "units": 1}]}
    images = np.zeros((4, 1, 3), np.float32)
    tenant, job_id = trained(store, flatten, dense_state(flatten, [(1, 3)]), images)
    flat = refusal(lambda: predict(store, tenant, job_id, inputs=np.ones((2, 3)).tolist()))
    assert [(e.loc, e.msg) for e in flat.errors] == [
        (("inputs",), "inputs holds samples of shape (3,) but the model's input shape is (1, 3)")
    ]


def test_dimensions_of_unknown_size_take_other_sizes(store: Store) -> None:
    """A mean over timesteps, then the Dense: trained on 4 steps, predicting on 6."""
    model = {
        "type": "sequential",
        "layers": [
            {"type": "GlobalAveragePooling1D", "input_shape": [None, 3]},
            {"type": "Dense", "units": 1},
        ],
    }
    steps4 = np.zeros((8, 4, 3), np.float32)
    tenant, job_id = trained(store, model, dense_state(model, [(4, 3)]), steps4)
    x = np.random.default_rng(3).normal(size=(5, 6, 3)).astype(np.float32)
    expected = x.astype(np.float64).mean(axis=1) @ W + B
    for request in ({"x": put_dataset(store, tenant, x)}, {"inputs": x.tolist()}):
        answer = predict(store, tenant, job_id, **request)
        np.testing.assert_allclose(answer["predictions"], expected, rtol=1e-5, atol=1e-6)


def test_inputs_of_a_two_input_model_must_hold_as_many_samples(store: Store) -> None:
    model = {
        "type": "functional",
        "inputs": [{"name": "a", "shape": [3]}, {"name": "b", "shape": [3]}],
        "layers": [
            {"name": "sum", "type": "Add", "inputs": ["a", "b"]},
            {"name": "out", "type": "Dense", "units": 1, "inputs": ["sum"]},
        ],
        "outputs": ["out"],
    }
    x = {"a": np.zeros((6, 3), np.float32), "b": np.zeros((6, 3), np.float32)}
    tenant, job_id = trained(store, model, dense_state(model, [(3,), (3,)]), x)
    a, b = np.ones((4, 3)), np.ones((3, 3))
    given = {"a": put_dataset(store, tenant, a), "b": put_dataset(store, tenant, b)}
    requests: list[tuple[dict[str, Any], tuple[str, ...]]] = [
        ({"x": given}, ("x",)),
        ({"inputs": {"a": a.tolist(), "b": b.tolist()}}, ("inputs",)),
    ]
    for request, loc in requests:
        ((where, message),) = [
            (e.loc, e.msg)
            for e in refusal(functools.partial(predict, store, tenant, job_id, **request)).errors
        ]
        assert where == loc and "every input must hold as many samples" in message, message
    both = predict(store, tenant, job_id, inputs={"a": a.tolist(), "b": (2 * a).tolist()})
    np.testing.assert_allclose(both["predictions"], 3 * a @ W + B, rtol=1e-5)
    with pytest.raises(SpecError, match="a batch for each model input: a, b"):
        predict(store, tenant, job_id, inputs=a.tolist())


def test_inline_inputs_are_bounded(store: Store, setup: Any) -> None:
    tenant, job_id, _ = setup(FUNCTIONAL)
    many = np.zeros((Settings().max_predict_samples + 1, 3)).tolist()
    with pytest.raises(PayloadTooLarge, match="upload larger batches as a dataset"):
        predict(store, tenant, job_id, inputs=many)
    with pytest.raises(SpecError, match="nested lists of numbers, every sample of one shape"):
        predict(store, tenant, job_id, inputs=[[1, 2], [3]])
    with pytest.raises(SpecError, match="a list of one or more samples"):
        predict(store, tenant, job_id, inputs=[])


def test_evaluate_names_the_request_fields(store: Store, setup: Any) -> None:
    tenant, job_id, x = setup(FUNCTIONAL)
    x_id = put_dataset(store, tenant, x)
    short = put_dataset(store, tenant, np.zeros((3, 1), np.float32))
    for y, loc, said in [(short, ("y",), "as many samples"), ("ds_nowhere", ("y",), "no dataset")]:
        request = EvaluateRequest.model_validate({"x": x_id, "y": y})
        ((where, message),) = [
            (e.loc, e.msg)
            for e in refusal(functools.partial(evaluate_job, store, tenant, job_id, request)).errors
        ]
        assert where == loc and said in message, message


def test_a_stateful_model_takes_its_batch_size_from_the_request(store: Store) -> None:
    model = {
        "type": "sequential",
        "layers": [
            {"type": "Input", "shape": [5, 2], "batch_size": 4},
            {"type": "LSTM", "units": 3, "stateful": True},
            {"type": "Dense", "units": 1},
        ],
    }
    scratch = np.zeros((8, 5, 2), np.float32)
    built = build_model(TypeAdapter(ModelSpec).validate_python(model), [(5, 2)])
    state = {k: v.numpy() for k, v in built.state_dict().items()}
    tenant, job_id = trained(store, model, state, scratch)
    windows = np.random.default_rng(4).normal(size=(8, 5, 2)).tolist()
    error = refusal(lambda: predict(store, tenant, job_id, inputs=windows, batch_size=3))
    assert [(e.loc, e.msg) for e in error.errors] == [
        (
            ("batch_size",),
            "layer 'lstm' (LSTM) has stateful=True with the model's batch size 4, but batches "
            "hold 3 samples; use batch_size=4",
        )
    ]
    answer = predict(store, tenant, job_id, inputs=windows, batch_size=4)
    assert np.asarray(answer["predictions"]).shape == (8, 1)


def test_the_trained_weights_guard_a_sequential_whose_training_data_are_gone(
    store: Store, setup: Any
) -> None:
    tenant, job_id, _ = setup(SEQUENTIAL)
    training = store.jobs.spec(job_id).epoch_data[0]
    assert isinstance(training, DataRef) and isinstance(training.x, str)
    store.lifecycle.delete_dataset(tenant, training.x)
    error = refusal(lambda: predict(store, tenant, job_id, inputs=np.ones((2, 5)).tolist()))
    assert [(e.loc, e.msg) for e in error.errors] == [
        (
            ("inputs",),
            "inputs holds samples of shape (5,), which the trained model cannot take: its weight "
            "layers.0.kernel would have shape (5, 1), but was trained with shape (3, 1)",
        )
    ]
    answer = predict(store, tenant, job_id, inputs=np.eye(3).tolist())  # still predicts
    np.testing.assert_allclose(answer["predictions"], np.eye(3) @ W + B, rtol=1e-5)


def test_a_sequential_trained_on_a_series_keeps_its_windows_shape(store: Store) -> None:
    """Trained on windows of 4 steps of 3 features, with a series as validation_data: the
    input is pinned from the training windows alone (not validation's), and once the
    training series is gone the weights still guard the model."""
    tenant, job_id = new_id("t"), new_id("job")
    model = {
        "type": "sequential",
        "layers": [{"type": "GlobalAveragePooling1D"}, {"type": "Dense", "units": 1}],
    }
    series = put_dataset(store, tenant, np.zeros((20, 3), np.float32))
    targets = put_dataset(store, tenant, np.zeros((20,), np.float32))

    def source(data: str) -> dict[str, Any]:
        return {"type": "timeseries", "data": data, "targets": targets, "sequence_length": 4}

    validation = put_dataset(store, tenant, np.zeros((20, 3), np.float32))
    spec = JobSpec.model_validate(
        {
            "model": model,
            "compile": {"optimizer": "sgd", "loss": "mse"},
            "fit": {"epochs": 1, "validation_data": source(validation)},
            "data": source(series),
        }
    )
    store.jobs.create(tenant, job_id, spec, verify=False)
    claim = store.runs.claim(job_id, "w1")
    assert claim is not None
    state = dense_state(model, [(4, 3)])
    tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()}
    assert store.runs.succeed(claim, b"keras weights", safetensors.torch.save(tensors))
    store.lifecycle.delete_dataset(tenant, validation)  # validation's series plays no part

    x = np.random.default_rng(5).normal(size=(3, 4, 3))
    expected = x.mean(axis=1) @ W + B
    np.testing.assert_allclose(
        predict(store, tenant, job_id, inputs=x.tolist())["predictions"], expected, rtol=1e-5
    )
    longer = np.ones((2, 6, 3)).tolist()
    pinned = refusal(lambda: predict(store, tenant, job_id, inputs=longer))
    assert [(e.loc, e.msg) for e in pinned.errors] == [
        (("inputs",), "inputs holds samples of shape (6, 3) but the model's input shape is (4, 3)")
    ]
    store.lifecycle.delete_dataset(tenant, series)  # unpinned now: the pooling takes 6 steps
    answer = predict(store, tenant, job_id, inputs=longer)
    np.testing.assert_allclose(answer["predictions"], np.ones((2, 3)) @ W + B, rtol=1e-5)
