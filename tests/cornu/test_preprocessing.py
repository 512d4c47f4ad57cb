"""`cornu.preprocessing` (Keras 2's `keras.preprocessing` paths) against Keras 3.15.1's own
legacy code, which runs without TensorFlow: same outputs for the same inputs and seeds."""

from __future__ import annotations

import io
import os
import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from cornu import preprocessing
from cornu.preprocessing import image, sequence, text
from cornu.utils.array_dataset import ArrayDataset

os.environ["KERAS_BACKEND"] = "torch"  # the reference runs on torch, as tests/data/keras

TEXTS = [
    "The cat sat on the mat.",
    "The dog ate my homework!",
    "Cats and dogs: the eternal question?",
    "",
    "the THE the",
]


@pytest.fixture(scope="module")
def legacy() -> Any:
    """Keras 3's `keras.src.legacy.preprocessing` (tf.keras's `keras.preprocessing`)."""
    import keras  # noqa: F401  (sets up the backend first)
    from keras.src.legacy import preprocessing

    return preprocessing


# -- text --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"num_words": 5},
        {"oov_token": "<OOV>"},
        {"num_words": 4, "oov_token": "<OOV>", "lower": False},
        {"char_level": True},
        {"filters": "", "split": "a"},
    ],
)
def test_tokenizer_matches_keras(legacy: Any, options: dict[str, Any]) -> None:
    ours, theirs = text.Tokenizer(**options), legacy.text.Tokenizer(**options)
    ours.fit_on_texts(TEXTS)
    theirs.fit_on_texts(TEXTS)
    assert ours.word_index == theirs.word_index and ours.index_word == theirs.index_word
    assert list(ours.word_counts.items()) == list(theirs.word_counts.items())
    assert dict(ours.word_docs) == dict(theirs.word_docs) and ours.document_count == 5
    unseen = ["the unseen cat", "dogs dogs dogs"]
    assert ours.texts_to_sequences(TEXTS + unseen) == theirs.texts_to_sequences(TEXTS + unseen)
    sequences = theirs.texts_to_sequences(TEXTS) + [[1, 2, 99]]
    assert ours.sequences_to_texts(sequences) == theirs.sequences_to_texts(sequences)
    for mode in ("binary", "count", "freq", "tfidf"):
        np.testing.assert_array_equal(
            ours.texts_to_matrix(TEXTS, mode), theirs.texts_to_matrix(TEXTS, mode)
        )
    assert ours.to_json() == theirs.to_json()  # the same JSON text, byte for byte
    again = text.tokenizer_from_json(theirs.to_json())
    assert again.word_index == theirs.word_index
    assert again.texts_to_sequences(unseen) == theirs.texts_to_sequences(unseen)


def test_tokenizer_lists_of_tokens_and_sequences(legacy: Any) -> None:
    tokens = [["A", "b"], ["b", "c", "b"]]
    ours, theirs = text.Tokenizer(), legacy.text.Tokenizer()
    ours.fit_on_texts(tokens)
    theirs.fit_on_texts(tokens)
    assert ours.word_index == theirs.word_index
    ours.fit_on_sequences([[1, 2], [2]])
    theirs.fit_on_sequences([[1, 2], [2]])
    assert dict(ours.index_docs) == dict(theirs.index_docs)
    np.testing.assert_array_equal(
        ours.sequences_to_matrix([[1, 2, 2]], "tfidf"),
        theirs.sequences_to_matrix([[1, 2, 2]], "tfidf"),
    )


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda t: t.Tokenizer().texts_to_matrix(["a"]), ValueError),
        (lambda t: t.Tokenizer(num_words=3).sequences_to_matrix([[1]], mode="tfidf"), ValueError),
        (lambda t: t.Tokenizer(num_words=3).sequences_to_matrix([[1]], mode="bits"), ValueError),
        (lambda t: t.Tokenizer(colour=1), TypeError),
    ],
)
def test_tokenizer_errors_match_keras(
    legacy: Any, call: Callable[[Any], Any], error: type[Exception]
) -> None:
    with pytest.raises(error) as theirs:
        call(legacy.text)
    with pytest.raises(error) as ours:
        call(text)
    assert str(ours.value) == str(theirs.value)


def test_tokenizer_nb_words_is_num_words(legacy: Any) -> None:
    with pytest.warns(UserWarning, match="renamed `num_words`"):
        assert text.Tokenizer(nb_words=7).num_words == 7


