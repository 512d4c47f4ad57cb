"""Keras's categorical preprocessing layers on numbers, as Keras computes them
(`keras/src/layers/preprocessing/`: discretization, integer_lookup / index_lookup,
hashing, hashed_crossing; TensorFlow's hashing kernels for the last two).

Inputs are `(batch, *shape)`. "int" outputs are integers as Keras gives them
(Discretization int32, the others int64), so an Embedding or CategoryEncoding can
follow; encoded outputs ("one_hot", "multi_hot", "count", "tf_idf") are float32.
Nothing here trains: no layer has trainable weights, and no gradient flows through.

Hashing follows TensorFlow bit for bit: `strings.to_hash_bucket_fast` is FarmHash's
Fingerprint64 of the value's decimal string modulo the bins, `to_hash_bucket_strong`
SipHash-2-4 keyed by the salt's two 64-bit halves, and `sparse.cross_hashed` chains
`FingerprintCat64` over the raw int64 values from the key 0xDECAFCAFFE
(`tensorflow/core/kernels/sparse_cross_op.cc`, `tensorflow/core/platform/fingerprint.h`).
"""

from __future__ import annotations

import struct
from typing import Any

import farmhash
import numpy as np
import siphash24
import torch
from torch import Tensor

from cornu.core.engine.layers.base import Layer, Shape, ShapeError, register
from cornu.core.spec.layers import lookup as spec

_U64 = (1 << 64) - 1
_INT64_MAX = (1 << 63) - 1
_CROSS_KEY = 0xDECAFCAFFE  # TensorFlow's `_DEFAULT_HASH_KEY` (sparse_ops.py)
_CAT_MUL = np.uint64(0xC6A4A7935BD1E995)  # `FingerprintCat64`'s multiplier


# -- encoding ------------------------------------------------------------------------


def encoded_shape(name: str, mode: str, depth: int, input_shape: Shape) -> Shape:
    """Keras's `encode_categorical_inputs` shapes: "one_hot" adds an axis of `depth`
    (replacing a trailing axis of size 1); the others reduce each sample's `(k,)`."""
    if mode == "one_hot":
        if input_shape[-1:] == (1,):
            return (*input_shape[:-1], depth)
        return (*input_shape, depth)
    if len(input_shape) != 1:
        # Keras reduces over axis 1 of the batch: for deeper inputs not the axis its own
        # shape rule names, for (batch,) inputs the whole batch.
        raise ShapeError(
            f"{name} with output_mode={mode!r} takes a vector of values per sample, shape "
            f"(k,); got {input_shape} (reshape it to (k,), e.g. (1,))"
        )
    return (depth,)


def encode(ids: Tensor, mode: str, depth: int, input_shape: Shape) -> Tensor:
    """Indices as float32 one-hot, multi-hot or count vectors of `depth`; indices
    outside `[0, depth)` (Keras's mask value) encode as zeros, as TensorFlow's do."""
    if mode == "one_hot" and input_shape[-1:] == (1,):
        ids = ids.squeeze(-1)
    hot = (ids.unsqueeze(-1) == torch.arange(depth, device=ids.device)).float()
    if mode == "one_hot":
        return hot
    return hot.amax(dim=1) if mode == "multi_hot" else hot.sum(dim=1)


# -- TensorFlow's hashes -------------------------------------------------------------


def _by_unique(values: np.ndarray, hash_one: Any) -> np.ndarray:
    """`hash_one` of each int64 value (as uint64), computed once per distinct value."""
    unique, inverse = np.unique(values, return_inverse=True)
    hashed = np.array([hash_one(int(v)) for v in unique], dtype=np.uint64)
    return hashed[inverse].reshape(values.shape)


def string_hash(values: np.ndarray, salt: tuple[int, int] | None) -> np.ndarray:
    """TensorFlow's hash of each int64 value's decimal string (`tf.as_string`): FarmHash
    Fingerprint64, or SipHash-2-4 keyed by `salt` (`to_hash_bucket_strong`), as uint64."""
    if salt is None:
        return _by_unique(values, lambda v: farmhash.fingerprint64(str(v)))
    key = struct.pack("<QQ", salt[0] & _U64, salt[1] & _U64)
    return _by_unique(
        values, lambda v: siphash24.siphash24(str(v).encode(), key=key).intdigest() & _U64
    )


def _shift_mix(v: np.ndarray) -> np.ndarray:
    return v ^ (v >> np.uint64(47))


