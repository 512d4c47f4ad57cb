"""Keras's metrics in the contract: each class Cornu computes, with its arguments and
Keras 3.15's defaults, and the names `compile(metrics=[…])` takes, so a bad argument is a
422 at submit and the OpenAPI lists them. The engine (`core.engine.metrics`) and the SDK
(`cornu.metrics`) take their names from here; a test holds every model's arguments and
defaults to Keras's own (`keras_registry.json`).

A metric is a name — `"accuracy"`/`"acc"` (chosen by the loss and shapes, as Keras does),
a metric function (`"binary_accuracy"`), a metric class (`"AUC"`) or any loss's name
(`"mae"`) — kept as written, since Keras's history keys use the spelling given; or an
object with arguments (`{"type": "AUC", "curve": "PR", "name": "pr_auc"}`).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PositiveInt
from pydantic_core import PydanticCustomError

from cornu.core.spec.layers.base import keras_object
from cornu.core.spec.losses import loss_class, loss_names, name_key
from cornu.core.spec.names import snake_case, unknown_name

ACCURACY_NAMES = ("accuracy", "acc")
"""Keras's names for "the accuracy that fits the loss" (`compile_utils.get_metric`)."""
METRIC_FUNCTIONS = (
    "binary_accuracy",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "top_k_categorical_accuracy",
    "sparse_top_k_categorical_accuracy",
    "cosine_similarity",
)
"""Keras's metric functions (`keras.metrics.binary_accuracy`); any loss function is one too."""


class MetricSpec(BaseModel):
    """What every Keras metric takes: a `name` (its key in the history) and a dtype."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    name: str | None = Field(default=None, max_length=128)
    dtype: Any = Field(default=None, description="ignored: the service computes in float32")

    loss: ClassVar[str | None] = None
    """For the metric classes of losses (`LogCoshError`): the loss whose values it averages."""

    @property
    def args(self) -> dict[str, Any]:
        """`name` when given, and the arguments that differ from Keras's defaults."""
        return self.model_dump(exclude={"type", "dtype"}, exclude_defaults=True)


METRIC_SPECS: dict[str, type[MetricSpec]] = {}

M = TypeVar("M", bound=type[MetricSpec])


def _metric(cls: M) -> M:
    METRIC_SPECS[cls.model_fields["type"].default] = cls  # type: ignore[call-overload]
    return cls


Thresholds = Annotated[float, Field(ge=0.0, le=1.0)] | None
NotSupported = Field(default=None, description="Keras's default only")


class _Confusion(MetricSpec):
    thresholds: Thresholds = None


@_metric
class AUC(MetricSpec):
    type: Literal["AUC"] = "AUC"
    num_thresholds: int = Field(default=200, ge=2, le=100_000)
    curve: Literal["ROC", "PR"] = "ROC"
    summation_method: Literal["interpolation", "minoring", "majoring"] = "interpolation"
    from_logits: bool = False
    thresholds: None = NotSupported
    multi_label: Literal[False] = False
    num_labels: None = NotSupported
    label_weights: None = NotSupported


@_metric
class Precision(_Confusion):
    type: Literal["Precision"] = "Precision"
    top_k: None = NotSupported
    class_id: None = NotSupported


@_metric
class Recall(_Confusion):
    type: Literal["Recall"] = "Recall"
    top_k: None = NotSupported
    class_id: None = NotSupported


@_metric
class TruePositives(_Confusion):
    type: Literal["TruePositives"] = "TruePositives"


@_metric
class FalsePositives(_Confusion):
    type: Literal["FalsePositives"] = "FalsePositives"


@_metric
class TrueNegatives(_Confusion):
    type: Literal["TrueNegatives"] = "TrueNegatives"


@_metric
class FalseNegatives(_Confusion):
    type: Literal["FalseNegatives"] = "FalseNegatives"


@_metric
class Accuracy(MetricSpec):
    """How often outputs equal targets exactly (not the `"accuracy"` name's choice)."""

    type: Literal["Accuracy"] = "Accuracy"


@_metric
class BinaryAccuracy(MetricSpec):
    type: Literal["BinaryAccuracy"] = "BinaryAccuracy"
    threshold: float = 0.5


@_metric
class CategoricalAccuracy(MetricSpec):
    type: Literal["CategoricalAccuracy"] = "CategoricalAccuracy"


@_metric
class SparseCategoricalAccuracy(MetricSpec):
    type: Literal["SparseCategoricalAccuracy"] = "SparseCategoricalAccuracy"


@_metric
class TopKCategoricalAccuracy(MetricSpec):
    type: Literal["TopKCategoricalAccuracy"] = "TopKCategoricalAccuracy"
    k: PositiveInt = 5


@_metric
class SparseTopKCategoricalAccuracy(MetricSpec):
    type: Literal["SparseTopKCategoricalAccuracy"] = "SparseTopKCategoricalAccuracy"
    k: PositiveInt = 5
    from_sorted_ids: Literal[False] = False


@_metric
class RootMeanSquaredError(MetricSpec):
    type: Literal["RootMeanSquaredError"] = "RootMeanSquaredError"