def test_text_functions_match_keras(legacy: Any) -> None:
    sample = "Hello, World! Hello again--world."
    assert text.text_to_word_sequence(sample) == legacy.text.text_to_word_sequence(sample)
    assert text.text_to_word_sequence(sample, lower=False, split="o") == (
        legacy.text.text_to_word_sequence(sample, lower=False, split="o")
    )
    assert text.one_hot(sample, 50) == legacy.text.one_hot(sample, 50)  # same process: same hash
    assert text.hashing_trick(sample, 20, "md5") == legacy.text.hashing_trick(sample, 20, "md5")
    assert text.hashing_trick(sample, 9, len, analyzer=str.split) == (
        legacy.text.hashing_trick(sample, 9, len, analyzer=str.split)
    )


# -- sequence -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"length": 3},
        {"length": 4, "sampling_rate": 2, "stride": 2, "batch_size": 3},
        {"length": 2, "start_index": 3, "end_index": 15, "reverse": True, "batch_size": 5},
        {"length": 3, "shuffle": True, "batch_size": 4},
    ],
)
def test_timeseries_generator_matches_keras(legacy: Any, options: dict[str, Any]) -> None:
    data = np.arange(40, dtype=np.float32).reshape(20, 2)
    targets = np.arange(100, 120)
    ours = sequence.TimeseriesGenerator(data, targets, **options)
    theirs = legacy.sequence.TimeseriesGenerator(data, targets, **options)
    assert len(ours) == len(theirs)
    for i in range(len(ours)):
        np.random.seed(i)
        x, y = theirs[i]
        np.random.seed(i)
        ours_x, ours_y = ours[i]
        np.testing.assert_array_equal(ours_x, x)
        np.testing.assert_array_equal(ours_y, y)
    arrays = ours.as_arrays()
    if options.get("shuffle"):
        assert arrays is None  # each batch is a fresh draw: fit draws batches
    else:
        assert arrays is not None
        np.testing.assert_array_equal(arrays[0], np.concatenate([b[0] for b in theirs]))


def test_timeseries_generator_errors_and_json(legacy: Any) -> None:
    with pytest.raises(ValueError, match="Data length is 3 while target length is 2"):
        sequence.TimeseriesGenerator(np.zeros(3), np.zeros(2), length=1)
    with pytest.raises(ValueError, match="`start_index\\+length=5 > end_index=4`"):
        sequence.TimeseriesGenerator(np.zeros(5), np.zeros(5), length=5)
    generator = sequence.TimeseriesGenerator(np.arange(6), np.arange(6), length=2, batch_size=2)
    config = __import__("json").loads(generator.to_json())
    assert config["class_name"] == "TimeseriesGenerator"
    assert config["config"]["data"] == "[0, 1, 2, 3, 4, 5]" and config["config"]["length"] == 2
    # Keras's own to_json fails: it calls super().get_config(), which PyDataset lacks.
    keras_generator = legacy.sequence.TimeseriesGenerator(np.arange(6), np.arange(6), length=2)
    with pytest.raises(AttributeError):
        keras_generator.to_json()


def test_skipgrams_and_sampling_table_match_keras(legacy: Any) -> None:
    words = [1, 2, 0, 3, 4, 5, 2, 1, 7]
    table = legacy.sequence.make_sampling_table(10, sampling_factor=0.05)
    np.testing.assert_array_equal(sequence.make_sampling_table(10, 0.05), table)
    cases: list[dict[str, Any]] = [
        {"window_size": 2, "seed": 3},
        {"window_size": 1, "negative_samples": 0.5, "categorical": True, "seed": 4},
        {"window_size": 3, "shuffle": False, "sampling_table": table},
        {"window_size": 2},  # an unseeded shuffle draws its seed from `random`
    ]
    for options in cases:
        random.seed(21)
        expected = legacy.sequence.skipgrams(words, 8, **options)
        random.seed(21)
        assert sequence.skipgrams(words, 8, **options) == expected, options
    assert sequence.pad_sequences([[1, 2], [3]]).tolist() == [[1, 2], [0, 3]]


# -- images --------------------------------------------------------------------------------


