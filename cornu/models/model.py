"""Keras's `Model`: a functional model (`Model(inputs, outputs)`), and what every model
offers besides training — its layers, weights, summary, and Keras's files.

Calling a model on tensors (`outer = Model(x, inner(x))`) replays its layers on them, as
Keras's nested models do: the layers are shared, so are their weights. Subclassing
`Model` to write `call` or `train_step` is Keras's way to run one's own Python code in
training; Cornu refuses it (NotSupported) and says what to use instead.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cornu import connection, weights
from cornu.core.errors import NotSupported
from cornu.core.spec import ModelSummary
from cornu.core.spec.layers.merging import MERGING
from cornu.graph import functional_spec, graph_inputs, graph_layers, topological
from cornu.layers import KerasTensor, Layer
from cornu.naming import auto_name
from cornu.training import Trainer
from cornu.weights import HasWeights, Variable

# Methods whose override is Python code that would have to run on the service.
_USER_CODE = ("call", "train_step", "test_step", "predict_step", "compute_loss")


class Model(Trainer, HasWeights):
    """`Model(inputs=…, outputs=…)` (the book's `input=`/`output=` too); inputs and
    outputs may be one tensor, a list, or a dict by name."""

    default_name = "functional"

    def __init__(
        self,
        inputs: Any = None,
        outputs: Any = None,
        name: str | None = None,
        trainable: bool = True,
        **kwargs: Any,
    ) -> None:
        self._refuse_user_code()
        inputs = kwargs.pop("input", inputs)
        outputs = kwargs.pop("output", outputs)
        if kwargs:
            raise TypeError(f"Model got unexpected arguments: {', '.join(kwargs)}")
        if inputs is None or outputs is None:
            raise TypeError(
                "Model needs inputs and outputs: Model(inputs=input_tensor, "
                "outputs=output_tensor), Keras's functional API"
            )
        self._start(name)
        self._inputs = _listed(inputs)
        self._outputs = _listed(outputs)
        self._output_keys = list(outputs) if isinstance(outputs, Mapping) else None
        missing = [i for i in graph_inputs(self._outputs) if i not in self._inputs]
        if missing:
            raise ValueError(
                f"the outputs depend on {missing[0]!r}, which is not among the model's inputs"
            )
        for layer in self._layers():
            layer._owner = self
        self.model_spec()  # checked now, as Keras checks the graph when the model is made
        if not trainable:
            self.trainable = False

    def _start(self, name: str | None) -> None:
        """What every model starts with (Sequential calls it too)."""
        self.name = name or auto_name(self.default_name)
        self._compile: dict[str, Any] | None = None
        self.optimizer: Any = None
        self.loss: Any = None
        self.stop_training = False
        self.history: Any = None
        self._job: str | None = None
        self._settled: str | None = None
        self._job_spec: dict[str, Any] = {}
        self._summaries: dict[str, ModelSummary] = {}
        self._compiled_trainable: dict[int, bool] = {}

    def _refuse_user_code(self) -> None:
        own = [
            method
            for method in _USER_CODE
            for cls in type(self).__mro__
            if not cls.__module__.startswith("cornu.") and method in vars(cls)
        ]
        if own:
            raise NotSupported(
                f"{type(self).__name__} defines {', '.join(sorted(set(own)))}: a subclassed "
                f"model computes with Python code of its own, and {NotSupported.NEVER}; "
                "build the same model with the functional API (keras.Input, layers called "
                "on tensors, keras.Model(inputs, outputs)) or a Sequential"
            )

    # -- the graph -------------------------------------------------------------------

    def model_spec(self) -> dict[str, Any]:
        """The model as the service takes it (checked: SpecError)."""
        return functional_spec(self._inputs, self._outputs, self.name)

    def _layers(self) -> list[Layer]:
        return graph_layers(self._outputs)

    def _symbolic(self) -> None:
        """Its layers' inputs and outputs are known: it was built from tensors."""

    @property
    def built(self) -> bool:
        """A functional model is built: it was made from tensors of known shapes."""
        return True

    @property
    def layers(self) -> list[Any]:
        """Keras's `model.layers`: the input layers, then the layers in graph order."""
        return [*self._inputs, *self._layers()]

    @property
    def inputs(self) -> list[KerasTensor]:
        return list(self._inputs)

    @property
    def outputs(self) -> list[KerasTensor]:
        return list(self._outputs)

    @property
    def input(self) -> Any:
        return self._inputs[0] if len(self._inputs) == 1 else self.inputs

    @property
    def output(self) -> Any:
        return self._outputs[0] if len(self._outputs) == 1 else self.outputs

    @property
    def input_shape(self) -> Any:
        shapes = [t.shape for t in self.inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self) -> Any:
        shapes = [t.shape for t in self.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def input_names(self) -> list[str]:
        """The inputs' names, in order (data maps use them)."""
        return [i.name for i in self._inputs]

    @property
    def output_names(self) -> list[str]:
        """Keras's names of the outputs: those of the layers that produce them."""
        if self._output_keys is not None:
            return list(self._output_keys)
        names: list[str] = []
        for tensor in self._outputs:
            name = tensor.source.name
            names.append(name if name not in names else f"{name}_{tensor.index}")
        return names

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        """The model as a layer of another: its layers, replayed on `inputs` (shared);
        on arrays, Keras's eager call: the outputs for them (`predict`)."""
        given = _listed(inputs)
        if not any(isinstance(t, KerasTensor) for t in given):
            return self.predict(inputs, verbose=0)
        if len(given) != len(self._inputs):
            raise ValueError(
                f"model {self.name!r} takes {len(self._inputs)} inputs; {len(given)} given"
            )
        replayed: dict[int, KerasTensor] = {
            id(mine): theirs for mine, theirs in zip(self._inputs, given, strict=True)
        }
        order = topological(self._outputs)
        for tensor in order:
            if id(tensor) in replayed or not isinstance(tensor.source, Layer):
                continue
            layer = tensor.source
            args_ = [replayed[id(t)] for t in tensor.inputs]
            result = layer(args_ if layer.type in _MULTI else args_[0], **kwargs)
            results = result if isinstance(result, list) else [result]
            call = [id(t) for t in tensor.inputs]
            for sibling in order:  # a layer's other outputs of the same call
                if sibling.source is layer and [id(t) for t in sibling.inputs] == call:
                    replayed[id(sibling)] = results[sibling.index]
        outputs = [replayed[id(t)] for t in self._outputs]
        return outputs[0] if len(outputs) == 1 else outputs

    # -- layers and weights ----------------------------------------------------------

    def get_layer(self, name: str | None = None, index: int | None = None) -> Any:
        """Keras's `get_layer`: by name, or by index in `model.layers`."""
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(
            f"No such layer: {name}. Existing layers are: {[layer.name for layer in self.layers]}."
        )

    @property
    def trainable(self) -> bool:
        return all(layer.trainable for layer in self._layers())

    @trainable.setter
    def trainable(self, value: bool) -> None:
        """`model.trainable = False` freezes every layer, as in Keras (for the next fit)."""
        for layer in self._layers():
            layer.trainable = value

    @property
    def weights(self) -> list[Variable]:
        return [w for variables in weights.model_variables(self) for w in variables]

    def set_weights(self, values: Sequence[Any]) -> None:
        """Keras's `set_weights`: the next fit, predict, evaluate or save uses them."""
        weights.set_model_weights(self, values)

    def count_params(self) -> int:
        summary = self._summary_or_none()
        if summary is None:
            raise ValueError(
                f"You tried to call `count_params` on layer '{self.name}', but the layer "
                "isn't built. You can build it manually via: `layer.build(input_shape)`."
            )
        return summary.total_params

    # -- summary ---------------------------------------------------------------------

    def _summary(self) -> ModelSummary:
        spec = self.model_spec()
        key = json.dumps(spec, sort_keys=True)
        if key not in self._summaries:
            self._summaries[key] = connection.client().summary(spec)
        return self._summaries[key]

    def _summary_or_none(self) -> ModelSummary | None:
        """The service's summary, or None for a model that does not know its input shape."""
        return self._summary() if self.built else None

    def summary(self, line_length: Any = None, positions: Any = None, print_fn: Any = None,
                expand_nested: bool = False, show_trainable: bool = False,
                layer_range: Any = None) -> None:  # fmt: skip
        """Keras's summary table (layers, output shapes, parameters), from the service;
        a model that does not know its input shape yet shows `?` as Keras does."""
        from rich.console import Console

        from cornu.display import print_summary, print_unbuilt

        console = Console(file=None) if print_fn is None else _PrintConsole(print_fn)
        title = f'Model: "{self.name}"'
        summary = self._summary_or_none()
        if summary is None:
            print_unbuilt([(layer.name, layer.type) for layer in self._layers()], console, title)
        else:
            print_summary(summary, console, title=title)

    # -- Keras's files -----------------------------------------------------------------

    def to_json(self, **kwargs: Any) -> str:
        """Keras's `model.to_json()`: the model in Keras 3's own JSON, which
        `models.model_from_json` here and `keras.models.model_from_json` read back."""
        from cornu.saving import keras_json

        return json.dumps(keras_json(self), **kwargs)

    def get_config(self) -> dict[str, Any]:
        from cornu.saving import keras_json

        config: dict[str, Any] = keras_json(self)["config"]
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None) -> Model:
        """Keras's `from_config`: a model (with new layers) from `get_config()`'s dict."""
        from cornu.models.sequential import Sequential
        from cornu.saving import model_from_spec

        kind = "Sequential" if issubclass(cls, Sequential) else "Functional"
        return model_from_spec({"class_name": kind, "config": config})

    def save(self, filepath: str | Path, overwrite: bool = True, **kwargs: Any) -> None:
        """Keras's `model.save`: `.keras` (Keras 3's format) or `.h5` (the older one),
        which Keras itself loads; the weights are the model's now."""
        from cornu.saving import save_model

        save_model(self, filepath, overwrite=overwrite, **kwargs)

    def save_weights(self, filepath: str | Path, overwrite: bool = True, **kwargs: Any) -> None:
        """Keras's `save_weights`: a `.weights.h5` file Keras loads (safetensors for a
        `.safetensors` path: `{layer}/{weight}` in Keras's layouts)."""
        from cornu.saving import save_weights

        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(
        self, filepath: str | Path, skip_mismatch: bool = False, **kwargs: Any
    ) -> None:
        """Keras's `load_weights`: from `.weights.h5`, `.keras`, `.h5` or `.safetensors`."""
        from cornu.saving import load_weights

        load_weights(self, filepath, skip_mismatch=skip_mismatch)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


# Layers called on a list of tensors (merges, attention), as the graph replays them.
_MULTI = MERGING | {"MultiHeadAttention"}
_MULTI |= {"Attention", "AdditiveAttention", "GroupQueryAttention"}


def _listed(value: Any) -> list[Any]:
    if isinstance(value, Mapping):
        return list(value.values())
    return list(value) if isinstance(value, list | tuple) else [value]


class _PrintConsole:
    """A rich Console that hands each line to Keras's `print_fn`."""

    def __new__(cls, print_fn: Any) -> Any:
        import io

        from rich.console import Console

        class Forward(io.StringIO):
            def write(self, text: str) -> int:
                for line in text.splitlines():
                    print_fn(line)
                return len(text)

        return Console(file=Forward(), width=100)
