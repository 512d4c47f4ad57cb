"""The book's MNIST MLP, engine vs a tuned torch loop: `engine.py`'s `mlp` workload.

python benchmarks/engine_mlp.py [--epochs 2] [--repeats 3]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine import main  # noqa: E402

if __name__ == "__main__":
    sys.argv[1:1] = ["--workloads", "mlp"]
    main()
