"""Arrays as the SDK sends them: Keras's conversions (pandas, `__array__`, tensors),
narrow dtypes kept narrow, float64 as float32, whole-number floats as uint8."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import zstandard

from cornu.uploads import NpyStream, as_array, keras_dtype, small_integers

pd = pytest.importorskip("pandas")


@pytest.mark.parametrize(
    ("given", "sent"),
    [("float64", "float32"), ("float32", "float32"), ("float16", "float16"),
     ("bool", "bool"), ("uint8", "uint8"), ("int8", "int8"), ("int16", "int16"),
     ("int32", "int32"), ("int64", "int64")],
)  # fmt: skip
def test_narrow_dtypes_travel_as_they_are(given: str, sent: str) -> None:
    assert keras_dtype(np.dtype(given)) == np.dtype(sent)
    values = np.random.default_rng(0).normal(size=(4, 3)) * 3
    array = values.astype(given) if np.dtype(given).kind == "f" else np.ones((4, 3), given)
    assert NpyStream(array).dtype == (np.dtype(sent) if given != "float64" else np.float32)


@pytest.mark.parametrize(
    ("values", "narrow"),
    [([0.0, 1.0, 255.0], True), ([0.0, 0.5], False), ([0.0, 256.0], False),
     ([-1.0, 1.0], False), ([0.0, np.nan], False), ([np.inf, 1.0], False)],
)  # fmt: skip
def test_whole_small_floats_travel_as_uint8(values: list[float], narrow: bool) -> None:
    array = np.array(values * 1000).reshape(-1, len(values))
    assert small_integers(array, chunk_bytes=64) is narrow
    stream = NpyStream(array)
    assert stream.dtype == (np.uint8 if narrow else np.float32)
    assert NpyStream(array, keras_dtypes=False).dtype == np.float64  # Client.upload as given
    if narrow:  # the same numbers reach the model
        sent = np.frombuffer(b"".join(stream.chunks())[len(stream.header) :], np.uint8)
        np.testing.assert_array_equal(sent.reshape(array.shape).astype(np.float32), array)


def _keras_array(keras: Any, value: Any) -> np.ndarray:
    """What Keras 3.15's array adapter makes of `value` (its own conversion code)."""
    from keras.src.trainers.data_adapters import array_slicing

    sliceable = array_slicing.convert_to_sliceable(value, target_backend="numpy")
    return np.asarray(type(sliceable).convert_to_numpy(sliceable.array))


FRAMES = {
    "floats and ints": lambda: pd.DataFrame({"a": [1.5, 2.5, 3.5], "b": [1, 2, 3]}),
    "ints": lambda: pd.DataFrame({"a": [1, 2, 3], "b": [4, 5, 6]}),
    "float32": lambda: pd.DataFrame({"a": np.arange(3, dtype=np.float32)}),
    "a series": lambda: pd.Series([0.25, 0.5, 0.75]),
    "an int series": lambda: pd.Series([0, 1, 1]),
}


@pytest.mark.parametrize("case", list(FRAMES))
def test_pandas_is_converted_as_keras_converts_it(keras: Any, case: str) -> None:
    value = FRAMES[case]()
    ours, theirs = as_array(value), _keras_array(keras, value)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)


def test_mixed_pandas_columns_become_numbers_and_text_is_refused() -> None:
    mixed = pd.DataFrame({"a": pd.array([1, None], dtype="Int64"), "b": [0.5, 1.0],
                          "c": [True, False]})  # fmt: skip
    values = as_array(mixed)  # pandas gives objects here; Keras would fail on them
    assert values.dtype == np.float32 and np.isnan(values[1, 0]) and values[0, 2] == 1.0
    with pytest.raises(TypeError, match="column city"):
        as_array(pd.DataFrame({"city": ["Paris", "Oslo"], "n": [1, 2]}))


def test_anything_with_array_and_tensors() -> None:
    class Wrapped:
        def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
            return np.arange(6, dtype=np.int16).reshape(3, 2)

    assert as_array(Wrapped()).dtype == np.int16 and NpyStream(Wrapped()).dtype == np.int16
    torch = pytest.importorskip("torch")
    tensor = torch.ones(2, 3, requires_grad=True)
    assert as_array(tensor).shape == (2, 3) and NpyStream(tensor).dtype == np.uint8


def test_data_zstd_does_not_shrink_goes_as_it_is() -> None:
    """Random floats shrink by ~7% under zstd: compressing them would cost both ends a
    pass over every byte for nothing, so they go uncompressed; sparse or small-integer
    data goes compressed; so does anything under the sample size (one request anyway)."""
    rng = np.random.default_rng(0)
    noise = NpyStream(rng.standard_normal((4096, 800), dtype=np.float32))
    sparse = NpyStream((rng.random((4096, 800)) < 0.02).astype(np.float32))
    assert noise.encoding() == "identity" and sparse.encoding() == "zstd"
    assert NpyStream(rng.standard_normal(100, dtype=np.float32)).encoding() == "zstd"
    whole = b"".join(bytes(c) for c in noise.encoded("identity"))
    assert whole == b"".join(bytes(c) for c in noise.chunks())
    packed = b"".join(sparse.encoded("zstd"))
    assert zstandard.ZstdDecompressor().decompressobj().decompress(packed) == b"".join(
        bytes(c) for c in sparse.chunks()
    )
