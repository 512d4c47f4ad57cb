"""Keras's losses, with Keras's reduction (mean over the batch of per-sample losses).

Cross-entropies take probabilities, as in Keras. When the model ends in the matching
activation (softmax for categorical, sigmoid for binary), the loss is computed from the
logits instead: Keras's TensorFlow backend does the same (it finds the softmax's input
through `_keras_logits`), and it is the numerically stable form of the same value.
"""

from __future__ import annotations

from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor

from core.errors import SpecError
from core.spec.names import unknown_name

EPSILON = 1e-7  # keras.config.epsilon()

Shape = tuple[int, ...]


def _shape(shape: Shape) -> str:
    return str(tuple(shape))


class Loss:
    """A loss function plus what it expects of the targets."""

    name: ClassVar[str]
    sparse: ClassVar[bool] = False
    # The output activation whose logits this loss can use directly.
    fuses: ClassVar[str | None] = None

    def __call__(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        raise NotImplementedError

    def from_logits(self, y_true: Tensor, logits: Tensor) -> Tensor:
        """The same loss from the pre-activation of the `fuses` activation."""
        raise NotImplementedError(f"{self.name} has no logits form")

    def check_targets(self, y_shape: Shape, output_shape: Shape) -> str | None:
        """Why targets of one-sample shape `y_shape` cannot train this output, or None."""
        if y_shape == output_shape or (y_shape == output_shape[:-1] and output_shape[-1:] == (1,)):
            return None
        return (
            f"targets y have shape {_shape(y_shape)} per sample but the model outputs "
            f"{_shape(output_shape)}; {self.name} needs targets of the output's shape"
        )


class MeanSquaredError(Loss):
    name = "mean_squared_error"

    def __call__(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        return F.mse_loss(y_pred, y_true)


class MeanAbsoluteError(Loss):
    name = "mean_absolute_error"

    def __call__(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        return F.l1_loss(y_pred, y_true)


class BinaryCrossentropy(Loss):
    name = "binary_crossentropy"
    fuses = "sigmoid"

    def __call__(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        return F.binary_cross_entropy(y_pred.clamp(EPSILON, 1.0 - EPSILON), y_true)

    def from_logits(self, y_true: Tensor, logits: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(logits, y_true)


class _SoftmaxCrossentropy(Loss):
    """Cross-entropy over the last axis: from probabilities as Keras, or from logits."""

    fuses = "softmax"

    def __call__(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        # Keras: renormalise to sum to one, clip to [eps, 1 - eps], take the log.
        p = y_pred / y_pred.sum(dim=-1, keepdim=True)
        return self.nll(y_true, p.clamp(EPSILON, 1.0 - EPSILON).log())

    def from_logits(self, y_true: Tensor, logits: Tensor) -> Tensor:
        return self.nll(y_true, torch.log_softmax(logits, dim=-1))

    def nll(self, y_true: Tensor, log_p: Tensor) -> Tensor:
        """Mean negative log-likelihood of the targets under `log_p`."""
        raise NotImplementedError


class CategoricalCrossentropy(_SoftmaxCrossentropy):
    name = "categorical_crossentropy"

    def nll(self, y_true: Tensor, log_p: Tensor) -> Tensor:
        return -(y_true * log_p).sum(dim=-1).mean()

    def check_targets(self, y_shape: Shape, output_shape: Shape) -> str | None:
        if y_shape == output_shape:
            return None
        hint = (
            "; if y holds class indices, use sparse_categorical_crossentropy"
            if y_shape in (output_shape[:-1], (*output_shape[:-1], 1))
            else ""
        )
        return (
            f"one-hot targets y have shape {_shape(y_shape)} per sample but the model outputs "
            f"{_shape(output_shape)}; categorical_crossentropy needs targets of the "
            f"output's width ({output_shape[-1]} classes){hint}"
        )


class SparseCategoricalCrossentropy(_SoftmaxCrossentropy):
    name = "sparse_categorical_crossentropy"
    sparse = True

    def nll(self, y_true: Tensor, log_p: Tensor) -> Tensor:
        return F.nll_loss(log_p.reshape(-1, log_p.shape[-1]), y_true.reshape(-1))

    def check_targets(self, y_shape: Shape, output_shape: Shape) -> str | None:
        if y_shape in (output_shape[:-1], (*output_shape[:-1], 1)):
            return None
        hint = (
            "; for one-hot targets use categorical_crossentropy" if y_shape == output_shape else ""
        )
        return (
            f"targets y have shape {_shape(y_shape)} per sample but "
            f"sparse_categorical_crossentropy needs one integer class index per output "
            f"(shape {_shape(output_shape[:-1])}) for an output of shape "
            f"{_shape(output_shape)}{hint}"
        )


LOSSES: dict[str, type[Loss]] = {
    "mean_squared_error": MeanSquaredError,
    "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError,
    "mae": MeanAbsoluteError,
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
}
# Keras also accepts the class names: "MeanSquaredError", "SparseCategoricalCrossentropy".
_BY_KEY = {k.replace("_", ""): v for k, v in LOSSES.items()}


def get(name: str) -> Loss:
    cls = _BY_KEY.get(name.replace("_", "").lower())
    if cls is None:
        raise SpecError(unknown_name("loss", name, LOSSES), loc=("compile", "loss"))
    return cls()
