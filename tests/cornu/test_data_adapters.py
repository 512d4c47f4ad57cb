"""How fit draws data that is not arrays, as Keras's data adapters would (no service
needed: the drawn epochs are what would be uploaded)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np
import pytest

from cornu.data_adapters import draw, is_arrays, unpack
from cornu.utils import PyDataset, timeseries_dataset_from_array


class Fixed(PyDataset):
    def __init__(self, n: int = 10, size: int = 4) -> None:
        super().__init__()
        self.x = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
        self.size = size

    def __len__(self) -> int:
        return -(-len(self.x) // self.size)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        part = self.x[index * self.size : (index + 1) * self.size]
        return part, part[:, 0]


class Augmented(Fixed):
    def __init__(self) -> None:
        super().__init__()
        self.rng = np.random.default_rng(0)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        x, y = super().__getitem__(index)
        return x + self.rng.normal(size=x.shape).astype(np.float32), y


def test_a_dataset_that_gives_the_same_batches_is_drawn_once_and_reshuffled_by_batch() -> None:
    drawn = draw(Fixed(), epochs=5, steps_per_epoch=None, shuffle=True)
    assert len(drawn.epochs) == 1 and drawn.shuffle == "batch"
    assert drawn.batch_size == 4 and drawn.steps == 3
    np.testing.assert_array_equal(drawn.epochs[0].x, Fixed().x)  # the short batch last


def test_a_dataset_with_random_batches_is_drawn_for_every_epoch() -> None:
    drawn = draw(Augmented(), epochs=3, steps_per_epoch=None, shuffle=False)
    assert len(drawn.epochs) == 3 and drawn.shuffle is False
    assert not np.array_equal(drawn.epochs[0].x, drawn.epochs[1].x)


def test_a_generator_goes_on_across_epochs_and_stopping_early_is_said() -> None:
    counter = itertools.count()

    def batches() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for _ in range(7):  # enough for 2 epochs of 3 steps, not 3
            start = next(counter)
            yield np.full((2, 1), start, np.float32), np.zeros(2)

    with pytest.warns(UserWarning, match="ran out of data"):
        drawn = draw(batches(), epochs=3, steps_per_epoch=3, shuffle=True)
    assert [e.x[:, 0].tolist() for e in drawn.epochs] == [
        [0, 0, 1, 1, 2, 2],
        [3, 3, 4, 4, 5, 5],
        [6, 6],
    ]
    assert drawn.stopped_early


class Logged(PyDataset):
    """Five batches (the last of 2 samples) holding their index; logs Keras's calls."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[object] = []

    def __len__(self) -> int:
        return 5

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        self.log.append(index)
        n = 4 if index < 4 else 2
        return np.full((n, 2), index, np.float32), np.zeros(n)

    def on_epoch_begin(self) -> None:
        self.log.append("begin")

    def on_epoch_end(self) -> None:
        self.log.append("end")


def test_a_dataset_with_steps_per_epoch_goes_on_where_the_last_epoch_stopped() -> None:
    dataset = Logged()
    with pytest.warns(UserWarning, match="ran out of data"):
        drawn = draw(dataset, epochs=4, steps_per_epoch=2, shuffle=False)
    # Keras 3.15's EpochIterator on the same dataset trains batches 0 1 | 2 3 | 4 | 0 1,
    # each epoch between on_epoch_begin and on_epoch_end (its reset ends one first).
    assert [sorted(set(e.x[:, 0].tolist())) for e in drawn.epochs] == [[0, 1], [2, 3], [4], [0, 1]]
    assert dataset.log == ["end", "begin", 0, 1, "end", "begin", 2, 3, "end"] + [
        "begin", 4, "end", "begin", 0, 1, "end"
    ]  # fmt: skip
    assert drawn.steps == 2 and drawn.batch_size == 4


def test_a_shuffled_dataset_puts_its_short_batch_last_wherever_it_was_drawn() -> None:
    drawn = draw(Logged(), epochs=6, steps_per_epoch=None, shuffle=True)
    orders = set()
    for epoch in drawn.epochs:
        batches = epoch.x[:, 0].tolist()
        assert batches[-2:] == [4, 4] and sorted(batches[:-2]) == [
            i for i in range(4) for _ in "ab" * 2
        ]
        orders.add(tuple(batches[::4]))
    assert len(orders) > 1  # reshuffled each epoch


