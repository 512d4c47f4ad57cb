"""A training worker: Celery's solo pool (one job at a time: one process per GPU).

`cornu worker` runs this module as a child and starts a fresh one whenever it exits on
its own — after `worker_max_jobs` jobs, so that memory a job left behind (a CUDA
context, fragmentation) returns to the system, as Celery's `worker_max_tasks_per_child`
does for prefork pools — or after a crash.
"""

from __future__ import annotations

import argparse
import logging
import signal
import subprocess
import sys
import time
from types import FrameType

from cornu.core.config import get_settings

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
CRASH_LOOP_S = 10.0  # a child that dies sooner than this after starting counts as a crash


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m cornu.worker.main")
    parser.add_argument("--queues", default=get_settings().queue)
    parser.add_argument("--loglevel", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.loglevel.upper(), format=LOG_FORMAT)
    from cornu.worker.app import app

    app.worker_main(
        [
            "worker",
            "--pool=solo",
            f"--queues={args.queues}",
            f"--loglevel={args.loglevel}",
            "--without-gossip",
            "--without-mingle",
        ]
    )


def supervise(argv: list[str]) -> int:
    """Run `python -m worker.main argv`, and a fresh one whenever it exits while this
    process was not asked to stop (recycled after its job limit, or crashed).

    The child runs in its own session: a terminal's Ctrl-C reaches only this process,
    which passes SIGINT/SIGTERM on once (twice would make Celery stop the running job
    without its checkpoint). A child that keeps dying at start is given up on.
    """
    command = [sys.executable, "-m", "cornu.worker.main", *argv]
    log = logging.getLogger(__name__)
    stopping = False
    child: subprocess.Popen[bytes] | None = None

    def forward(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    quick_exits = 0
    while True:
        started = time.monotonic()
        child = subprocess.Popen(command, start_new_session=True)
        code = child.wait()
        if stopping:
            return code
        quick_exits = quick_exits + 1 if time.monotonic() - started < CRASH_LOOP_S else 0
        if quick_exits >= 3:
            log.error(
                "the worker exited %d times right after starting (code %d); giving up",
                quick_exits,
                code,
            )
            return code or 1
        log.info("worker process exited (code %d); starting a fresh one", code)


if __name__ == "__main__":
    main()