# The metric classes of losses: the loss's values, averaged (with Keras's defaults only).
@_metric
class MeanSquaredError(MetricSpec):
    type: Literal["MeanSquaredError"] = "MeanSquaredError"
    loss = "mean_squared_error"


@_metric
class MeanAbsoluteError(MetricSpec):
    type: Literal["MeanAbsoluteError"] = "MeanAbsoluteError"
    loss = "mean_absolute_error"


@_metric
class MeanAbsolutePercentageError(MetricSpec):
    type: Literal["MeanAbsolutePercentageError"] = "MeanAbsolutePercentageError"
    loss = "mean_absolute_percentage_error"


@_metric
class MeanSquaredLogarithmicError(MetricSpec):
    type: Literal["MeanSquaredLogarithmicError"] = "MeanSquaredLogarithmicError"
    loss = "mean_squared_logarithmic_error"


@_metric
class CosineSimilarity(MetricSpec):
    type: Literal["CosineSimilarity"] = "CosineSimilarity"
    axis: Literal[-1] = -1


@_metric
class LogCoshError(MetricSpec):
    type: Literal["LogCoshError"] = "LogCoshError"
    loss = "log_cosh"


@_metric
class KLDivergence(MetricSpec):
    type: Literal["KLDivergence"] = "KLDivergence"
    loss = "kl_divergence"


@_metric
class Poisson(MetricSpec):
    type: Literal["Poisson"] = "Poisson"
    loss = "poisson"


@_metric
class Hinge(MetricSpec):
    type: Literal["Hinge"] = "Hinge"
    loss = "hinge"


@_metric
class SquaredHinge(MetricSpec):
    type: Literal["SquaredHinge"] = "SquaredHinge"
    loss = "squared_hinge"


@_metric
class CategoricalHinge(MetricSpec):
    type: Literal["CategoricalHinge"] = "CategoricalHinge"
    loss = "categorical_hinge"


@_metric
class BinaryCrossentropy(MetricSpec):
    type: Literal["BinaryCrossentropy"] = "BinaryCrossentropy"
    loss = "binary_crossentropy"
    from_logits: Literal[False] = False
    label_smoothing: Literal[0] = 0


@_metric
class CategoricalCrossentropy(MetricSpec):
    type: Literal["CategoricalCrossentropy"] = "CategoricalCrossentropy"
    loss = "categorical_crossentropy"
    from_logits: Literal[False] = False
    label_smoothing: Literal[0] = 0
    axis: Literal[-1] = -1


@_metric
class SparseCategoricalCrossentropy(MetricSpec):
    type: Literal["SparseCategoricalCrossentropy"] = "SparseCategoricalCrossentropy"
    loss = "sparse_categorical_crossentropy"
    from_logits: Literal[False] = False
    ignore_class: None = NotSupported
    axis: Literal[-1] = -1


def metric_names() -> list[str]:
    """Every name `compile(metrics=[…])` takes: the accuracy names, metric functions and
    classes, and every loss's names."""
    return [*ACCURACY_NAMES, *METRIC_FUNCTIONS, *METRIC_SPECS, *loss_names()]


def metric_class(name: str) -> str | None:
    """The metric class a name given as an object's `type` stands for (`auc` → `AUC`)."""
    by_key = {name_key(cls): cls for cls in METRIC_SPECS}
    by_key |= {name_key(snake_case(cls)): cls for cls in METRIC_SPECS}
    return by_key.get(name_key(name))


def is_metric_name(name: str) -> bool:
    lowered = name.lower()
    return (
        lowered in ACCURACY_NAMES
        or snake_case(name) in METRIC_FUNCTIONS
        or name in METRIC_SPECS
        or loss_class(name) is not None
    )


def _named_metric(data: Any) -> Any:
    """A metric name is checked and kept as written; an object's class is resolved."""
    data = keras_object(data)
    if isinstance(data, str):
        if not is_metric_name(data):
            message = unknown_name("metric", data, metric_names())
            raise PydanticCustomError("unknown_metric", "{message}", {"message": message})
        return data
    if isinstance(data, dict) and isinstance(data.get("type"), str):
        found = metric_class(data["type"])
        if found is None:
            message = unknown_name("metric class", data["type"], METRIC_SPECS)
            raise PydanticCustomError("unknown_metric", "{message}", {"message": message})
        return {**data, "type": found}
    return data


AnyMetric = Annotated[
    Annotated[
        AUC | Accuracy | Precision | Recall | TruePositives | FalsePositives | TrueNegatives
        | FalseNegatives | BinaryAccuracy | CategoricalAccuracy | SparseCategoricalAccuracy
        | TopKCategoricalAccuracy | SparseTopKCategoricalAccuracy | RootMeanSquaredError
        | MeanSquaredError | MeanAbsoluteError | MeanAbsolutePercentageError
        | MeanSquaredLogarithmicError | CosineSimilarity | LogCoshError | KLDivergence
        | Poisson | Hinge | SquaredHinge | CategoricalHinge | BinaryCrossentropy
        | CategoricalCrossentropy | SparseCategoricalCrossentropy,
        Field(discriminator="type"),
    ]
    | str,
    BeforeValidator(_named_metric),
]  # fmt: skip
"""A metric: a name (`"accuracy"`, `"mae"`) or a class with its arguments."""
