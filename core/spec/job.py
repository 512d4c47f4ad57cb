"""The job contract: a model, how to compile it, how to fit it, and which data.

Keras's own argument names and defaults (`compile(optimizer="rmsprop", …)`,
`fit(batch_size=32, epochs=1, shuffle=True)`); shapes exclude the batch dimension.
A model with several inputs or outputs takes maps from their names to datasets.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveInt,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from cornu.core.spec.callbacks import AnyCallback
from cornu.core.spec.losses import AnyLoss
from cornu.core.spec.metrics import AnyMetric
from cornu.core.spec.model import ModelSpec
from cornu.core.spec.optimizers import AnyOptimizer, RMSprop
from cornu.core.spec.timeseries import TimeseriesSource

DatasetId = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
]
Datasets = DatasetId | dict[str, DatasetId]
"""One dataset, or one per model input/output name."""
JobId = Annotated[str, StringConstraints(pattern=r"^job_[0-9A-Z]{26}$")]
ClassIndex = Annotated[int, Field(ge=0, lt=2**31)]
"""A class's index (`class_weight`'s keys): the labels' own range, not any JSON integer."""
WeightName = Annotated[str, StringConstraints(min_length=1, max_length=300)]
MAX_EPOCH_DATA = 10_000  # per-epoch datasets one job may list

