"""The Keras-like SDK against the live stack: the book's snippets run with one changed
import, and fit/evaluate/predict/summary/weights behave as Keras's do."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import redis
from safetensors.numpy import load_file

import cornu
from cornu import Input, callbacks, layers, models, optimizers
from tests.conftest import Service, Stack


@pytest.fixture
def connected(api_url: str, new_api_key: Callable[[], str]) -> Iterator[cornu.Client]:
    """The SDK connected to the session's stack as a fresh tenant."""
    client = cornu.connect(api_url, new_api_key())
    yield client
    client.close()


def mnist_like(samples: int = 256, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random data of MNIST's shapes: flat 784-pixel images and one-hot labels."""
    rng = np.random.default_rng(seed)
    x = rng.random((samples, 784), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, samples)]
    return x, y


def test_the_books_sequential_snippet(
    connected: cornu.Client, worker: Service, capsys: pytest.CaptureFixture[str]
) -> None:
    x, y = mnist_like()
    # From here to `fit`, the book's own code (Deep Learning with Python, 3.1).
    model = models.Sequential()
    model.add(layers.Dense(32, activation="relu", input_shape=(784,)))
    model.add(layers.Dense(10, activation="softmax"))
    model.compile(optimizer=optimizers.RMSprop(lr=0.001), loss="mse", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=128, epochs=10)

    assert isinstance(history, cornu.History)
    assert sorted(history.history) == ["accuracy", "loss"]
    assert len(history.history["loss"]) == len(history.history["accuracy"]) == 10
    assert history.epoch == list(range(10))
    assert history.history["loss"][-1] < history.history["loss"][0]
    out = capsys.readouterr().out
    assert "Epoch 1/10" in out and "Epoch 10/10" in out
    assert "2/2 ━━━━━━━━━━━━━━━━━━━━" in out and "step - accuracy: " in out  # Keras's bar


def test_the_books_functional_snippet(connected: cornu.Client, worker: Service) -> None:
    x_train, y_train = mnist_like(seed=1)
    cornu.backend.clear_session()  # Keras's default names count from here
    input_tensor = layers.Input(shape=(784,))
    x = layers.Dense(32, activation="relu")(input_tensor)
    output_tensor = layers.Dense(10, activation="softmax")(x)
    model = models.Model(input=input_tensor, output=output_tensor)
    model.compile(optimizer=optimizers.RMSprop(lr=0.001), loss="mse", metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=128, epochs=3, verbose=0)

    assert len(history.history["loss"]) == len(history.history["accuracy"]) == 3
    config = json.loads(model.to_json())  # Keras 3's own JSON
    assert config["class_name"] == "Functional"
    layer_names = [layer["name"] for layer in config["config"]["layers"]]
    assert layer_names == ["input_layer", "dense", "dense_1"]  # Keras's default names


def test_fit_names_and_tags_the_run(connected: cornu.Client, worker: Service) -> None:
    """The book's chapter 4 compares an original, a smaller and a bigger network: `fit`
    takes a name and tags for each, and the job list finds them by tag."""
    x, y = mnist_like(32)
    runs = {}
    for name, units in (("smaller", 4), ("bigger", 64)):
        model = models.Sequential([layers.Dense(units, activation="relu", input_shape=(784,)),
                                   layers.Dense(10, activation="softmax")])  # fmt: skip
        model.compile(optimizer="rmsprop", loss="categorical_crossentropy")
        model.fit(x, y, epochs=1, verbose=0, name=name, tags=["chapter4", f"units={units}"])
        runs[model.job_id] = name
    found = connected.jobs(tag="chapter4").jobs
    assert {j.id: j.name for j in found[:2]} == runs
    assert found[0].tags == ["chapter4", "units=64"]


def test_arrays_are_uploaded_once_per_content(connected: cornu.Client, worker: Service) -> None:
    x, _ = mnist_like(64)
    posts: list[str] = []

    def record(request: httpx.Request) -> None:
        if request.method == "POST":
            posts.append(request.url.path)

    first = connected.upload(x)
    again = cornu.Client(connected.url, connected._http.headers["Authorization"][7:])
    again._http.event_hooks["request"].append(record)
    with again:
        assert again.upload(x.copy()).id == first.id  # known to the service: not sent
        assert again.upload(x + 1).id != first.id
    assert posts == ["/v1/datasets"]