def test_image_files_match_keras(legacy: Any, tmp_path: Path) -> None:
    import keras

    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (9, 12, 3)).astype(np.uint8)
    path = tmp_path / "photo.png"
    Image.fromarray(pixels).save(path)
    for options in [
        {},
        {"color_mode": "grayscale", "target_size": (5, 6)},
        {"color_mode": "rgba", "target_size": (4, 4), "interpolation": "bilinear"},
        {"target_size": (6, 6), "keep_aspect_ratio": True, "interpolation": "bicubic"},
    ]:
        ours = image.img_to_array(image.load_img(path, **options))
        theirs = keras.utils.img_to_array(keras.utils.load_img(path, **options))
        np.testing.assert_array_equal(ours, theirs)
    loaded = image.load_img(io.BytesIO(path.read_bytes()))
    np.testing.assert_array_equal(image.img_to_array(loaded, data_format="channels_first")[0],
                                  pixels[..., 0])  # fmt: skip
    floats = rng.normal(size=(5, 4, 1)) * 300
    for scale in (True, False):
        ours_img = image.array_to_img(floats, scale=scale)
        theirs_img = keras.utils.array_to_img(floats, scale=scale)
        assert ours_img.mode == theirs_img.mode
        np.testing.assert_array_equal(np.asarray(ours_img), np.asarray(theirs_img))
    saved = tmp_path / "saved.jpg"
    with pytest.warns(UserWarning, match="RGBA"):
        image.save_img(saved, rng.uniform(size=(4, 4, 4)))
    assert Image.open(saved).format == "JPEG"
    with pytest.raises(ValueError, match="color_mode must be"):
        image.load_img(path, color_mode="cmyk")
    with pytest.raises(ValueError, match="Invalid interpolation method cubic"):
        image.load_img(path, target_size=(2, 2), interpolation="cubic")
    with pytest.raises(TypeError, match="path should be path-like"):
        image.load_img(3)


def test_smart_resize_crops_the_centre_then_resizes() -> None:
    """Keras's smart_resize: the largest centred crop of the target's ratio — rows 1…4 of
    a 6×4 image for a square target — then TF's resize (here the identity)."""
    picture = np.arange(24, dtype=np.float32).reshape(6, 4, 1)
    np.testing.assert_array_equal(image.smart_resize(picture, (4, 4)), picture[1:5])
    batch = np.stack([picture, picture])
    assert image.smart_resize(batch, (2, 2)).shape == (2, 2, 2, 1)
    with pytest.raises(ValueError, match="incorrect rank"):
        image.smart_resize(np.zeros((4, 4)), (2, 2))


AUGMENTATIONS: list[dict[str, Any]] = [
    {"rotation_range": 40, "fill_mode": "constant", "cval": 3.0},
    {"width_shift_range": 0.2, "height_shift_range": 0.3, "fill_mode": "reflect"},
    {"width_shift_range": 2, "height_shift_range": [1, 3], "fill_mode": "wrap"},
    {"shear_range": 25, "zoom_range": 0.3, "horizontal_flip": True, "vertical_flip": True},
    {"zoom_range": (0.5, 0.9), "channel_shift_range": 30.0},
    {"brightness_range": (0.4, 1.6), "rotation_range": 10},
    {"rotation_range": 15, "data_format": "channels_first", "interpolation_order": 0},
]


@pytest.mark.parametrize("options", AUGMENTATIONS)
def test_random_transform_matches_keras_for_a_seed(legacy: Any, options: dict[str, Any]) -> None:
    picture = np.random.default_rng(3).uniform(0, 255, (10, 12, 3)).astype(np.float32)
    if options.get("data_format") == "channels_first":
        picture = picture.transpose(2, 0, 1)
    ours = image.ImageDataGenerator(**options)
    theirs = legacy.image.ImageDataGenerator(**options)
    for seed in (0, 1, 2):
        assert ours.get_random_transform(picture.shape, seed) == (
            theirs.get_random_transform(picture.shape, seed)
        )
        np.testing.assert_allclose(
            ours.random_transform(picture.copy(), seed),
            theirs.random_transform(picture.copy(), seed),
            atol=1e-4,
        )