# Tried left to right: `{"type": "Huber", "delta": 0.5}` is one loss with arguments, not a
# map from output names (a map's values are names or objects, never a bare "type").
PerOutput = Annotated[
    AnyLoss | None | list[AnyLoss | None] | dict[str, AnyLoss | None],
    Field(union_mode="left_to_right"),
]
MetricList = Annotated[list[AnyMetric] | AnyMetric, Field(union_mode="left_to_right")]
Metrics = Annotated[list[AnyMetric] | dict[str, MetricList], Field(union_mode="left_to_right")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CompileSpec(_Strict):
    """`model.compile(optimizer, loss, loss_weights, metrics, weighted_metrics)`.

    With several outputs, `loss` is one loss for all, a list in output order, or a map
    by output name; `loss_weights` and metrics take the same forms. The minimised total
    is the weighted sum of the outputs' losses, as in Keras.
    """

    optimizer: AnyOptimizer = Field(default_factory=RMSprop)
    loss: PerOutput
    loss_weights: list[NonNegativeFloat] | dict[str, NonNegativeFloat] | None = None
    metrics: Metrics = Field(default_factory=list)
    weighted_metrics: Metrics = Field(default_factory=list)
    jit_compile: bool | Literal["auto"] = Field(
        default="auto",
        description="Keras 3 on torch: true runs the model under torch.compile (inductor; "
        "a model that does not compile trains without it, with a message event); auto and "
        "false run it eagerly",
    )
    steps_per_execution: int = Field(
        default=1,
        ge=1,
        le=100_000,
        description="training steps between batch-level callback calls (Keras runs that many "
        "steps per call of its train function and calls on_train_batch_end once for them); "
        "the service's own checks (cancel, limits, checkpoints) still run every step",
    )


class DataRef(_Strict):
    """Inputs `x`, targets `y` and optional per-sample loss weights, as dataset ids.

    `sample_weight` is Keras's `fit(sample_weight=…)`: one weight per sample.
    """

    x: Datasets
    y: Datasets
    sample_weight: DatasetId | None = None

    def ids(self) -> set[str]:
        found = set()
        for value in (self.x, self.y, self.sample_weight):
            if isinstance(value, dict):
                found |= set(value.values())
            elif value is not None:
                found.add(value)
        return found


class FitSpec(_Strict):
    """`model.fit(...)` arguments, with Keras's defaults.

    `epochs: 0` trains nothing: the job holds the model's first weights (newly
    initialised, or `initial_weights`), which is how a model that was never fitted gets
    weights to predict with, export or inspect.
    """

    batch_size: PositiveInt = 32
    epochs: NonNegativeInt = 1
    initial_epoch: NonNegativeInt = 0
    steps_per_epoch: PositiveInt | None = Field(
        default=None,
        description="batches per epoch; the next epoch goes on where this one stopped, and a "
        "pass through the data that runs out ends its epoch early (Keras's EpochIterator)",
    )
    shuffle: bool | Literal["batch"] = Field(
        default=True,
        description="reshuffle the samples before each pass; 'batch' shuffles the order of "
        "batch-sized runs of samples instead (how Keras shuffles a PyDataset's batches)",
    )
    seed: int | None = Field(default=None, ge=0, lt=2**63)
    validation_split: float = Field(default=0.0, ge=0.0, lt=1.0)
    validation_data: DataRef | TimeseriesSource | None = None
    validation_steps: PositiveInt | None = Field(
        default=None, description="batches per validation; the next goes on from there"
    )
    validation_batch_size: PositiveInt | None = None
    validation_freq: PositiveInt | list[PositiveInt] = Field(
        default=1, description="validate every N epochs, or after the listed (1-based) epochs"
    )
    class_weight: dict[ClassIndex, NonNegativeFloat] | None = None
    callbacks: list[AnyCallback] = Field(default_factory=list, max_length=16)
    initial_weights: JobId | dict[WeightName, DatasetId] | None = Field(
        default=None,
        description="start from the weights a succeeded job of yours trained, for the same "
        "model (a second `fit` in Keras continues from the weights the first one left), or "
        "from weights you uploaded: a map from Keras's weight names (`dense/kernel`) to "
        "datasets holding them in Keras's layouts (`set_weights`, `load_model`)",
    )
    client_callbacks: bool = Field(
        default=False,
        description="the client runs callbacks of its own: after each epoch the job waits "
        "(up to the service's client_callback_timeout_seconds) for the client to say go on "
        "or stop (`POST /v1/jobs/{id}/epochs/{epoch}/ack`), as Keras calls callbacks "
        "between epochs",
    )
    mixed_precision: Literal["bf16", "fp16"] | None = Field(
        default=None,
        description="autocast to bfloat16 or float16 on a GPU (Keras's `mixed_bfloat16` and "
        "`mixed_float16` policies: weights and optimizer stay float32); fp16 scales the loss "
        "as Keras's LossScaleOptimizer does (dynamic, from 2**15, doubled after 2000 finite "
        "steps). On the CPU the math stays float32 (fp16's loss scaling still runs)",
    )
    verbose: int | Literal["auto"] = Field(default="auto", description="accepted, ignored")

    @model_validator(mode="after")
    def _consistent(self) -> FitSpec:
        # Keras uses validation_data and ignores validation_split when both are given;
        # a spec that sets both is more likely a mistake, so say so.
        if self.validation_data is not None and self.validation_split > 0:
            raise PydanticCustomError(
                "validation_twice", "give validation_split or validation_data, not both"
            )
        if self.initial_epoch >= self.epochs and self.epochs > 0:
            raise PydanticCustomError(
                "initial_epoch",
                "initial_epoch ({initial}) must be less than epochs ({epochs})",
                {"initial": self.initial_epoch, "epochs": self.epochs},
            )
        if self.epochs == 0 and self.initial_epoch:
            raise PydanticCustomError(
                "initial_epoch", "initial_epoch must be 0 when epochs is 0 (nothing is trained)"
            )
        if isinstance(self.validation_freq, list) and not self.validation_freq:
            raise PydanticCustomError("validation_freq", "validation_freq lists no epoch")
        return self

    @property
    def trained_epochs(self) -> int:
        """How many epochs this fit trains."""
        return self.epochs - self.initial_epoch


Tag = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:=/+-]+$")]
StudyId = Annotated[str, StringConstraints(pattern=r"^std_[0-9A-Z]{26}$")]


AcceleratorName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]


class Resources(_Strict):
    """What the job needs from its worker: an accelerator class (a worker's
    `--accelerator`, or its detected device: `cpu`, `nvidia-h200`, …; `any`), and memory
    on it. Checked at submit against the classes the fleet has had (422 listing them)."""

    accelerator: AcceleratorName = "any"
    devices: PositiveInt = Field(
        default=1,
        le=64,
        description="devices of one host the job trains on together, data-parallel with "
        "MirroredStrategy's meaning (`batch_size` is the global batch, split across them); "
        "on a CPU host a device is a core",
    )
    min_memory_gb: NonNegativeFloat = Field(default=0.0, le=1e6, description="GiB a device")
    max_device_hours: float | None = Field(
        default=None,
        gt=0,
        le=1e6,
        description="stop once the job has trained this long × its devices, over all its "
        "attempts (like the service's time limit: failed, the last checkpoint kept)",
    )
    max_cost: float | None = Field(
        default=None,
        gt=0,
        le=1e9,
        description="stop once the job's device-hours, at the service's price for the class "
        "each attempt runs on, cost this much (in the service's currency; like "
        "`max_device_hours`: failed, the last checkpoint kept)",
    )


