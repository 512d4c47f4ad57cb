"""Keras's built-in losses, with Keras's reduction.

Each loss computes one value per sample (per time step for sequence outputs), as the
Keras function does, averaging over the last axis where Keras does. `reduce` then
applies Keras 3's "sum_over_batch_size": the sum of weighted values divided by their
count (not by the sum of the weights), with masked entries left out of the count.

Cross-entropies take probabilities, as in Keras. When the model ends in the matching
activation (softmax for categorical, sigmoid for binary), the loss is computed from the
logits instead: Keras's TensorFlow backend does the same (it finds the softmax's input
through `_keras_logits`), and it is the numerically stable form of the same value.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor

from cornu.core.engine.layers.base import format_shape
from cornu.core.errors import SpecError
from cornu.core.spec.layers import KerasObject
from cornu.core.spec.losses import LOSS_SPECS, LossSpec, loss_class, loss_names
from cornu.core.spec.names import unknown_name

EPSILON = 1e-7  # keras.config.epsilon()

Shape = tuple[int, ...]


class Loss:
    """A Keras loss: per-sample values, and what it expects of the targets."""

    name: ClassVar[str]  # Keras's function name, from the loss's spec
    sparse: ClassVar[bool] = False  # targets are class indices
    # The output activation whose logits this loss can use directly (None when the
    # model's output is already logits, `from_logits=True`).
    fuses: str | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__name__ in LOSS_SPECS:
            cls.name = LOSS_SPECS[cls.__name__].function

    def __init__(self, **args: Any) -> None:
        if args:
            raise SpecError(f"loss {self.name!r} does not take the arguments {sorted(args)}")

    def values(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        raise NotImplementedError

    def values_from_logits(self, y_true: Tensor, logits: Tensor) -> Tensor:
        """The same values from the pre-activation of the `fuses` activation."""
        raise NotImplementedError(f"{self.name} has no logits form")

    def mask(self, y_true: Tensor) -> Tensor | None:
        """Entries the targets exclude from the loss (SparseCategorical's `ignore_class`)."""
        return None

    # The reduced loss without weights or masks: the training step's common case, where
    # one fused torch kernel replaces values-then-mean (the same number).
    def mean(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        return reduce(self.values(y_true, y_pred))

    def mean_from_logits(self, y_true: Tensor, logits: Tensor) -> Tensor:
        return reduce(self.values_from_logits(y_true, logits))

    def check_targets(self, y_shape: Shape, output_shape: Shape) -> str | None:
        """Why targets of one-sample shape `y_shape` cannot train this output, or None."""
        if y_shape == output_shape or (y_shape == output_shape[:-1] and output_shape[-1:] == (1,)):
            return None
        return (
            f"targets y have shape {format_shape(y_shape)} per sample but the model outputs "
            f"{format_shape(output_shape)}; {self.name} needs targets of the output's shape"
        )


def reduce(
    values: Tensor, sample_weight: Tensor | None = None, mask: Tensor | None = None
) -> Tensor:
    """Keras 3's `sum_over_batch_size` of per-sample `values`.

    `sample_weight` is one weight per sample; `mask` marks valid entries of `values`
    and, as in Keras's `apply_mask`, the mean is taken over the valid entries only.
    """
    if sample_weight is None and mask is None:
        return values.mean()
    if values.dim() == 0:  # a batch-level loss (Dice): Keras scales it by the mean weight
        return values * (sample_weight.mean() if sample_weight is not None else 1.0)
    weights = torch.ones_like(values)
    if sample_weight is not None:
        weights = weights * sample_weight.reshape(-1, *([1] * (values.dim() - 1)))
    if mask is not None:
        mask = mask.to(values.dtype)
        weights = weights * mask * (mask.numel() / (mask.sum() + EPSILON))
    return (values * weights).sum() / values.numel()


def _probabilities(y_pred: Tensor) -> Tensor:
    """Keras's categorical form: renormalise to sum to one, then clip to [eps, 1 - eps]."""
    return (y_pred / y_pred.sum(dim=-1, keepdim=True)).clamp(EPSILON, 1.0 - EPSILON)


class _Smoothed(Loss):
    """Cross-entropies: `from_logits`, `label_smoothing` and `axis` (last only)."""

    def __init__(
        self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1, **args: Any
    ) -> None:
        super().__init__(**args)
        if not 0.0 <= label_smoothing <= 1.0:
            raise SpecError(
                f"{self.name}: label_smoothing must be in [0, 1], not {label_smoothing}"
            )
        if axis != -1:
            raise SpecError(f"{self.name}: only axis=-1 (the class axis) is supported")
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        # A model whose output is already logits (from_logits) has nothing to fuse.
        self.fuses = None if from_logits else type(self).fuses


class MeanSquaredError(Loss):
    def values(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        return (y_true - y_pred).square().mean(dim=-1)

    def mean(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        return F.mse_loss(y_pred, y_true)


class MeanAbsoluteError(Loss):
    def values(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        return (y_true - y_pred).abs().mean(dim=-1)

    def mean(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        return F.l1_loss(y_pred, y_true)


class MeanAbsolutePercentageError(Loss):
    def values(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        diff = (y_true - y_pred).abs() / y_true.abs().clamp(min=EPSILON)
        return 100.0 * diff.mean(dim=-1)


class MeanSquaredLogarithmicError(Loss):
    def values(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        first = torch.log(y_pred.clamp(min=EPSILON) + 1.0)
        second = torch.log(y_true.clamp(min=EPSILON) + 1.0)
        return (first - second).square().mean(dim=-1)


class CosineSimilarity(Loss):
    """`-cos(y_true, y_pred)` over the last axis: -1 is best."""

    def __init__(self, axis: int = -1, **args: Any) -> None:
        super().__init__(**args)
        if axis != -1:
            raise SpecError("cosine_similarity: only axis=-1 is supported")

    def values(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        return -(_l2_normalize(y_true) * _l2_normalize(y_pred)).sum(dim=-1)


def _l2_normalize(x: Tensor) -> Tensor:
    return x * torch.rsqrt(x.square().sum(dim=-1, keepdim=True).clamp(min=1e-12))


class Huber(Loss):
    def __init__(self, delta: float = 1.0, **args: Any) -> None:
        super().__init__(**args)
        if delta <= 0:
            raise SpecError(f"huber: delta must be positive, not {delta}")
        self.delta = float(delta)

    def values(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        error = y_pred - y_true
        abs_error = error.abs()
        quadratic = 0.5 * error.square()
        linear = self.delta * abs_error - 0.5 * self.delta**2
        return torch.where(abs_error <= self.delta, quadratic, linear).mean(dim=-1)


class LogCosh(Loss):
    def values(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        x = y_pred - y_true
        return (x + F.softplus(-2.0 * x) - math.log(2.0)).mean(dim=-1)


class KLDivergence(Loss):
    def values(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        y_true = y_true.clamp(EPSILON, 1.0)
        y_pred = y_pred.clamp(EPSILON, 1.0)
        return (y_true * torch.log(y_true / y_pred)).sum(dim=-1)


class Poisson(Loss):
    def values(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        return (y_pred - y_true * torch.log(y_pred + EPSILON)).mean(dim=-1)


def _hinge_labels(y_true: Tensor) -> Tensor:
    """Keras turns 0/1 labels into -1/1 for the hinges; -1/1 labels are kept."""
    if bool(((y_true == 0) | (y_true == 1)).all()):
        return 2.0 * y_true - 1.0
    return y_true


class Hinge(Loss):
    def values(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        return (1.0 - _hinge_labels(y_true) * y_pred).clamp(min=0).mean(dim=-1)


class SquaredHinge(Loss):
    def values(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        return (1.0 - _hinge_labels(y_true) * y_pred).clamp(min=0).square().mean(dim=-1)


class CategoricalHinge(Loss):
    def values(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        positive = (y_true * y_pred).sum(dim=-1)
        negative = ((1.0 - y_true) * y_pred).amax(dim=-1)
        return (negative - positive + 1.0).clamp(min=0)


class BinaryCrossentropy(_Smoothed):
    fuses: str | None = "sigmoid"

    def _smooth(self, y_true: Tensor) -> Tensor:
        if self.label_smoothing:
            return y_true * (1.0 - self.label_smoothing) + 0.5 * self.label_smoothing
        return y_true

    def values(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        if self.from_logits:
            return self.values_from_logits(y_true, y_pred)
        y_pred = y_pred.clamp(EPSILON, 1.0 - EPSILON)
        bce = F.binary_cross_entropy(y_pred, self._smooth(y_true), reduction="none")
        return bce.mean(dim=-1)

    def values_from_logits(self, y_true: Tensor, logits: Tensor) -> Tensor:
        bce = F.binary_cross_entropy_with_logits(logits, self._smooth(y_true), reduction="none")
        return bce.mean(dim=-1)

    def mean_from_logits(self, y_true: Tensor, logits: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(logits, self._smooth(y_true))


class BinaryFocalCrossentropy(BinaryCrossentropy):
    """Binary cross-entropy down-weighting easy examples by `(1 - p_t) ** gamma`."""

    fuses: str | None = None  # the focal factor needs the probabilities themselves

    def __init__(
        self,
        apply_class_balancing: bool = False,
        alpha: float = 0.25,
        gamma: float = 2.0,
        **args: Any,
    ) -> None:
        super().__init__(**args)
        self.apply_class_balancing = apply_class_balancing
        self.alpha = alpha
        self.gamma = gamma

    def values(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        y_true = self._smooth(y_true)
        if self.from_logits:
            y_pred = torch.sigmoid(y_pred)
        clipped = y_pred.clamp(EPSILON, 1.0 - EPSILON)
        bce = F.binary_cross_entropy(clipped, y_true, reduction="none")
        p_t = y_true * y_pred + (1 - y_true) * (1 - y_pred)
        focal = (1.0 - p_t).pow(self.gamma) * bce
        if self.apply_class_balancing:
            focal = (y_true * self.alpha + (1 - y_true) * (1 - self.alpha)) * focal
        return focal.mean(dim=-1)


class CategoricalCrossentropy(_Smoothed):
    fuses: str | None = "softmax"

    def _smooth(self, y_true: Tensor) -> Tensor:
        if self.label_smoothing:
            classes = y_true.shape[-1]
            return y_true * (1.0 - self.label_smoothing) + self.label_smoothing / classes
        return y_true

    def values(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        if self.from_logits:
            return self.values_from_logits(y_true, y_pred)
        return -(self._smooth(y_true) * _probabilities(y_pred).log()).sum(dim=-1)

    def values_from_logits(self, y_true: Tensor, logits: Tensor) -> Tensor:
        return -(self._smooth(y_true) * torch.log_softmax(logits, dim=-1)).sum(dim=-1)

    def mean_from_logits(self, y_true: Tensor, logits: Tensor) -> Tensor:
        if logits.dim() != 2:
            return super().mean_from_logits(y_true, logits)
        return F.cross_entropy(logits, self._smooth(y_true))  # soft targets: Σ -y log p

    def check_targets(self, y_shape: Shape, output_shape: Shape) -> str | None:
        if y_shape == output_shape:
            return None
        hint = (
            "; if y holds class indices, use sparse_categorical_crossentropy"
            if y_shape in (output_shape[:-1], (*output_shape[:-1], 1))
            else ""
        )
        return (
            f"one-hot targets y have shape {format_shape(y_shape)} per sample but the model "
            f"outputs {format_shape(output_shape)}; {self.name} needs targets of the "
            f"output's width ({output_shape[-1]} classes){hint}"
        )


class CategoricalFocalCrossentropy(CategoricalCrossentropy):
    fuses: str | None = None

    def __init__(self, alpha: float = 0.25, gamma: float = 2.0, **args: Any) -> None:
        super().__init__(**args)
        self.alpha = alpha
        self.gamma = gamma

    def values(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        y_true = self._smooth(y_true)
        if self.from_logits:
            y_pred = torch.softmax(y_pred, dim=-1)
        output = _probabilities(y_pred)
        cce = -y_true * output.log()
        return ((1.0 - output).pow(self.gamma) * self.alpha * cce).sum(dim=-1)


class SparseCategoricalCrossentropy(Loss):
    sparse = True
    fuses: str | None = "softmax"

    def __init__(
        self,
        from_logits: bool = False,
        ignore_class: int | None = None,
        axis: int = -1,
        **args: Any,
    ) -> None:
        super().__init__(**args)
        if axis != -1:
            raise SpecError(f"{self.name}: only axis=-1 (the class axis) is supported")
        self.from_logits = from_logits
        self.ignore_class = ignore_class
        self.fuses = None if from_logits else type(self).fuses

    def _nll(self, y_true: Tensor, log_p: Tensor) -> Tensor:
        labels = y_true
        if self.ignore_class is not None:
            labels = torch.where(y_true == self.ignore_class, torch.zeros_like(y_true), y_true)
        picked = log_p.gather(-1, labels.unsqueeze(-1)).squeeze(-1)
        return -picked

    def values(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        if self.from_logits:
            return self.values_from_logits(y_true, y_pred)
        return self._nll(y_true, _probabilities(y_pred).log())

    def values_from_logits(self, y_true: Tensor, logits: Tensor) -> Tensor:
        return self._nll(y_true, torch.log_softmax(logits, dim=-1))

    def mean_from_logits(self, y_true: Tensor, logits: Tensor) -> Tensor:
        if self.ignore_class is not None:
            return super().mean_from_logits(y_true, logits)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y_true.reshape(-1))

    def mask(self, y_true: Tensor) -> Tensor | None:
        return None if self.ignore_class is None else y_true != self.ignore_class

    def check_targets(self, y_shape: Shape, output_shape: Shape) -> str | None:
        if y_shape in (output_shape[:-1], (*output_shape[:-1], 1)):
            return None
        hint = (
            "; for one-hot targets use categorical_crossentropy" if y_shape == output_shape else ""
        )
        return (
            f"targets y have shape {format_shape(y_shape)} per sample but {self.name} needs "
            f"one integer class index per output (shape {format_shape(output_shape[:-1])}) for "
            f"an output of shape {format_shape(output_shape)}{hint}"
        )


class CTC(Loss):
    """Connectionist temporal classification (sequence labels without alignment).

    Targets are `(max_label_length,)` class indices per sample, padded at the end with
    0, which is also the blank class (Keras's `mask_index=0`); outputs are
    `(time_steps, classes)` per sample. With a softmax head the loss uses its logits;
    otherwise the outputs are taken as logits, as Keras's backends do.
    """

    sparse = True
    fuses = "softmax"

    def values(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        return self.values_from_logits(y_true, y_pred)

    def values_from_logits(self, y_true: Tensor, logits: Tensor) -> Tensor:
        log_probs = torch.log_softmax(logits, dim=-1).transpose(0, 1)  # (T, N, C)
        labels = y_true.long()
        label_lengths = (labels != 0).sum(dim=-1)
        input_lengths = torch.full((logits.shape[0],), logits.shape[1], dtype=torch.long)
        return F.ctc_loss(
            log_probs.float(),
            labels,
            input_lengths,
            label_lengths,
            blank=0,
            reduction="none",
            zero_infinity=True,
        )

    def check_targets(self, y_shape: Shape, output_shape: Shape) -> str | None:
        if len(output_shape) == 2 and len(y_shape) == 1 and y_shape[0] <= output_shape[0]:
            return None
        return (
            f"ctc needs outputs of shape (time_steps, classes) and targets of shape "
            f"(max_label_length,) no longer than time_steps; got outputs "
            f"{format_shape(output_shape)} and targets {format_shape(y_shape)}"
        )


class Dice(Loss):
    """`1 - 2|y ∩ ŷ| / (|y| + |ŷ|)`, over the whole batch as Keras computes it (`axis=None`)."""

    def values(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        intersection = (y_true * y_pred).sum()
        return 1.0 - 2.0 * intersection / (y_true.sum() + y_pred.sum() + EPSILON)


class Tversky(Loss):
    """Dice with false positives and false negatives weighted by `alpha` and `beta`
    (over the whole batch, as Keras)."""

    def __init__(self, alpha: float = 0.5, beta: float = 0.5, **args: Any) -> None:
        super().__init__(**args)
        self.alpha, self.beta = alpha, beta

    def values(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        true_pos = (y_true * y_pred).sum()
        false_neg = (y_true * (1 - y_pred)).sum()
        false_pos = ((1 - y_true) * y_pred).sum()
        return 1.0 - true_pos / (
            true_pos + self.alpha * false_pos + self.beta * false_neg + EPSILON
        )


LOSSES: dict[str, type[Loss]] = {
    cls.__name__: cls
    for cls in (
        MeanSquaredError,
        MeanAbsoluteError,
        MeanAbsolutePercentageError,
        MeanSquaredLogarithmicError,
        CosineSimilarity,
        Huber,
        LogCosh,
        KLDivergence,
        Poisson,
        Hinge,
        SquaredHinge,
        CategoricalHinge,
        BinaryCrossentropy,
        BinaryFocalCrossentropy,
        CategoricalCrossentropy,
        CategoricalFocalCrossentropy,
        SparseCategoricalCrossentropy,
        CTC,
        Dice,
        Tversky,
    )
}


def get(spec: str | KerasObject | LossSpec) -> Loss:
    """The loss a spec names, built with its arguments; SpecError for unknown ones."""
    name, args = (spec, {}) if isinstance(spec, str) else (spec.type, spec.args)
    cls = LOSSES.get(loss_class(name) or "")
    if cls is None:
        raise SpecError(unknown_name("loss", name, loss_names()))
    if args.pop("reduction", None) not in (None, "sum_over_batch_size"):
        raise SpecError(
            f"loss {name!r}: only Keras's default reduction, sum_over_batch_size, is supported"
        )
    for ignored in ("name", "dtype"):  # Keras's serialized losses carry these
        args.pop(ignored, None)
    try:
        return cls(**args)
    except TypeError:
        raise SpecError(f"loss {name!r} does not take the arguments {sorted(args)}") from None