def test_standardize_and_fit_match_keras(legacy: Any) -> None:
    images = np.random.default_rng(4).uniform(0, 255, (6, 5, 4, 3)).astype(np.float32)
    for options in [
        {"featurewise_center": True, "featurewise_std_normalization": True, "rescale": 1 / 255},
        {"samplewise_center": True, "samplewise_std_normalization": True},
        {"zca_whitening": True},
        {"featurewise_center": True, "rotation_range": 20},
    ]:
        with pytest.warns(UserWarning) if options.get("zca_whitening") else _nothing():
            ours = image.ImageDataGenerator(**options)
        theirs = legacy.image.ImageDataGenerator(**options)
        augment = "rotation_range" in options
        ours.fit(images, augment=augment, rounds=2, seed=5)
        theirs.fit(images, augment=augment, rounds=2, seed=5)
        for name in ("mean", "std", "zca_whitening_matrix"):
            expected = getattr(theirs, name)
            got = getattr(ours, name)
            assert (got is None) == (expected is None), name
            if expected is not None:
                np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(
            ours.standardize(images[0].copy()), theirs.standardize(images[0].copy()), atol=1e-4
        )


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None


def test_flow_batches_match_keras_over_epochs(legacy: Any) -> None:
    x = np.random.default_rng(5).uniform(0, 255, (10, 6, 6, 1)).astype(np.float32)
    y = np.arange(10)
    weights = np.linspace(0, 1, 10)
    options = {"rotation_range": 30, "horizontal_flip": True, "rescale": 1 / 255}
    ours = image.ImageDataGenerator(**options).flow(x, y, 4, seed=7, sample_weight=weights)
    theirs = legacy.image.ImageDataGenerator(**options).flow(x, y, 4, seed=7, sample_weight=weights)
    assert len(ours) == len(theirs) == 3
    for _ in range(2):  # two epochs: reshuffled alike
        for i in range(3):
            got, expected = ours[i], theirs[i]
            assert len(got) == 3
            for a, b in zip(got, expected, strict=True):
                np.testing.assert_allclose(a, b, atol=1e-5)
        np.random.seed(1)  # the new order comes from numpy's global generator
        ours.on_epoch_end()
        np.random.seed(1)
        theirs.on_epoch_end()
    np.random.seed(0)
    expected_next = next(theirs)
    np.random.seed(0)
    np.testing.assert_allclose(next(ours)[0], expected_next[0], atol=1e-5)
    extra = np.arange(10) * 3
    images_only = image.ImageDataGenerator().flow((x, [extra]), None, batch_size=5, shuffle=False)
    inputs = images_only[1]
    assert isinstance(inputs, list) and inputs[1].tolist() == [15, 18, 21, 24, 27]


def test_flow_subsets_and_errors(legacy: Any) -> None:
    x = np.zeros((10, 4, 4, 3), np.float32)
    generator = image.ImageDataGenerator(validation_split=0.3)
    train = generator.flow(x, np.arange(10) % 2, subset="training")
    val = generator.flow(x, np.arange(10) % 2, subset="validation")
    assert (train.n, val.n) == (7, 3)  # Keras keeps the *first* 30% for validation here
    with pytest.raises(ValueError, match="different number of classes"):
        generator.flow(x, np.array([0] * 3 + [1] * 7), subset="validation")
    with pytest.raises(ValueError, match="should have rank 4"):
        generator.flow(np.zeros((3, 4, 4)), None)
    with pytest.raises(ValueError, match="should have the same length"):
        generator.flow(x, np.zeros(3))
    with pytest.raises(ValueError, match="zoom_range"):
        image.ImageDataGenerator(zoom_range=(1, 2, 3))
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        image.ImageDataGenerator(validation_split=1.5)
    with pytest.raises(ValueError, match="Asked to retrieve element 3"):
        image.ImageDataGenerator().flow(x, batch_size=4)[3]


@pytest.fixture
def class_folders(tmp_path: Path) -> Path:
    rng = np.random.default_rng(6)
    for name, count in {"cats": 5, "dogs": 4}.items():
        folder = tmp_path / "train" / name
        folder.mkdir(parents=True)
        for n in range(count):
            Image.fromarray(rng.integers(0, 256, (7, 9, 3)).astype(np.uint8)).save(
                folder / f"{n}.png"
            )
        (folder / "readme.txt").write_text("not an image")
    return tmp_path / "train"