def test_evaluate_predict_summary_and_weights(
    connected: cornu.Client, worker: Service, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    x, y = mnist_like(128, seed=2)
    cornu.backend.clear_session()  # the names below are Keras's first ones
    model = models.Sequential([Input(shape=(784,)), layers.Dense(32, "relu"), layers.Dense(10)])
    model.summary()
    table = capsys.readouterr().out
    assert "dense (Dense)" in table and "(None, 32)" in table and "25,120" in table
    assert "Total params: 25,450" in table and 'Model: "sequential"' in table

    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    history = model.fit(x, y, epochs=2, validation_split=0.25, verbose=2)
    assert sorted(history.history) == ["loss", "mae", "val_loss", "val_mae"]
    out = capsys.readouterr().out
    assert "3/3 - " in out and "val_mae: " in out  # verbose=2: one line per epoch

    loss, mae = model.evaluate(x, y)
    assert model.evaluate(x, y, return_dict=True) == {"loss": loss, "mae": mae}
    predictions = model.predict(x[:5])
    assert predictions.shape == (5, 10) and predictions.dtype == np.float32

    weights = model.get_weights()  # Keras's order: kernel, bias, per layer
    assert [w.shape for w in weights] == [(784, 32), (32,), (32, 10), (10,)]
    manual = np.maximum(x[:5] @ weights[0] + weights[1], 0) @ weights[2] + weights[3]
    np.testing.assert_allclose(predictions, manual, rtol=1e-4, atol=1e-5)

    model.save_weights(tmp_path / "model.safetensors")
    saved = load_file(tmp_path / "model.safetensors")
    np.testing.assert_array_equal(saved["dense/kernel"], weights[0])

    again = models.model_from_json(model.to_json())
    assert [(w.path, w.shape) for w in again.weights] == [(w.path, w.shape) for w in model.weights]
    assert again.count_params() == model.count_params() == 25_450


def test_callbacks_run_on_the_service(
    connected: cornu.Client, worker: Service, capsys: pytest.CaptureFixture[str]
) -> None:
    x, y = mnist_like(64, seed=3)
    model = models.Sequential([layers.Dense(10, activation="softmax", input_shape=(784,))])
    model.compile(optimizer=optimizers.SGD(0.01), loss="categorical_crossentropy")
    stop = callbacks.EarlyStopping(monitor="loss", min_delta=10.0, patience=1)
    history = model.fit(x, y, epochs=20, callbacks=[stop], verbose=0)
    assert len(history.history["loss"]) == 2  # no epoch improves the loss by 10: patience 1
    assert capsys.readouterr().out == ""  # verbose 0: nothing
    stop = callbacks.EarlyStopping(monitor="loss", min_delta=10.0, patience=1, verbose=1)
    slower = callbacks.ReduceLROnPlateau(monitor="loss", min_delta=10.0, patience=1, verbose=1)
    model.fit(x, y, epochs=20, callbacks=[stop, slower], verbose=2)
    out = capsys.readouterr().out  # what Keras prints for them, from the service
    assert "Epoch 2: ReduceLROnPlateau reducing learning rate to 0.001" in out
    assert "Epoch 2: early stopping" in out


def test_bad_arguments_fail_at_once_as_in_keras() -> None:
    with pytest.raises(cornu.SpecError, match="units"):
        layers.Dense(units=-3)
    with pytest.raises(AttributeError, match="Dense"):
        layers.Dence  # noqa: B018 - a misspelt layer names the right one
    with pytest.raises(TypeError, match="positional"):
        layers.Dense(32, "relu", True, 4)
    with pytest.raises(RuntimeError, match="compile"):
        models.Sequential([layers.Dense(1, input_shape=(2,))]).fit(np.zeros((2, 2)), np.zeros(2))
    model = models.Sequential([layers.Dense(1, input_shape=(2,))])
    model.compile(optimizer="sgd", loss=["mse"], loss_weights=[0.5])
    model.compile(optimizer="adam")  # Keras keeps the loss, with its weights
    assert model._compile is not None and model._compile["loss_weights"] == [0.5]
    with pytest.raises(ValueError, match="batch_size must be a positive integer; got 0"):
        model.fit(np.zeros((2, 2)), np.zeros(2), batch_size=0)
    attention = layers.MultiHeadAttention(num_heads=2, key_dim=4)
    query = layers.Input(shape=(3, 4))
    with pytest.raises(cornu.SpecError):
        attention(query, query, use_causal_mask="often")
    assert "use_causal_mask" not in attention.config  # a refused call changes nothing
    dense = layers.Dense(3)  # Keras's attributes and config hold every argument
    assert dense.use_bias is True and dense.get_config()["kernel_initializer"]
    assert layers.Dense.from_config(dense.get_config()).get_config() == dense.get_config()
    assert model.metrics_names == ["loss"]  # Keras 3: compile's metrics as one entry
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    assert model.metrics_names == ["loss", "compile_metrics"]


def test_a_failed_job_raises_with_its_reason(connected: cornu.Client, worker: Service) -> None:
    x = np.full((32, 4), np.nan, dtype=np.float32)
    model = models.Sequential([layers.Dense(1, input_shape=(4,))])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(cornu.JobFailed, match="failed"):
        model.fit(x, np.zeros(32, dtype=np.float32), epochs=2, verbose=0)


def test_wait_false_returns_the_remote_job(connected: cornu.Client, worker: Service) -> None:
    x, y = mnist_like(64, seed=4)
    model = models.Sequential([layers.Dense(10, activation="softmax", input_shape=(784,))])
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    with pytest.warns(UserWarning, match=r"wait=False\) runs none of your own callbacks"):
        job = model.fit(x, y, epochs=3, wait=False, callbacks=[cornu.callbacks.Callback()])
    assert isinstance(job, cornu.RemoteJob) and model.job_id == job.id
    assert job.wait(timeout_s=120).status == "succeeded"
    assert len(job.history().history["accuracy"]) == 3
    assert model.predict(x[:2]).shape == (2, 10)  # the model is the trained one


def test_a_second_fit_continues_from_the_weights_the_first_left(
    connected: cornu.Client, worker: Service
) -> None:
    x, y = mnist_like(seed=6)
    model = models.Sequential([layers.Dense(32, "relu", input_shape=(784,)), layers.Dense(10)])
    model.compile(optimizer="adam", loss=cornu.losses.CategoricalCrossentropy(from_logits=True))
    first = model.fit(x, y, epochs=3, seed=0, verbose=0)
    second = model.fit(x, y, epochs=1, seed=0, verbose=0)
    assert isinstance(first, cornu.History) and isinstance(second, cornu.History)
    # From new weights the same seed would give first's first loss exactly.
    assert second.history["loss"][0] < first.history["loss"][-1] < first.history["loss"][0]

    running = model.fit(x, y, epochs=2000, verbose=0, wait=False)
    assert isinstance(running, cornu.RemoteJob)
    with pytest.raises(RuntimeError, match=f"last fit \\(job {running.id}\\) is still"):
        model.fit(x, y, epochs=1, verbose=0)
    running.cancel()
    assert running.wait(timeout_s=60).status == "cancelled"
    with pytest.warns(UserWarning, match=f"{running.id} cancelled; the model keeps the weights"):
        third = model.fit(x, y, epochs=1, seed=0, verbose=0)
    assert isinstance(third, cornu.History)
    assert third.history["loss"][0] == pytest.approx(second.history["loss"][-1], rel=0.2)

    # As in Keras, a layer added to a trained model leaves the others' weights as they were.
    trained = [w.copy() for w in model.get_weights()]
    model.add(layers.Dense(10))
    for kept, before in zip(model.get_weights()[:4], trained, strict=True):
        np.testing.assert_array_equal(kept, before)  # the new layer alone gets new weights
    assert [w.shape for w in model.get_weights()[4:]] == [(10, 10), (10,)]
    fourth = model.fit(x, y, epochs=1, verbose=0)
    assert isinstance(fourth, cornu.History) and len(fourth.history["loss"]) == 1


def test_ctrl_c_cancels_the_remote_job(connected: cornu.Client, worker: Service) -> None:
    rng = np.random.default_rng(5)
    x, y = rng.random((2000, 64), dtype=np.float32), rng.integers(0, 10, 2000)
    model = models.Sequential([layers.Dense(64, "relu", input_shape=(64,)), layers.Dense(10)])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")

    def press_ctrl_c() -> None:  # once the job runs, as a person at the terminal would
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            jobs = connected.jobs(limit=1).jobs
            if jobs and jobs[0].status.value == "running":
                os.kill(os.getpid(), signal.SIGINT)
                return
            time.sleep(0.1)

    # Python raises KeyboardInterrupt only where SIGINT was not ignored when it started; a
    # shell ignores it for commands it runs in the background (`make test &`).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    presser = threading.Thread(target=press_ctrl_c)
    presser.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            model.fit(x, y, batch_size=8, epochs=500, verbose=0)
    finally:
        presser.join()
        signal.signal(signal.SIGINT, previous)
    assert model.job_id is not None
    job = connected.wait(model.job_id, timeout_s=30)
    assert job.status.value == "cancelled"


def test_functional_graphs_as_keras_builds_them() -> None:
    """No service needed: the graph becomes a spec on the client, checked there."""
    cornu.backend.clear_session()
    inputs = Input(shape=(8,))
    x = inputs
    for _ in range(40):  # residual blocks: many paths to each tensor, visited once each
        x = layers.Add()([x, layers.Dense(8)(x)])
    deep = models.Model(inputs, x)
    names = [node["name"] for node in deep.model_spec()["layers"]]
    assert names[:2] == ["dense", "add"] and names[-1] == "add_39"

    first, second = layers.Dense(4), layers.Dense(4)  # named in the order they are made
    a, b = first(inputs), second(inputs)
    merged = models.Model(inputs, layers.Concatenate()([b, a]))
    by_name = {node["name"]: node for node in merged.model_spec()["layers"]}
    assert by_name["concatenate"]["inputs"] == ["dense_41", "dense_40"]

    sequence = Input(shape=(10, 3))
    output, state_h, _ = layers.LSTM(5, return_state=True)(sequence)
    states = models.Model(sequence, [output, state_h])
    assert states.output_names == ["lstm", "lstm_1"]  # Keras's names for two outputs
    assert states.model_spec()["outputs"] == ["lstm", "lstm:1"]

    query = Input(shape=(6, 16))
    attended = layers.MultiHeadAttention(2, 8)(query, query)  # Keras's call form
    attention = models.Model(query, attended)
    assert attention.model_spec()["layers"][0]["inputs"] == ["input_layer_2", "input_layer_2"]
    dropped = layers.Dropout(0.5)(query, training=True)  # taken; fit and predict decide
    assert [n["type"] for n in models.Model(query, dropped).model_spec()["layers"]] == ["Dropout"]
    assert "training" not in models.Model(query, dropped).model_spec()["layers"][0]


@pytest.mark.parametrize("file_bytes", [None, "1600"], ids=["as-a-file", "in-parts"])
def test_predict_past_the_services_answer_limit(
    make_stack: Callable[..., Stack], file_bytes: str | None
) -> None:
    """900 numbers, past a JSON answer's 400: the SDK asks for them as an .npy file; when
    that is past its limit too (1600 bytes), in halves until each part fits."""
    limits = {"CORNU_MAX_PREDICT_BYTES": file_bytes} if file_bytes else {}
    stack = make_stack(CORNU_MAX_PREDICT_VALUES="400", **limits)
    with stack.client() as http:
        client = cornu.connect(stack.api_url, http.headers["Authorization"].removeprefix("Bearer "))
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(300, 4)).astype(np.float32), rng.integers(0, 3, 300)
    model = models.Sequential([layers.Dense(3, activation="softmax", input_shape=(4,))])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    with pytest.raises(cornu.PayloadTooLarge):  # 900 numbers in one answer: refused
        client.predict(model.job_id or "", x=client.upload(x).id)

    predictions = model.predict(x)
    kernel, bias = model.get_weights()
    logits = x @ kernel + bias
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert predictions.shape == (300, 3)
    np.testing.assert_allclose(predictions, expected, rtol=1e-4, atol=1e-6)
    client.close()
    # Answer files are objects no record claims (the reaper deletes them in a few hours).
    control = redis.Redis.from_url(stack.redis_url)
    files = [k for k in control.zrange("cornu:blobs:pending", 0, -1) if b"/predictions/" in k]
    control.close()
    assert len(files) == (0 if file_bytes else 1)


