"""Generate Keras 3 reference data for Cornu's compatibility tests.

Every number in this folder was produced by real Keras, not derived by hand.

Produced with:
    python 3.11, keras 3.15.1 (torch backend), torch 2.13.0+cpu,
    numpy 2.4.6, scikit-learn 1.9.1
    venv: python3 -m venv /tmp/kerasref
          /tmp/kerasref/bin/pip install torch==2.13.0
          /tmp/kerasref/bin/pip install keras scikit-learn numpy

Regenerate (from the repository root):
    KERAS_BACKEND=torch /tmp/kerasref/bin/python tests/data/keras/generate.py

Pass section names (models, layers, losses, metrics, optimizers, parity) as
arguments to regenerate only some files; each section is a gen_*.py script that
also runs alone, and keras_ref.py holds what they share. The tf.keras 2 files
come from generate_tfkeras2.py.
"""

import sys

from gen_layer_shapes import gen_layers
from gen_losses import gen_losses
from gen_metrics import gen_metrics
from gen_models import gen_models
from gen_optimizers import gen_optimizers
from gen_parity import gen_parity
from keras_ref import BACKEND, KERAS_VERSION

SECTIONS = {
    "models": gen_models,
    "layers": gen_layers,
    "losses": gen_losses,
    "metrics": gen_metrics,
    "optimizers": gen_optimizers,
    "parity": gen_parity,
}

if __name__ == "__main__":
    print(f"keras {KERAS_VERSION}, backend {BACKEND}")
    for section in sys.argv[1:] or list(SECTIONS):
        SECTIONS[section]()
