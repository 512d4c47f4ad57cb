"""A study's trials in parallel: wall time of a 12-trial random search on two workers
against the same trials one after another on one worker (issue 12: ≤ 0.6×).

For each setting, a fresh Redis, API and workers (`cornu api`, `cornu worker`, one torch
thread each) on free loopback ports; one tenant; a classification task (65,536 samples
of 32 features by default: a few tenths of a second an epoch); a study of 12 trials
(units and learning rate drawn at random with the same seed, so both settings train the
same 12 models) of 3-epoch jobs. The figure is the time from `POST /v1/studies` to the
study's `completed`, and the ratio of the two.

    .venv/bin/python benchmarks/studies.py [--trials 12] [--epochs 3] [--samples 65536]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cornu.core.embedded import free_port  # noqa: E402
from cornu.core.store import Store  # noqa: E402
from tests.conftest import (  # noqa: E402
    Service,
    start_api,
    start_redis_server,
    start_worker,
)
from tests.helpers import upload  # noqa: E402


def study_spec(x: str, y: str, trials: int, epochs: int, parallel: int) -> dict[str, Any]:
    job = {
        "model": {"layers": [
            {"type": "Dense", "units": {"$hp": "units"}, "activation": "relu",
             "input_shape": [32]},
            {"type": "Dense", "units": 4, "activation": "softmax"}]},
        "compile": {"optimizer": {"type": "Adam", "learning_rate": {"$hp": "lr"}},
                    "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
        "fit": {"epochs": epochs, "batch_size": 32, "validation_split": 0.2, "seed": 0},
        "data": {"x": x, "y": y},
    }  # fmt: skip
    return {
        "objective": {"name": "val_accuracy", "direction": "max"},
        "space": [
            {"type": "int", "name": "units", "min_value": 32, "max_value": 128, "step": 32},
            {
                "type": "float",
                "name": "lr",
                "min_value": 1e-4,
                "max_value": 1e-2,
                "sampling": "log",
            },
        ],  # fmt: skip
        "templates": [{"job": job}],
        "algorithm": {"sampler": "random", "seed": 11},
        "max_trials": trials,
        "max_parallel": parallel,
    }


def run(workers: int, trials: int, epochs: int, samples: int, root: Path) -> tuple[float, int]:
    """Seconds from submitting the study to its end, and the epochs its trials trained."""
    directory = root / f"workers-{workers}"
    port = free_port()
    env = {
        "CORNU_REDIS_URL": f"redis://127.0.0.1:{port}/0",
        "CORNU_HOME": str(directory / "home"),
        "CORNU_DEVICE": "cpu",
        "OMP_NUM_THREADS": "1",
    }
    services: list[Service] = [start_redis_server(directory / "redis", port)]
    try:
        api_port = free_port()
        services.append(start_api(env, directory / "api.log", api_port))
        services += [start_worker(env, directory / f"worker-{i}.log") for i in range(workers)]
        store = Store.from_url(env["CORNU_REDIS_URL"])
        key = store.tenants.create_key("bench")
        store.close()
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{api_port}", headers=headers,
                          timeout=60) as http:  # fmt: skip
            rng = np.random.default_rng(0)
            features = rng.normal(size=(samples, 32)).astype("float32")
            x, y = upload(http, features), upload(http, features[:, :4].argmax(axis=1))
            started = time.perf_counter()
            created = http.post("/v1/studies", json=study_spec(x, y, trials, epochs, workers))
            created.raise_for_status()
            study_id = created.json()["id"]
            while (study := http.get(f"/v1/studies/{study_id}").json())["status"] == "running":
                time.sleep(0.1)
            seconds = time.perf_counter() - started
        if study["status"] != "completed":
            raise RuntimeError(f"the study ended {study['status']}: {study.get('error')}")
        return seconds, int(study["epochs"])
    finally:
        for service in reversed(services):
            service.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--samples", type=int, default=65536)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cornu-bench-studies-") as tmp:
        one, epochs_one = run(1, args.trials, args.epochs, args.samples, Path(tmp))
        two, epochs_two = run(2, args.trials, args.epochs, args.samples, Path(tmp))
    assert epochs_one == epochs_two == args.trials * args.epochs
    print(f"{args.trials} trials × {args.epochs} epochs of {args.samples} samples")
    print(f"one worker, one trial at a time:   {one:6.1f} s")
    print(f"two workers, two trials at a time: {two:6.1f} s")
    print(f"ratio: {two / one:.2f}×")


if __name__ == "__main__":
    main()
