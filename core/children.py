"""Child processes that never outlive their parent."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with(parent: int) -> Callable[[], None]:
    """What a child runs before it starts (`preexec_fn`): on Linux, ask the kernel to
    SIGKILL it when its parent dies (prctl PR_SET_PDEATHSIG), and exit at once if the
    parent is gone already; elsewhere nothing. So a supervisor killed by the OOM killer,
    or SIGKILLed by an operator, leaves no worker training unsupervised (its job's lease
    lapses and the job resumes on another worker)."""

    def arm() -> None:
        if not sys.platform.startswith("linux"):
            return
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # it died before the request was made
            os._exit(1)

    return arm
