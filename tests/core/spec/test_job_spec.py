"""The JobSpec contract: what is accepted, and what each refusal says."""

from __future__ import annotations

from typing import Any

import pytest

from cornu.core.errors import SpecError
from cornu.core.spec import parse_job_spec
from cornu.core.spec.optimizers import SGD, Adam, RMSprop


def spec(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "model": {
            "type": "sequential",
            "layers": [
                {"type": "Dense", "units": 64, "activation": "relu", "input_shape": [64]},
                {"type": "Dropout", "rate": 0.1},
                {"type": "Dense", "units": 10, "activation": "softmax"},
            ],
        },
        "compile": {
            "optimizer": {"type": "RMSprop", "learning_rate": 0.001},
            "loss": "sparse_categorical_crossentropy",
            "metrics": ["accuracy"],
        },
        "fit": {"batch_size": 32, "epochs": 20, "shuffle": True, "seed": 0},
        "data": {"x": "ds_x", "y": "ds_y"},
    }
    base.update(overrides)
    return base


def refusal(data: dict[str, Any]) -> SpecError:
    with pytest.raises(SpecError) as info:
        parse_job_spec(data)
    return info.value


def test_the_issue_example_parses_with_keras_defaults() -> None:
    job = parse_job_spec(spec(fit={}))
    assert job.fit.batch_size == 32 and job.fit.epochs == 1 and job.fit.shuffle is True
    assert job.fit.validation_split == 0.0
    dense = job.model.layers[0]
    assert dense.type == "Dense" and dense.input_shape == (64,)
    assert dense.kernel_initializer == "glorot_uniform" and dense.bias_initializer == "zeros"


@pytest.mark.parametrize("name", ["rmsprop", "RMSprop", "RMSPROP"])
def test_optimizer_by_bare_name_in_any_case(name: str) -> None:
    job = parse_job_spec(spec(compile={"optimizer": name, "loss": "mse"}))
    assert job.compile.optimizer == RMSprop()


def test_optimizer_defaults_are_keras_not_torch() -> None:
    assert RMSprop() == RMSprop(learning_rate=0.001, rho=0.9, epsilon=1e-7, momentum=0.0)
    assert Adam().epsilon == 1e-7 and Adam().beta_2 == 0.999
    assert SGD().learning_rate == 0.01


def test_default_optimizer_is_rmsprop_as_in_keras() -> None:
    job = parse_job_spec(spec(compile={"loss": "mse"}))
    assert isinstance(job.compile.optimizer, RMSprop)


def test_lr_is_the_old_name_of_learning_rate() -> None:
    job = parse_job_spec(
        spec(compile={"optimizer": {"type": "rmsprop", "lr": 0.01}, "loss": "mse"})
    )
    assert job.compile.optimizer.learning_rate == 0.01


def test_unknown_layer_lists_the_valid_ones() -> None:
    data = spec()
    data["model"]["layers"][1] = {"type": "Dens", "units": 3}
    error = refusal(data)
    assert error.errors[0].loc == ("model", "layers", 1)
    assert "unknown layer type 'Dens'" in error.detail
    assert "did you mean 'Dense'" in error.detail
    assert "(valid layer types: Activation, " in error.detail and ", Dense, " in error.detail


def test_unknown_optimizer_lists_the_valid_ones() -> None:
    error = refusal(spec(compile={"optimizer": "rmsprp", "loss": "mse"}))
    assert error.errors[0].where == "compile.optimizer"
    assert "unknown optimizer 'rmsprp'" in error.detail
    assert "Adadelta, Adagrad, Adam, Adamax, AdamW, Nadam, RMSprop, SGD" in error.detail


def test_a_bad_argument_names_layer_field_and_rule() -> None:
    data = spec()
    data["model"]["layers"][0]["units"] = 0
    error = refusal(data)
    assert error.errors[0].where == "model.layers[0].units"
    assert "Dense: Input should be greater than 0" in error.detail


def test_an_unknown_argument_lists_the_layers_arguments() -> None:
    data = spec()
    data["model"]["layers"][0]["unit"] = 5
    error = refusal(data)
    assert "Dense has no argument 'unit'" in error.detail
    assert "units" in error.detail and "activation" in error.detail


def test_dropout_rate_must_be_below_one() -> None:
    data = spec()
    data["model"]["layers"][1]["rate"] = 1.5
    assert refusal(data).errors[0].where == "model.layers[1].rate"


@pytest.mark.parametrize(
    ("form", "expected"),
    [({"input_dim": 64}, (64,)), ({"batch_input_shape": [None, 8, 8]}, (8, 8))],
)
def test_keras_input_spellings(form: dict[str, Any], expected: tuple[int, ...]) -> None:
    data = spec()
    first = {k: v for k, v in data["model"]["layers"][0].items() if k != "input_shape"}
    data["model"]["layers"][0] = {**first, **form}
    assert parse_job_spec(data).model.layers[0].input_shape == expected


def test_only_one_clipping_mode() -> None:
    optimizer = {"type": "Adam", "clipnorm": 1.0, "clipvalue": 0.5}
    error = refusal(spec(compile={"optimizer": optimizer, "loss": "mse"}))
    assert "only one of clipnorm, clipvalue and global_clipnorm" in error.detail


def test_validation_split_and_data_together_are_refused() -> None:
    fit = {"validation_split": 0.2, "validation_data": {"x": "a", "y": "b"}}
    assert "not both" in refusal(spec(fit=fit)).detail


def test_duplicate_layer_names_are_refused() -> None:
    data = spec()
    data["model"]["layers"][0]["name"] = "d"
    data["model"]["layers"][2]["name"] = "d"
    assert "reuses the name 'd'" in refusal(data).detail


def test_missing_sections_are_named() -> None:
    error = refusal({"model": spec()["model"]})
    assert {e.where for e in error.errors} == {"compile", "data"}


def test_dataset_ids_include_validation_data() -> None:
    job = parse_job_spec(spec(fit={"validation_data": {"x": "vx", "y": "vy"}}))
    assert job.dataset_ids() == {"ds_x", "ds_y", "vx", "vy"}
