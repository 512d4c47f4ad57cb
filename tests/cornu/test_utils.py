"""`cornu.utils` against Keras 3.15.1 itself where Keras runs without TensorFlow, and
against values worked out by hand (with the rule they follow) where Keras needs tf.data."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import cornu
from cornu import layers, models, utils
from cornu.utils import rng
from cornu.utils.array_dataset import ArrayDataset, ArrayTensor
from cornu.utils.dataset_split import rescale_split_sizes
from cornu.utils.dataset_utils import index_directory

os.environ["KERAS_BACKEND"] = "torch"  # the reference runs on torch, as tests/data/keras


@pytest.fixture(scope="module")
def keras() -> Any:
    import keras

    return keras


def keras_numpy_resize() -> dict[str, Any]:
    """Keras's numpy-backend resize (`keras/src/backend/numpy/image.py`, jax.image.resize's
    algorithm with antialias off), whose module cannot be imported here (its package needs
    jax): its pure-numpy functions are read from the file and run as they are."""
    import ast

    import keras

    source = Path(keras.__file__).parent.joinpath("src/backend/numpy/image.py").read_text()
    wanted = {
        "_compute_weight_mat", "_resize", "_resize_nearest", "_fill_triangle_kernel",
        "_fill_keys_cubic_kernel", "_fill_lanczos_kernel", "_scale_and_translate", "_kernels",
    }  # fmt: skip
    tree = ast.parse(source)
    kept = [
        node
        for node in tree.body
        if (isinstance(node, ast.FunctionDef) and node.name in wanted)
        or (isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") in wanted)
    ]
    namespace: dict[str, Any] = {"np": np}
    exec(compile(ast.Module(body=kept, type_ignores=[]), "keras_numpy_image", "exec"), namespace)
    return namespace


# -- numerical ---------------------------------------------------------------------------


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


# -- random seeds ------------------------------------------------------------------------


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


# -- PyDataset and ArrayDataset ------------------------------------------------------------


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


# -- split_dataset -------------------------------------------------------------------------


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


# -- image and text datasets -----------------------------------------------------------------


def write_png(path: Path, pixels: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = "L" if pixels.ndim == 2 else "RGB"
    Image.fromarray(pixels.astype(np.uint8), mode).save(path)


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    """Three classes; each 6×8 image's red channel is its class × 50 + its number, so a
    label can be checked against its image."""
    root = tmp_path / "images"
    counts = {"cat": 4, "dog": 3, "emu": 2}
    for class_index, (name, count) in enumerate(counts.items()):
        for n in range(count):
            pixels = np.zeros((6, 8, 3), np.uint8)
            pixels[..., 0] = class_index * 50 + n
            folder = root / name / ("nested" if n == 0 else "")
            write_png(folder / f"{name}{n}.png", pixels)
    (root / "cat" / "notes.txt").write_text("not an image")
    (root / ".hidden").mkdir()
    write_png(root / ".hidden" / "x.png", np.zeros((2, 2)))
    return root


def test_image_folder_is_indexed_and_shuffled_exactly_as_keras(
    keras: Any, image_folder: Path
) -> None:
    from keras.src.utils import dataset_utils as keras_dataset_utils

    formats = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
    for shuffle in (False, True):
        ours = index_directory(str(image_folder), "inferred", formats, shuffle=shuffle, seed=9)
        theirs = keras_dataset_utils.index_directory(
            str(image_folder), "inferred", formats, shuffle=shuffle, seed=9
        )
        assert ours[0] == theirs[0] and ours[2] == theirs[2] == ["cat", "dog", "emu"]
        np.testing.assert_array_equal(ours[1], theirs[1])


def test_image_dataset_labels_match_their_images(image_folder: Path, capsys: Any) -> None:
    ds = utils.image_dataset_from_directory(image_folder, image_size=(6, 8), batch_size=4, seed=1)
    assert isinstance(ds, ArrayDataset)
    assert "Found 9 files belonging to 3 classes." in capsys.readouterr().out
    assert ds.class_names == ["cat", "dog", "emu"] and len(ds.file_paths) == 9
    assert len(ds) == 3 and ds.batch_size == 4 and ds.shuffle
    x, y, _ = ds.as_arrays()
    assert x.shape == (9, 6, 8, 3) and x.dtype == np.float32 and y.dtype == np.int32
    np.testing.assert_array_equal(x[:, 0, 0, 0] // 50, y)  # each label is its image's class
    for path, image in zip(ds.file_paths, x, strict=True):
        assert Path(path).parent.name in (ds.class_names[int(image[0, 0, 0]) // 50], "nested")
    images, labels = ds[0]
    np.testing.assert_array_equal(images[:, 0, 0, 0] // 50, labels)


def test_image_dataset_label_modes_and_color_modes(image_folder: Path) -> None:
    common = {"image_size": (6, 8), "shuffle": False, "verbose": False}
    cat = utils.image_dataset_from_directory(image_folder, label_mode="categorical", **common)
    _, y, _ = cat.as_arrays()
    np.testing.assert_array_equal(y, np.eye(3, dtype=np.float32)[[0, 0, 0, 0, 1, 1, 1, 2, 2]])
    assert y.dtype == np.float32
    two = utils.image_dataset_from_directory(
        image_folder, label_mode="binary", class_names=["emu", "dog"], **common
    )
    _, y, _ = two.as_arrays()
    assert two.class_names == ["emu", "dog"] and y.shape == (5, 1)
    np.testing.assert_array_equal(y[:, 0], [0, 0, 1, 1, 1])
    alone = utils.image_dataset_from_directory(
        image_folder, labels=None, color_mode="grayscale", **common
    )
    x, y, _ = alone.as_arrays()
    # Without labels Keras lists every file under the folder, hidden folders included.
    assert y is None and x.shape == (10, 6, 8, 1) and alone.class_names is None
    rgba = utils.image_dataset_from_directory(image_folder, color_mode="rgba", **common)
    assert rgba[0][0].shape == (9, 6, 8, 4)
    given = utils.image_dataset_from_directory(image_folder, labels=[1] * 9 + [0], **common)
    assert given.class_names == ["0", "1"]
    np.testing.assert_array_equal(given.as_arrays()[1], [1] * 9 + [0])
    first = utils.image_dataset_from_directory(image_folder, data_format="channels_first", **common)
    assert first[0][0].shape == (9, 3, 6, 8)


def test_image_dataset_validation_split(image_folder: Path) -> None:
    options = {"image_size": (6, 8), "validation_split": 0.34, "seed": 4, "verbose": False}
    train, val = utils.image_dataset_from_directory(image_folder, subset="both", **options)
    training = utils.image_dataset_from_directory(image_folder, subset="training", **options)
    assert isinstance(training, ArrayDataset)
    paths, _, _ = index_directory(
        str(image_folder), "inferred", (".png",), seed=4, verbose=False
    )  # the order Keras shuffles the files into
    assert val.file_paths == paths[-3:] and train.file_paths == training.file_paths == paths[:-3]
    assert not val.shuffle and train.shuffle
    assert set(train.file_paths).isdisjoint(val.file_paths)


def test_image_dataset_resizes_with_tensorflows_bilinear_rule(tmp_path: Path) -> None:
    """tf.image.resize (half-pixel centres, no antialias): output pixel i of m → n reads
    the input at (i + 0.5)·m/n − 0.5, clamped; a row [0, 40] → 4 is [0, 10, 30, 40], and
    [0, 40, 80, 120] → 2 samples at 0.5 and 2.5: [20, 100] (Pillow would average)."""
    write_png(tmp_path / "a" / "up.png", np.array([[0, 40], [80, 120]]))
    up = utils.image_dataset_from_directory(
        tmp_path, image_size=(4, 4), color_mode="grayscale", shuffle=False, verbose=False
    )
    row = np.array([0.0, 10, 30, 40])
    expected = np.stack([row, row + 20, row + 60, row + 80])  # the columns go 0 → 80 alike
    np.testing.assert_allclose(up[0][0][0, :, :, 0], expected, atol=1e-4)
    write_png(tmp_path / "b" / "down.png", np.array([[0, 40, 80, 120]] * 2))
    (tmp_path / "a" / "up.png").unlink()
    down = utils.image_dataset_from_directory(
        tmp_path, image_size=(2, 2), color_mode="grayscale", shuffle=False, verbose=False
    )
    np.testing.assert_allclose(down[0][0][0, 0, :, 0], [20, 100], atol=1e-4)
    area = utils.image_dataset_from_directory(
        tmp_path, image_size=(2, 2), interpolation="area", color_mode="grayscale",
        shuffle=False, verbose=False,
    )  # fmt: skip
    np.testing.assert_allclose(area[0][0][0, 0, :, 0], [20, 100], atol=1e-4)


@pytest.mark.parametrize("method", ["bilinear", "nearest"])
def test_resize_matches_keras_torch_backend(keras: Any, method: str) -> None:
    """Keras's torch backend resizes with F.interpolate (half-pixel "bilinear" and
    "nearest-exact", antialias off): TensorFlow's rules for these two."""
    from cornu.utils import image_resize

    image = np.random.default_rng(1).uniform(0, 255, (7, 9, 2)).astype(np.float32)
    for size in [(4, 5), (11, 13), (7, 3)]:
        theirs = keras.ops.convert_to_numpy(
            keras.ops.image.resize(image, size, interpolation=method)
        )
        np.testing.assert_allclose(image_resize.resize(image, size, method), theirs, atol=1e-3)


