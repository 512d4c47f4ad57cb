"""Jobs per hour on one worker host with 1 job slot and with 4 (`cornu worker --slots`).

Starts Redis and `cornu api`, then, for each slot count, a worker with that many slots;
submits `--jobs` book-sized jobs at once (chapter 4's IMDB classifier: Dense(16, relu) →
Dense(16, relu) → Dense(1, sigmoid), RMSprop, 4 epochs of batch 512 on 5,000 reviews of
1,000 words) and times them from the first submit to the last job's end. Prints the
wall time and jobs per hour of each, and their ratio.

    .venv/bin/python benchmarks/slots.py [--jobs 20] [--slots 1 4]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cornu.core.embedded import free_port  # noqa: E402
from cornu.core.store import Store  # noqa: E402
from tests.conftest import start_api, start_redis_server, start_worker  # noqa: E402
from tests.helpers import upload, wait_for_job  # noqa: E402


def spec(x: str, y: str) -> dict[str, object]:
    return {
        "model": {"layers": [
            {"type": "Dense", "units": 16, "activation": "relu", "input_shape": [1000]},
            {"type": "Dense", "units": 16, "activation": "relu"},
            {"type": "Dense", "units": 1, "activation": "sigmoid"}]},
        "compile": {"optimizer": "rmsprop", "loss": "binary_crossentropy",
                    "metrics": ["accuracy"]},
        "fit": {"epochs": 4, "batch_size": 512, "validation_split": 0.2},
        "data": {"x": x, "y": y},
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--slots", type=int, nargs="+", default=[1, 4])
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="cornu-slots-"))
    port = free_port()
    services = [start_redis_server(directory / "redis", port)]
    env = {"CORNU_REDIS_URL": f"redis://127.0.0.1:{port}/0", "CORNU_HOME": str(directory),
           "CORNU_DEVICE": "cpu"}  # fmt: skip
    rows = []
    try:
        api_port = free_port()
        services.append(start_api(env, directory / "api.log", api_port))
        store = Store.from_url(env["CORNU_REDIS_URL"])
        key = store.tenants.create_key("bench")
        store.close()
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{api_port}", headers=headers) as http:
            rng = np.random.default_rng(0)
            x = upload(http, (rng.random((5_000, 1_000)) < 0.08).astype(np.float32))
            y = upload(http, rng.integers(0, 2, 5_000).astype(np.float32))
            for slots in args.slots:
                worker = start_worker(env, directory / f"worker-{slots}.log", "--slots", str(slots))
                try:
                    started = time.monotonic()
                    ids = [http.post("/v1/jobs", json=spec(x, y)).json()["id"]
                           for _ in range(args.jobs)]  # fmt: skip
                    for job_id in ids:
                        assert wait_for_job(http, job_id, 1800)["status"] == "succeeded"
                    seconds = time.monotonic() - started
                finally:
                    worker.stop()
                rows.append((slots, seconds))
                print(f"{slots} slot(s): {args.jobs} jobs in {seconds:.1f} s, "
                      f"{args.jobs * 3600 / seconds:,.0f} jobs/hour", flush=True)  # fmt: skip
    finally:
        for service in reversed(services):
            service.stop()
        shutil.rmtree(directory, ignore_errors=True)
    base = rows[0][1]
    print("\n| slots | wall time | jobs per hour | vs 1 slot |\n|---|---|---|---|")
    for slots, seconds in rows:
        print(f"| {slots} | {seconds:.1f} s | {args.jobs * 3600 / seconds:,.0f} | "
              f"**{base / seconds:.2f}×** |")  # fmt: skip


if __name__ == "__main__":
    main()
