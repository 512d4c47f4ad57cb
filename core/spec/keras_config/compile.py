"""Cornu's CompileSpec as Keras 3's `model.get_compile_config()`, and back.

Keras writes (`keras/src/trainers/trainer.py` `get_compile_config`,
`keras/src/optimizers/base_optimizer.py` `get_config`) the optimizer as an object whose
config starts with its name, learning rate (a float, or a schedule object) and the
arguments every optimizer shares; losses and metrics given by name stay strings.
Reading also takes a legacy `.h5`'s `training_config` (`optimizer_config`, no
`module`s), and tf.keras 2's (`Custom>Adam`, metrics as `MeanMetricWrapper`s).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from cornu.core.errors import SpecError
from cornu.core.spec.job import CompileSpec
from cornu.core.spec.keras_config.objects import Json, keras_object, plain
from cornu.core.spec.losses import LossSpec
from cornu.core.spec.metrics import MetricSpec
from cornu.core.spec.names import snake_case
from cornu.core.spec.optimizers import OptimizerSpec

# What every Keras 3 optimizer's `get_config` writes after its name and learning rate.
_OPTIMIZER_BASE: Json = {
    "weight_decay": None, "clipnorm": None, "global_clipnorm": None, "clipvalue": None,
    "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
    "loss_scale_factor": None, "gradient_accumulation_steps": None,
}  # fmt: skip
# Keras's default `name` of a learning-rate schedule, where it is not the class name.
_SCHEDULE_NAMES = {"PiecewiseConstantDecay": "PiecewiseConstant"}


def optimizer_object(optimizer: OptimizerSpec) -> Json:
    """An optimizer as Keras 3 serializes it, under Keras's public module."""
    rate: Any = optimizer.learning_rate
    if isinstance(rate, BaseModel):
        kind = str(getattr(rate, "type"))  # noqa: B009  (every schedule has its type)
        fields = {k: plain(v) for k, v in rate.model_dump().items() if k != "type"}
        name = _SCHEDULE_NAMES.get(kind, kind)
        rate = keras_object("keras.optimizers.schedules", kind, {**fields, "name": name})
    config: Json = {"name": snake_case(optimizer.type), "learning_rate": rate, **_OPTIMIZER_BASE}
    for key in type(optimizer).model_fields:
        if key not in ("type", "learning_rate"):
            config[key] = plain(getattr(optimizer, key))
    return keras_object("keras.optimizers", optimizer.type, config)


def _named(value: Any, module: str) -> Any:
    """Losses and metrics: names stay strings, objects become Keras objects."""
    if isinstance(value, LossSpec | MetricSpec):
        return keras_object(module, value.type, plain(value.args))
    if isinstance(value, list):
        return [_named(v, module) for v in value]
    if isinstance(value, dict):
        return {k: _named(v, module) for k, v in value.items()}
    return value


def compile_config(compile: CompileSpec | Mapping[str, Any]) -> Json:
    """Cornu's `compile(...)` arguments (a CompileSpec, or its data) as Keras 3's
    `model.get_compile_config()`; raises pydantic's ValidationError on invalid data."""
    spec = compile if isinstance(compile, CompileSpec) else CompileSpec.model_validate(compile)
    return {
        "optimizer": optimizer_object(spec.optimizer),
        "loss": _named(spec.loss, "keras.losses"),
        "loss_weights": plain(spec.loss_weights),
        "metrics": _named(spec.metrics, "keras.metrics") or None,
        "weighted_metrics": _named(spec.weighted_metrics, "keras.metrics") or None,
        "run_eagerly": False,
        "steps_per_execution": spec.steps_per_execution,
        "jit_compile": spec.jit_compile is True,
    }


def custom_class(obj: Mapping[str, Any]) -> str | None:
    """Why a serialized object is a user's class rather than Keras's, or None.

    A `module` outside Keras, or a `registered_name` of the `package>Name` form that
    `keras.saving.register_keras_serializable` gives, names code Cornu will never import.
    """
    module = str(obj.get("module") or "keras")
    registered = str(obj.get("registered_name") or "")
    if not module.startswith("keras") or ">" in registered:
        return f"class {obj.get('class_name')!r} from {module!r}"
    return None


def _from_object(value: Any, where: str) -> Any:
    """Keras objects (`{"class_name", "config"}`) as Cornu's `{"type", …}`, recursively."""
    if isinstance(value, list):
        return [_from_object(v, where) for v in value]
    if not isinstance(value, dict):
        return value
    if "class_name" not in value:
        return {k: _from_object(v, where) for k, v in value.items()}
    reason = custom_class(value)
    if reason is not None:
        raise SpecError(f"custom Keras objects are not supported ({reason})", loc=(where,))
    kind = str(value["class_name"]).removeprefix("Custom>")  # tf.keras 2.11+ optimizers
    config = dict(value.get("config") or {})
    if kind == "MeanMetricWrapper":  # tf.keras 2's metric given by name: the name given
        return config.get("name") or config.get("fn")
    return {"type": kind, **{k: _from_object(v, where) for k, v in config.items()}}


def _float32(value: Any) -> Any:
    """Keras keeps a learning rate in a float32 variable, so `0.001` comes back as
    `0.0010000000474974513`: the shortest decimal of that float32 is what was given."""
    if isinstance(value, float):
        import numpy as np

        return float(str(np.float32(value)))
    return value


def _per_output(value: Any, outputs: Sequence[str] | None, where: str) -> Any:
    """Keras's list of per-output metric lists as Cornu's forms (one list, or a map)."""
    if not isinstance(value, list) or not any(isinstance(v, list) for v in value):
        return value
    if len(value) == 1:
        return value[0]
    if outputs is None or len(outputs) != len(value):
        raise SpecError(
            f"{len(value)} per-output metric lists, but the model's outputs are not known",
            loc=(where,),
        )
    return dict(zip(outputs, value, strict=True))


def compile_from_keras(config: Any, outputs: Sequence[str] | None = None) -> Json | None:
    """Keras's `compile_config` (or a legacy `.h5`'s `training_config`) as CompileSpec data.

    `outputs` (the model's output names) turns per-output metric lists into maps.
    Returns None for a model saved without compiling; raises SpecError for custom
    objects and for settings Cornu does not accept.
    """
    if not isinstance(config, Mapping) or not config:
        return None
    optimizer = _from_object(config.get("optimizer") or config.get("optimizer_config"), "optimizer")
    if isinstance(optimizer, dict) and "learning_rate" in optimizer:
        optimizer["learning_rate"] = _float32(optimizer["learning_rate"])
    data: Json = {
        "optimizer": optimizer or "rmsprop",
        "loss": _from_object(config.get("loss"), "loss"),
        "loss_weights": config.get("loss_weights"),
    }
    for key in ("metrics", "weighted_metrics"):
        value = _per_output(_from_object(config.get(key), key), outputs, key)
        if value is not None:
            data[key] = value
    try:
        return CompileSpec.model_validate(data).model_dump(mode="json")
    except ValidationError as exc:
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        message = f"the model's compile configuration is not one Cornu accepts: {detail}"
        raise SpecError(message) from None
