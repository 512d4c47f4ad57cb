"""`cornu.utils` against Keras 3.15.1 (torch backend) where Keras has the same function:
numerical helpers, seeds, PyDataset and array datasets, dataset splits, time-series
windows, and the namespace.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import cornu
from cornu import utils
from cornu.utils import rng
from cornu.utils.array_dataset import ArrayDataset, ArrayTensor
from cornu.utils.dataset_split import rescale_split_sizes


@pytest.mark.parametrize(
    ("labels", "num_classes"),
    [([0, 1, 2, 3], None), ([[1], [0], [2]], None), ([3, 1], 5), (np.array([[0, 2], [1, 1]]), 3)],
)
def test_to_categorical_matches_keras(keras: Any, labels: Any, num_classes: int | None) -> None:
    ours = utils.to_categorical(labels, num_classes)
    theirs = keras.utils.to_categorical(labels, num_classes)
    assert ours.dtype == theirs.dtype == np.float64
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(utils.np_utils.to_categorical(labels, num_classes), theirs)


def test_to_categorical_names_an_index_past_num_classes() -> None:
    with pytest.raises(IndexError, match="class index 4 .* num_classes=3"):
        utils.to_categorical([0, 4], num_classes=3)


@pytest.mark.parametrize(("axis", "order"), [(-1, 2), (1, 1), (-1, np.inf)])
def test_normalize_matches_keras(keras: Any, axis: int, order: Any) -> None:
    x = np.random.default_rng(0).normal(size=(4, 5))
    x[1] = 0  # a zero row stays zero
    np.testing.assert_allclose(
        utils.normalize(x, axis, order), keras.utils.normalize(x, axis, order)
    )
    v = np.array([3.0, 4.0])
    np.testing.assert_allclose(utils.normalize(v), keras.utils.normalize(v))  # (1, 2), as Keras


def test_normalize_along_axis_0(keras: Any) -> None:
    """Keras's `axis or -1` breaks axis=0 (it expands the norm on the last axis); ours
    divides each column by its norm."""
    x = np.array([[3.0, 1.0, 0.0], [4.0, 0.0, 0.0]])
    np.testing.assert_allclose(utils.normalize(x, axis=0), [[0.6, 1, 0], [0.8, 0, 0]])
    with pytest.raises(ValueError, match="could not be broadcast"):
        keras.utils.normalize(x, axis=0)


PAD_CASES: list[dict[str, Any]] = [
    {},
    {"maxlen": 2},
    {"padding": "post"},
    {"truncating": "post", "maxlen": 2},
    {"value": -1, "dtype": "float32"},
    {"maxlen": 5, "padding": "post", "truncating": "pre"},
]


@pytest.mark.parametrize("options", PAD_CASES)
def test_pad_sequences_matches_keras(keras: Any, options: dict[str, Any]) -> None:
    sequences = [[1], [2, 3], [4, 5, 6], []]
    ours = utils.pad_sequences(sequences, **options)
    theirs = keras.utils.pad_sequences(sequences, **options)
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)


def test_pad_sequences_of_vectors_and_strings_matches_keras(keras: Any) -> None:
    vectors = [np.ones((2, 3)), np.zeros((1, 3))]
    np.testing.assert_array_equal(
        utils.pad_sequences(vectors, dtype="float32"),
        keras.utils.pad_sequences(vectors, dtype="float32"),
    )
    words = [["a", "bb"], ["ccc"]]
    ours = utils.pad_sequences(words, dtype=object, value="")
    np.testing.assert_array_equal(ours, keras.utils.pad_sequences(words, dtype=object, value=""))


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda m: m.pad_sequences([[1]], value="x"), ValueError),
        (lambda m: m.pad_sequences([[1], 2]), ValueError),
        (lambda m: m.pad_sequences([[1, 2]], maxlen=1, truncating="middle"), ValueError),
        (lambda m: m.pad_sequences([[1]], padding="middle"), ValueError),
        (lambda m: m.pad_sequences([[[1, 2]], [[1, 2, 3]]]), ValueError),
    ],
)
def test_pad_sequences_errors_match_keras(
    keras: Any, call: Callable[[Any], Any], error: type[Exception]
) -> None:
    with pytest.raises(error) as theirs:
        call(keras.utils)
    with pytest.raises(error) as ours:
        call(utils)
    assert str(ours.value) == str(theirs.value)


@pytest.fixture
def seed_state(monkeypatch: pytest.MonkeyPatch) -> None:
    """Put back the module's seed after the test (other tests' fits must not get seeds)."""
    monkeypatch.setattr(rng, "_seed", rng._seed)
    monkeypatch.setattr(rng, "_jobs", rng._jobs)


def test_set_random_seed_seeds_python_and_numpy_as_keras(keras: Any, seed_state: None) -> None:
    keras.utils.set_random_seed(7)
    expected = (random.random(), np.random.rand(3))
    utils.set_random_seed(7)
    got = (random.random(), np.random.rand(3))
    assert got[0] == expected[0]
    np.testing.assert_array_equal(got[1], expected[1])
    assert rng.get_random_seed() == 7


def test_set_random_seed_refuses_a_non_int(keras: Any, seed_state: None) -> None:
    with pytest.raises(ValueError) as theirs:
        keras.utils.set_random_seed(1.5)
    with pytest.raises(ValueError) as ours:
        utils.set_random_seed(1.5)
    assert str(ours.value) == str(theirs.value)


def test_job_seeds_are_none_until_a_seed_is_set_then_repeat_run_to_run(seed_state: None) -> None:
    rng._seed, rng._jobs = None, None
    assert rng.job_seed() is None
    program = (
        "from cornu.utils import rng, set_random_seed\n"
        "print(rng.job_seed())\n"
        "set_random_seed(42)\n"
        "print([rng.job_seed() for _ in range(3)])\n"
        "set_random_seed(42)\n"
        "print(rng.job_seed())\n"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", program], capture_output=True, text=True, check=True
        ).stdout.split("\n")
        for _ in range(2)
    ]
    assert runs[0] == runs[1]  # the same program gets the same seeds every run
    assert runs[0][0] == "None"
    seeds = json.loads(runs[0][1])
    assert len(set(seeds)) == 3 and all(0 <= s < 2**31 for s in seeds)
    assert int(runs[0][2]) == seeds[0]  # set again: the sequence starts over


class Squares(utils.PyDataset):
    """A user's PyDataset, as Keras's docstring writes one."""

    def __init__(self, n: int, batch_size: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.n, self.batch_size = n, batch_size
        self.epochs_ended = 0

    def __len__(self) -> int:
        return -(-self.n // self.batch_size)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        x = np.arange(index * self.batch_size, min((index + 1) * self.batch_size, self.n))
        return x, x**2

    def on_epoch_end(self) -> None:
        self.epochs_ended += 1


def test_a_user_pydataset_keeps_keras_contract(keras: Any) -> None:
    ours = Squares(10, 4, workers=2)
    assert utils.Sequence is utils.PyDataset
    assert (ours.workers, ours.use_multiprocessing, ours.max_queue_size) == (2, False, 10)
    assert ours.num_batches == 3 and ours.as_arrays() is None
    batches = list(ours)
    assert [len(x) for x, _ in batches] == [4, 4, 2]
    np.testing.assert_array_equal(batches[2][1], [64, 81])

    class NoSuper(utils.PyDataset):
        def __init__(self) -> None:
            pass

    with pytest.warns(UserWarning, match="should call `super"):
        assert NoSuper().workers == 1

    class KerasNoSuper(keras.utils.PyDataset):
        def __init__(self) -> None:
            pass

    with pytest.warns(UserWarning, match="should call `super"):
        assert KerasNoSuper().workers == 1


def test_array_dataset_batches_and_reads_as_tf_data() -> None:
    x, y = np.arange(10), np.arange(10) * 2
    ds = ArrayDataset(x, y, batch_size=4)
    assert len(ds) == 3 and int(ds.cardinality()) == 3 and ds.batch_size == 4
    assert not ds.shuffle and ds.shuffle_each_epoch is False
    batches = list(ds)
    images, labels = batches[0]
    assert isinstance(images, ArrayTensor)
    np.testing.assert_array_equal(images.numpy(), [0, 1, 2, 3])  # as an eager tensor
    np.testing.assert_array_equal(ds[2][1], [16, 18])
    with pytest.raises(IndexError):
        ds[3]
    got = ds.as_arrays()
    assert got is not None
    np.testing.assert_array_equal(got[0], x)
    np.testing.assert_array_equal(got[1], y)
    assert got[2] is None
    assert ds.prefetch(8) is ds and ds.cache() is ds
    assert [len(b[0]) for b in ds.as_numpy_iterator()] == [4, 4, 2]
    assert not isinstance(next(ds.as_numpy_iterator())[0], ArrayTensor)


def test_array_dataset_chained_operations() -> None:
    ds = ArrayDataset(np.arange(10), np.arange(10) * 2, batch_size=4)
    np.testing.assert_array_equal(ds.take(2).as_arrays()[0], np.arange(8))
    np.testing.assert_array_equal(ds.skip(2)[0][0], [8, 9])
    assert len(ds.take(-1)) == 3 and len(ds.skip(-1)) == 0
    scaled = ds.map(lambda x, y: (x * 10, y))
    np.testing.assert_array_equal(scaled[1][0], [40, 50, 60, 70])
    assert scaled.as_arrays() is None  # computed per batch now: fit draws batches
    samples = ds.unbatch()
    assert len(samples) == 10 and samples.batch_size is None
    np.testing.assert_array_equal(samples[7], (7, 14))
    rebatched = samples.batch(3, drop_remainder=True)
    assert len(rebatched) == 3 and rebatched.batch_size == 3
    np.testing.assert_array_equal(rebatched[2][0], [6, 7, 8])
    np.testing.assert_array_equal(scaled.unbatch()[5][0], 50)
    np.testing.assert_array_equal(scaled.unbatch().batch(6)[1][0], [60, 70, 80, 90])
    endless = ds.repeat()
    assert int(endless.cardinality()) == -1 and endless.num_batches is None
    with pytest.raises(TypeError, match="infinite"):
        len(endless)
    assert len(list(endless.take(7))) == 7
    assert len(ds.repeat(2)) == 6
    with pytest.raises(ValueError, match="batch_size=0"):
        ds.unbatch().batch(0)
    with pytest.raises(ValueError, match="single samples"):
        samples.unbatch()
    reshuffled = ArrayDataset(np.arange(10), batch_size=3).shuffle(4).unbatch()
    for _ in range(6):  # batches of 3, 3, 3 and 1 in a new order each epoch
        assert sorted(int(reshuffled[i]) for i in range(len(reshuffled))) == list(range(10))
        reshuffled.on_epoch_end()


def test_array_dataset_shuffles_each_epoch_from_its_seed() -> None:
    ds = ArrayDataset(np.arange(12), batch_size=4, shuffle=True, seed=3)
    assert ds.shuffle and ds.shuffle_each_epoch
    first = np.concatenate(list(ds))
    np.testing.assert_array_equal(first, np.arange(12))  # the first epoch in given order
    second = np.concatenate(list(ds))
    expected = np.arange(12)[np.random.RandomState(3).permutation(12)]
    np.testing.assert_array_equal(second, expected)
    shuffled = ArrayDataset(np.arange(6), batch_size=None).shuffle(6, seed=1)
    assert shuffled.shuffle and sorted(int(v) for v in shuffled) == list(range(6))
    assert shuffled.batch(2).as_arrays() is not None and shuffled.batch(2).shuffle


def test_array_dataset_refuses_unequal_arrays() -> None:
    with pytest.raises(ValueError, match=r"same number of samples; got \[3, 4\]"):
        ArrayDataset(np.zeros(3), np.zeros(4))


@pytest.mark.parametrize(
    ("left", "right"), [(0.8, None), (None, 0.25), (3, None), (None, 7), (0.5, 0.3), (2, 3)]
)
def test_split_sizes_match_keras(keras: Any, left: Any, right: Any) -> None:
    from keras.src.utils.dataset_utils import _rescale_dataset_split_sizes

    assert rescale_split_sizes(left, right, 10) == _rescale_dataset_split_sizes(left, right, 10)


@pytest.mark.parametrize(
    ("left", "right", "error"),
    [
        (None, None, ValueError),
        (0, 0, ValueError),
        (10, None, ValueError),
        (1.5, None, ValueError),
        (0.7, 0.5, ValueError),
        (6, 6, ValueError),
        ("a", None, TypeError),
        ("a", "b", TypeError),
    ],
)
def test_split_size_errors_match_keras(keras: Any, left: Any, right: Any, error: type) -> None:
    from keras.src.utils.dataset_utils import _rescale_dataset_split_sizes

    if left is None and right is None:
        with pytest.raises(ValueError, match="At least one of the `left_size` or `right_size`"):
            utils.split_dataset(np.arange(10), left, right)
        return
    with pytest.raises(error) as theirs:
        _rescale_dataset_split_sizes(left, right, 10)
    with pytest.raises(error) as ours:
        rescale_split_sizes(left, right, 10)
    assert str(ours.value) == str(theirs.value)


def test_split_dataset_keeps_order_then_shuffles_as_keras_tf_path() -> None:
    x, y = np.arange(10), np.arange(10) * 10
    left, right = utils.split_dataset((x, y), left_size=0.8)
    assert len(left) == 8 and len(right) == 2 and left.batch_size is None
    np.testing.assert_array_equal(right[0], (8, 80))  # Keras's tf path: the last samples
    # shuffle=True: Keras calls random.seed(seed) then random.shuffle on the samples.
    order = list(range(10))
    random.Random(5).shuffle(order)
    left, right = utils.split_dataset(x, left_size=6, shuffle=True, seed=5)
    assert [int(v) for v in left] == order[:6] and [int(v) for v in right] == order[6:]
    batched = ArrayDataset(x, y, batch_size=4)
    left, right = utils.split_dataset(batched, right_size=0.3)
    assert left.batch_size == right.batch_size == 4  # batched halves, as Keras
    np.testing.assert_array_equal(right[0][1], [70, 80, 90])
    with pytest.raises(ValueError, match="different lengths"):
        utils.split_dataset([np.zeros(3), np.zeros(4)], left_size=1)
    with pytest.raises(TypeError, match="Received: dataset=5"):
        utils.split_dataset(5, left_size=1)


def test_timeseries_windows_as_keras_docstring() -> None:
    """Keras's own example: indices 0…98, sequence_length=10, sampling_rate=2,
    sequence_stride=3 → [0 2 … 18], [3 5 … 21], [6 8 … 24], …, last [78 80 … 96]."""
    ds = utils.timeseries_dataset_from_array(
        np.arange(99), None, sequence_length=10, sampling_rate=2, sequence_stride=3, batch_size=5
    )
    windows = ds.as_arrays()[0]
    np.testing.assert_array_equal(windows[0], np.arange(0, 20, 2))
    np.testing.assert_array_equal(windows[1], np.arange(3, 23, 2))
    np.testing.assert_array_equal(windows[2], np.arange(6, 26, 2))
    np.testing.assert_array_equal(windows[-1], np.arange(78, 98, 2))
    assert len(windows) == 27 and len(ds) == 6  # starts 0, 3, …, 78


def test_timeseries_targets_start_and_end() -> None:
    data = np.arange(20, dtype=np.float64).reshape(10, 2)
    ds = utils.timeseries_dataset_from_array(
        data, np.arange(100, 110), sequence_length=3, batch_size=2, start_index=2, end_index=9
    )
    # Steps 2…8 (7 of them): windows start at 2, 3, 4, 5, 6 (the last ends at step 8).
    x, y, _ = ds.as_arrays()
    assert x.shape == (5, 3, 2) and x.dtype == np.float64
    np.testing.assert_array_equal(x[0], data[2:5])
    np.testing.assert_array_equal(x[4], data[6:9])
    np.testing.assert_array_equal(y, [102, 103, 104, 105, 106])
    batch_x, batch_y = ds[2]
    np.testing.assert_array_equal(batch_y, [106])


def test_timeseries_shuffle_is_keras_permutation_then_reshuffled() -> None:
    ds = utils.timeseries_dataset_from_array(
        np.arange(12), np.arange(12), sequence_length=3, batch_size=4, shuffle=True, seed=11
    )
    starts = np.arange(10, dtype="int32")
    np.random.RandomState(11).shuffle(starts)  # as Keras shuffles the start positions
    first = np.concatenate([y for _, y in ds])
    np.testing.assert_array_equal(first, starts)
    assert ds.shuffle
    second = np.concatenate([y for _, y in ds])
    assert sorted(second) == list(range(10)) and not np.array_equal(second, first)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"start_index": -1}, "start_index=-1"),
        ({"start_index": 10}, "start_index=10, for data of length 10"),
        ({"start_index": 5, "end_index": 4}, "end_index=4"),
        ({"end_index": 10}, "end_index=10, for data of length 10"),
        ({"sampling_rate": 0}, "sampling_rate=0"),
        ({"sequence_stride": 10}, "sequence_stride=10"),
    ],
)
def test_timeseries_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        utils.timeseries_dataset_from_array(np.arange(10), None, 3, **options)


def test_the_utils_namespace() -> None:
    for name in (
        "to_categorical normalize pad_sequences set_random_seed split_dataset plot_model "
        "model_to_dot timeseries_dataset_from_array image_dataset_from_directory "
        "text_dataset_from_directory PyDataset Sequence load_img img_to_array array_to_img "
        "save_img get_file np_utils"
    ).split():
        assert name in utils.__all__ and hasattr(utils, name), name
    assert cornu.utils is utils and "utils" in cornu.__all__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from cornu.utils.np_utils import normalize, to_categorical  # Keras 2's path

    assert to_categorical is utils.to_categorical and normalize is utils.normalize