@pytest.mark.parametrize("method", ["bilinear", "bicubic", "lanczos3", "lanczos5"])
def test_resize_matches_keras_numpy_backend(keras: Any, method: str) -> None:
    """Keras's numpy backend: a kernel over the neighbours, renormalised at the border —
    TensorFlow's scale_and_translate, which tf.image.resize uses for these methods."""
    from cornu.utils import image_resize

    reference = keras_numpy_resize()
    image = np.random.default_rng(2).uniform(0, 255, (7, 9, 2)).astype(np.float32)
    for size in [(4, 5), (11, 13)]:
        theirs = reference["_resize"](image, (*size, 2), method, False)
        np.testing.assert_allclose(image_resize.resize(image, size, method), theirs, atol=2e-3)


def test_area_resize_by_hand() -> None:
    """TF's ResizeArea: output i averages the input over [i·m/n, (i+1)·m/n)."""
    from cornu.utils import image_resize

    row = np.array([0.0, 30, 60], dtype=np.float32).reshape(1, 3, 1)
    np.testing.assert_allclose(image_resize.resize(row, (1, 2), "area")[0, :, 0], [10, 50])


def test_crop_and_pad_to_aspect_ratio(tmp_path: Path) -> None:
    pixels = np.zeros((4, 8), np.uint8)
    pixels[:, 2:6] = 200  # the centre 4×4 square
    write_png(tmp_path / "c" / "wide.png", pixels)
    options = {"color_mode": "grayscale", "shuffle": False, "verbose": False}
    crop = utils.image_dataset_from_directory(
        tmp_path, image_size=(2, 2), crop_to_aspect_ratio=True, **options
    )
    np.testing.assert_allclose(crop[0][0][0, :, :, 0], 200)  # only the centre square is kept
    pad = utils.image_dataset_from_directory(
        tmp_path, image_size=(8, 8), pad_to_aspect_ratio=True, **options
    )
    # tf.image.resize_with_pad: 4×8 fits as 4×8 in 8×8, 2 rows of zeros above and below.
    padded = pad[0][0][0, :, :, 0]
    np.testing.assert_allclose(padded[:2], 0)
    np.testing.assert_allclose(padded[6:], 0)
    np.testing.assert_allclose(padded[2:6], pixels)
    with pytest.raises(ValueError, match="Only one of `pad_to_aspect_ratio`"):
        utils.image_dataset_from_directory(
            tmp_path, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True, **options
        )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"label_mode": "sparse"}, "label_mode=sparse"),
        ({"color_mode": "cmyk"}, "color_mode=cmyk"),
        ({"image_size": (1, 2, 3)}, r"image_size=\(1, 2, 3\)"),
        ({"interpolation": "cubic"}, "interpolation=cubic"),
        ({"validation_split": 0.2}, "If `subset` is set, `validation_split` must be set"),
        ({"validation_split": 0.2, "subset": "training"}, "you must provide a `seed`"),
        ({"subset": "test", "validation_split": 0.2, "seed": 1}, "received: test"),
        ({"labels": "folders"}, "Received: labels=folders"),
        ({"class_names": ["cow"]}, "did not match the names"),
        ({"label_mode": "binary"}, "exactly 2 class_names"),
        ({"labels": [0, 1]}, "len\\(labels\\) is 2 while we found 10 files"),
        ({"batch_size": 0}, "batch_size=0"),
    ],
)
def test_image_dataset_errors_name_the_argument(
    image_folder: Path, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        utils.image_dataset_from_directory(image_folder, verbose=False, **options)


def test_image_dataset_of_an_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    with pytest.raises(ValueError, match="No images found in directory"):
        utils.image_dataset_from_directory(tmp_path, verbose=False)


def test_text_dataset(tmp_path: Path) -> None:
    texts = {"neg": ["awful", "bad film"], "pos": ["good", "great fun", "très bien"]}
    for label, items in texts.items():
        for n, text in enumerate(items):
            (tmp_path / label).mkdir(exist_ok=True)
            (tmp_path / label / f"{n}.txt").write_text(text, encoding="utf-8")
    (tmp_path / "pos" / "skip.md").write_text("ignored")
    ds = utils.text_dataset_from_directory(tmp_path, batch_size=2, shuffle=False, verbose=False)
    assert isinstance(ds, ArrayDataset) and ds.class_names == ["neg", "pos"] and len(ds) == 3
    x, y, _ = ds.as_arrays()
    assert x.dtype.kind == "U" and list(x) == [
        "awful",
        "bad film",
        "good",
        "great fun",
        "très bien",
    ]
    np.testing.assert_array_equal(y, [0, 0, 1, 1, 1])
    short = utils.text_dataset_from_directory(tmp_path, max_length=4, shuffle=False, verbose=False)
    assert list(short.as_arrays()[0]) == ["awfu", "bad ", "good", "grea", "trè"]
    train, val = utils.text_dataset_from_directory(
        tmp_path, validation_split=0.4, subset="both", seed=3, verbose=False
    )
    assert len(train.file_paths) == 3 and len(val.file_paths) == 2
    with pytest.raises(ValueError, match="format=torch"):
        utils.text_dataset_from_directory(tmp_path, format="torch")


# -- timeseries ----------------------------------------------------------------------------


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


# -- plot_model ------------------------------------------------------------------------------


def sequential() -> models.Sequential:
    cornu.backend.clear_session()  # Keras's first default names: dense, dropout, dense_1
    model = models.Sequential(name="mlp")
    model.add(layers.Dense(32, activation="relu", input_shape=(784,)))
    model.add(layers.Dropout(0.5))
    model.add(layers.Dense(10, activation="softmax"))
    return model


def two_towers() -> models.Model:
    a, b = layers.Input(shape=(16,), name="a"), layers.Input(shape=(16,), name="b")
    shared = layers.Dense(8, activation="relu", name="shared")
    merged = layers.Concatenate(name="concat")([shared(a), shared(b)])
    return models.Model(inputs=[a, b], outputs=layers.Dense(1, name="out")(merged))


def test_model_to_dot_writes_keras_labels_without_the_service() -> None:
    dot = utils.model_to_dot(sequential(), show_layer_activations=True).to_string()
    assert dot.startswith('digraph "mlp" {') and "rankdir=TB;" in dot and "dpi=200;" in dot
    assert "<b>dense</b> (Dense)" in dot and "<b>dropout</b> (Dropout)" in dot
    assert "Activation: <b>relu</b>" in dot and "Activation: <b>softmax</b>" in dot
    assert '"dense" -> "dropout" [penwidth=2];' in dot and '"dropout" -> "dense_1"' in dot
    graph = utils.model_to_dot(two_towers()).graph
    assert [b.key for b in graph.boxes] == ["a", "b", "shared", "concat", "out"]
    assert graph.edges == [
        ("a", "shared"),
        ("b", "shared"),
        ("shared", "concat"),
        ("concat", "out"),
    ]
    with pytest.raises(ValueError, match="rankdir=UP"):
        utils.model_to_dot(sequential(), rankdir="UP")
    with pytest.raises(ValueError, match="`layer_range` is no longer supported"):
        utils.plot_model(sequential(), layer_range=["a", "b"])
    with pytest.raises(ValueError, match="Unrecognized keyword arguments"):
        utils.plot_model(sequential(), colors=True)


def test_plot_model_draws_a_png_and_svg_without_graphviz(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` on the PATH: Cornu draws it
    tall = tmp_path / "tall.png"
    deep = models.Sequential(
        [layers.Dense(8, input_shape=(4,))] + [layers.Dense(8) for _ in range(4)]
    )
    shown = utils.plot_model(deep, to_file=tall, show_layer_names=True)
    with Image.open(tall) as image:
        image.load()
        assert image.format == "PNG" and image.height > 1.5 * image.width > 200  # five boxes, down
        pixels = np.asarray(image.convert("L"))
    assert (pixels < 50).mean() > 0.05 and (pixels > 200).mean() > 0.3  # black boxes on white
    from IPython.display import Image as IPythonImage

    assert isinstance(shown, IPythonImage)  # as Keras, when IPython is installed
    wide = tmp_path / "wide.png"
    utils.plot_model(deep, to_file=wide, rankdir="LR", dpi=96)
    with Image.open(wide) as image:
        assert image.width > 1.5 * image.height
        assert image.info["dpi"][0] == pytest.approx(96, abs=0.1)
    svg = tmp_path / "towers.svg"
    utils.plot_model(two_towers(), to_file=svg, show_layer_names=True)
    root = ET.parse(svg).getroot()
    texts = ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert texts == ["a (InputLayer)", "b (InputLayer)", "shared (Dense)", "concat (Concatenate)",
                     "out (Dense)"]  # fmt: skip
    assert len(list(root.iter("{http://www.w3.org/2000/svg}polyline"))) == 4
    utils.plot_model(sequential(), to_file=tmp_path / "model.dot")
    assert (tmp_path / "model.dot").read_text().startswith('digraph "mlp"')
    with pytest.raises(ValueError, match="format='eps'"):
        utils.plot_model(sequential(), to_file=tmp_path / "model.eps")


@pytest.fixture
def connected(api_url: str, new_api_key: Callable[[], str]) -> Iterator[cornu.Client]:
    client = cornu.connect(api_url, new_api_key())
    yield client
    client.close()


def test_plot_model_with_shapes_from_the_service(
    connected: cornu.Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dot = utils.model_to_dot(sequential(), show_shapes=True, show_trainable=True).to_string()
    assert "Input shape: <b>(None, 784)</b>" in dot and "Output shape: <b>(None, 32)</b>" in dot
    assert "Output shape: <b>(None, 10)</b>" in dot and ">Trainable<" in dot
    assert dot.count(">Trainable<") == 2  # Dropout has no weights: no cell, as Keras
    towers = utils.model_to_dot(two_towers(), show_shapes=True, show_dtype=True).to_string()
    assert "Input shape: <b>[(None, 8), (None, 8)]</b>" in towers  # concat's two inputs
    assert "Input shape: <b>?</b>" in towers  # the shared layer, called twice, as Keras
    assert "Output dtype: <b>float32</b>" in towers
    monkeypatch.setenv("PATH", str(tmp_path))
    out = tmp_path / "shapes.png"
    utils.plot_model(two_towers(), to_file=out, show_shapes=True, show_layer_names=True)
    with Image.open(out) as image:
        assert image.width > 1000 and image.height > image.width / 2
    unbuilt = models.Sequential([layers.Dense(3)])
    with pytest.raises(ValueError, match="has not yet been built"):
        utils.plot_model(unbuilt, to_file=tmp_path / "x.png", show_shapes=True)


@pytest.mark.skipif(not __import__("shutil").which("dot"), reason="Graphviz's dot is not installed")
def test_plot_model_with_graphviz(tmp_path: Path) -> None:
    towers, stack = tmp_path / "towers.png", tmp_path / "stack.png"
    utils.plot_model(two_towers(), to_file=towers, show_layer_names=True)
    utils.plot_model(sequential(), to_file=stack, show_layer_names=True)
    with Image.open(towers) as wide, Image.open(stack) as tall:
        assert wide.format == tall.format == "PNG"
        assert tall.height > tall.width  # four boxes one above the other
        assert wide.width > tall.width  # the two inputs side by side


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