class TrialRef(_Strict):
    """Which study trial a job trains (set by the service on the jobs it submits for a
    study; a client's own job may not carry it)."""

    study: StudyId
    number: NonNegativeInt
    execution: NonNegativeInt = 0


class JobSpec(_Strict):
    """Everything a worker needs to train one model: POST /v1/jobs's body.

    `data` is one set of arrays for every epoch, a list with each epoch's own (what a
    Python generator or a randomised PyDataset yields anew each epoch: the i-th entry is
    the i-th epoch this fit trains), or windows over a series (`TimeseriesSource`, whose
    own batch_size and order replace fit's, as Keras's fit takes a dataset's). A job with
    `fit.epochs: 0` needs no data or compile.
    """

    name: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description="what to tell the run by (the book's 'original', 'smaller', 'bigger')",
    )
    tags: list[Tag] = Field(
        default_factory=list, max_length=32, description="labels the job list filters by"
    )
    trial: TrialRef | None = Field(default=None, description="the study trial it trains")
    resources: Resources = Field(default_factory=Resources)
    model: ModelSpec
    compile: CompileSpec | None = None
    fit: FitSpec = Field(default_factory=FitSpec)
    data: (
        DataRef
        | TimeseriesSource
        | Annotated[list[DataRef], Field(max_length=MAX_EPOCH_DATA)]
        | None
    ) = None

    @field_validator("tags")
    @classmethod
    def _unique_tags(cls, tags: list[str]) -> list[str]:
        return list(dict.fromkeys(tags))  # once each, in the order given

    @model_validator(mode="before")
    @classmethod
    def _trains_with(cls, data: Any) -> Any:
        """A job that trains (epochs above 0, the default 1) needs compile and data."""
        if not isinstance(data, dict):
            return data
        fit = data.get("fit")
        epochs = fit.get("epochs", 1) if isinstance(fit, dict) else getattr(fit, "epochs", 1)
        try:
            trains = int(epochs) != 0  # as the field will read it ("0" too)
        except (TypeError, ValueError):
            trains = True  # the field itself reports a bad value
        missing = [f for f in ("compile", "data") if data.get(f) is None]
        if missing and trains:
            raise ValidationError.from_exception_data(
                cls.__name__,
                [InitErrorDetails(type="missing", loc=(f,), input=data) for f in missing],
            )
        return data

    @model_validator(mode="after")
    def _complete(self) -> JobSpec:
        if isinstance(self.data, TimeseriesSource) and self.fit.validation_split:
            raise PydanticCustomError(
                "validation_split",
                "validation_split is only supported for arrays, not for windows over a "
                "series (Keras refuses it for a dataset); give validation_data",
            )
        if isinstance(self.data, list):
            if len(self.data) != self.fit.trained_epochs:
                raise PydanticCustomError(
                    "epoch_data",
                    "data lists {given} epochs of data but fit trains {wanted} "
                    "(epochs - initial_epoch); give one entry per epoch, or one for all",
                    {"given": len(self.data), "wanted": self.fit.trained_epochs},
                )
        return self

    @property
    def epoch_data(self) -> list[DataRef | TimeseriesSource]:
        """The training data of each epoch trained, or the one set for all (empty: none)."""
        if self.data is None:
            return []
        return list(self.data) if isinstance(self.data, list) else [self.data]

    def dataset_ids(self) -> set[str]:
        ids: set[str] = set()
        for ref in self.epoch_data:
            ids |= ref.ids()
        if self.fit.validation_data is not None:
            ids |= self.fit.validation_data.ids()
        if isinstance(self.fit.initial_weights, dict):
            ids |= set(self.fit.initial_weights.values())
        return ids
