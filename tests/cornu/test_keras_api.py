"""What Keras users write, against the live stack, with Keras 3.15 itself as the reference
where it has one: Keras's files both ways, the user's callbacks on the live stream,
data as generators and PyDatasets, and the weights of layers."""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import cornu
import cornu as keras
from cornu import layers
from tests.conftest import Service


@pytest.fixture
def connected(api_url: str, new_api_key: Callable[[], str]) -> Iterator[cornu.Client]:
    client = cornu.connect(api_url, new_api_key())
    yield client
    client.close()


@pytest.fixture(scope="module")
def real_keras() -> Any:
    os.environ["KERAS_BACKEND"] = "torch"
    import keras as real

    return real


def classifier() -> keras.Sequential:
    model = keras.Sequential(
        [
            keras.Input(shape=(6,)),
            layers.Dense(16, activation="relu"),
            layers.BatchNormalization(),
            layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def blobs(n: int = 96, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.normal(size=(n, 6)).astype(np.float32) + 2 * np.eye(3, 6, dtype=np.float32)[y]
    return x, y


def test_a_saved_keras_file_loads_in_keras_and_predicts_what_the_service_predicts(
    connected: cornu.Client,
    worker: Service,
    tmp_path: Path,
    real_keras: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    x, y = blobs()
    model = classifier()
    model.fit(x, y, epochs=3, verbose=0)
    served = model.predict(x[:16], verbose=0)
    model.evaluate(x, y, batch_size=32)  # verbose "auto": Keras's bar, once, when done
    assert "3/3 ━━━━━━━━━━━━━━━━━━━━" in capsys.readouterr().out
    for name in ("m.keras", "m.h5"):
        model.save(tmp_path / name)
        theirs = real_keras.models.load_model(tmp_path / name)
        np.testing.assert_allclose(theirs.predict(x[:16], verbose=0), served, atol=1e-5)
    model.save_weights(tmp_path / "m.weights.h5")
    rebuilt = real_keras.Sequential(
        [
            real_keras.Input(shape=(6,)),
            real_keras.layers.Dense(16, activation="relu"),
            real_keras.layers.BatchNormalization(),
            real_keras.layers.Dense(3, activation="softmax"),
        ]
    )
    rebuilt.load_weights(tmp_path / "m.weights.h5")
    np.testing.assert_allclose(rebuilt.predict(x[:16], verbose=0), served, atol=1e-5)


def test_load_weights_finds_a_keras_file_s_weights_by_structure_not_names(
    connected: cornu.Client, tmp_path: Path, real_keras: Any
) -> None:
    theirs = real_keras.Sequential(
        [
            real_keras.Input(shape=(6,)),
            real_keras.layers.Dense(4, name="first"),
            real_keras.layers.Dense(2, name="second"),
        ]
    )
    ours = keras.Sequential([keras.Input(shape=(6,)), layers.Dense(4), layers.Dense(2)])
    theirs.save(tmp_path / "theirs.keras")
    theirs.save_weights(tmp_path / "theirs.weights.h5")
    for name in ("theirs.keras", "theirs.weights.h5"):
        ours.load_weights(tmp_path / name)
        for mine, keras_s in zip(ours.get_weights(), theirs.get_weights(), strict=True):
            np.testing.assert_array_equal(mine, keras_s)


def test_a_model_keras_saved_loads_predicts_and_trains_on_the_service(
    connected: cornu.Client, worker: Service, tmp_path: Path, real_keras: Any
) -> None:
    x, y = blobs(seed=1)
    theirs = real_keras.Sequential(
        [
            real_keras.Input(shape=(6,)),
            real_keras.layers.Dense(8, activation="tanh"),
            real_keras.layers.Dense(3, activation="softmax"),
        ]
    )
    theirs.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["acc"])
    theirs.fit(x, y, epochs=2, verbose=0)
    theirs.save(tmp_path / "keras.keras")

    loaded = keras.models.load_model(tmp_path / "keras.keras")
    assert loaded.loss == "sparse_categorical_crossentropy"
    for mine, keras_s in zip(loaded.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, keras_s)
    np.testing.assert_allclose(
        loaded.predict(x[:8], verbose=0), theirs.predict(x[:8], verbose=0), atol=1e-5
    )
    keras_loss = theirs.evaluate(x, y, verbose=0)[0]
    assert loaded.evaluate(x, y, verbose=0)[0] == pytest.approx(keras_loss, rel=1e-4)
    history = loaded.fit(x, y, epochs=2, verbose=0)  # compiled as Keras saved it
    assert sorted(history.history) == ["acc", "loss"] and len(history.history["loss"]) == 2
    trained = loaded.get_weights()  # it trained on the service, from Keras's weights
    assert not np.allclose(trained[0], theirs.get_weights()[0])
    assert loaded.evaluate(x, y, verbose=0)[0] < keras_loss


class Recorder(keras.callbacks.Callback):
    def __init__(self, stop_after: int | None = None) -> None:
        super().__init__()
        self.seen: list[tuple[int, dict[str, float]]] = []
        self.stop_after = stop_after
        self.weights_seen: list[np.ndarray] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self.seen.append((epoch, dict(logs or {})))
        self.weights_seen.append(self.model.get_weights()[0].copy())
        if self.stop_after is not None and epoch + 1 >= self.stop_after:
            self.model.stop_training = True


def test_a_users_callback_sees_every_epochs_logs_and_stops_the_job_after_that_epoch(
    connected: cornu.Client, worker: Service
) -> None:
    x, y = blobs(seed=2)
    model = classifier()
    recorder = Recorder(stop_after=3)
    history = model.fit(
        x, y, batch_size=24, epochs=50, validation_split=0.25, verbose=0, callbacks=[recorder]
    )
    assert history.params["steps"] == 3  # Keras: 72 of the 96 samples train, 24 a batch
    job = connected.job(history.params["job"])
    assert job.status.value == "succeeded" and job.epoch == 3  # Keras's stop: a success
    metrics = connected.metrics(job.id).epochs
    assert [epoch for epoch, _ in recorder.seen] == [0, 1, 2]
    for (_, logs), served in zip(recorder.seen, metrics, strict=True):
        assert set(logs) == {"loss", "accuracy", "val_loss", "val_accuracy"}
        assert logs == served.model_extra
    # get_weights inside the callback: that epoch's weights; the model ends with the last.
    assert not np.array_equal(recorder.weights_seen[0], recorder.weights_seen[2])
    np.testing.assert_array_equal(model.get_weights()[0], recorder.weights_seen[2])


class Probe(keras.callbacks.Callback):
    """Reads the weights thrice an epoch and predicts with a model of the hidden layer."""

    def __init__(self, x: np.ndarray) -> None:
        super().__init__()
        self.x = x
        self.checks: list[tuple[np.ndarray, np.ndarray]] = []

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        hidden = self.model.get_layer("hidden")
        for _ in range(2):
            self.model.get_weights()
        kernel, bias = hidden.get_weights()
        features = keras.Model(self.model.inputs, hidden.output)
        expected = np.maximum(self.x @ kernel + bias, 0)
        self.checks.append((features.predict(self.x, verbose=0), expected))


def test_a_callback_reads_each_epochs_weights_once_and_models_of_its_layers_use_them(
    connected: cornu.Client, worker: Service
) -> None:
    x, y = blobs(seed=4)
    inputs = keras.Input(shape=(6,))
    hidden = layers.Dense(8, activation="relu", name="hidden")(inputs)
    model = keras.Model(inputs, layers.Dense(3, activation="softmax")(hidden))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    reads: list[str] = []
    connected._http.event_hooks["request"].append(
        lambda request: (
            reads.append(request.url.path) if request.url.params.get("checkpoint") else None
        )
    )
    probe = Probe(x[:5])
    model.fit(x, y, epochs=3, verbose=0, callbacks=[probe])
    assert len(probe.checks) == 3
    for predicted, expected in probe.checks:  # that epoch's weights, not fresh ones
        np.testing.assert_allclose(predicted, expected, rtol=1e-5, atol=1e-6)
    assert not np.allclose(probe.checks[0][1], probe.checks[2][1])
    assert len(reads) == 3  # one download of the checkpoint per epoch


class RateSetter(keras.callbacks.Callback):
    """Sets the rate before training (Keras 3's way) and after the first epoch (Keras 2's)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[float] = []

    def on_train_begin(self, logs: Any = None) -> None:
        self.model.optimizer.learning_rate = 0.1

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        self.seen.append(float(self.model.optimizer.learning_rate))
        if epoch == 0:
            keras.backend.set_value(self.model.optimizer.lr, np.float32(0.02))


def test_the_learning_rate_set_before_fit_and_by_callbacks_is_the_one_trained_with(
    connected: cornu.Client, worker: Service
) -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(8, 3)).astype(np.float32)
    y = rng.normal(size=(8, 1)).astype(np.float32)
    model = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(1, use_bias=False)])
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
    model.set_weights([np.zeros((3, 1), np.float32)])
    model.optimizer.learning_rate = 0.05  # after compile, before fit: Keras trains with it
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    w = np.zeros((3, 1))
    for rate in (0.05,):  # one step of SGD on the mean squared error, by hand
        w = w - rate * 2 / len(x) * x.T @ (x @ w - y)
    np.testing.assert_allclose(model.get_weights()[0], w, rtol=1e-4)
    setter = RateSetter()
    model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0, callbacks=[setter])
    for rate in (0.1, 0.02):
        w = w - rate * 2 / len(x) * x.T @ (x @ w - y)
    np.testing.assert_allclose(model.get_weights()[0], w, rtol=1e-4)
    assert setter.seen == pytest.approx([0.1, 0.02])
    assert float(model.optimizer.learning_rate) == pytest.approx(0.02)


def test_training_given_at_a_call_yields_to_fit_and_predict_as_in_keras_3(
    connected: cornu.Client, worker: Service, real_keras: Any
) -> None:
    x = np.random.default_rng(6).normal(3, 1, (64, 4)).astype(np.float32)

    def build(k: Any) -> tuple[Any, Any]:
        base = k.Sequential([k.Input(shape=(4,)), k.layers.BatchNormalization()])
        inputs = k.Input(shape=(4,))
        hidden = k.layers.Dropout(0.5)(base(inputs, training=False), training=True)
        model = k.Model(inputs, k.layers.Dense(1)(hidden))
        model.compile(optimizer="sgd", loss="mse")
        model.fit(x, x[:, :1], batch_size=32, epochs=1, shuffle=False, verbose=0)
        return base, model

    theirs, keras_model = build(real_keras)
    ours, model = build(keras)
    # fit trains the base's BatchNormalization (its moving mean moves) despite
    # training=False; predict drops nothing despite training=True (keras-team/keras#20285).
    np.testing.assert_allclose(
        ours.layers[0].get_weights()[2], theirs.layers[0].moving_mean.numpy(), rtol=1e-5
    )
    keras_model.set_weights(model.get_weights())
    np.testing.assert_allclose(
        model.predict(x[:8], verbose=0), keras_model.predict(x[:8], verbose=0), atol=1e-5
    )


def test_learning_rate_scheduler_gives_keras_s_rates_and_trains_with_them(
    connected: cornu.Client, worker: Service, real_keras: Any
) -> None:
    def schedule(epoch: int, lr: float) -> float:
        return lr if epoch < 2 else lr * float(np.exp(-0.3))

    rng = np.random.default_rng(3)
    x = rng.normal(size=(16, 3)).astype(np.float32)
    y = rng.normal(size=(16, 1)).astype(np.float32)

    def train(k: Any, model: Any) -> tuple[Any, Any]:
        model.compile(optimizer=k.optimizers.SGD(0.1), loss="mse")
        model.set_weights([np.zeros((3, 1), np.float32)])
        scheduler = k.callbacks.LearningRateScheduler(schedule)
        history = model.fit(
            x, y, batch_size=16, epochs=5, shuffle=False, verbose=0, callbacks=[scheduler]
        )
        return history, model.get_weights()[0]

    ours = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(1, use_bias=False)])
    theirs = real_keras.Sequential(
        [real_keras.Input(shape=(3,)), real_keras.layers.Dense(1, use_bias=False)]
    )
    history, trained = train(keras, ours)
    keras_history, keras_trained = train(real_keras, theirs)
    assert history.history["learning_rate"] == keras_history.history["learning_rate"]
    np.testing.assert_allclose(trained, keras_trained, rtol=1e-5)  # the steps took those rates


def test_a_scheduler_from_initial_epoch_starts_its_schedule_there() -> None:
    halving = keras.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5)
    # Keras calls schedule(2, 1.0) at epoch 2 first; epochs 0 and 1 are not trained.
    assert halving.table(1.0, 4, initial_epoch=2) == [1.0, 1.0, 0.5, 0.25]


def test_csv_logger_and_tensorboard_write_their_files_here(
    connected: cornu.Client, worker: Service, tmp_path: Path
) -> None:
    x, y = blobs(seed=4)
    model = classifier()
    log = tmp_path / "log.csv"
    board = tmp_path / "board"
    model.fit(
        x,
        y,
        epochs=3,
        validation_split=0.25,
        verbose=0,
        callbacks=[keras.callbacks.CSVLogger(log), keras.callbacks.TensorBoard(board)],
    )
    rows = list(csv.DictReader(log.open()))
    assert [row["epoch"] for row in rows] == ["0", "1", "2"]
    assert set(rows[0]) == {"epoch", "accuracy", "loss", "val_accuracy", "val_loss"}
    assert list((board / "train").glob("events.out.tfevents.*"))
    assert list((board / "validation").glob("events.out.tfevents.*"))


def test_a_generator_of_fresh_random_windows_trains_on_each_epochs_own_batches(
    connected: cornu.Client, worker: Service
) -> None:
    rng = np.random.default_rng(5)
    drawn: list[np.ndarray] = []

    def windows() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        while True:  # the book's Jena generator: random windows, for ever
            x = rng.normal(size=(16, 6)).astype(np.float32)
            drawn.append(x)
            yield x, rng.integers(0, 3, 16)

    model = classifier()
    history = model.fit(windows(), steps_per_epoch=4, epochs=3, verbose=0)
    assert len(history.history["loss"]) == 3 and history.params["steps"] == 4
    assert len(drawn) == 12  # steps_per_epoch × epochs, each batch once, as Keras draws them
    assert len({a.tobytes() for a in drawn}) == 12


class Batches(keras.utils.PyDataset):
    def __init__(self, x: np.ndarray, y: np.ndarray, size: int) -> None:
        super().__init__()
        self.x, self.y, self.size = x, y, size

    def __len__(self) -> int:
        return -(-len(self.x) // self.size)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        part = slice(index * self.size, (index + 1) * self.size)
        return self.x[part], self.y[part]


def test_a_pydataset_and_keras_2_fit_generator_train(
    connected: cornu.Client, worker: Service
) -> None:
    x, y = blobs(100, seed=6)
    model = classifier()
    history = model.fit(Batches(x, y, 32), epochs=2, validation_data=Batches(x, y, 50), verbose=0)
    assert history.params["steps"] == 4 and len(history.history["val_loss"]) == 2
    with pytest.warns(UserWarning, match="nb_epoch"):
        again = model.fit(x, y, nb_epoch=1, verbose=0)  # Keras 1's name, accepted with a warning
    assert len(again.history["loss"]) == 1
    legacy = model.fit_generator(Batches(x, y, 25), steps_per_epoch=4, epochs=1, verbose=0)
    assert len(legacy.history["loss"]) == 1
    drawn_loss = model.evaluate(Batches(x, y, 50), verbose=0)[0]
    assert drawn_loss == pytest.approx(model.evaluate(x, y, batch_size=50, verbose=0)[0])


def test_set_weights_and_layer_weights_reach_the_service(
    connected: cornu.Client, worker: Service
) -> None:
    inputs = keras.Input(shape=(3,))
    dense = layers.Dense(2)
    model = keras.Model(inputs, dense(inputs))
    kernel = np.arange(6, dtype=np.float32).reshape(3, 2)
    dense.set_weights([kernel, np.array([1.0, -1.0], dtype=np.float32)])
    x = np.array([[1.0, 0.0, 2.0]], dtype=np.float32)
    np.testing.assert_allclose(model.predict(x, verbose=0), x @ kernel + [1.0, -1.0])
    assert [w.shape for w in model.weights] == [(3, 2), (2,)]
    assert [w.path for w in model.trainable_weights] == [
        f"{dense.name}/kernel",
        f"{dense.name}/bias",
    ]
    assert dense.units == 2 and dense.kernel.path == f"{dense.name}/kernel"  # Keras's attributes
    dense.kernel.assign(2 * kernel)
    np.testing.assert_array_equal(dense.kernel.numpy(), 2 * kernel)
    dense.kernel.assign(kernel)
    with pytest.raises(AttributeError, match="has no attribute 'recurrent_kernel'"):
        dense.recurrent_kernel  # noqa: B018
    dense.trainable = False
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, np.zeros((1, 2)), epochs=2, verbose=0)  # frozen: nothing changes
    np.testing.assert_array_equal(dense.get_weights()[0], kernel)
    np.testing.assert_allclose(dense(x), x @ kernel + [1.0, -1.0])  # eager call: predicts


def test_what_never_runs_on_the_service_says_so() -> None:
    with pytest.raises(cornu.NotSupported, match="never runs your Python code"):
        layers.Lambda(lambda t: t * 2)

    class Doubling(keras.Model):
        def call(self, inputs: Any) -> Any:
            return inputs * 2

    with pytest.raises(cornu.NotSupported, match="functional API"):
        Doubling()
    model = keras.Sequential([keras.Input((2,)), layers.Dense(1)])
    with pytest.raises(cornu.NotSupported, match="never runs"):
        model.compile(optimizer="sgd", loss=lambda a, b: (a - b) ** 2)
    with pytest.raises(cornu.NotSupported, match="never runs"):
        keras.ops.mean(keras.Input((2,)))
    assert keras.ops.exp(0.0) == 1.0  # on numbers, ops compute here


def test_nothing_at_the_url_says_to_start_the_service(unused_port: int) -> None:
    client = cornu.connect(f"http://127.0.0.1:{unused_port}", "key")
    model = keras.Sequential([keras.Input((2,)), layers.Dense(1)])
    with pytest.raises(cornu.ServiceUnavailable, match="is `cornu up` running"):
        model.summary()
    client.close()


@pytest.fixture
def unused_port() -> int:
    from cornu.core.embedded import free_port

    return free_port()


def test_compile_sends_jit_compile_and_steps_per_execution_when_asked() -> None:
    """Keras 3 on torch: `jit_compile=True` is torch.compile on the worker, and
    `steps_per_execution` spaces batch callbacks; left at Keras's defaults they stay out
    of the job's body."""
    from cornu.core.spec import CompileSpec

    model = keras.Sequential([keras.Input((4,)), layers.Dense(2)])
    model.compile(loss="mse")
    assert "jit_compile" not in model._compile_now()
    model.compile(loss="mse", jit_compile=True, steps_per_execution=8)
    sent = model._compile_now()
    assert sent["jit_compile"] is True and sent["steps_per_execution"] == 8
    assert CompileSpec.model_validate(sent).steps_per_execution == 8