def test_fit_keeps_only_what_it_sent_of_each_epoch() -> None:
    sent: list[int] = []
    drawn = draw(Augmented(), epochs=3, steps_per_epoch=None, shuffle=False,
                 send=lambda batch: sent.append(len(batch.x)) or len(sent))  # fmt: skip
    assert drawn.epochs == [1, 2, 3] and sent == [10, 10, 10]


def test_batches_of_changing_size_and_too_much_data_are_clear_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    uneven = [(np.zeros((4, 1)), np.zeros(4)), (np.zeros((2, 1)), np.zeros(2))] * 2
    with pytest.raises(ValueError, match=r"2 sizes \(4, 2, 4, 2\).* at most one batch"):
        draw(iter(uneven), epochs=1, steps_per_epoch=4, shuffle=False)
    ragged = [(np.zeros((4, 7)), np.zeros(4)), (np.zeros((4, 9)), np.zeros(4))]
    with pytest.raises(ValueError, match=r"batch 1 has x of shape \(4, 9\).*pad them"):
        draw(iter(ragged), epochs=1, steps_per_epoch=None, shuffle=False)
    monkeypatch.setenv("CORNU_MAX_DRAWN_BYTES", "1000")
    endless = ((np.zeros((64, 8)), np.zeros(64)) for _ in itertools.count())
    with pytest.raises(MemoryError, match="CORNU_MAX_DRAWN_BYTES"):
        draw(endless, epochs=1, steps_per_epoch=None, shuffle=False)
    with pytest.raises(TypeError, match="must be arrays .* a PyDataset, a generator"):
        draw(object(), epochs=1, steps_per_epoch=None, shuffle=False)


def test_datasets_of_arrays_send_their_arrays() -> None:
    series = np.arange(100, dtype=np.float32).reshape(50, 2)
    windows = timeseries_dataset_from_array(series, series[:, 0], sequence_length=5, batch_size=8)
    drawn = draw(windows, epochs=10, steps_per_epoch=None, shuffle=True)
    assert len(drawn.epochs) == 1 and drawn.batch_size == 8
    assert drawn.epochs[0].x.shape == (46, 5, 2)


def test_a_dataset_of_arrays_past_the_limit_is_drawn_in_batches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    series = np.arange(2000, dtype=np.float32).reshape(1000, 2)
    windows = timeseries_dataset_from_array(series, None, sequence_length=50, batch_size=10)
    monkeypatch.setenv("CORNU_MAX_DRAWN_BYTES", "20000")  # all windows: 951 × 50 × 2 × 4 bytes
    with pytest.raises(MemoryError, match="CORNU_MAX_DRAWN_BYTES"):
        draw(windows, epochs=1, steps_per_epoch=None, shuffle=False)
    drawn = draw(windows, epochs=2, steps_per_epoch=3, shuffle=False)  # 12 kB an epoch
    assert [e.x.shape for e in drawn.epochs] == [(30, 50, 2), (30, 50, 2)]


def test_what_keras_takes_as_arrays_and_batches() -> None:
    assert is_arrays(np.zeros(3)) and is_arrays([np.zeros(3), np.zeros(3)])
    assert is_arrays({"a": np.zeros(3)}) and is_arrays([[1, 2], [3, 4]])
    assert not is_arrays(Fixed()) and not is_arrays(iter([]))
    assert unpack(np.zeros(2)).y is None
    assert unpack([1, 2, 3]).sample_weight == 3  # Keras's unpack: a list is a tuple
    with pytest.raises(ValueError, match="tuple of 4 items"):
        unpack((1, 2, 3, 4))


def test_a_long_upload_shows_a_bar_and_a_short_one_none(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from cornu.progress import upload_progress
    from cornu.uploads import NpyStream

    values = np.random.default_rng(0).random((5000, 2000))  # floats: sent as float32
    big, small = NpyStream(values), NpyStream(values[:10, :10])
    for stream in (big, small):
        with upload_progress("x_train", stream, shown=True) as advance:
            for _ in stream.compressed(advance):
                pass
    out = capsys.readouterr().out
    assert out.count("Uploading x_train") == 1  # only the 40 MB one
    assert "(5000, 2000) float32" in out and "40.0/40.0" in out
