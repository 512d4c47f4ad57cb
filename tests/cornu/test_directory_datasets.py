"""`image_dataset_from_directory` and `text_dataset_from_directory` on real folders of
files, and image resizing, against Keras 3.15.1: the same order, labels, splits and
pixels.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from cornu import utils
from cornu.utils.array_dataset import ArrayDataset
from cornu.utils.dataset_utils import index_directory


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
