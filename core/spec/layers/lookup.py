"""Keras's categorical preprocessing layers on numbers: Discretization, IntegerLookup,
Hashing and HashedCrossing (`keras/src/layers/preprocessing/`, Keras 3.15).

Arguments, names, defaults and checks as in Keras. Datasets are numeric arrays, so
string values (a string vocabulary, mask token or mask value) are refused with the
reason; StringLookup and TextVectorization are refused as a whole (`layers.REFUSED`).
Keras's `sparse=True` needs TensorFlow's sparse tensors: only False is taken.
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, NonNegativeInt, PositiveInt, field_validator, model_validator
from pydantic_core import PydanticCustomError

from cornu.core.spec.layers.base import LayerSpec, register

EncodedMode = Literal["int", "one_hot", "multi_hot", "count"]
_STRINGS = (
    "{field} {value!r} is a string; Cornu's datasets are numeric arrays, so string "
    "values are not supported (map strings to integer ids on the client, then use "
    "IntegerLookup)"
)


def _no_string(field: str) -> BeforeValidator:
    """Refuse a string value of `field` (or in a list of them) with the reason."""

    def check(value: Any) -> Any:
        values = value if isinstance(value, list | tuple) else [value]
        for v in values:
            if isinstance(v, str | bytes):
                raise PydanticCustomError("string_values", _STRINGS.format(field=field, value=v))
        return list(value) if isinstance(value, tuple) else value

    return BeforeValidator(check)


def _salt(value: Any) -> Any:
    """Keras's salt: one integer is used for both halves of the key, `[salt, salt]`."""
    if isinstance(value, int) and not isinstance(value, bool):
        return [value, value]
    if isinstance(value, list | tuple):
        return list(value)
    return value


Salt = Annotated[tuple[int, int] | None, BeforeValidator(_salt)]


@register
class Discretization(LayerSpec):
    """Bucket numbers by `bin_boundaries` (`numpy.digitize`): bin `i` is
    `[boundaries[i-1], boundaries[i])`, the outer bins reach -inf and +inf.

    With `num_bins` instead, `adapt(data)` in the SDK computes the boundaries from the
    data's quantiles as Keras does; an adapted layer holds both, as Keras writes it.
    """

    type: Literal["Discretization"] = "Discretization"
    bin_boundaries: list[float] | None = None
    num_bins: NonNegativeInt | None = None
    epsilon: float = 0.01
    output_mode: EncodedMode = "int"
    sparse: Literal[False] = False

    @model_validator(mode="after")
    def _boundaries_or_bins(self) -> Discretization:
        if self.bin_boundaries is None and self.num_bins is None:
            raise PydanticCustomError(
                "discretization_bins",
                "set either bin_boundaries or num_bins (then adapt(data) computes them)",
            )
        return self

    @property
    def depth(self) -> int | None:
        """The number of bins (the encoded width), once the boundaries are known."""
        return None if self.bin_boundaries is None else len(self.bin_boundaries) + 1


