"""One Keras layer as the SDK holds it: its Keras arguments (checked at once, against
the same argument models the service uses), its name (Keras's default names, counted
across the session), its calls on tensors (a functional graph) and its weights once it
has some (`cornu.weights`); the computation happens on the service."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from pydantic import ValidationError

from cornu.core.errors import NotSupported
from cornu.core.spec import spec_error
from cornu.core.spec.layers import REFUSED as REASONS
from cornu.core.spec.layers import parse_layer
from cornu.layers.tensor import _CREATED, Input, KerasTensor, _user_code
from cornu.naming import auto_name
from cornu.objects import jsonable
from cornu.weights import HasWeights

if TYPE_CHECKING:
    from cornu.weights import Fitting, Variable, WeightSource

_CONV = ("filters", "kernel_size", "strides", "padding")
_POOL = ("pool_size", "strides", "padding")
_DEPTHWISE = ("kernel_size", "strides", "padding", "depth_multiplier")
_ADAPTIVE = ("output_size",)

# Keras's positional arguments, in order, for the layers that take any.
POSITIONAL: dict[str, tuple[str, ...]] = {
    "Dense": ("units", "activation"),
    "Activation": ("activation",),
    "Dropout": ("rate", "noise_shape", "seed"),
    "Reshape": ("target_shape",),
    "Permute": ("dims",),
    "RepeatVector": ("n",),
    "Conv1D": _CONV,
    "Conv2D": _CONV,
    "Conv2DTranspose": _CONV,
    "SeparableConv2D": _CONV,
    "MaxPooling1D": _POOL,
    "MaxPooling2D": _POOL,
    "AveragePooling1D": _POOL,
    "AveragePooling2D": _POOL,
    "UpSampling2D": ("size",),
    "ZeroPadding2D": ("padding",),
    "Cropping2D": ("cropping",),
    "Conv3D": _CONV,
    "Conv1DTranspose": _CONV,
    "Conv3DTranspose": _CONV,
    "DepthwiseConv1D": _DEPTHWISE,
    "DepthwiseConv2D": _DEPTHWISE,
    "SeparableConv1D": _CONV,
    "MaxPooling3D": _POOL,
    "AveragePooling3D": _POOL,
    "AdaptiveAveragePooling1D": _ADAPTIVE,
    "AdaptiveAveragePooling2D": _ADAPTIVE,
    "AdaptiveAveragePooling3D": _ADAPTIVE,
    "AdaptiveMaxPooling1D": _ADAPTIVE,
    "AdaptiveMaxPooling2D": _ADAPTIVE,
    "AdaptiveMaxPooling3D": _ADAPTIVE,
    "UpSampling1D": ("size",),
    "UpSampling3D": ("size",),
    "ZeroPadding1D": ("padding",),
    "ZeroPadding3D": ("padding",),
    "Cropping1D": ("cropping",),
    "Cropping3D": ("cropping",),
    "ConvLSTM1D": _CONV,
    "ConvLSTM2D": _CONV,
    "ConvLSTM3D": _CONV,
    "BatchNormalization": ("axis", "momentum", "epsilon"),
    "LayerNormalization": ("axis", "epsilon"),
    "Embedding": ("input_dim", "output_dim"),
    "ReversibleEmbedding": ("input_dim", "output_dim", "tie_weights"),
    "SpectralNormalization": ("layer", "power_iterations"),
    "SimpleRNN": ("units", "activation"),
    "LSTM": ("units", "activation", "recurrent_activation"),
    "GRU": ("units", "activation", "recurrent_activation"),
    "Bidirectional": ("layer", "merge_mode"),
    "TimeDistributed": ("layer",),
    "SpatialDropout1D": ("rate",),
    "SpatialDropout2D": ("rate",),
    "GaussianNoise": ("stddev",),
    "LeakyReLU": ("negative_slope",),
    "ReLU": ("max_value", "negative_slope", "threshold"),
    "Softmax": ("axis",),
    "MultiHeadAttention": ("num_heads", "key_dim", "value_dim", "dropout"),
    "Concatenate": ("axis",),
    "Dot": ("axes", "normalize"),
    "Masking": ("mask_value",),
    "ELU": ("alpha",),
    "PReLU": ("alpha_initializer", "alpha_regularizer", "alpha_constraint", "shared_axes"),
    "ActivityRegularization": ("l1", "l2"),
    "MelSpectrogram": (
        "fft_length",
        "sequence_stride",
        "sequence_length",
        "window",
        "sampling_rate",
        "num_mel_bins",
        "min_freq",
        "max_freq",
        "power_to_db",
        "top_db",
        "mag_exp",
        "min_power",
        "ref_power",
    ),  # fmt: skip
    "STFTSpectrogram": (
        "mode",
        "frame_length",
        "frame_step",
        "fft_length",
        "window",
        "periodic",
        "scaling",
        "padding",
        "expand_dims",
        "data_format",
    ),  # fmt: skip
    "AlphaDropout": ("rate", "noise_shape", "seed"),
    "GaussianDropout": ("rate", "seed"),
    "SpatialDropout3D": ("rate", "data_format", "seed"),
    "UnitNormalization": ("axis",),
    "GroupNormalization": ("groups", "axis", "epsilon", "center", "scale"),
    "RMSNormalization": ("axis", "epsilon"),
    "Attention": ("use_scale", "score_mode", "dropout", "seed"),
    "AdditiveAttention": ("use_scale", "dropout"),
    "GroupQueryAttention": (
        "head_dim",
        "num_query_heads",
        "num_key_value_heads",
        "dropout",
        "use_bias",
        "sliding_window",
        "flash_attention",
    ),
    "EinsumDense": ("equation", "output_shape", "activation", "bias_axes"),
    "RNN": ("cell", "return_sequences", "return_state", "go_backwards", "stateful", "unroll"),
    "SimpleRNNCell": ("units", "activation", "use_bias"),
    "LSTMCell": ("units", "activation", "recurrent_activation", "use_bias"),
    "GRUCell": ("units", "activation", "recurrent_activation", "use_bias"),
    "StackedRNNCells": ("cells",),
    "Rescaling": ("scale", "offset"),
    "Normalization": ("axis", "mean", "variance", "invert"),
    "Resizing": (
        "height",
        "width",
        "interpolation",
        "crop_to_aspect_ratio",
        "pad_to_aspect_ratio",
        "fill_mode",
        "fill_value",
        "antialias",
        "data_format",
    ),
    "CenterCrop": ("height", "width", "data_format"),
    "RandomCrop": ("height", "width", "seed", "data_format", "name"),
    "RandomFlip": ("mode", "seed", "data_format"),
    "RandomRotation": ("factor", "fill_mode", "interpolation", "seed", "fill_value", "data_format"),
    "RandomZoom": (
        "height_factor",
        "width_factor",
        "fill_mode",
        "interpolation",
        "seed",
        "fill_value",
        "data_format",
    ),
    "RandomTranslation": (
        "height_factor",
        "width_factor",
        "fill_mode",
        "interpolation",
        "seed",
        "fill_value",
        "data_format",
    ),
    "RandomContrast": ("factor", "value_range", "seed"),
    "RandomBrightness": ("factor", "value_range", "seed"),
    "CategoryEncoding": ("num_tokens", "output_mode", "sparse"),
    "RandomGrayscale": ("factor", "data_format", "seed"),
    "Solarization": ("addition_factor", "threshold_factor", "value_range", "seed"),
    "RandomInvert": ("factor", "value_range", "seed", "data_format"),
    "RandomPosterization": ("factor", "value_range", "data_format", "seed"),
    "AutoContrast": ("value_range",),
    "RandomSharpness": ("factor", "value_range", "data_format", "seed"),
    "RandomHue": ("factor", "value_range", "data_format", "seed"),
    "RandomSaturation": ("factor", "value_range", "data_format", "seed"),
    "RandomColorDegeneration": ("factor", "value_range", "data_format", "seed"),
    "RandomShear": (
        "x_factor",
        "y_factor",
        "interpolation",
        "fill_mode",
        "fill_value",
        "data_format",
        "seed",
    ),
    "RandomGaussianBlur": ("factor", "kernel_size", "sigma", "value_range", "data_format", "seed"),
    "Equalization": ("value_range", "bins", "data_format"),
    "RandomColorJitter": (
        "value_range",
        "brightness_factor",
        "contrast_factor",
        "saturation_factor",
        "hue_factor",
        "seed",
        "data_format",
    ),
    "RandomErasing": ("factor", "scale", "fill_value", "value_range", "seed", "data_format"),
    "RandomPerspective": ("factor", "scale", "interpolation", "fill_value", "seed", "data_format"),
    "Pipeline": ("layers",),
    "RandAugment": ("value_range", "num_ops", "factor", "interpolation", "seed", "data_format"),
    "AugMix": (
        "value_range",
        "num_chains",
        "chain_depth",
        "factor",
        "alpha",
        "all_ops",
        "interpolation",
        "seed",
        "data_format",
    ),
    "RandomElasticTransform": (
        "factor",
        "scale",
        "interpolation",
        "fill_mode",
        "fill_value",
        "value_range",
        "seed",
        "data_format",
    ),
    "ContrastLimitedAdaptiveHistogramEqualization": (
        "value_range",
        "clip_limit",
        "tile_grid_size",
        "data_format",
    ),
    "MixUp": ("alpha", "data_format", "seed"),
    "CutMix": ("factor", "seed", "data_format"),
    "MaxNumBoundingBoxes": ("max_number", "fill_value"),
}

# What to do instead of a layer the service refuses (`cornu.core.spec.layers.REFUSED`).
_INSTEAD = {
    "Lambda": "use built-in layers (Activation, Reshape, Permute, Add, Multiply, …) for "
    "the computation, or compute it on the client before fit",
    "TFSMLayer": "load the model from a .keras or .h5 file instead",
    "TextVectorization": "turn text into ids on the client before fit",
    "StringLookup": "turn strings into ids on the client before fit",
}
_STRINGS = {"TextVectorization", "StringLookup"}  # not code: strings
REFUSED: dict[str, str] = {
    name: _INSTEAD.get(name, "build the computation from Keras's built-in layers")
    for name in REASONS
}
"""Keras layers the service never runs (the user's own code, strings), with what to do."""


class Layer(HasWeights):
    """One Keras layer: its arguments, its name, its weights. `type` is its Keras class.

    Subclassing it to write a layer's computation (`call`) is Keras's way to add layers
    of one's own; Cornu refuses it (NotSupported): the code would have to run on the
    service's workers.
    """

    type: ClassVar[str] = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._refuse_user_code()
        positional = POSITIONAL.get(self.type, ())
        if len(args) > len(positional):
            raise TypeError(
                f"{self.type} takes at most {len(positional)} positional arguments "
                f"({', '.join(positional) or 'none'}); give the others by name"
            )
        config = {**dict(zip(positional, args, strict=False)), **kwargs}
        config.pop("dtype", None)  # Keras's float type is the service's; nothing to send
        self._name = str(config.pop("name", None) or auto_name(self.type))
        self._trainable = bool(config.pop("trainable", True))
        self.config: dict[str, Any] = {k: jsonable(v) for k, v in config.items()}
        self._check()  # a bad argument fails here, as in Keras, not on the service
        self.created = next(_CREATED)
        self._weights: WeightSource | None = None  # where the layer's weights are
        self._calls: list[tuple[list[KerasTensor], list[KerasTensor]]] = []
        self._owner: Any = None  # the last model that holds it (for its weights' shapes)
        self._fitting: Fitting | None = None  # the fit that trains it now

    def _refuse_user_code(self) -> None:
        cls = type(self)
        if cls.type in REFUSED and cls.type in _STRINGS:
            raise NotSupported(f"layers.{cls.type}: {REASONS[cls.type]}")
        if cls.type in REFUSED:
            raise _user_code(f"layers.{cls.type}", REFUSED[cls.type])
        own = [
            method
            for method in ("call", "build", "compute_output_shape")
            if any(method in vars(c) for c in cls.__mro__ if not c.__module__.startswith("cornu."))
        ]
        if own or not cls.type:
            raise _user_code(
                f"the layer class {cls.__name__} computes with Python code of its own "
                f"({', '.join(own) or 'a Layer subclass'})",
                "build the computation from Keras's built-in layers in a functional model",
            )

    # -- Keras's attributes ----------------------------------------------------------

    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        self._name = str(value)

    @property
    def trainable(self) -> bool:
        """Whether fit updates the layer's weights; set it any time before a fit."""
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)

    @property
    def dtype(self) -> str:
        return "float32"

    def to_spec(self) -> dict[str, Any]:
        """The layer as the service takes it: its Keras class, name and arguments."""
        spec = {"type": self.type, "name": self._name, **self.config}
        if not self._trainable:
            spec["trainable"] = False
        return spec

    def get_config(self) -> dict[str, Any]:
        """Keras's `get_config()`: every argument (those not given at their defaults, in
        the service's forms), which rebuild the layer."""
        defaults = parse_layer(self.to_spec()).model_dump(mode="json", exclude={"type", "name"})
        if defaults.get("input_shape") is None:
            defaults.pop("input_shape", None)  # Keras's config has no input shape unless given
        return {**defaults, "name": self._name, "trainable": self._trainable, **self.config}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        return cls(**config)

    def _check(self) -> None:
        try:
            parse_layer(self.to_spec())
        except ValidationError as exc:
            raise spec_error(exc.errors()) from None

    def outputs(self) -> int:
        """How many tensors a call returns (several for an RNN with `return_state`)."""
        state = self.config.get("return_state", False)
        if self.type == "LSTM":
            return 3 if state else 1
        if self.type in ("GRU", "SimpleRNN"):
            return 2 if state else 1
        if self.type == "Bidirectional" and self.config.get("merge_mode", "concat") is None:
            return 2
        if self.config.get("return_attention_scores", False):  # Attention layers' call option
            return 2
        if self.type == "RNN" and state:  # the output, then each cell's states
            cell = self.config.get("cell")
            cells = cell.get("cells", [cell]) if isinstance(cell, dict) else list(cell or [])
            return 1 + sum(2 if c.get("type") == "LSTMCell" else 1 for c in cells)
        return 1

    def __getattr__(self, name: str) -> Any:
        """Keras's attributes named after the layer's arguments (`layer.units`) and its
        weights (`layer.kernel`, `layer.moving_mean`: a Variable)."""
        if name.startswith("_") or "config" not in self.__dict__:
            raise AttributeError(name)
        if name in self.config:
            return self.config[name]
        from cornu.core.spec.keras_files.layout import own_weights

        parsed = parse_layer(self.to_spec())
        if name in type(parsed).model_fields:  # an argument left at its default
            return getattr(parsed, name)
        if name in own_weights(parsed):  # (no other name asks the service)
            for variable in self.weights:
                if variable.name == name:
                    return variable
            raise AttributeError(
                f"layer {self._name!r} has no {name} until a model that holds it knows its "
                "input shape (Keras: the layer is not built yet)"
            )
        raise AttributeError(f"{type(self).__name__} object has no attribute {name!r}")

    # -- weights (held by the layer, as in Keras; see cornu.weights) -----------------

    @property
    def weights(self) -> list[Variable]:
        from cornu.weights import layer_variables

        return layer_variables(self)

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Give the layer these weights (Keras's order and layouts); the next fit,
        predict or save of a model that holds it uses them."""
        from cornu.weights import set_layer_weights

        set_layer_weights(self, weights)

    def count_params(self) -> int:
        return sum(int(np.prod(w.shape)) for w in self.weights)

    @property
    def built(self) -> bool:
        return self._owner is not None or bool(self._calls)

    def build(self, input_shape: Sequence[int | None]) -> None:
        """Keras's `layer.build((None, 784))`: the layer knows its input, so it has
        weights (new ones from the service when first read, or those set)."""
        from cornu.models import Model

        tensor = Input(shape=list(input_shape)[1:])
        Model(tensor, self(tensor))

    @property
    def input(self) -> Any:
        """The tensor(s) the layer was called on (its first call)."""
        inputs = self._first_call()[0]
        return inputs[0] if len(inputs) == 1 else inputs

    @property
    def output(self) -> Any:
        """The tensor(s) its first call returned."""
        outputs = self._first_call()[1]
        return outputs[0] if len(outputs) == 1 else outputs

    def _first_call(self) -> tuple[list[KerasTensor], list[KerasTensor]]:
        if not self._calls and self._owner is not None:
            self._owner._symbolic()  # a built Sequential calls its layers on its input
        if not self._calls:
            raise AttributeError(
                f"layer {self._name!r} has not been called on a tensor yet, so it has no "
                "input or output (call it on a layers.Input, or build its model)"
            )
        return self._calls[0]

    # -- calls -----------------------------------------------------------------------

    def __call__(
        self, inputs: KerasTensor | Sequence[KerasTensor], *more: KerasTensor, **call: Any
    ) -> Any:
        """Record a call: `layer(x)`, `merge([a, b])`, `attention(query, value[, key])`,
        `lstm(x, initial_state=[h, c])`, `embedding(h, reverse=True)`."""
        given = list(inputs) if isinstance(inputs, list | tuple) else [inputs]
        given += [*more, *(call.pop(k) for k in ("value", "key") if k in call)]
        states = call.pop("initial_state", None)  # a recurrent layer's: after its sequence
        # a ReversibleEmbedding's call argument: this call projects back to the vocabulary
        reverse = self.type == "ReversibleEmbedding" and bool(call.pop("reverse", False))
        if states is not None:
            given += list(states) if isinstance(states, list | tuple) else [states]
        call.pop("mask", None)  # masks come from Embedding(mask_zero=True) on the service
        # Keras 3 records `training=` but fit, evaluate and predict override it with their
        # own (keras/src/models/functional.py `operation_fn`; keras-team/keras#20285):
        # `base_model(x, training=False)` trains its BatchNormalization all the same,
        # unless the layer is frozen. The service does exactly that.
        call.pop("training", None)
        tensors = [t for t in given if isinstance(t, KerasTensor)]
        if len(tensors) != len(given):
            if not tensors and all(hasattr(t, "__array__") or isinstance(t, list) for t in given):
                return self._eager(given, reverse)
            raise TypeError(
                f"{self.type} is called on Keras tensors (from layers.Input or other layers)"
            )
        if call:  # Keras call options (MultiHeadAttention's use_causal_mask): layer arguments
            before = self.config
            self.config = {**before, **{k: jsonable(v) for k, v in call.items()}}
            try:
                self._check()
            except Exception:
                self.config = before  # a refused call leaves the layer as it was
                raise
        outputs = [KerasTensor(self, tensors, i, reverse) for i in range(self.outputs())]
        self._calls.append((tensors, outputs))
        return outputs[0] if len(outputs) == 1 else outputs

    def _eager(self, arrays: list[Any], reverse: bool = False) -> Any:
        """`layer(x)` on arrays: Keras runs the layer on them at once; here the service
        does, as a model of this one layer (its weights are the layer's)."""
        from cornu.models import Model

        inputs = [Input(shape=np.shape(a)[1:]) for a in arrays]
        options = {"reverse": True} if reverse else {}
        outputs = self(inputs if len(inputs) > 1 else inputs[0], **options)
        model = Model(inputs, outputs)
        return model.predict(arrays if len(arrays) > 1 else arrays[0], verbose=0)

    def __repr__(self) -> str:
        return f"<{self.type} name={self._name}>"
