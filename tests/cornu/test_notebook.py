"""In a Jupyter notebook (an IPython kernel run by nbclient, as `jupyter nbconvert
--execute` runs one), fit's progress bar redraws within an epoch, as Keras's does."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import Service

FIT_CELL = """
import numpy as np
import cornu as keras
from cornu import layers

rng = np.random.default_rng(0)
x = rng.random((12000, 32), dtype=np.float32)
y = rng.integers(0, 4, 12000)
model = keras.Sequential([keras.Input(shape=(32,)), layers.Dense(64, activation="relu"),
                          layers.Dense(4, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history = model.fit(x, y, batch_size=4, epochs=2)
"""


def test_the_progress_bar_redraws_within_an_epoch_in_a_notebook(
    api_url: str,
    new_api_key: Callable[[], str],
    worker: Service,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CORNU_URL", api_url)  # the kernel inherits this process's environment
    monkeypatch.setenv("CORNU_API_KEY", new_api_key())
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(FIT_CELL)])
    client = NotebookClient(notebook, timeout=300, resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = notebook.cells[0].outputs
    errors = [o for o in outputs if o.output_type == "error"]
    assert not errors, errors
    text = "".join(o.text for o in outputs if o.output_type == "stream" and o.name == "stdout")
    first_epoch = text.split("Epoch 2/2")[0]
    # Redraws in place (carriage returns), with the batch count going up within the epoch.
    drawn = [int(n) for n in re.findall(r"\r\s*(\d+)/3000 ", first_epoch)]
    assert len(drawn) >= 3, first_epoch[:2000]
    assert drawn == sorted(drawn) and drawn[0] < drawn[-1] == 3000
    assert "Epoch 1/2" in text and "Epoch 2/2" in text
    nbformat.write(notebook, tmp_path / "executed.ipynb")  # what a person would open
