"""Dataset uploads: .npy parsing without pickle, numeric dtypes, exact sizes."""

from __future__ import annotations

import hashlib
import io

import numpy as np
import pytest

from cornu.core.datasets import upload_dataset
from cornu.core.errors import Conflict, InvalidDataset, NotFound, PayloadTooLarge
from cornu.core.store import Store
from tests.helpers import npy_bytes

LIMIT = 1024 * 1024


def put(store: Store, data: bytes, limit: int = LIMIT) -> str:
    return upload_dataset(store, "owner", io.BytesIO(data), limit)[0].id


def test_round_trip_with_metadata(store: Store) -> None:
    array = np.arange(24, dtype=np.float32).reshape(6, 4)
    data = npy_bytes(array)
    dataset, new = upload_dataset(store, "owner", io.BytesIO(data), LIMIT)
    assert new
    assert dataset.shape == [6, 4] and dataset.dtype == "float32"
    assert dataset.bytes == len(data) and dataset.sha256 == hashlib.sha256(data).hexdigest()
    assert store.datasets.get("owner", dataset.id) == dataset
    np.testing.assert_array_equal(store.datasets.load(dataset.id), array)
    with pytest.raises(NotFound):
        store.datasets.get("someone-else", dataset.id)
    assert store.datasets.shapes("someone-else", [dataset.id]) == {}


def test_big_endian_and_fortran_order_arrays_load_natively(store: Store) -> None:
    array = np.asfortranarray(np.arange(12, dtype=">i4").reshape(3, 4))
    loaded = store.datasets.load(put(store, npy_bytes(array)))
    np.testing.assert_array_equal(loaded, array)


def test_object_arrays_are_refused_without_unpickling(store: Store) -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    with pytest.raises(InvalidDataset, match="dtype object cannot be trained on"):
        put(store, buffer.getvalue())


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.array(["a", "b"]), "dtype <U1 cannot be trained on"),
        (np.array(3.0), "scalar"),
        (np.zeros((0, 3)), "holds no samples"),
        (np.zeros(2, dtype=[("a", "f4")]), "cannot be trained on"),
    ],
)
def test_arrays_that_cannot_train_are_refused(
    store: Store, array: np.ndarray, message: str
) -> None:
    with pytest.raises(InvalidDataset, match=message):
        put(store, npy_bytes(array))


def test_files_that_are_not_npy(store: Store) -> None:
    with pytest.raises(InvalidDataset, match="not a .npy array"):
        put(store, b"x,y\n1,2\n" * 10)
    with pytest.raises(InvalidDataset, match="empty or too short"):
        put(store, b"")


def test_truncated_and_overlong_files(store: Store) -> None:
    data = npy_bytes(np.zeros((100, 10), dtype=np.float64))
    with pytest.raises(InvalidDataset, match="truncated"):
        put(store, data[:-8])
    with pytest.raises(InvalidDataset, match="longer than its header says"):
        put(store, data + b"\0")


def test_the_size_limit_is_checked_from_the_header(store: Store) -> None:
    data = npy_bytes(np.zeros((1000, 1000), dtype=np.float32))  # 4 MB
    with pytest.raises(PayloadTooLarge, match="limited to 1048576 bytes"):
        put(store, data[:4096])  # refused before the data is even read


def test_an_idempotency_key_returns_the_first_upload(store: Store) -> None:
    data = npy_bytes(np.arange(6.0))
    before = len(store.redis.keys("cornu:dataset:*"))
    first, new = upload_dataset(store, "owner", io.BytesIO(data), LIMIT, idempotency_key="k")
    again, replayed = upload_dataset(store, "owner", io.BytesIO(data), LIMIT, idempotency_key="k")
    assert new and not replayed and again == first
    other = npy_bytes(np.arange(7.0))
    with pytest.raises(Conflict, match="already used for a different request"):
        upload_dataset(store, "owner", io.BytesIO(other), LIMIT, idempotency_key="k")
    # the copies made by the repeat and by the refused upload are gone
    assert len(store.redis.keys("cornu:dataset:*")) == before + 1