@register
class IntegerLookup(LayerSpec):
    """Integer tokens to indices of `vocabulary` (or back, with `invert`).

    Index layout (Keras's `IndexLookup`): the mask token's index 0 (only with
    `mask_token` and `output_mode="int"`), then `num_oov_indices` OOV indices, then the
    vocabulary's tokens. A vocabulary that begins with exactly those special tokens is
    taken as the full one. Without a vocabulary, `adapt(data)` in the SDK computes it by
    frequency as Keras does (and the IDF weights for "tf_idf").
    """

    type: Literal["IntegerLookup"] = "IntegerLookup"
    max_tokens: int | None = None
    num_oov_indices: NonNegativeInt = 1
    mask_token: Annotated[int | None, _no_string("mask_token")] = None
    oov_token: Annotated[int | None, _no_string("oov_token")] = -1
    vocabulary: Annotated[list[int] | None, _no_string("vocabulary")] = None
    vocabulary_dtype: Literal["int64"] = "int64"  # "string" is refused by `_dtype`
    idf_weights: list[float] | None = None
    invert: bool = False
    output_mode: Literal["int", "one_hot", "multi_hot", "count", "tf_idf"] = "int"
    sparse: Literal[False] = False
    pad_to_max_tokens: bool = False
    oov_method: Literal["floormod", "farmhash"] = "floormod"
    salt: Salt = None
    vocabulary_size: int | None = None  # Keras writes the size it was built with

    @field_validator("vocabulary_dtype", mode="before")
    @classmethod
    def _dtype(cls, value: Any) -> Any:
        if value == "string":
            raise PydanticCustomError(
                "string_values", _STRINGS.format(field="vocabulary_dtype", value=value)
            )
        return value

    @field_validator("output_mode", mode="before")
    @classmethod
    def _old_names(cls, value: Any) -> Any:
        return {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(value, value)

    @model_validator(mode="after")
    def _keras_checks(self) -> IntegerLookup:
        def fail(message: str, **context: Any) -> PydanticCustomError:
            return PydanticCustomError("integer_lookup", message, context)

        if self.max_tokens is not None and self.max_tokens <= 1:
            raise fail("max_tokens must be greater than 1; got {v}", v=self.max_tokens)
        if self.pad_to_max_tokens and self.max_tokens is None:
            raise fail("pad_to_max_tokens=True needs max_tokens")
        if self.invert and self.output_mode != "int":
            raise fail("output_mode must be 'int' when invert is true; got {m}", m=self.output_mode)
        if self.idf_weights is not None and self.output_mode != "tf_idf":
            raise fail("idf_weights is only for output_mode='tf_idf'")
        if self.salt is not None and self.oov_method != "farmhash":
            raise fail("salt can only be used with oov_method='farmhash'")
        if self.vocabulary is None:
            return self
        if self.output_mode == "tf_idf" and self.idf_weights is None:
            raise fail("with a vocabulary, output_mode='tf_idf' needs idf_weights too")
        if not self.vocabulary:
            raise fail("the vocabulary is empty")
        tokens = self.tokens or []
        repeated = sorted(t for t, n in Counter(tokens).items() if n > 1)
        if repeated:
            raise fail("the vocabulary repeats {r}; each token may appear once", r=repeated)
        special = self.special_tokens
        if self.mask_token is not None and self.mask_token in tokens:
            raise fail(
                "the vocabulary holds the mask token {t}; leave the special tokens out, or "
                "put them only at its start, in this order: {s}",
                t=self.mask_token,
                s=special,
            )
        if self.invert and self.oov_token is not None and self.oov_token in tokens:
            raise fail(
                "the vocabulary holds the OOV token {t}; leave the special tokens out, or "
                "put them only at its start, in this order: {s}",
                t=self.oov_token,
                s=special,
            )
        if self.max_tokens is not None and self.token_start + len(tokens) > self.max_tokens:
            raise fail(
                "the vocabulary has {n} entries with its special tokens, more than max_tokens={m}",
                n=self.token_start + len(tokens),
                m=self.max_tokens,
            )
        if self.idf_weights is not None and len(self.idf_weights) != len(self.vocabulary):
            raise fail(
                "idf_weights has {a} values for a vocabulary of {b}",
                a=len(self.idf_weights),
                b=len(self.vocabulary),
            )
        return self

    @property
    def oov_start(self) -> int:
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    @property
    def token_start(self) -> int:
        return self.oov_start + self.num_oov_indices

    @property
    def special_tokens(self) -> list[int | None]:
        return [self.mask_token] * self.oov_start + [self.oov_token] * self.num_oov_indices

    @property
    def has_special_tokens(self) -> bool:
        """Whether `vocabulary` begins with the special tokens (Keras then drops them)."""
        start = self.token_start
        return self.vocabulary is not None and self.vocabulary[:start] == self.special_tokens

    @property
    def tokens(self) -> list[int] | None:
        """The vocabulary's own tokens, in index order from `token_start`."""
        if self.vocabulary is None:
            return None
        return self.vocabulary[self.token_start :] if self.has_special_tokens else self.vocabulary

    @property
    def depth(self) -> int | None:
        """The encoded width: `max_tokens` when padding, else the vocabulary's size with
        its special indices (None until there is a vocabulary)."""
        if self.pad_to_max_tokens:
            return self.max_tokens
        if self.vocabulary is None:
            return self.vocabulary_size
        return self.token_start + len(self.tokens or [])

    @property
    def idf(self) -> list[float] | None:
        """The IDF weight of each index, padded as Keras's `set_vocabulary` pads them: the
        special indices get the weights' mean (unless the vocabulary gave them), indices
        past the vocabulary up to `max_tokens` get 0."""
        if self.idf_weights is None:
            return None
        weights = list(self.idf_weights)
        if not self.has_special_tokens:
            weights = [sum(weights) / len(weights)] * self.token_start + weights
        if self.pad_to_max_tokens and self.max_tokens is not None:
            weights += [0.0] * (self.max_tokens - len(weights))
        return weights


@register
class Hashing(LayerSpec):
    """Integers (floats truncated to integers) hashed into `num_bins` bins as Keras does:
    FarmHash Fingerprint64 of the decimal string, or SipHash-2-4 keyed by `salt`; with
    `mask_value`, bin 0 is the mask's and the others hash into `num_bins - 1`."""

    type: Literal["Hashing"] = "Hashing"
    num_bins: PositiveInt
    mask_value: Annotated[float | None, _no_string("mask_value")] = None
    salt: Salt = None
    output_mode: EncodedMode = "int"
    sparse: Literal[False] = False


@register
class HashedCrossing(LayerSpec):
    """The cross of two or more integer features hashed into `num_bins` bins, as
    TensorFlow's `sparse.cross_hashed` computes it (`FingerprintCat64` of the values)."""

    type: Literal["HashedCrossing"] = "HashedCrossing"
    num_bins: PositiveInt
    output_mode: Literal["int", "one_hot"] = "int"
    sparse: Literal[False] = False