def fingerprint_cat64(fp1: np.ndarray, fp2: np.ndarray) -> np.ndarray:
    """TensorFlow's `FingerprintCat64` on uint64 arrays (arithmetic modulo 2**64)."""
    with np.errstate(over="ignore"):
        result = fp1 ^ _CAT_MUL
        result ^= _shift_mix(fp2 * _CAT_MUL) * _CAT_MUL
        result *= _CAT_MUL
        result = _shift_mix(result) * _CAT_MUL
        return _shift_mix(result)


def cross_hash(columns: list[np.ndarray], num_bins: int) -> np.ndarray:
    """`tf.sparse.cross_hashed` of dense int64 columns with one value per row."""
    out = np.full(columns[0].shape, _CROSS_KEY, dtype=np.uint64)
    for column in columns:
        out = fingerprint_cat64(out, column.astype(np.int64).view(np.uint64))
    return (out % np.uint64(num_bins)).astype(np.int64)


def _int64_numpy(x: Tensor) -> np.ndarray:
    """A tensor's values as int64 on the CPU; floats truncate toward zero (`tf.cast`)."""
    return x.detach().to("cpu", torch.int64).numpy()


# -- the layers ----------------------------------------------------------------------


@register
class Discretization(Layer):
    """Bin indices by `bin_boundaries` (`numpy.digitize`, increasing boundaries: bin `i`
    holds `[b[i-1], b[i])`), compared in float32; int32 indices, or encoded over
    `len(bin_boundaries) + 1` bins."""

    spec_type = spec.Discretization
    boundaries: Tensor

    def __init__(self, s: spec.Discretization, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        bounds = torch.tensor(s.bin_boundaries or [], dtype=torch.float32)
        self.register_buffer("boundaries", bounds, persistent=False)

    @classmethod
    def compute_output_shape(cls, s: spec.Discretization, input_shape: Shape) -> Shape:
        if s.depth is None:
            raise ShapeError(
                "Discretization has num_bins but no bin_boundaries yet: call adapt(data) "
                "on the layer before fit, or give bin_boundaries"
            )
        if s.output_mode == "int":
            return input_shape
        return encoded_shape("Discretization", s.output_mode, s.depth, input_shape)

    def forward(self, x: Tensor) -> Tensor:
        ids = torch.bucketize(x.float(), self.boundaries, right=True)
        if self.spec.output_mode == "int":
            return ids.to(torch.int32)
        return encode(ids, self.spec.output_mode, self.spec.depth, self.input_shape)


@register
class IntegerLookup(Layer):
    """Tokens to indices (int64) by the vocabulary, or indices back to tokens (`invert`);
    OOV tokens take the OOV index, or one of `num_oov_indices` by `floormod` (or FarmHash
    / SipHash of the token, `oov_method="farmhash"`); the mask token takes index 0 (in
    "int" mode; otherwise it encodes as zeros)."""

    spec_type = spec.IntegerLookup
    input_dtype = torch.int64
    keys: Tensor
    positions: Tensor
    token_values: Tensor
    idf: Tensor

    def __init__(self, s: spec.IntegerLookup, input_shape: Shape) -> None:
        super().__init__(s, input_shape)
        tokens = torch.tensor(s.tokens or [], dtype=torch.int64)
        keys, order = torch.sort(tokens)
        self.register_buffer("keys", keys, persistent=False)
        self.register_buffer("positions", order, persistent=False)
        self.register_buffer("token_values", tokens, persistent=False)
        idf = torch.tensor(s.idf or [], dtype=torch.float32)
        self.register_buffer("idf", idf, persistent=False)

    @classmethod
    def compute_output_shape(cls, s: spec.IntegerLookup, input_shape: Shape) -> Shape:
        if s.vocabulary is None:
            raise ShapeError(
                "IntegerLookup has no vocabulary yet (Keras's table is not initialized): "
                "give a vocabulary, or call adapt(data) on the layer before fit"
            )
        if s.output_mode == "int":
            return input_shape
        if s.output_mode == "tf_idf" and s.idf_weights is None:
            raise ShapeError(
                "IntegerLookup with output_mode='tf_idf' needs idf_weights: give them with "
                "the vocabulary, or call adapt(data) before fit"
            )
        mode = "count" if s.output_mode == "tf_idf" else s.output_mode
        return encoded_shape("IntegerLookup", mode, int(s.depth or 0), input_shape)

    def _lookup(self, x: Tensor) -> Tensor:
        """Keras's `_lookup_dense`: indices with the mask and OOV rules applied."""
        s = self.spec
        n = self.keys.numel()
        if s.num_oov_indices == 1:
            default = s.oov_start
        else:
            default = -1
        at = torch.searchsorted(self.keys, x).clamp_max(n - 1)
        found = self.keys[at] == x
        ids = torch.where(found, self.positions[at] + s.token_start, default)
        if s.mask_token is not None:
            masked = 0 if s.output_mode == "int" else _INT64_MAX
            ids = torch.where(x == s.mask_token, masked, ids)
        if s.num_oov_indices == 0:
            if bool((ids == -1).any()):
                oov = x[ids == -1].unique()[:10].tolist()
                raise ValueError(
                    "When `num_oov_indices=0` all inputs should be in vocabulary, found OOV "
                    f"values {oov}, consider setting `num_oov_indices=1`."
                )
        elif s.num_oov_indices > 1:
            if s.oov_method == "floormod":
                oov = torch.remainder(x, s.num_oov_indices)
            else:
                hashed = string_hash(_int64_numpy(x), s.salt) % np.uint64(s.num_oov_indices)
                oov = torch.from_numpy(hashed.astype(np.int64)).to(x.device)
            ids = torch.where(ids == -1, oov + s.oov_start, ids)
        return ids

    def _invert(self, x: Tensor) -> Tensor:
        s = self.spec
        oov_token = -1 if s.oov_token is None else s.oov_token
        at = x - s.token_start
        inside = (at >= 0) & (at < self.token_values.numel())
        tokens = self.token_values[at.clamp(0, self.token_values.numel() - 1)]
        out = torch.where(inside, tokens, oov_token)
        if s.mask_token is not None:
            out = torch.where(x == 0, s.mask_token, out)
        return out

    def forward(self, x: Tensor) -> Tensor:
        x = x.long()
        if self.spec.invert:
            return self._invert(x)
        ids = self._lookup(x)
        mode = self.spec.output_mode
        if mode == "int":
            return ids
        depth = int(self.spec.depth or 0)
        encoded = encode(ids, "count" if mode == "tf_idf" else mode, depth, self.input_shape)
        return encoded * self.idf if mode == "tf_idf" else encoded


@register
class Hashing(Layer):
    """Values hashed into `num_bins` bins as Keras's TensorFlow ops do (int64), or
    encoded; floats are truncated to integers before hashing, as Keras casts them."""

    spec_type = spec.Hashing
    input_dtype = torch.int64

    @classmethod
    def compute_output_shape(cls, s: spec.Hashing, input_shape: Shape) -> Shape:
        if s.output_mode == "int":
            return input_shape
        return encoded_shape("Hashing", s.output_mode, s.num_bins, input_shape)

    def forward(self, x: Tensor) -> Tensor:
        s = self.spec
        bins = s.num_bins
        mask = None
        if s.mask_value is not None and bins > 1:
            bins -= 1
            mask = x == s.mask_value
        hashed = string_hash(_int64_numpy(x), s.salt) % np.uint64(bins)
        ids = torch.from_numpy(hashed.astype(np.int64)).to(x.device)
        if mask is not None:
            ids = torch.where(mask, 0, ids + 1)
        if s.output_mode == "int":
            return ids
        return encode(ids, s.output_mode, s.num_bins, self.input_shape)


@register
class HashedCrossing(Layer):
    """The cross of two or more integer features (each `()` or `(1,)` per sample, all
    alike) hashed into `num_bins` bins (int64), or one-hot encoded."""

    spec_type = spec.HashedCrossing
    multiple_inputs = True
    input_dtype = torch.int64

    @classmethod
    def compute_output_shape(cls, s: spec.HashedCrossing, input_shape: Any) -> Shape:
        shapes = [tuple(shape) for shape in input_shape]
        if len(shapes) < 2:
            raise ShapeError("HashedCrossing is called on a list of at least two inputs")
        if shapes[0] not in ((), (1,)) or any(shape != shapes[0] for shape in shapes):
            raise ShapeError(
                "HashedCrossing inputs must all have the shape () or (1,) per sample "
                f"(Keras: (batch,) or (batch, 1)); got {shapes}"
            )
        if s.output_mode == "int":
            return shapes[0]
        return (s.num_bins,)

    def forward(self, inputs: list[Tensor]) -> Tensor:
        columns = [_int64_numpy(x) for x in inputs]
        crossed = torch.from_numpy(cross_hash(columns, self.spec.num_bins))
        ids = crossed.to(inputs[0].device)
        if self.spec.output_mode == "int":
            return ids
        return encode(ids, "one_hot", self.spec.num_bins, self.input_shape[0])
