"""A worker host's processes: a training worker (Celery's solo pool: one job at a time,
one process per GPU) and an inference worker (evaluate, predict and export of trained
jobs, a few at once on threads), so that a call never waits for a training job to end.
(`cornu worker --concurrency N` above 1 runs one prefork pool for every queue instead:
there a call may wait for a free process.)

`cornu worker` runs each as a child and starts a fresh one whenever it exits on its own
— after `worker_max_jobs` tasks, so that memory a job left behind (a CUDA context,
fragmentation) returns to the system, as Celery's `worker_max_tasks_per_child` does for
prefork pools — or after a crash.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from types import FrameType

from cornu.core.children import die_with
from cornu.core.config import get_settings
from cornu.core.queue import accelerator_queue

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
CRASH_LOOP_S = 10.0  # a child that dies sooner than this after starting counts as a crash
POLL_S = 0.5


def configure_process(slot: int, role: str) -> None:
    """This worker process's own settings, which `cornu.worker.app` reads: its slot (its
    metrics port is the base + this) and its role (a training process joins the fleet
    registry). Settings read before are dropped: none may stand without these."""
    os.environ["CORNU_WORKER_SLOT"] = str(slot)
    os.environ["CORNU_WORKER_ROLE"] = role
    get_settings.cache_clear()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m cornu.worker.main")
    parser.add_argument("--queues", help="default: CORNU_QUEUE")
    parser.add_argument("--loglevel", default="INFO")
    parser.add_argument("--pool", choices=("solo", "threads"), default="solo")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--role", choices=("training", "inference"), default="training")
    parser.add_argument("--slot", type=int, default=0, help="which of the host's job slots")
    args = parser.parse_args(argv)
    configure_process(args.slot, args.role)
    logging.basicConfig(level=args.loglevel.upper(), format=LOG_FORMAT)
    queues = args.queues or get_settings().queue
    from cornu.worker.app import app

    app.worker_main(
        [
            "worker",
            f"--pool={args.pool}",
            f"--concurrency={args.concurrency}",
            f"--queues={queues}",
            f"--loglevel={args.loglevel}",
            "--without-gossip",
            "--without-mingle",
        ]
    )


def children_for(
    queues: list[str], concurrency: int = 2, accelerator: str | None = None, slots: int = 1
) -> list[list[str]]:
    """The children a worker host runs for `queues`: `slots` training processes (solo) for
    every queue but the inference queue — and, with `accelerator`, that class's own
    training queue, where jobs asking for it wait — and inference (threads, `concurrency`
    calls at once) for the inference queue."""
    settings = get_settings()
    inference = settings.inference_queue
    training = [q for q in queues if q != inference]
    if accelerator and settings.queue in training:
        training.append(accelerator_queue(settings.queue, accelerator))
    out = []
    if training:
        out += [[f"--queues={','.join(training)}", "--role=training", f"--slot={slot}"]
                for slot in range(slots)]  # fmt: skip
    if inference in queues:
        out.append([f"--queues={inference}", "--pool=threads", f"--concurrency={concurrency}",
                    "--role=inference"])  # fmt: skip
    return out


@dataclass
class _Child:
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    quick_exits: int = 0


def supervise(children: list[list[str]], loglevel: str = "INFO", stop_s: float = 8.0) -> int:
    """Run `python -m worker.main argv` for each of `children`, and a fresh one whenever
    one exits while this process was not asked to stop (recycled after its task limit,
    or crashed); the exit code of the first child given up on, or of the last to stop.

    Each child runs in its own session: a terminal's Ctrl-C reaches only this process,
    which passes SIGINT/SIGTERM on once (twice would make Celery stop the running job
    without its checkpoint). A child still running `stop_s` seconds later (its Redis does
    not answer, so neither its checkpoint nor Celery's shutdown can finish) is killed:
    its job's lease lapses and the job resumes elsewhere from its last checkpoint. Each
    child dies with this process (`die_with`). A child that keeps dying at start is given
    up on, and with it the others.
    """
    log = logging.getLogger(__name__)
    stopping = False
    running = [_Child([*argv, f"--loglevel={loglevel}"]) for argv in children]

    def start(child: _Child) -> None:
        command = [sys.executable, "-m", "cornu.worker.main", *child.argv]
        child.process = subprocess.Popen(
            command, start_new_session=True, preexec_fn=die_with(os.getpid())
        )
        child.started = time.monotonic()

    def forward(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for child in running:
            if child.process is not None and child.process.poll() is None:
                child.process.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for child in running:
        start(child)
    while True:
        time.sleep(POLL_S)
        for child in running:
            assert child.process is not None
            code = child.process.poll()
            if code is None or stopping:
                continue
            quick = time.monotonic() - child.started < CRASH_LOOP_S
            child.quick_exits = child.quick_exits + 1 if quick else 0
            if child.quick_exits >= 3:
                log.error("the worker %s exited %d times right after starting (code %d); "
                          "giving up", child.argv, child.quick_exits, code)  # fmt: skip
                forward(signal.SIGTERM, None)
                _wait(running, stop_s)
                return code or 1
            log.info("worker process %s exited (code %d); starting a fresh one", child.argv, code)
            start(child)
        if stopping:
            return _wait(running, stop_s)


def _wait(children: list[_Child], stop_s: float) -> int:
    """Wait for the children to stop, killing those still running after `stop_s`."""
    log = logging.getLogger(__name__)
    deadline = time.monotonic() + stop_s
    codes = []
    for child in children:
        if child.process is None:
            continue
        try:
            codes.append(child.process.wait(timeout=max(0.0, deadline - time.monotonic())))
        except subprocess.TimeoutExpired:
            log.warning("the worker %s did not stop within %.0f s; killing it",
                        child.argv, stop_s)  # fmt: skip
            child.process.kill()
            codes.append(child.process.wait())
    return next((c for c in codes if c), 0)


if __name__ == "__main__":
    main()