def test_keras_io_seq2seq_runs_with_the_import_changed(
    connected: cornu.Client, worker: Service, keras: Any
) -> None:
    """keras.io's character-level seq2seq (an encoder's LSTM states start the decoder's:
    `LSTM(…)(decoder_inputs, initial_state=encoder_states)`), small; the same program
    under Keras builds the same model."""

    def program(k: Any) -> Any:
        encoder_inputs = k.Input(shape=(None, 5))
        _, state_h, state_c = k.layers.LSTM(8, return_state=True)(encoder_inputs)
        decoder_inputs = k.Input(shape=(None, 6))
        decoder = k.layers.LSTM(8, return_sequences=True, return_state=True)
        decoder_outputs, _, _ = decoder(decoder_inputs, initial_state=[state_h, state_c])
        outputs = k.layers.Dense(6, activation="softmax")(decoder_outputs)
        return k.Model([encoder_inputs, decoder_inputs], outputs)

    model, reference = program(cornu), program(keras)
    assert model.count_params() == reference.count_params()
    rng = np.random.default_rng(0)
    x = [rng.normal(size=(16, 7, 5)), rng.normal(size=(16, 4, 6))]
    y = np.eye(6)[rng.integers(0, 6, (16, 4))]
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert model.predict(x, verbose=0).shape == (16, 4, 6)
