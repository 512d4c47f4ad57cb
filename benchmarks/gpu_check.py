"""`make gpu-check`: what only a CUDA machine can check, as one script.

On a machine with CUDA: the CUDA-marked tests (`tests/gpu`: device placement, bf16,
pinned-memory staging, NCCL data parallelism with two GPUs or more), then the engine
benchmark on the GPU against a tuned torch loop and a `torch.compile` loop of the same
models (`benchmarks/engine.py --device cuda --compiled`). Without CUDA it says so and
exits 0, so the target can run anywhere.

    .venv/bin/python benchmarks/gpu_check.py [--repeats 2]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print(f"gpu-check: no CUDA device on this machine (torch {torch.__version__}); "
              "nothing to check. Run `make gpu-check` where `nvidia-smi` lists a GPU.")  # fmt: skip
        return 0
    names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    print(f"gpu-check: {len(names)} CUDA device(s): {', '.join(names)}; torch {torch.__version__}")
    tests = subprocess.run([sys.executable, "-m", "pytest", "-m", "cuda", "-q", "tests/gpu"],
                           cwd=ROOT)  # fmt: skip
    bench = subprocess.run([sys.executable, "benchmarks/engine.py", "--device", "cuda",
                            "--compiled", "--epochs", "3", "--repeats", str(args.repeats)],
                           cwd=ROOT)  # fmt: skip
    return tests.returncode or bench.returncode


if __name__ == "__main__":
    sys.exit(main())
