"""A data source of sliding windows over one uploaded series: Keras's
`keras.utils.timeseries_dataset_from_array` as a part of the job contract.

The worker cuts each batch's windows from the series by index arithmetic; the windows
themselves are never stored or sent. The index arithmetic lives here, without torch,
so that the SDK's local dataset and the worker agree on every window and its order.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveInt,
    model_validator,
)
from pydantic_core import PydanticCustomError

SEED_LIMIT = 2**32  # numpy.random.RandomState takes seeds below 2**32


class TimeseriesSource(BaseModel):
    """`timeseries_dataset_from_array(data, targets, sequence_length, …)` over datasets.

    Window `i` takes `sequence_length` steps, every `sampling_rate`-th, of the series
    `data[start_index:end_index]` from step `p_i`; `p_i = i * sequence_stride` for every
    window that fits (and, with targets, for `p_i < len(targets)`, as Keras counts). Its
    target is `targets[targets_offset + start_index + p_i]`: `targets_offset` is what a
    Keras user writes as `targets=temperature[delay:]`, without uploading the slice.
    With `shuffle` the windows come in the order `numpy.random.RandomState(seed)` gives
    their starts (as Keras), and each later epoch in the order of the next
    `RandomState(seed).permutation`, as the SDK's dataset iterates (Keras's tf.data
    pipeline further reorders the windows through a shuffle buffer of `batch_size * 8`
    with TensorFlow's own RNG, each epoch: the same windows, not the same order).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["timeseries"] = "timeseries"
    data: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    targets: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$"
    )
    targets_offset: NonNegativeInt = Field(
        default=0, description="the targets are targets[targets_offset:] (Keras's targets[delay:])"
    )
    sequence_length: PositiveInt
    sequence_stride: PositiveInt = 1
    sampling_rate: PositiveInt = 1
    batch_size: PositiveInt = 128
    shuffle: bool = False
    seed: int | None = Field(default=None, ge=0, lt=SEED_LIMIT)
    start_index: NonNegativeInt | None = None
    end_index: PositiveInt | None = None

    @model_validator(mode="before")
    @classmethod
    def _draw_seed(cls, data: Any) -> Any:
        """Keras draws `np.random.randint(1e6)` when shuffling without a seed; drawn once
        here, the job holds it, and a resumed run sees the same order."""
        if isinstance(data, dict) and data.get("shuffle") is True and data.get("seed") is None:
            return {**data, "seed": int(np.random.randint(1_000_000))}
        return data

    @model_validator(mode="after")
    def _ordered(self) -> TimeseriesSource:
        if self.start_index and self.end_index and self.end_index <= self.start_index:
            raise PydanticCustomError(
                "end_index",
                "end_index ({end}) must be higher than start_index ({start})",
                {"end": self.end_index, "start": self.start_index},
            )
        return self

    def ids(self) -> set[str]:
        return {self.data} | ({self.targets} if self.targets else set())

    def positions(self, steps: int, target_steps: int | None = None) -> np.ndarray:
        """Each window's first step, relative to `start_index`, in the first epoch's
        order: Keras's `start_positions`. `steps`: the series' length; `target_steps`:
        the targets' (before `targets_offset`). ValueError names the numbers when the
        series or the targets are too short, or an index lies outside the series."""
        start, end = self.bounds(steps)
        count = end - start - (self.sequence_length - 1) * self.sampling_rate
        if count <= 0:
            span = (self.sequence_length - 1) * self.sampling_rate + 1
            raise ValueError(
                f"a window of sequence_length={self.sequence_length} with "
                f"sampling_rate={self.sampling_rate} spans {span} steps, but the series holds "
                f"{end - start} (steps {start} to {end}) of its {steps}: no window fits"
            )
        if target_steps is not None:
            count = min(count, target_steps - self.targets_offset)
        dtype = "int32" if count < 2147483647 else "int64"
        positions = np.arange(0, max(count, 0), self.sequence_stride, dtype=dtype)
        if target_steps is not None:
            usable = target_steps - self.targets_offset
            last = start + int(positions[-1]) if len(positions) else start
            # Keras reads window i's target at targets[start_index + p_i].
            if last >= usable:
                raise ValueError(
                    f"the targets hold {max(usable, 0)} steps (after targets_offset="
                    f"{self.targets_offset}) but window {max(len(positions) - 1, 0)}'s target "
                    f"is step {last}; give targets for every window or an earlier end_index"
                )
        if self.shuffle:
            np.random.RandomState(self.seed).shuffle(positions)
        return positions

    def bounds(self, steps: int) -> tuple[int, int]:
        """`(start_index, end_index)` in the series, checked as Keras checks them."""
        start, end = self.start_index or 0, steps if self.end_index is None else self.end_index
        if start >= steps:
            raise ValueError(
                f"start_index={start} must be lower than the length of the data ({steps} steps)"
            )
        if end >= steps and self.end_index is not None:
            raise ValueError(
                f"end_index={end} must be lower than the length of the data ({steps} steps)"
            )
        for name, value in (("sampling_rate", self.sampling_rate),
                            ("sequence_stride", self.sequence_stride)):  # fmt: skip
            if value >= steps:
                raise ValueError(
                    f"{name}={value} must be lower than the length of the data ({steps} steps)"
                )
        return start, end

    def epoch_order(self, epoch: int, count: int) -> np.ndarray | None:
        """The order of the windows in epoch `epoch` (0-based) of an iteration from the
        start, as indices into `positions()`; None for the first epoch's (unchanged)."""
        if not self.shuffle or epoch == 0:
            return None
        rng = np.random.RandomState(self.seed)
        for _ in range(epoch - 1):
            rng.permutation(count)
        return rng.permutation(count)


__all__ = ["SEED_LIMIT", "TimeseriesSource"]
