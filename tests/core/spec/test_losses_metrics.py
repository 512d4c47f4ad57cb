"""Losses and metrics in the contract: every model's arguments and defaults are Keras 3.15's
own (from the generated `keras_registry.json`), names resolve as Keras resolves them, a bad
argument is refused when the job is submitted, and the OpenAPI schema lists them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from cornu.core.spec import CompileSpec, JobSpec
from cornu.core.spec.losses import LOSS_SPECS, loss_class, loss_names, name_key
from cornu.core.spec.metrics import METRIC_FUNCTIONS, METRIC_SPECS, is_metric_name
from cornu.core.spec.registry import _registry

KERAS = _registry()
# What Cornu's models hold that Keras's constructors do not spell the same way: `name`
# (Keras's default is the function's name; the engine names it so), and `type`.
OURS_ONLY = {"type", "name"}


def _defaults(model: Any) -> dict[str, Any]:
    return {key: field.default for key, field in model.model_fields.items() if key not in OURS_ONLY}


@pytest.mark.parametrize("name", sorted(LOSS_SPECS))
def test_each_loss_takes_keras_arguments_with_keras_defaults(name: str) -> None:
    keras = {k: v for k, v in KERAS["loss_classes"][name].items() if k != "name"}
    assert _defaults(LOSS_SPECS[name]) == keras


@pytest.mark.parametrize("name", sorted(METRIC_SPECS))
def test_each_metric_takes_keras_arguments_with_keras_defaults(name: str) -> None:
    keras = {k: v for k, v in KERAS["metric_classes"][name].items() if k != "name"}
    assert _defaults(METRIC_SPECS[name]) == keras


def test_loss_names_resolve_to_what_keras_resolves_them_to() -> None:
    for name in loss_names():
        target = KERAS["losses"].get(name)  # None for Keras 2's names (huber_loss, logcosh)
        if target is not None:
            assert name_key(target) in (name_key(str(loss_class(name))), name_key(name)), name
    for cls, spec in LOSS_SPECS.items():  # and Keras knows each function name
        assert KERAS["losses"][spec.function] in (spec.function, cls)
    for name in METRIC_FUNCTIONS:
        assert name in KERAS["metrics"]


@pytest.mark.parametrize(
    ("loss", "message"),
    [
        ({"type": "Huber", "delta": "x"}, "delta"),
        ({"type": "Huber", "delta": -1}, "greater than 0"),
        ({"type": "BinaryCrossentropy", "label_smoothing": 2}, "less than or equal to 1"),
        ({"type": "CategoricalCrossentropy", "axis": 1}, "axis"),
        ({"type": "MeanSquaredError", "reduction": "sum"}, "sum_over_batch_size"),
        ({"type": "Huber", "delta2": 1.0}, "delta2"),
        ("mse2", "unknown loss 'mse2'; did you mean 'mse'?"),
        ({"class_name": "Hubber", "config": {}}, "unknown loss 'Hubber'"),
    ],
    ids=lambda v: json.dumps(v) if not isinstance(v, str) else v,
)
def test_a_bad_loss_is_refused_in_the_spec(loss: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        CompileSpec.model_validate({"loss": loss})


@pytest.mark.parametrize(
    ("metrics", "message"),
    [
        ([{"type": "AUC", "curve": "XY"}], "curve"),
        ([{"type": "AUC", "num_thresholds": 1}], "num_thresholds"),
        ([{"type": "Precision", "top_k": 3}], "top_k"),
        ([{"type": "TopKCategoricalAccuracy", "k": 0}], "k"),
        (["acuracy"], "unknown metric 'acuracy'; did you mean '[aA]ccuracy'?"),
        ({"out": ["auc2"]}, "unknown metric 'auc2'"),
    ],
    ids=lambda v: json.dumps(v),
)
def test_a_bad_metric_is_refused_in_the_spec(metrics: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        CompileSpec.model_validate({"loss": "mse", "metrics": metrics})


def test_names_are_kept_as_written_and_objects_resolved() -> None:
    spec = CompileSpec.model_validate(
        {
            "loss": {"class_name": "Huber", "config": {"delta": 0.5, "name": "h"}},
            "metrics": ["acc", "AUC", "mae", {"type": "binary_accuracy", "threshold": 0.2}],
        }
    )
    assert spec.loss.type == "Huber" and spec.loss.args == {"delta": 0.5}  # type: ignore[union-attr]
    assert spec.metrics[:3] == ["acc", "AUC", "mae"]  # Keras's history keys use them as written
    assert spec.metrics[3].type == "BinaryAccuracy"  # type: ignore[union-attr]
    assert all(is_metric_name(n) for n in ("accuracy", "ACC", "AUC", "mse", "binary_crossentropy"))


def test_the_openapi_schema_lists_losses_and_metrics_with_their_arguments() -> None:
    schema = json.dumps(JobSpec.model_json_schema())
    for name in ("Huber", "BinaryFocalCrossentropy", "AUC", "SparseTopKCategoricalAccuracy"):
        assert f'"const": "{name}"' in schema
    assert '"summation_method"' in schema and '"label_smoothing"' in schema
