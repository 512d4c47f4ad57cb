"""A study on a fleet: its trials run at once on two workers, it outlives the SDK process
that started it (`attach` follows it to the end), and a trial whose worker is killed
resumes from its checkpoint like any job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import cornu
import cornu.tuner as keras_tuner
from tests.conftest import Stack, wait_until

ROOT = Path(__file__).resolve().parents[2]

SEARCH = textwrap.dedent(
    """
    import numpy as np
    import cornu as keras
    import cornu.tuner as keras_tuner

    def build_model(hp):
        model = keras.Sequential([
            keras.layers.Dense(hp.Int("units", 16, 64, step=16), activation="relu",
                               input_shape=(16,)),
            keras.layers.Dense(4, activation="softmax"),
        ])
        model.compile(optimizer=keras.optimizers.Adam(hp.Float("lr", 1e-3, 1e-2, sampling="log")),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    rng = np.random.default_rng(0)
    x = rng.normal(size=(3072, 16)).astype("float32")
    y = (x[:, :4].argmax(axis=1)).astype("int64")
    tuner = keras_tuner.RandomSearch(build_model, objective="val_accuracy", max_trials=4,
                                     max_parallel=2, seed=7, directory="runs",
                                     project_name="fleet")
    tuner.search(x, y, epochs=4, batch_size=16, validation_split=0.25)
    print("SEARCH ENDED")
    """
)


def stamp(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


def test_a_study_runs_on_two_workers_outlives_its_sdk_and_resumes_a_killed_trial(
    make_stack: Callable[..., Stack], tmp_path: Path
) -> None:
    stack = make_stack(workers=2)
    with stack.client() as http:
        key = http.headers["Authorization"].removeprefix("Bearer ")
        script = tmp_path / "search.py"
        script.write_text(SEARCH)
        env = {
            **os.environ,
            "CORNU_URL": stack.api_url,
            "CORNU_API_KEY": key,
            "PYTHONPATH": str(ROOT),
        }
        sdk = subprocess.Popen(
            [sys.executable, str(script)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        studies: list[dict[str, Any]] = []

        def started() -> bool:
            studies[:] = http.get("/v1/studies").json()["studies"]
            return bool(studies) and bool(
                http.get(f"/v1/studies/{studies[0]['id']}").json()["trials"]
            )

        wait_until(started, 120, "the SDK to start a study with a trial")
        study_id = studies[0]["id"]
        sdk.kill()  # like a laptop closed mid-search: the study is the service's
        output = sdk.communicate(timeout=30)[0]
        assert "SEARCH ENDED" not in output, output

        # A worker dies mid-trial: the trial's job resumes from its checkpoint elsewhere.
        def running_job() -> str | None:
            for trial in http.get(f"/v1/studies/{study_id}").json()["trials"]:
                for job_id in trial["jobs"]:
                    job = http.get(f"/v1/jobs/{job_id}").json()
                    if job["status"] == "running" and job["epoch"] >= 1:
                        return str(job_id)
            return None

        victim: list[str] = []
        wait_until(
            lambda: bool(victim.append(running_job() or "") or victim[-1]),
            120,
            "a trial's job to finish an epoch",
        )
        job_id = victim[-1]
        started_events = [
            e
            for e in http.get(f"/v1/jobs/{job_id}/events").json()["events"]
            if e["type"] == "started"
        ]
        os.kill(int(started_events[-1]["worker"].rsplit(":", 1)[1]), signal.SIGKILL)

        cornu.connect(stack.api_url, key)
        tuner = keras_tuner.attach(study_id, verbose=0)
        study = tuner.study
        assert study is not None and study.status.value == "completed", study
        assert len(study.trials) == 4
        assert all(t.status.value == "completed" for t in study.trials), study.trials
        assert len(tuner.oracle.trials) == 4
        assert tuner.oracle.get_best_trials(1)[0].score == study.best.score  # type: ignore[union-attr]

        resumed = http.get(f"/v1/jobs/{job_id}").json()
        kinds = [e["type"] for e in http.get(f"/v1/jobs/{job_id}/events").json()["events"]]
        assert resumed["status"] == "succeeded" and resumed["attempts"] == 2
        assert {"lease_lost", "requeued", "resumed"} <= set(kinds)

        # Trials ran at once: two of their jobs trained during the same interval.
        spans = []
        for trial in study.trials:
            job = http.get(f"/v1/jobs/{trial.jobs[0]}").json()
            spans.append((stamp(job["started_at"]), stamp(job["finished_at"])))
        assert any(
            a[0] < b[1] and b[0] < a[1] for i, a in enumerate(spans) for b in spans[i + 1 :]
        ), spans
        devices = {http.get(f"/v1/jobs/{t.jobs[0]}").json()["device"] for t in study.trials}
        assert devices == {"cpu"}
