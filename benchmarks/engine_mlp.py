"""The engine against a tuned hand-written torch loop on the book's MNIST network.

Dense(512, relu) → Dense(10, softmax), RMSprop, categorical cross-entropy with
one-hot targets and accuracy, batch 128, on 60000×784 float32 generated data (the
book's chapter-2 setup). Both sides keep tensors in memory, batch by index, use the
same threads, and track loss and accuracy on the device; they run alternately and
the median epoch time of each is compared within one run (this machine is noisy).

    python benchmarks/engine_mlp.py [--epochs 2] [--repeats 3] [--threads N]

Prints a Markdown row for benchmarks/README.md; `ratio` is loop time / engine time,
so above 1 the engine is faster. The target is ratio ≥ 0.9.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.engine import Callback, train_job
from core.spec import JobSpec

SAMPLES, FEATURES, CLASSES, BATCH = 60_000, 784, 10, 128


def data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """MNIST-shaped inputs in [0, 1) and one-hot labels from a random linear teacher."""
    rng = np.random.default_rng(seed)
    x = rng.random((SAMPLES, FEATURES), dtype=np.float32)
    labels = (x @ rng.normal(size=(FEATURES, CLASSES)).astype(np.float32)).argmax(axis=1)
    return x, np.eye(CLASSES, dtype=np.float32)[labels]


class EpochTimer(Callback):
    def __init__(self) -> None:
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch: int) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        self.seconds.append(time.perf_counter() - self._start)


def engine_epochs(x: np.ndarray, y: np.ndarray, epochs: int) -> tuple[list[float], float]:
    spec = JobSpec.model_validate(
        {
            "model": {
                "layers": [
                    {
                        "type": "Dense",
                        "units": 512,
                        "activation": "relu",
                        "input_shape": [FEATURES],
                    },
                    {"type": "Dense", "units": CLASSES, "activation": "softmax"},
                ]
            },
            "compile": {
                "optimizer": "rmsprop",
                "loss": "categorical_crossentropy",
                "metrics": ["accuracy"],
            },
            "fit": {"batch_size": BATCH, "epochs": epochs, "seed": 0},
            "data": {"x": "x", "y": "y"},
        }
    )
    timer = EpochTimer()
    result = train_job(spec, {"x": x, "y": y}, callbacks=[timer])
    return timer.seconds, result.history.history["accuracy"][-1]


def loop_epochs(x: np.ndarray, y: np.ndarray, epochs: int) -> tuple[list[float], float]:
    """What a torch expert writes by hand for the same training.

    It may take shortcuts the engine may not: class indices instead of one-hot targets
    for the loss (the fastest form of the same cross-entropy), torch's own layers.
    """
    torch.manual_seed(0)
    xs, ys = torch.from_numpy(x), torch.from_numpy(y).argmax(1)
    model = nn.Sequential(nn.Linear(FEATURES, 512), nn.ReLU(), nn.Linear(512, CLASSES))
    optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7, foreach=True)
    generator = torch.Generator().manual_seed(0)
    seconds, accuracy = [], 0.0
    for _ in range(epochs):
        start = time.perf_counter()
        model.train()
        order = torch.randperm(SAMPLES, generator=generator)
        loss_sum = torch.zeros(())
        correct = torch.zeros(())
        for i in range(0, SAMPLES, BATCH):
            index = order[i : i + BATCH]
            xb, yb = xs.index_select(0, index), ys.index_select(0, index)
            optimizer.zero_grad(set_to_none=True)
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            loss.backward()
            optimizer.step()
            loss_sum += loss.detach() * len(index)
            correct += (logits.detach().argmax(1) == yb).sum()
        _ = loss_sum.item() / SAMPLES
        accuracy = correct.item() / SAMPLES
        seconds.append(time.perf_counter() - start)
    return seconds, accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    x, y = data()
    engine, loop = [], []
    accuracy = {}
    for _ in range(args.repeats):  # alternate, so drift in machine load hits both
        seconds, accuracy["engine"] = engine_epochs(x, y, args.epochs)
        engine += seconds
        seconds, accuracy["loop"] = loop_epochs(x, y, args.epochs)
        loop += seconds
    engine_s, loop_s = statistics.median(engine), statistics.median(loop)
    result = {
        "engine_epoch_s": round(engine_s, 3),
        "loop_epoch_s": round(loop_s, 3),
        "ratio": round(loop_s / engine_s, 3),
        "engine_accuracy": round(accuracy["engine"], 4),
        "loop_accuracy": round(accuracy["loop"], 4),
        "threads": args.threads,
        "epochs": args.epochs,
        "repeats": args.repeats,
        "torch": torch.__version__,
        "cpu": platform.processor() or platform.machine(),
    }
    print(json.dumps(result))
    cells = [
        time.strftime("%Y-%m-%d"),
        f"{result['engine_epoch_s']} s",
        f"{result['loop_epoch_s']} s",
        f"**{result['ratio']}×**",
        str(args.threads),
        f"torch {torch.__version__}",
    ]
    print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
