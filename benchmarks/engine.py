"""The engine against tuned hand-written torch loops (and, optionally, Keras 3).

Four workloads, each trained by Cornu's engine (`core.engine.train_job`, the code a
worker runs) and by what a torch expert writes by hand — same data in memory, index
batching, same threads, same optimizer hyperparameters — alternately, comparing the
median epoch time within one run (this machine is noisy):

  mlp      the book's MNIST MLP: Dense(512, relu) → Dense(10, softmax), RMSprop,
           categorical cross-entropy + accuracy, 60000×784, batch 128
  convnet  Conv2D(32, 3) → MaxPool → Conv2D(64, 3) → MaxPool → Flatten → Dense(10),
           28×28×1, batch 64
  lstm     Embedding(10000, 32) → LSTM(32) → Dense(1, sigmoid), length-200 sequences,
           batch 128
  tiny     Dense(1) on 4 features, batch 32: per-step overhead

    .venv/bin/python benchmarks/engine.py [--workloads mlp,convnet,lstm,tiny] [--repeats 3]
    .venv/bin/python benchmarks/engine.py --device cuda --compiled   # on a GPU (gpu-check)
    KERAS_BACKEND=torch /tmp/kerasref/bin/python benchmarks/engine.py --keras

`ratio` is loop time / engine time (above 1: the engine is faster); the target is
≥ 0.95 on each. `--device cuda` runs both on the GPU; `--compiled` also times the loop
with its model under `torch.compile` (`compiled_ratio`).
 With `--keras` the script times Keras 3's `fit` instead of the engine
(run it in a venv with Keras; Cornu need not be installed there).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class Workload:
    name: str
    samples: int
    batch_size: int
    data: Callable[[], tuple[np.ndarray, np.ndarray]]
    layers: list[dict[str, Any]]
    loss: str
    metrics: list[str]
    loop: Callable[[np.ndarray, np.ndarray, int, int], list[float]]


def mnist_like(n: int, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.random((n, *shape), dtype=np.float32)
    labels = (x.reshape(n, -1) @ rng.normal(size=(x[0].size, 10)).astype(np.float32)).argmax(1)
    return x, np.eye(10, dtype=np.float32)[labels]


def sequences(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.integers(1, 10_000, (n, 200))
    return x, (x[:, :20].mean(axis=1) > 5000).astype(np.float32)


def regression(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    return x, (x @ np.array([1.0, -2.0, 0.5, 3.0], dtype=np.float32))[:, None]


# Where the loops run and whether their model is compiled (set from the command line).
LOOP = {"device": torch.device("cpu"), "compiled": False}


def rmsprop(model: nn.Module) -> torch.optim.Optimizer:
    # Keras's RMSprop defaults in torch's terms (torch puts epsilon outside the root).
    return torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7, foreach=True)


def run_loop(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    batch_size: int,
    epochs: int,
    accuracy: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
) -> list[float]:
    """The tuned loop: in-memory tensors, index batching, sums kept on the device."""
    device = LOOP["device"]
    model, x, y = model.to(device), x.to(device), y.to(device)
    optimizer = rmsprop(model)
    if LOOP["compiled"]:
        model = torch.compile(model)  # type: ignore[assignment]
    generator = torch.Generator().manual_seed(0)
    seconds = []
    for _ in range(epochs):
        start = time.perf_counter()
        model.train()
        order = torch.randperm(x.shape[0], generator=generator).to(device)
        loss_sum, hits = torch.zeros((), device=device), torch.zeros((), device=device)
        for i in range(0, x.shape[0], batch_size):
            index = order[i : i + batch_size]
            xb, yb = x.index_select(0, index), y.index_select(0, index)
            optimizer.zero_grad(set_to_none=True)
            out = model(xb)
            loss = loss_fn(out, yb)
            loss.backward()
            optimizer.step()
            loss_sum += loss.detach() * len(index)
            if accuracy is not None:
                hits += accuracy(out.detach(), yb)
        _ = (loss_sum.item(), hits.item())
        seconds.append(time.perf_counter() - start)
    return seconds


def mlp_loop(x: np.ndarray, y: np.ndarray, batch_size: int, epochs: int) -> list[float]:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 10))
    labels = torch.from_numpy(y).argmax(1)  # class indices: the fastest form of the same loss
    return run_loop(model, torch.from_numpy(x), labels, F.cross_entropy, batch_size, epochs,
                    lambda out, yb: (out.argmax(1) == yb).sum())  # fmt: skip


def convnet_loop(x: np.ndarray, y: np.ndarray, batch_size: int, epochs: int) -> list[float]:
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(1600, 10),
    )  # fmt: skip
    images = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()  # torch's native NCHW
    labels = torch.from_numpy(y).argmax(1)
    return run_loop(model, images, labels, F.cross_entropy, batch_size, epochs,
                    lambda out, yb: (out.argmax(1) == yb).sum())  # fmt: skip


class LSTMClassifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(10_000, 32)
        self.lstm = nn.LSTM(32, 32, batch_first=True)
        self.head = nn.Linear(32, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, (h, _) = self.lstm(self.embedding(x))
        return self.head(h[-1])


def lstm_loop(x: np.ndarray, y: np.ndarray, batch_size: int, epochs: int) -> list[float]:
    torch.manual_seed(0)
    return run_loop(LSTMClassifier(), torch.from_numpy(x), torch.from_numpy(y)[:, None],
                    F.binary_cross_entropy_with_logits, batch_size, epochs,
                    lambda out, yb: ((out > 0).float() == yb).sum())  # fmt: skip


def tiny_loop(x: np.ndarray, y: np.ndarray, batch_size: int, epochs: int) -> list[float]:
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    return run_loop(model, torch.from_numpy(x), torch.from_numpy(y), F.mse_loss, batch_size, epochs)


def dense(units: int, activation: str | None = None, **more: Any) -> dict[str, Any]:
    return {"type": "Dense", "units": units, "activation": activation, **more}


CONVNET = [
    {
        "type": "Conv2D",
        "filters": 32,
        "kernel_size": 3,
        "activation": "relu",
        "input_shape": [28, 28, 1],
    },
    {"type": "MaxPooling2D", "pool_size": 2},
    {"type": "Conv2D", "filters": 64, "kernel_size": 3, "activation": "relu"},
    {"type": "MaxPooling2D", "pool_size": 2},
    {"type": "Flatten"},
    dense(10, "softmax"),
]
LSTM = [
    {"type": "Embedding", "input_dim": 10_000, "output_dim": 32, "input_shape": [200]},
    {"type": "LSTM", "units": 32},
    dense(1, "sigmoid"),
]
WORKLOADS = {
    w.name: w
    for w in (
        Workload(
            "mlp", 60_000, 128, lambda: mnist_like(60_000, (784,)),
            [dense(512, "relu", input_shape=[784]), dense(10, "softmax")],
            "categorical_crossentropy", ["accuracy"], mlp_loop,
        ),
        Workload(
            "convnet", 6_000, 64, lambda: mnist_like(6_000, (28, 28, 1)), CONVNET,
            "categorical_crossentropy", ["accuracy"], convnet_loop,
        ),
        Workload(
            "lstm", 5_000, 128, lambda: sequences(5_000), LSTM,
            "binary_crossentropy", ["accuracy"], lstm_loop,
        ),
        Workload(
            "tiny", 20_000, 32, lambda: regression(20_000), [dense(1, input_shape=[4])],
            "mse", [], tiny_loop,
        ),
    )
}  # fmt: skip


def engine_epochs(w: Workload, x: np.ndarray, y: np.ndarray, epochs: int) -> list[float]:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from cornu.core.engine import Callback, train_job
    from cornu.core.spec import JobSpec

    class Timer(Callback):
        seconds: list[float] = []

        def on_epoch_begin(self, epoch: int) -> None:
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
            self.seconds.append(time.perf_counter() - self.start)

    spec = JobSpec.model_validate(
        {
            "model": {"layers": w.layers},
            "compile": {"optimizer": "rmsprop", "loss": w.loss, "metrics": w.metrics},
            "fit": {"batch_size": w.batch_size, "epochs": epochs, "seed": 0},
            "data": {"x": "x", "y": "y"},
        }
    )
    timer = Timer()
    timer.seconds = []
    train_job(spec, {"x": x, "y": y}, callbacks=[timer], device=LOOP["device"])
    return timer.seconds


def keras_epochs(w: Workload, x: np.ndarray, y: np.ndarray, epochs: int) -> list[float]:
    import keras

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            seconds.append(time.perf_counter() - self.start)

    keras.utils.set_random_seed(0)
    layers = [keras.Input(shape=tuple(w.layers[0]["input_shape"]))]
    for spec in w.layers:
        args = {k: v for k, v in spec.items() if k not in ("type", "input_shape")}
        layers.append(getattr(keras.layers, spec["type"])(**args))
    model = keras.Sequential(layers)
    model.compile(optimizer="rmsprop", loss=w.loss, metrics=w.metrics)
    seconds: list[float] = []
    model.fit(x, y, batch_size=w.batch_size, epochs=epochs, verbose=0, callbacks=[Timer()])
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default="mlp,convnet,lstm,tiny")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--keras", action="store_true", help="time Keras 3 instead of the engine")
    parser.add_argument("--device", default="cpu", help="cpu, or cuda for a GPU")
    parser.add_argument("--compiled", action="store_true", help="also a torch.compile loop")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    LOOP["device"] = torch.device(args.device)
    measured = keras_epochs if args.keras else engine_epochs
    label = "keras" if args.keras else "engine"
    rows = []
    for name in args.workloads.split(","):
        w = WORKLOADS[name]
        x, y = w.data()
        skip = 1 if args.epochs > 1 else 0  # the first epoch warms caches up
        ours, loop, compiled = [], [], []
        for _ in range(args.repeats):  # alternate, so drift in machine load hits both
            ours += measured(w, x, y, args.epochs)[skip:]
            loop += w.loop(x, y, w.batch_size, args.epochs)[skip:]
            if args.compiled:
                LOOP["compiled"] = True
                compiled += w.loop(x, y, w.batch_size, args.epochs)[skip:]
                LOOP["compiled"] = False
        ours_s, loop_s = statistics.median(ours), statistics.median(loop)
        row = {
            "workload": name,
            f"{label}_epoch_s": round(ours_s, 4),
            "loop_epoch_s": round(loop_s, 4),
            "ratio": round(loop_s / ours_s, 3),
            "threads": args.threads,
            "device": args.device,
        }
        if compiled:
            row["compiled_loop_epoch_s"] = round(statistics.median(compiled), 4)
            row["compiled_ratio"] = round(statistics.median(compiled) / ours_s, 3)
        rows.append(row)
        print(json.dumps(row), flush=True)
    print(f"\n| workload | {label} epoch | loop epoch | ratio (loop / {label}) | "
          f"compiled loop | ratio (compiled / {label}) |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for r in rows:
        ours_s, loop_s = r[f"{label}_epoch_s"], r["loop_epoch_s"]
        more = (
            f"{r['compiled_loop_epoch_s']} s | **{r['compiled_ratio']}×**" if compiled else "— | —"
        )
        print(f"| {r['workload']} | {ours_s} s | {loop_s} s | **{r['ratio']}×** | {more} |")


if __name__ == "__main__":
    main()
