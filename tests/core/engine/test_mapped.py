"""Memory-mapped arrays train as arrays in memory do: same batches, same losses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cornu.core.engine import mapped
from cornu.core.engine.fit import train_job
from cornu.core.errors import DataError
from cornu.core.spec import JobSpec
from tests.helpers import mlp_spec


def saved(tmp_path: Path, **arrays: np.ndarray) -> None:
    for name, array in arrays.items():
        np.save(tmp_path / f"{name}.npy", array)


def loaded(tmp_path: Path, mmap: bool) -> dict[str, np.ndarray]:
    mode = "r" if mmap else None
    return {p.stem: np.load(p, mmap_mode=mode) for p in tmp_path.glob("*.npy")}


def test_a_mapped_dataset_gives_the_losses_of_the_same_data_in_memory(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (900, 8), dtype=np.uint8)  # narrow on disk, float32 for the model
    saved(tmp_path, x=x, y=(x.sum(axis=1) % 4).astype(np.int64))
    body = mlp_spec("x", "y", features=8, classes=4, epochs=3)
    body["fit"] = {**body["fit"], "validation_split": 0.2, "shuffle": True}  # type: ignore[dict-item]
    spec = JobSpec.model_validate(body)
    in_memory = train_job(spec, loaded(tmp_path, mmap=False)).history.history
    arrays = loaded(tmp_path, mmap=True)
    assert all(mapped.is_mapped(a) for a in arrays.values())
    from_disk = train_job(spec, arrays).history.history
    assert from_disk == in_memory
    assert len(in_memory["val_loss"]) == 3 and np.isfinite(in_memory["loss"]).all()


def test_bad_values_in_a_mapped_file_fail_before_training_naming_the_sample(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mapped, "SCAN_BYTES", 64)  # many pieces: the sample index is global
    x = np.ones((300, 8), dtype=np.float32)
    x[217, 3] = np.nan
    saved(tmp_path, x=x, y=np.zeros(300, dtype=np.int64))
    spec = JobSpec.model_validate(mlp_spec("x", "y", features=8, classes=4, epochs=1))
    with pytest.raises(DataError, match="first in sample 217"):
        train_job(spec, loaded(tmp_path, mmap=True))


def test_batches_gathered_in_any_order_come_back_in_that_order(tmp_path: Path) -> None:
    import torch

    saved(tmp_path, x=np.arange(40, dtype=np.float32).reshape(20, 2))
    array = loaded(tmp_path, mmap=True)["x"]
    cpu = torch.device("cpu")
    rows = mapped.MappedArray(array, lambda a, _: torch.from_numpy(np.array(a)), cpu)
    picked = rows.rows(5, 20).index_select(0, torch.tensor([9, 0, 14, 3]))
    assert picked[:, 0].tolist() == [28.0, 10.0, 38.0, 16.0]
    assert rows.rows(5, 20)[2:4][:, 1].tolist() == [15.0, 17.0]