def test_flow_from_directory_matches_keras(
    legacy: Any, class_folders: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    options = {"rotation_range": 20, "zoom_range": 0.2, "horizontal_flip": True}
    kwargs = {"target_size": (5, 6), "batch_size": 4, "seed": 3}
    ours = image.ImageDataGenerator(**options).flow_from_directory(class_folders, **kwargs)
    theirs = legacy.image.ImageDataGenerator(**options).flow_from_directory(
        str(class_folders), **kwargs
    )
    assert "Found 9 images belonging to 2 classes." in capsys.readouterr().out
    assert ours.class_indices == theirs.class_indices == {"cats": 0, "dogs": 1}
    assert ours.filenames == theirs.filenames and ours.filepaths == theirs.filepaths
    np.testing.assert_array_equal(ours.classes, theirs.classes)
    for i in range(len(theirs)):
        (x, y), (kx, ky) = ours[i], theirs[i]
        np.testing.assert_allclose(x, kx, atol=1e-4)
        np.testing.assert_array_equal(y, ky)
    for class_mode in ("binary", "sparse", "input", None):
        ours_batch = image.ImageDataGenerator().flow_from_directory(
            class_folders, class_mode=class_mode, shuffle=False, **kwargs
        )[0]
        theirs_batch = legacy.image.ImageDataGenerator().flow_from_directory(
            str(class_folders), class_mode=class_mode, shuffle=False, **kwargs
        )[0]
        for a, b in zip(
            ours_batch if isinstance(ours_batch, tuple) else [ours_batch],
            theirs_batch if isinstance(theirs_batch, tuple) else [theirs_batch],
            strict=True,
        ):
            np.testing.assert_array_equal(a, b)
    split = image.ImageDataGenerator(validation_split=0.4)
    val = split.flow_from_directory(class_folders, subset="validation", **kwargs)
    keras_val = legacy.image.ImageDataGenerator(validation_split=0.4).flow_from_directory(
        str(class_folders), subset="validation", **kwargs
    )
    assert val.filenames == keras_val.filenames and val.samples == 3
    with pytest.raises(ValueError, match="Invalid class_mode: ordinal"):
        image.ImageDataGenerator().flow_from_directory(class_folders, class_mode="ordinal")


def test_scipy_missing_gives_keras_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "scipy.ndimage", None)  # as if scipy were absent
    with pytest.raises(ImportError, match="This requires the scipy module. You can install it"):
        image.apply_affine_transform(np.zeros((4, 4, 1)), theta=10, channel_axis=2,
                                     row_axis=0, col_axis=1)  # fmt: skip


def test_affine_helpers_match_keras(legacy: Any) -> None:
    picture = np.random.default_rng(7).uniform(0, 255, (3, 8, 8)).astype(np.float32)
    for name, args in [
        ("random_rotation", (30,)),
        ("random_shift", (0.2, 0.1)),
        ("random_shear", (20,)),
        ("random_zoom", ((0.7, 1.2),)),
        ("random_channel_shift", (20.0,)),
    ]:
        np.random.seed(1)
        expected = getattr(legacy.image, name)(picture.copy(), *args)
        np.random.seed(1)
        np.testing.assert_allclose(getattr(image, name)(picture.copy(), *args), expected, atol=1e-4)
    last = picture.transpose(1, 2, 0)
    np.random.seed(2)
    expected = legacy.image.random_brightness(last.copy(), (0.5, 1.5))
    np.random.seed(2)
    np.testing.assert_allclose(image.random_brightness(last.copy(), (0.5, 1.5)), expected)
    with pytest.raises(ValueError, match="must be distinct"):
        image.apply_affine_transform(picture, theta=1, row_axis=1, col_axis=1)


def test_the_preprocessing_namespace() -> None:
    assert preprocessing.image is image and preprocessing.text is text
    for name in ("image_dataset_from_directory", "text_dataset_from_directory",
                 "timeseries_dataset_from_array"):  # fmt: skip
        assert name in preprocessing.__all__
    ds = preprocessing.timeseries_dataset_from_array(np.arange(5), None, 2, batch_size=2)
    assert isinstance(ds, ArrayDataset) and len(ds) == 2
    for name in ("ImageDataGenerator", "DirectoryIterator", "NumpyArrayIterator", "Iterator",
                 "load_img", "img_to_array", "array_to_img", "save_img", "smart_resize",
                 "apply_affine_transform", "random_rotation"):  # fmt: skip
        assert name in image.__all__ and hasattr(image, name)
    assert {"Tokenizer", "tokenizer_from_json", "one_hot", "hashing_trick",
            "text_to_word_sequence"} <= set(text.__all__)  # fmt: skip
    assert {"pad_sequences", "TimeseriesGenerator", "skipgrams", "make_sampling_table"} <= set(
        sequence.__all__
    )
