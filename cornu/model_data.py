"""What a model sends the service: its arrays as datasets (each content uploaded once),
named by the model's inputs and outputs, and the data a fit, evaluate or predict takes
(see `cornu.data_adapters` for generators and PyDatasets)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from cornu import connection, weights
from cornu.client import Client
from cornu.data_adapters import Batch, as_arrays, draw, is_arrays
from cornu.utils.timeseries_dataset import TimeseriesDataset

if TYPE_CHECKING:
    from cornu.layers import Layer


class ModelBase:
    """What `Model` and `Sequential` give the training and inference mixins, and the
    arrays they send."""

    name: str
    _compile: dict[str, Any] | None
    optimizer: Any
    loss: Any
    stop_training: bool
    history: Any
    _job: str | None
    _settled: str | None
    _job_spec: dict[str, Any]
    _fitting: weights.Fitting | None = None  # the fit running now
    _compiled_trainable: dict[int, bool]  # each layer's `trainable` when compiled

    # What each kind of model gives (cornu.models).
    def model_spec(self) -> dict[str, Any]:
        raise NotImplementedError

    def _layers(self) -> list[Layer]:
        raise NotImplementedError

    @property
    def input_names(self) -> list[str]:
        raise NotImplementedError

    @property
    def output_names(self) -> list[str]:
        raise NotImplementedError

    def _build_from(self, x: Any) -> None:
        """A model that does not know its input shape takes it from the data (Keras)."""

    @property
    def client(self) -> Client:
        return connection.client()

    # -- data ------------------------------------------------------------------------

    def _arrays(self, value: Any, names: list[str], what: str) -> str | dict[str, str]:
        """Upload arrays (one, a list in model order, or a map by name) as dataset ids."""
        client = self.client

        def up(array: Any, label: str) -> str:
            return client.upload(array, name=label, progress=True, keras_dtypes=True).id

        if isinstance(value, Mapping):
            return {name: up(v, f"{what}[{name!r}]") for name, v in value.items()}
        if isinstance(value, list | tuple) and len(value) == len(names) == 1:
            if isinstance(value[0], np.ndarray):  # `[x]` for the one input, as Keras takes it
                value = value[0]
        if (
            isinstance(value, list | tuple)
            and value
            and not np.isscalar(value[0])
            and len(names) > 1
        ):
            if len(value) != len(names):
                raise ValueError(
                    f"the model has {len(names)} {what}s ({', '.join(names)}); "
                    f"got {len(value)} arrays"
                )
            return {n: up(v, f"{what}[{n!r}]") for n, v in zip(names, value, strict=True)}
        return up(value, what)

    def _data(self, x: Any, y: Any, sample_weight: Any = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "x": self._arrays(x, self.input_names, "x"),
            "y": self._arrays(y, self.output_names, "y"),
        }
        if sample_weight is not None:
            data["sample_weight"] = self.client.upload(
                sample_weight, name="sample_weight", keras_dtypes=True
            ).id
        return data

    def _timeseries(self, x: Any) -> dict[str, Any] | None:
        """`timeseries_dataset_from_array`'s windows as the service takes them: the series
        and targets uploaded once, windowed on the worker (None for other data)."""
        if not isinstance(x, TimeseriesDataset) or len(self.input_names) != 1:
            return None
        client = self.client

        def up(array: np.ndarray, label: str) -> str:
            return client.upload(array, name=label, progress=True, keras_dtypes=True).id

        source = x.source(up)
        if source is not None:
            first = x[0]
            self._build_from(first[0] if isinstance(first, tuple) else first)
        return source

    def _batch_data(self, batch: Batch) -> dict[str, Any]:
        if batch.y is None:
            raise ValueError("the data yields inputs without targets; fit needs (x, y)")
        return self._data(batch.x, batch.y, batch.sample_weight)

    def _validation(self, validation_data: Any, steps: int | None) -> dict[str, Any]:
        windows = self._timeseries(validation_data)
        if windows is not None:
            return windows
        if validation_arrays(validation_data):
            if len(validation_data) not in (2, 3):
                raise ValueError("validation_data is (x_val, y_val) or (x_val, y_val, weights)")
            return self._data(*(as_arrays(part) for part in validation_data))
        drawn = draw(validation_data, epochs=1, steps_per_epoch=steps, shuffle=False,
                     what="validation_data")  # fmt: skip
        return self._batch_data(drawn.epochs[0])

    def _input_arrays(self, x: Any) -> list[np.ndarray]:
        """The model's input arrays in order, from one array, a list or a map by name."""
        names, x = self.input_names, as_arrays(x)
        if isinstance(x, Mapping):
            return [np.asarray(x[name]) for name in names]
        if isinstance(x, list | tuple) and len(x) == len(names) and len(names) > 1:
            return [np.asarray(a) for a in x]
        if isinstance(x, list | tuple) and len(x) == 1 and isinstance(x[0], np.ndarray):
            return [x[0]]
        return [np.asarray(x)]


def validation_arrays(validation_data: Any) -> bool:
    """`(x_val, y_val[, weights])` of arrays, rather than a dataset or generator."""
    return isinstance(validation_data, tuple | list) and is_arrays(validation_data[0])


def first_array(x: Any) -> Any:
    if isinstance(x, Mapping):
        return np.asarray(next(iter(x.values())))
    if isinstance(x, list | tuple) and x and not np.isscalar(x[0]) and not isinstance(x[0], list):
        return np.asarray(x[0])
    return np.asarray(x)


def batch_size_of(given: Any) -> int:
    """Keras's default of 32 for None; anything but a positive integer is a ValueError."""
    if given is None:
        return 32
    if isinstance(given, bool) or not isinstance(given, int | np.integer) or given < 1:
        raise ValueError(f"batch_size must be a positive integer; got {given!r}")
    return int(given)
